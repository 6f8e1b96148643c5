/* Linux and macOS. */
#ifndef _WIN32

#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

size_t qwp_page_size(void) {
  long size = sysconf(_SC_PAGESIZE);
  return size > 0 ? (size_t)size : 4096;
}

int qwp_mmap(int fd, int64_t offset, size_t length, int writable, void **out) {
  int prot = writable ? (PROT_READ | PROT_WRITE) : PROT_READ;
  void *addr = mmap(NULL, length, prot, MAP_SHARED, fd, (off_t)offset);
  if (addr == MAP_FAILED) return -errno;
  *out = addr;
  return 0;
}

int qwp_munmap(void *addr, size_t length) {
  return munmap(addr, length) == 0 ? 0 : -errno;
}

int qwp_msync(void *addr, size_t length, int sync) {
  return msync(addr, length, sync ? MS_SYNC : MS_ASYNC) == 0 ? 0 : -errno;
}

int qwp_madvise(void *addr, size_t length, enum qwp_advice advice) {
  int native;
  switch (advice) {
    case QWP_ADVICE_NORMAL: native = MADV_NORMAL; break;
    case QWP_ADVICE_RANDOM: native = MADV_RANDOM; break;
    case QWP_ADVICE_SEQUENTIAL: native = MADV_SEQUENTIAL; break;
    case QWP_ADVICE_WILLNEED: native = MADV_WILLNEED; break;
    case QWP_ADVICE_DONTNEED: native = MADV_DONTNEED; break;
    default: return -EINVAL;
  }
  return madvise(addr, length, native) == 0 ? 0 : -errno;
}

#ifdef __APPLE__
/* No posix_fallocate on macOS: reserve with F_PREALLOCATE (contiguous first,
 * then any blocks), then extend the size, which F_PREALLOCATE does not.
 * Untested here: the project's machines are Linux. */
int qwp_fallocate(int fd, int64_t offset, int64_t length) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  int64_t end = offset + length;
  if (end > st.st_size) {
    fstore_t store = {F_ALLOCATECONTIG, F_PEOFPOSMODE, 0, end - st.st_size, 0};
    if (fcntl(fd, F_PREALLOCATE, &store) == -1) {
      store.fst_flags = F_ALLOCATEALL;
      if (fcntl(fd, F_PREALLOCATE, &store) == -1) return -errno;
    }
    if (ftruncate(fd, (off_t)end) != 0) return -errno;
  }
  return 0;
}
#else
int qwp_fallocate(int fd, int64_t offset, int64_t length) {
  int err;
  /* posix_fallocate returns the error instead of setting errno. */
  do {
    err = posix_fallocate(fd, (off_t)offset, (off_t)length);
  } while (err == EINTR);
  return -err;
}
#endif

int qwp_try_lock(int fd) {
  int rc;
  do {
    rc = flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return 1;
  if (errno == EWOULDBLOCK || errno == EAGAIN) return 0;
  return -errno;
}

int qwp_unlock(int fd) {
  int rc;
  do {
    rc = flock(fd, LOCK_UN);
  } while (rc != 0 && errno == EINTR);
  return rc == 0 ? 0 : -errno;
}

int qwp_fsync_dir(const char *path, const char **syscall) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    *syscall = "open";
    return -errno;
  }
  int err = 0;
  if (fsync(fd) != 0) {
    err = -errno;
    *syscall = "fsync";
  }
  close(fd);
  return err;
}

#endif
