/* Lists the kernels this CPU can run, in order of preference. */
#include "crc32c.h"

size_t crc32c_list(crc32c_impl out[CRC32C_MAX_IMPLS]) {
  size_t n = 0;
  crc32c_fn fn;
  out[n].name = "portable";
  out[n++].fn = crc32c_portable;
  if ((fn = crc32c_x86_sse42()) != NULL) {
    out[n].name = "sse4.2";
    out[n++].fn = fn;
  }
  if ((fn = crc32c_x86_vpclmul()) != NULL) {
    out[n].name = "sse4.2+vpclmulqdq";
    out[n++].fn = fn;
  }
  if ((fn = crc32c_arm64()) != NULL) {
    out[n].name = "armv8-crc";
    out[n++].fn = fn;
  }
  return n;
}
