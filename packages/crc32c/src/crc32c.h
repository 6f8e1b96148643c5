/*
 * CRC32C (Castagnoli) kernels behind one interface. Every kernel takes and
 * returns the standard CRC value (pre/post inversion applied inside), so
 * crc(b, crc(a, 0)) == crc(a || b). A kernel never reads outside
 * [data, data + len) and accepts data == NULL when len == 0.
 */
#ifndef QWP_CRC32C_H
#define QWP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t (*crc32c_fn)(uint32_t crc, const uint8_t *data, size_t len);

/* One selectable implementation: its name and kernel. */
typedef struct {
  const char *name;
  crc32c_fn fn;
} crc32c_impl;

/* Slice-by-8 over static tables; runs anywhere. */
uint32_t crc32c_portable(uint32_t crc, const uint8_t *data, size_t len);

/*
 * The hardware kernels, each a static descriptor, or NULL when this CPU (or
 * this compiler) cannot run it:
 *  - x86-64 SSE4.2 crc32 in three interleaved streams;
 *  - x86-64 AVX2 VPCLMULQDQ folding for large buffers, SSE4.2 below that;
 *  - x86-64 AVX-512 VPCLMULQDQ folding for large buffers, SSE4.2 below that;
 *  - AArch64 ARMv8 CRC32C instructions, three interleaved streams.
 */
const crc32c_impl *crc32c_x86_sse42(void);
const crc32c_impl *crc32c_x86_vpclmul_ymm(void);
const crc32c_impl *crc32c_x86_vpclmul(void);
const crc32c_impl *crc32c_arm64(void);

/* Maximum number of implementations crc32c_list reports. */
#define CRC32C_MAX_IMPLS 5

/*
 * Fills `out` with every implementation this CPU can run, portable first and
 * the fastest last; returns how many. The descriptors are static.
 */
size_t crc32c_list(const crc32c_impl *out[CRC32C_MAX_IMPLS]);

#endif
