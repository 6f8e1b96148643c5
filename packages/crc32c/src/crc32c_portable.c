/* Portable CRC32C: slice-by-8 over tables generated offline. */
#include "crc32c.h"
#include "crc32c_tables.h"
#include "crc32c_words.h"

uint32_t crc32c_portable(uint32_t crc, const uint8_t *data, size_t len) {
  const uint8_t *p = data;
  uint32_t c = ~crc;
  /* Byte steps up to 8-byte alignment keep the word loads cheap on strict CPUs. */
  while (len > 0 && ((uintptr_t)p & 7u) != 0) {
    c = crc32c_slice8[0][(c ^ *p++) & 0xffu] ^ (c >> 8);
    len--;
  }
  while (len >= 8) {
    uint64_t w = load_le64(p) ^ (uint64_t)c;
    c = crc32c_slice8[7][w & 0xffu] ^ crc32c_slice8[6][(w >> 8) & 0xffu] ^
        crc32c_slice8[5][(w >> 16) & 0xffu] ^ crc32c_slice8[4][(w >> 24) & 0xffu] ^
        crc32c_slice8[3][(w >> 32) & 0xffu] ^ crc32c_slice8[2][(w >> 40) & 0xffu] ^
        crc32c_slice8[1][(w >> 48) & 0xffu] ^ crc32c_slice8[0][w >> 56];
    p += 8;
    len -= 8;
  }
  while (len > 0) {
    c = crc32c_slice8[0][(c ^ *p++) & 0xffu] ^ (c >> 8);
    len--;
  }
  return ~c;
}
