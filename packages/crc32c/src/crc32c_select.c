/* Lists the kernels this CPU can run, in order of preference. */
#include "crc32c.h"

static const crc32c_impl portable = {"portable", crc32c_portable};

size_t crc32c_list(const crc32c_impl *out[CRC32C_MAX_IMPLS]) {
  size_t n = 0;
  const crc32c_impl *hw;
  out[n++] = &portable;
  if ((hw = crc32c_x86_sse42()) != NULL) out[n++] = hw;
  if ((hw = crc32c_x86_vpclmul_ymm()) != NULL) out[n++] = hw;
  if ((hw = crc32c_x86_vpclmul()) != NULL) out[n++] = hw;
  if ((hw = crc32c_arm64()) != NULL) out[n++] = hw;
  return n;
}
