/*
 * Stand-in for <arm_acle.h> on a non-ARM host: the two CRC32C intrinsics the
 * arm64 kernel uses, computed bitwise. Lets the kernel's stream splitting and
 * joining run (slowly) and be checked where no AArch64 CPU is available.
 */
#include <stdint.h>

static inline uint32_t emulated_crc32c_byte(uint32_t c, uint8_t b) {
  c ^= b;
  for (int k = 0; k < 8; k++) c = (c & 1u) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
  return c;
}

static inline uint32_t __crc32cb(uint32_t c, uint8_t b) { return emulated_crc32c_byte(c, b); }

static inline uint32_t __crc32cd(uint32_t c, uint64_t v) {
  for (int i = 0; i < 8; i++) c = emulated_crc32c_byte(c, (uint8_t)(v >> (8 * i)));
  return c;
}
