/*
 * x86-64 CRC32C. Three kernels, each chosen at run time by CPUID so the file
 * builds without global -m flags:
 *  - sse42: the crc32 instruction has a 3-cycle latency and 1-cycle
 *    throughput, so three independent streams keep it busy; the streams are
 *    joined by shifting a register over zero bytes with precomputed tables.
 *  - vpclmul: from CRC32C_FOLD_MIN (256) bytes, four 512-bit accumulators fold
 *    256 bytes per step with carry-less multiplies; the folded remainder is
 *    reduced by feeding it through the crc32 instruction from register 0.
 *  - vpclmul_ymm: the same with four 256-bit accumulators (128 bytes per
 *    step) for CPUs with VPCLMULQDQ but no AVX-512 (AMD Zen 3, Intel client).
 */
#include "crc32c.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <cpuid.h>
#include <immintrin.h>

#include "crc32c_tables.h"
#include "crc32c_words.h"

#define TARGET_SSE42 __attribute__((target("sse4.2")))
#define TARGET_VPCLMUL_YMM __attribute__((target("sse4.2,pclmul,avx2,vpclmulqdq")))
#define TARGET_VPCLMUL \
  __attribute__((target("sse4.2,pclmul,avx2,avx512f,avx512vl,vpclmulqdq")))

/* Below this many bytes the fold set-up costs more than it saves. */
#define CRC32C_FOLD_MIN 256

/* Raw register in, raw register out (no inversion). */
TARGET_SSE42 static uint32_t sse42_raw(uint32_t crc, const uint8_t *p, size_t n) {
  uint64_t c = crc;
  while (n >= 3 * CRC32C_LONG) {
    uint64_t c1 = 0, c2 = 0;
    const uint8_t *end = p + CRC32C_LONG;
    do {
      c = _mm_crc32_u64(c, load_le64(p));
      c1 = _mm_crc32_u64(c1, load_le64(p + CRC32C_LONG));
      c2 = _mm_crc32_u64(c2, load_le64(p + 2 * CRC32C_LONG));
      p += 8;
    } while (p < end);
    c = crc32c_shift(crc32c_shift_long, (uint32_t)c) ^ (uint32_t)c1;
    c = crc32c_shift(crc32c_shift_long, (uint32_t)c) ^ (uint32_t)c2;
    p += 2 * CRC32C_LONG;
    n -= 3 * CRC32C_LONG;
  }
  while (n >= 3 * CRC32C_SHORT) {
    uint64_t c1 = 0, c2 = 0;
    const uint8_t *end = p + CRC32C_SHORT;
    do {
      c = _mm_crc32_u64(c, load_le64(p));
      c1 = _mm_crc32_u64(c1, load_le64(p + CRC32C_SHORT));
      c2 = _mm_crc32_u64(c2, load_le64(p + 2 * CRC32C_SHORT));
      p += 8;
    } while (p < end);
    c = crc32c_shift(crc32c_shift_short, (uint32_t)c) ^ (uint32_t)c1;
    c = crc32c_shift(crc32c_shift_short, (uint32_t)c) ^ (uint32_t)c2;
    p += 2 * CRC32C_SHORT;
    n -= 3 * CRC32C_SHORT;
  }
  while (n >= 8) {
    c = _mm_crc32_u64(c, load_le64(p));
    p += 8;
    n -= 8;
  }
  uint32_t c32 = (uint32_t)c;
  while (n > 0) {
    c32 = _mm_crc32_u8(c32, *p++);
    n--;
  }
  return c32;
}

TARGET_SSE42 static uint32_t sse42(uint32_t crc, const uint8_t *data, size_t len) {
  return ~sse42_raw(~crc, data, len);
}

/* x' = x folded forward by the distance k encodes, xor d. */
TARGET_VPCLMUL static inline __m512i fold512(__m512i x, __m512i k, __m512i d) {
  return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00),
                                   _mm512_clmulepi64_epi128(x, k, 0x11), d, 0x96);
}

TARGET_VPCLMUL static inline __m128i fold128(__m128i x, __m128i k, __m128i d) {
  return _mm_ternarylogic_epi64(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11),
                                d, 0x96);
}

TARGET_VPCLMUL static uint32_t vpclmul(uint32_t crc, const uint8_t *p, size_t n) {
  if (n < CRC32C_FOLD_MIN) return ~sse42_raw(~crc, p, n);

  /* Xoring the register into the first four bytes lets the fold start from 0. */
  __m512i x0 = _mm512_xor_si512(_mm512_loadu_si512((const void *)p),
                                _mm512_inserti32x4(_mm512_setzero_si512(),
                                                   _mm_cvtsi32_si128((int)~crc), 0));
  __m512i x1 = _mm512_loadu_si512((const void *)(p + 64));
  __m512i x2 = _mm512_loadu_si512((const void *)(p + 128));
  __m512i x3 = _mm512_loadu_si512((const void *)(p + 192));
  p += 256;
  n -= 256;

  const __m512i k256 = _mm512_broadcast_i32x4(
      _mm_set_epi64x((long long)CRC32C_FOLD_256B_HI, (long long)CRC32C_FOLD_256B_LO));
  while (n >= 256) {
    x0 = fold512(x0, k256, _mm512_loadu_si512((const void *)p));
    x1 = fold512(x1, k256, _mm512_loadu_si512((const void *)(p + 64)));
    x2 = fold512(x2, k256, _mm512_loadu_si512((const void *)(p + 128)));
    x3 = fold512(x3, k256, _mm512_loadu_si512((const void *)(p + 192)));
    p += 256;
    n -= 256;
  }

  const __m512i k64 = _mm512_broadcast_i32x4(
      _mm_set_epi64x((long long)CRC32C_FOLD_64B_HI, (long long)CRC32C_FOLD_64B_LO));
  __m512i x = fold512(x0, k64, x1);
  x = fold512(x, k64, x2);
  x = fold512(x, k64, x3);
  while (n >= 64) {
    x = fold512(x, k64, _mm512_loadu_si512((const void *)p));
    p += 64;
    n -= 64;
  }

  /* Lanes 0..2 fold forward by 48, 32 and 16 bytes onto lane 3. */
  const __m512i klanes = _mm512_set_epi64(
      0, 0, (long long)CRC32C_FOLD_16B_HI, (long long)CRC32C_FOLD_16B_LO,
      (long long)CRC32C_FOLD_32B_HI, (long long)CRC32C_FOLD_32B_LO,
      (long long)CRC32C_FOLD_48B_HI, (long long)CRC32C_FOLD_48B_LO);
  __m512i t = _mm512_xor_si512(_mm512_clmulepi64_epi128(x, klanes, 0x00),
                               _mm512_clmulepi64_epi128(x, klanes, 0x11));
  __m128i r = _mm_ternarylogic_epi64(_mm512_extracti32x4_epi32(t, 0),
                                     _mm512_extracti32x4_epi32(t, 1),
                                     _mm512_extracti32x4_epi32(t, 2), 0x96);
  r = _mm_xor_si128(r, _mm512_extracti32x4_epi32(x, 3));

  const __m128i k16 =
      _mm_set_epi64x((long long)CRC32C_FOLD_16B_HI, (long long)CRC32C_FOLD_16B_LO);
  while (n >= 16) {
    r = fold128(r, k16, _mm_loadu_si128((const __m128i *)(const void *)p));
    p += 16;
    n -= 16;
  }

  uint64_t c = _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(r));
  c = _mm_crc32_u64(c, (uint64_t)_mm_extract_epi64(r, 1));
  /* GCC omits vzeroupper under target attributes; dirty upper ZMM state
     would slow every legacy-SSE instruction the caller runs next. */
  _mm256_zeroupper();
  return ~sse42_raw((uint32_t)c, p, n);
}

/* x' = x folded forward by the distance k encodes, xor d (256-bit lanes). */
TARGET_VPCLMUL_YMM static inline __m256i fold256(__m256i x, __m256i k, __m256i d) {
  return _mm256_xor_si256(
      _mm256_xor_si256(_mm256_clmulepi64_epi128(x, k, 0x00), _mm256_clmulepi64_epi128(x, k, 0x11)),
      d);
}

TARGET_VPCLMUL_YMM static inline __m128i fold128_sse(__m128i x, __m128i k, __m128i d) {
  return _mm_xor_si128(
      _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), d);
}

/* The same folding as vpclmul() on 256-bit registers, for CPUs without AVX-512. */
TARGET_VPCLMUL_YMM static uint32_t vpclmul_ymm(uint32_t crc, const uint8_t *p, size_t n) {
  if (n < CRC32C_FOLD_MIN) return ~sse42_raw(~crc, p, n);

  __m256i x0 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(const void *)p),
                                _mm256_zextsi128_si256(_mm_cvtsi32_si128((int)~crc)));
  __m256i x1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
  __m256i x2 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 64));
  __m256i x3 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 96));
  p += 128;
  n -= 128;

  const __m256i k128 = _mm256_broadcastsi128_si256(
      _mm_set_epi64x((long long)CRC32C_FOLD_128B_HI, (long long)CRC32C_FOLD_128B_LO));
  while (n >= 128) {
    x0 = fold256(x0, k128, _mm256_loadu_si256((const __m256i *)(const void *)p));
    x1 = fold256(x1, k128, _mm256_loadu_si256((const __m256i *)(const void *)(p + 32)));
    x2 = fold256(x2, k128, _mm256_loadu_si256((const __m256i *)(const void *)(p + 64)));
    x3 = fold256(x3, k128, _mm256_loadu_si256((const __m256i *)(const void *)(p + 96)));
    p += 128;
    n -= 128;
  }

  const __m256i k32 = _mm256_broadcastsi128_si256(
      _mm_set_epi64x((long long)CRC32C_FOLD_32B_HI, (long long)CRC32C_FOLD_32B_LO));
  __m256i x = fold256(x0, k32, x1);
  x = fold256(x, k32, x2);
  x = fold256(x, k32, x3);
  while (n >= 32) {
    x = fold256(x, k32, _mm256_loadu_si256((const __m256i *)(const void *)p));
    p += 32;
    n -= 32;
  }

  const __m128i k16 =
      _mm_set_epi64x((long long)CRC32C_FOLD_16B_HI, (long long)CRC32C_FOLD_16B_LO);
  __m128i r = fold128_sse(_mm256_castsi256_si128(x), k16, _mm256_extracti128_si256(x, 1));
  while (n >= 16) {
    r = fold128_sse(r, k16, _mm_loadu_si128((const __m128i *)(const void *)p));
    p += 16;
    n -= 16;
  }

  uint64_t c = _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(r));
  c = _mm_crc32_u64(c, (uint64_t)_mm_extract_epi64(r, 1));
  _mm256_zeroupper(); /* see vpclmul() */
  return ~sse42_raw((uint32_t)c, p, n);
}

/* XCR0 holds every state bit in `mask`: the OS saves those registers. */
static int os_saves(unsigned mask) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return 0;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  (void)hi;
  return (lo & mask) == mask;
}

static int cpu_has_sse42(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  return (c & bit_SSE4_2) != 0;
}

/* CPUID leaf 7 bits: EBX avx2, avx512f, avx512vl; ECX vpclmulqdq. */
#define CPUID7_AVX2 (1u << 5)
#define CPUID7_AVX512F (1u << 16)
#define CPUID7_AVX512VL (1u << 31)
#define CPUID7_VPCLMULQDQ (1u << 10)

/* AVX2 + VPCLMULQDQ (+ SSE4.2, PCLMUL), with the OS saving YMM state. */
static int cpu_has_vpclmul_ymm(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  if (!(c & bit_SSE4_2) || !(c & bit_PCLMUL) || !os_saves(0x6u)) return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  return (b & CPUID7_AVX2) && (c & CPUID7_VPCLMULQDQ);
}

/* The above plus AVX-512F/VL, with the OS saving opmask and all ZMM state. */
static int cpu_has_vpclmul(void) {
  unsigned a, b, c, d;
  if (!cpu_has_vpclmul_ymm() || !os_saves(0xe6u)) return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  return (b & CPUID7_AVX512F) && (b & CPUID7_AVX512VL);
}

static const crc32c_impl sse42_impl = {"sse4.2", sse42};
static const crc32c_impl vpclmul_ymm_impl = {"avx2+vpclmulqdq", vpclmul_ymm};
static const crc32c_impl vpclmul_impl = {"sse4.2+vpclmulqdq", vpclmul};

const crc32c_impl *crc32c_x86_sse42(void) { return cpu_has_sse42() ? &sse42_impl : NULL; }

const crc32c_impl *crc32c_x86_vpclmul_ymm(void) {
  return cpu_has_vpclmul_ymm() ? &vpclmul_ymm_impl : NULL;
}

const crc32c_impl *crc32c_x86_vpclmul(void) { return cpu_has_vpclmul() ? &vpclmul_impl : NULL; }

#else

const crc32c_impl *crc32c_x86_sse42(void) { return NULL; }

const crc32c_impl *crc32c_x86_vpclmul_ymm(void) { return NULL; }

const crc32c_impl *crc32c_x86_vpclmul(void) { return NULL; }

#endif
