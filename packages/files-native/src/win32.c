/*
 * Windows: untested and mostly unimplemented. The library compiles so the
 * package installs, and every call but the page size fails with ENOSYS, so a
 * caller gets a clear error instead of a crash.
 */
#ifdef _WIN32

#include "platform.h"

#include <errno.h>
#include <windows.h>

size_t qwp_page_size(void) {
  SYSTEM_INFO info;
  GetSystemInfo(&info);
  /* Mapping offsets must be multiples of the allocation granularity. */
  return (size_t)info.dwAllocationGranularity;
}

int qwp_mmap(int fd, int64_t offset, size_t length, int writable, void **out) {
  (void)fd; (void)offset; (void)length; (void)writable; (void)out;
  return -ENOSYS;
}

int qwp_munmap(void *addr, size_t length) {
  (void)addr; (void)length;
  return -ENOSYS;
}

int qwp_msync(void *addr, size_t length, int sync) {
  (void)addr; (void)length; (void)sync;
  return -ENOSYS;
}

int qwp_madvise(void *addr, size_t length, enum qwp_advice advice) {
  (void)addr; (void)length; (void)advice;
  return -ENOSYS;
}

int qwp_fallocate(int fd, int64_t offset, int64_t length) {
  (void)fd; (void)offset; (void)length;
  return -ENOSYS;
}

int qwp_try_lock(int fd) {
  (void)fd;
  return -ENOSYS;
}

int qwp_unlock(int fd) {
  (void)fd;
  return -ENOSYS;
}

int qwp_fsync_dir(const char *path, const char **syscall) {
  (void)path;
  *syscall = "fsync";
  return -ENOSYS;
}

#endif
