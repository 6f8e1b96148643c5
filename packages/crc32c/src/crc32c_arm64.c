/*
 * AArch64 CRC32C with the ARMv8 CRC instructions: three interleaved streams
 * joined by table shifts, as in the x86 SSE4.2 kernel. Not exercised by this
 * repository's CI, which runs on x86-64 only.
 */
#include "crc32c.h"

/* The word loads below assume little-endian byte order (the AArch64 norm). */
#if defined(__aarch64__) && defined(__GNUC__) && \
    (!defined(__BYTE_ORDER__) || __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

#include <arm_acle.h>

#include "crc32c_tables.h"
#include "crc32c_words.h"

#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#endif

/* Enable the CRC extension for these functions only, in each compiler's syntax. */
#if defined(__ARM_FEATURE_CRC32)
#define TARGET_CRC
#elif defined(__clang__)
#define TARGET_CRC __attribute__((target("crc")))
#else
#define TARGET_CRC __attribute__((target("+crc")))
#endif

TARGET_CRC static uint32_t arm64(uint32_t crc, const uint8_t *p, size_t n) {
  uint32_t c = ~crc;
  while (n >= 3 * CRC32C_LONG) {
    uint32_t c1 = 0, c2 = 0;
    const uint8_t *end = p + CRC32C_LONG;
    do {
      c = __crc32cd(c, load_le64(p));
      c1 = __crc32cd(c1, load_le64(p + CRC32C_LONG));
      c2 = __crc32cd(c2, load_le64(p + 2 * CRC32C_LONG));
      p += 8;
    } while (p < end);
    c = crc32c_shift(crc32c_shift_long, c) ^ c1;
    c = crc32c_shift(crc32c_shift_long, c) ^ c2;
    p += 2 * CRC32C_LONG;
    n -= 3 * CRC32C_LONG;
  }
  while (n >= 3 * CRC32C_SHORT) {
    uint32_t c1 = 0, c2 = 0;
    const uint8_t *end = p + CRC32C_SHORT;
    do {
      c = __crc32cd(c, load_le64(p));
      c1 = __crc32cd(c1, load_le64(p + CRC32C_SHORT));
      c2 = __crc32cd(c2, load_le64(p + 2 * CRC32C_SHORT));
      p += 8;
    } while (p < end);
    c = crc32c_shift(crc32c_shift_short, c) ^ c1;
    c = crc32c_shift(crc32c_shift_short, c) ^ c2;
    p += 2 * CRC32C_SHORT;
    n -= 3 * CRC32C_SHORT;
  }
  while (n >= 8) {
    c = __crc32cd(c, load_le64(p));
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = __crc32cb(c, *p++);
    n--;
  }
  return ~c;
}

static int cpu_has_crc(void) {
#if defined(__linux__)
  return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
#elif defined(__APPLE__)
  return 1; /* Every Apple arm64 CPU implements ARMv8.1+ with CRC. */
#else
  return 0;
#endif
}

static const crc32c_impl arm64_impl = {"armv8-crc", arm64};

const crc32c_impl *crc32c_arm64(void) { return cpu_has_crc() ? &arm64_impl : NULL; }

#else

const crc32c_impl *crc32c_arm64(void) { return NULL; }

#endif
