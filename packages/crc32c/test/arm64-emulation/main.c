/*
 * Runs the arm64 kernel (built against the emulated intrinsics) against the
 * portable kernel over many offsets, lengths and initial values. Prints the
 * mismatch count and the check value; exits non-zero on any mismatch.
 */
#include <stdio.h>
#include <stdlib.h>

#include "crc32c.h"

int main(void) {
  const crc32c_impl *arm = crc32c_arm64();
  if (arm == NULL) {
    puts("arm64 kernel not compiled in");
    return 2;
  }
  enum { SIZE = 30000 };
  uint8_t *buf = malloc(SIZE);
  if (buf == NULL) return 3;
  for (int i = 0; i < SIZE; i++) buf[i] = (uint8_t)(i * 31 + 7);
  long mismatches = 0;
  for (size_t off = 0; off < 9; off++) {
    for (size_t len = 0; len + off <= SIZE && len < 20000; len += (len < 1000 ? 1 : 97)) {
      uint32_t init = (uint32_t)(len * 2654435761u);
      if (arm->fn(init, buf + off, len) != crc32c_portable(init, buf + off, len)) mismatches++;
    }
  }
  printf("%s %ld %08x\n", arm->name, mismatches, arm->fn(0, (const uint8_t *)"123456789", 9));
  free(buf);
  return mismatches == 0 ? 0 : 1;
}
