/*
 * LD_PRELOAD shim for test/syscall-trace.test.ts: logs the libc calls the
 * addon makes (with their arguments, which no JS-visible result shows: MS_SYNC
 * or MS_ASYNC, which advice, LOCK_NB, a directory fsync) to the file named by
 * QWP_TRACE_LOG, one line per call, then makes the real call.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static int log_fd = -2;

static void trace(const char *fmt, ...) {
  if (log_fd == -2) {
    const char *path = getenv("QWP_TRACE_LOG");
    log_fd = path == NULL ? -1 : open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  if (log_fd < 0) return;
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  /* One write per line: O_APPEND keeps lines from different threads whole. */
  if (n > 0) {
    ssize_t ignored = write(log_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    (void)ignored;
  }
}

/* Looks up the next definition of `name` (libc's) once; `type` is its pointer typedef. */
#define REAL(type, name) \
  static type real; \
  if (real == NULL) real = (type)dlsym(RTLD_NEXT, name)

typedef void *(*mmap_fn)(void *, size_t, int, int, int, off64_t);
typedef int (*munmap_fn)(void *, size_t);
typedef int (*msync_fn)(void *, size_t, int);
typedef int (*madvise_fn)(void *, size_t, int);
typedef int (*flock_fn)(int, int);
typedef int (*fsync_fn)(int);
typedef int (*fallocate_fn)(int, off64_t, off64_t);

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off) {
  REAL(mmap_fn, "mmap64");
  void *r = real(addr, len, prot, flags, fd, off);
  trace("mmap len=%zu prot=%d shared=%d fd=%d off=%lld addr=%p\n", len, prot,
        (flags & MAP_SHARED) != 0, fd, (long long)off, r);
  return r;
}

int munmap(void *addr, size_t len) {
  REAL(munmap_fn, "munmap");
  trace("munmap addr=%p len=%zu\n", addr, len);
  return real(addr, len);
}

int msync(void *addr, size_t len, int flags) {
  REAL(msync_fn, "msync");
  trace("msync addr=%p len=%zu flags=%d\n", addr, len, flags);
  return real(addr, len, flags);
}

int madvise(void *addr, size_t len, int advice) {
  REAL(madvise_fn, "madvise");
  trace("madvise addr=%p len=%zu advice=%d\n", addr, len, advice);
  return real(addr, len, advice);
}

int flock(int fd, int op) {
  REAL(flock_fn, "flock");
  trace("flock fd=%d op=%d\n", fd, op);
  return real(fd, op);
}

int fsync(int fd) {
  REAL(fsync_fn, "fsync");
  struct stat st;
  int dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
  trace("fsync fd=%d dir=%d\n", fd, dir);
  return real(fd);
}

int posix_fallocate64(int fd, off64_t off, off64_t len) {
  REAL(fallocate_fn, "posix_fallocate64");
  trace("fallocate fd=%d off=%lld len=%lld\n", fd, (long long)off, (long long)len);
  return real(fd, off, len);
}
