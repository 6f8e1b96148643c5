/*
 * The platform layer: plain C calls with no N-API in sight. Every function
 * returns 0 (or the documented non-negative result) on success and -errno on
 * failure, so binding.c can turn any failure into a Node-style error.
 */
#ifndef QWP_FILES_PLATFORM_H
#define QWP_FILES_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* madvise advice, in the order the JS layer numbers them. */
enum qwp_advice {
  QWP_ADVICE_NORMAL = 0,
  QWP_ADVICE_RANDOM = 1,
  QWP_ADVICE_SEQUENTIAL = 2,
  QWP_ADVICE_WILLNEED = 3,
  QWP_ADVICE_DONTNEED = 4
};

/* Size of a virtual-memory page in bytes (never 0). */
size_t qwp_page_size(void);

/* MAP_SHARED mapping of [offset, offset + length) of fd; read-only unless writable. */
int qwp_mmap(int fd, int64_t offset, size_t length, int writable, void **out);

int qwp_munmap(void *addr, size_t length);

/* addr must be page-aligned. MS_SYNC when sync, else MS_ASYNC. */
int qwp_msync(void *addr, size_t length, int sync);

/* addr must be page-aligned. */
int qwp_madvise(void *addr, size_t length, enum qwp_advice advice);

/* Reserves real blocks for [offset, offset + length), growing the file if needed. */
int qwp_fallocate(int fd, int64_t offset, int64_t length);

/* Exclusive, non-blocking flock: 1 when taken, 0 when another holder has it, else -errno. */
int qwp_try_lock(int fd);

int qwp_unlock(int fd);

/* Opens the directory, fsyncs it and closes it. *syscall names the call that failed. */
int qwp_fsync_dir(const char *path, const char **syscall);

#endif
