/*
 * Runs the write-based qwp_fallocate of src/posix.c (the macOS path, built on
 * Linux with QWP_FALLOCATE_BY_WRITES) against real files.
 *   main basic <dir>    hole filling, growth, data kept, errors
 *   main enospc <dir>   <dir> is a 256 KiB tmpfs: ENOSPC at allocation
 * Prints each failed check and a last line "<mode> ok" or "<mode> FAILED".
 */
#define _GNU_SOURCE /* SEEK_HOLE */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform.h"

#define KIB 1024LL
#define MIB (1024LL * 1024LL)

static int failures = 0;

#define CHECK(cond)                                               \
  do {                                                            \
    if (!(cond)) {                                                \
      failures++;                                                 \
      printf("check failed at line %d: %s\n", __LINE__, #cond); \
    }                                                             \
  } while (0)

static long long allocated(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? (long long)st.st_blocks * 512 : -1;
}

static long long size_of(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? (long long)st.st_size : -1;
}

/* True when no hole starts inside [from, to). */
static int no_hole(int fd, off_t from, off_t to) { return lseek(fd, from, SEEK_HOLE) >= to; }

static int open_in(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
}

/* Reads the whole file and checks it is zero except `expect` at `at`. */
static int zero_except(int fd, off_t at, const char *expect) {
  long long n = size_of(fd);
  unsigned char *buf = malloc((size_t)n);
  if (buf == NULL || pread(fd, buf, (size_t)n, 0) != n) return free(buf), 0;
  size_t len = strlen(expect);
  int ok = 1;
  for (long long i = 0; i < n; i++) {
    unsigned char want = (i >= at && i < at + (long long)len) ? (unsigned char)expect[i - at] : 0;
    if (buf[i] != want) ok = 0;
  }
  free(buf);
  return ok;
}

static void basic(const char *dir) {
  /* An empty file grows to the range, every block allocated, all zeros. */
  int a = open_in(dir, "a");
  CHECK(qwp_fallocate(a, 0, MIB) == 0);
  CHECK(size_of(a) == MIB);
  CHECK(allocated(a) >= MIB);
  CHECK(no_hole(a, 0, MIB));
  CHECK(zero_except(a, 0, ""));
  close(a);

  /* A sparse file: only the asked range is filled, bytes kept, size kept. */
  int b = open_in(dir, "b");
  CHECK(ftruncate(b, MIB) == 0);
  CHECK(allocated(b) < MIB); /* the file system keeps holes, so the test means something */
  CHECK(pwrite(b, "abc", 3, 300001) == 3);
  off_t from = 3 * 4096 + 5;
  CHECK(qwp_fallocate(b, from, 500000) == 0);
  CHECK(size_of(b) == MIB);
  CHECK(no_hole(b, from, from + 500000));
  CHECK(lseek(b, 0, SEEK_HOLE) == 0); /* before the range: still a hole */
  CHECK(qwp_fallocate(b, 0, MIB) == 0);
  CHECK(allocated(b) >= MIB);
  CHECK(no_hole(b, 0, MIB));
  CHECK(zero_except(b, 300001, "abc"));
  close(b);

  /* A range past the end grows the file; what was written stays. */
  int c = open_in(dir, "c");
  CHECK(pwrite(c, "0123456789", 10, 0) == 10);
  CHECK(qwp_fallocate(c, 8192, 64 * KIB) == 0);
  CHECK(size_of(c) == 8192 + 64 * KIB);
  CHECK(no_hole(c, 8192, 8192 + 64 * KIB));
  CHECK(zero_except(c, 0, "0123456789"));
  /* A range inside the file never shrinks it. */
  CHECK(qwp_fallocate(c, 0, 4096) == 0);
  CHECK(size_of(c) == 8192 + 64 * KIB);
  close(c);

  CHECK(qwp_fallocate(-1, 0, 4096) == -EBADF);
}

static void enospc(const char *dir) {
  int a = open_in(dir, "grow");
  CHECK(qwp_fallocate(a, 0, 64 * KIB) == 0);
  CHECK(qwp_fallocate(a, 0, 4 * MIB) == -ENOSPC);
  CHECK(size_of(a) == 64 * KIB); /* a failure leaves the size as it was */
  CHECK(zero_except(a, 0, ""));
  close(a);

  /* The case F_PREALLOCATE alone misses: a full-size sparse file (a recovered
     segment) on a full disk fails here, not with SIGBUS at the first store. */
  int b = open_in(dir, "sparse");
  CHECK(ftruncate(b, 4 * MIB) == 0);
  CHECK(pwrite(b, "x", 1, 7) == 1);
  CHECK(qwp_fallocate(b, 0, 4 * MIB) == -ENOSPC);
  CHECK(size_of(b) == 4 * MIB);
  char x = 0;
  CHECK(pread(b, &x, 1, 7) == 1 && x == 'x');
  close(b);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s basic|enospc <dir>\n", argv[0]);
    return 2;
  }
  if (strcmp(argv[1], "basic") == 0) {
    basic(argv[2]);
  } else if (strcmp(argv[1], "enospc") == 0) {
    enospc(argv[2]);
  } else {
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
  }
  printf("%s %s\n", argv[1], failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
