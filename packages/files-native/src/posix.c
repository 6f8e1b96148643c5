/* Linux and macOS. */
#ifndef _WIN32

/* glibc hides flock, madvise, O_DIRECTORY, SEEK_HOLE and more under a strict
   -std=c11; macOS declares them by default. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
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

#if defined(__APPLE__) || defined(QWP_FALLOCATE_BY_WRITES)
/*
 * macOS has no posix_fallocate, and F_PREALLOCATE only reserves space past
 * the physical end of the file: it never fills the holes of a sparse file
 * (a recovered segment), which would then fault with SIGBUS on a full disk.
 * So: reserve the growth (contiguous if possible; an early ENOSPC), extend
 * the size, then write one zero byte into every block of every hole in the
 * range, which allocates it. A hole reads as zeros, so this changes no byte;
 * but a store into a hole through a mapping, between the hole being found
 * and filled, could lose one byte (glibc's own posix_fallocate fallback has
 * the same race), so never fallocate a range that is being written.
 * QWP_FALLOCATE_BY_WRITES builds this path on Linux, where the tests run it.
 */

/* Allocation step: the file system's block size, as glibc's fallback takes it. */
static off_t block_step(int fd) {
  struct statvfs vfs;
  unsigned long size = 0;
  if (fstatvfs(fd, &vfs) == 0) size = vfs.f_frsize != 0 ? vfs.f_frsize : vfs.f_bsize;
  if (size < 512) return 512;
  return size > 4096 ? 4096 : (off_t)size;
}

/* Writes a zero byte into each block of each hole in [pos, end); end <= file size. */
static int fill_holes(int fd, off_t pos, off_t end) {
  off_t step = block_step(fd);
  while (pos < end) {
    off_t hole = lseek(fd, pos, SEEK_HOLE);
    if (hole < 0) return errno == ENXIO ? 0 : -errno; /* ENXIO: pos is past the end */
    if (hole >= end) return 0;
    off_t data = lseek(fd, hole, SEEK_DATA);
    if (data < 0) {
      if (errno != ENXIO) return -errno;
      data = end; /* ENXIO: nothing but hole up to the end of the file */
    }
    if (data > end) data = end;
    /* The hole's first byte, then the start of each following block. */
    for (off_t at = hole; at < data; at = (at / step + 1) * step) {
      ssize_t n;
      do {
        n = pwrite(fd, "", 1, at);
      } while (n < 0 && errno == EINTR);
      if (n < 0) return -errno;
    }
    pos = data;
  }
  return 0;
}

int qwp_fallocate(int fd, int64_t offset, int64_t length) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  /* offset and length are each <= 2^53 (binding.c), so the sum cannot overflow. */
  off_t end = (off_t)(offset + length);
  int grown = end > st.st_size;
  if (grown) {
#ifdef F_PREALLOCATE
    fstore_t store = {F_ALLOCATECONTIG, F_PEOFPOSMODE, 0, end - st.st_size, 0};
    if (fcntl(fd, F_PREALLOCATE, &store) == -1) {
      store.fst_flags = F_ALLOCATEALL;
      /* Only ENOSPC is final: elsewhere (a file system without preallocation)
         the writes below allocate the blocks or fail themselves. */
      if (fcntl(fd, F_PREALLOCATE, &store) == -1 && errno == ENOSPC) return -ENOSPC;
    }
#endif
    if (ftruncate(fd, end) != 0) return -errno;
  }
  int err = fill_holes(fd, (off_t)offset, end);
  if (err != 0 && grown) {
    /* Like posix_fallocate, a failure leaves the size as it was. Should this
       ftruncate fail too, the allocation error is still the one to report. */
    int ignored = ftruncate(fd, st.st_size);
    (void)ignored;
  }
  return err;
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
