/*
 * Small inline helpers the kernels share: an unaligned little-endian word
 * load and the table shift that joins interleaved CRC streams.
 */
#ifndef QWP_CRC32C_WORDS_H
#define QWP_CRC32C_WORDS_H

#include <stdint.h>
#include <string.h>

/* 8 bytes at `p` as a little-endian word; memcpy keeps unaligned loads defined. */
static inline uint64_t load_le64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

/* Register after `c` is followed by the table's fixed number of zero bytes. */
static inline uint32_t crc32c_shift(const uint32_t t[4][256], uint32_t c) {
  return t[0][c & 0xffu] ^ t[1][(c >> 8) & 0xffu] ^ t[2][(c >> 16) & 0xffu] ^ t[3][c >> 24];
}

#endif
