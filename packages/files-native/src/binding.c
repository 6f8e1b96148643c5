/*
 * N-API glue: converts JS values to calls into platform.h and failures into
 * Node-style errors. No file-system logic lives here.
 *
 * Mapping lifetime: each mmap gets a small heap record, reachable from its
 * ArrayBuffer (wrapped and type-tagged) and passed to the buffer's finalizer.
 * munmap marks the record, detaches the buffer and unmaps; the finalizer
 * unmaps only records that are still marked live, then frees the record. So a
 * region is unmapped exactly once, and after munmap every view of the buffer
 * has length 0 instead of pointing at unmapped memory.
 */
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "platform.h"

#define MAX_SAFE_INTEGER 9007199254740991.0

typedef struct {
  void *addr;
  size_t length;
  /* Set (before the buffer is detached) once munmap has taken ownership. */
  volatile int unmapped;
} qwp_mapping;

/* Marks ArrayBuffers made by this addon, so unwrap never trusts a foreign wrap. */
static const napi_type_tag MAPPING_TAG = {0x5177702d66696c65ULL, 0x732d6d6d61702d31ULL};

/* Process-wide counters (all threads, all environments) for tests and leak checks. */
static int64_t stat_mapped, stat_unmapped_by_call, stat_unmapped_by_gc, stat_released;
#if defined(__GNUC__) || defined(__clang__)
#define COUNT(x) __atomic_add_fetch(&(x), 1, __ATOMIC_RELAXED)
#define READ_COUNT(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#else
#define COUNT(x) ((x)++)
#define READ_COUNT(x) (x)
#endif

/* ---- errors ------------------------------------------------------------ */

static bool pending(napi_env env);

typedef struct {
  int err;
  const char *code;
  const char *text;
} errno_name;

/* Names and texts as libuv (and so util.getSystemErrorName) gives them. */
static const errno_name ERRNO_NAMES[] = {
  {EACCES, "EACCES", "permission denied"},
  {EAGAIN, "EAGAIN", "resource temporarily unavailable"},
  {EBADF, "EBADF", "bad file descriptor"},
  {EBUSY, "EBUSY", "resource busy or locked"},
  {EEXIST, "EEXIST", "file already exists"},
  {EFBIG, "EFBIG", "file too large"},
  {EINTR, "EINTR", "interrupted system call"},
  {EINVAL, "EINVAL", "invalid argument"},
  {EIO, "EIO", "i/o error"},
  {EISDIR, "EISDIR", "illegal operation on a directory"},
  {EMFILE, "EMFILE", "too many open files"},
  {ENAMETOOLONG, "ENAMETOOLONG", "name too long"},
  {ENFILE, "ENFILE", "file table overflow"},
  {ENODEV, "ENODEV", "no such device"},
  {ENOENT, "ENOENT", "no such file or directory"},
  {ENOMEM, "ENOMEM", "not enough memory"},
  {ENOSPC, "ENOSPC", "no space left on device"},
  {ENOSYS, "ENOSYS", "function not implemented"},
  {ENOTDIR, "ENOTDIR", "not a directory"},
  {ENXIO, "ENXIO", "no such device or address"},
  {EPERM, "EPERM", "operation not permitted"},
  {EROFS, "EROFS", "read-only file system"},
  {ESPIPE, "ESPIPE", "invalid seek"},
#ifdef ENOTSUP
  {ENOTSUP, "ENOTSUP", "operation not supported on socket"},
#endif
#ifdef EOVERFLOW
  {EOVERFLOW, "EOVERFLOW", "value too large for defined data type"},
#endif
#ifdef ETXTBSY
  {ETXTBSY, "ETXTBSY", "text file is busy"},
#endif
};

/* Longest piece of a path quoted in an error message, in bytes. */
#define MESSAGE_PATH_MAX 4096

/* Bytes of `path` to quote: at most MESSAGE_PATH_MAX, never cutting a UTF-8 sequence. */
static size_t quoted_length(const char *path, bool *cut) {
  size_t n = strlen(path);
  *cut = n > MESSAGE_PATH_MAX;
  if (!*cut) return n;
  n = MESSAGE_PATH_MAX;
  while (n > 0 && ((unsigned char)path[n] & 0xC0u) == 0x80u) n--;
  return n;
}

/*
 * Throws Error{code, errno (negative), syscall, path?}; `neg_err` is -errno.
 * `js_path` is the caller's own string, set as `path` as it is: a path near
 * V8's string limit must not be rebuilt from C (V8 aborts the process when
 * a new string is too long), so the message quotes only its first
 * MESSAGE_PATH_MAX bytes.
 */
static void throw_system_error(napi_env env, int neg_err, const char *syscall, const char *path,
                               napi_value js_path) {
  const char *code = "UNKNOWN";
  const char *text = "unknown error";
  for (size_t i = 0; i < sizeof(ERRNO_NAMES) / sizeof(ERRNO_NAMES[0]); i++) {
    if (ERRNO_NAMES[i].err == -neg_err) {
      code = ERRNO_NAMES[i].code;
      text = ERRNO_NAMES[i].text;
      break;
    }
  }
  char msg[MESSAGE_PATH_MAX + 256];
  if (path != NULL) {
    bool cut = false;
    int quoted = (int)quoted_length(path, &cut);
    snprintf(msg, sizeof(msg), "%s: %s, %s '%.*s%s'", code, text, syscall, quoted, path,
             cut ? "..." : "");
  } else {
    snprintf(msg, sizeof(msg), "%s: %s, %s", code, text, syscall);
  }

  napi_value js_code = NULL, js_msg = NULL, error = NULL, value = NULL;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &js_code) != napi_ok ||
      napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &js_msg) != napi_ok ||
      napi_create_error(env, js_code, js_msg, &error) != napi_ok) {
    if (!pending(env)) napi_throw_error(env, code, text);
    return;
  }
  /* The extra properties are best effort: the error is thrown either way. */
  if (napi_create_int32(env, neg_err, &value) == napi_ok) {
    napi_set_named_property(env, error, "errno", value);
  }
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value) == napi_ok) {
    napi_set_named_property(env, error, "syscall", value);
  }
  if (js_path != NULL) napi_set_named_property(env, error, "path", js_path);
  if (!pending(env)) napi_throw(env, error);
}

static void throw_range(napi_env env, const char *name, const char *must, double received) {
  char msg[256];
  snprintf(msg, sizeof(msg), "The value of \"%s\" is out of range. It must be %s. Received %.17g",
           name, must, received);
  napi_throw_range_error(env, "ERR_QWP_FILES_OUT_OF_RANGE", msg);
}

static void throw_arg_type(napi_env env, const char *name, const char *expected) {
  char msg[256];
  snprintf(msg, sizeof(msg), "The \"%s\" argument must be %s", name, expected);
  napi_throw_type_error(env, "ERR_QWP_FILES_INVALID_ARG_TYPE", msg);
}

/* True when an exception is already pending (a failed N-API call set one). */
static bool pending(napi_env env) {
  bool is_pending = false;
  napi_is_exception_pending(env, &is_pending);
  return is_pending;
}

static void throw_internal(napi_env env, const char *what) {
  if (!pending(env)) napi_throw_error(env, "ERR_QWP_FILES_INTERNAL", what);
}

/* ---- arguments --------------------------------------------------------- */

/* Reads an integral number in [min, max]; throws and returns false otherwise. */
static bool get_integer(napi_env env, napi_value value, const char *name, double min, double max,
                        int64_t *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number) {
    throw_arg_type(env, name, "of type number");
    return false;
  }
  double d = 0;
  napi_get_value_double(env, value, &d);
  if (!(d >= min && d <= max) || (double)(int64_t)d != d) {
    char must[128];
    snprintf(must, sizeof(must), "an integer >= %.17g and <= %.17g", min, max);
    throw_range(env, name, must, d);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

static bool get_fd(napi_env env, napi_value value, int *out) {
  int64_t fd;
  if (!get_integer(env, value, "fd", 0, 2147483647.0, &fd)) return false;
  *out = (int)fd;
  return true;
}

static bool get_bool(napi_env env, napi_value value, const char *name, bool *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_boolean) {
    throw_arg_type(env, name, "of type boolean");
    return false;
  }
  napi_get_value_bool(env, value, out);
  return true;
}

/* Copies a string argument into a fresh heap buffer (caller frees); rejects NUL bytes. */
static char *get_path(napi_env env, napi_value value, const char *name) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) {
    throw_arg_type(env, name, "of type string");
    return NULL;
  }
  size_t len = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) {
    throw_internal(env, "could not read a string argument");
    return NULL;
  }
  char *buf = malloc(len + 1);
  if (buf == NULL) {
    throw_system_error(env, -ENOMEM, "malloc", NULL, NULL);
    return NULL;
  }
  napi_get_value_string_utf8(env, value, buf, len + 1, &len);
  if (strlen(buf) != len) {
    char msg[128];
    snprintf(msg, sizeof(msg), "The argument '%s' must be a string without null bytes", name);
    napi_throw_type_error(env, "ERR_QWP_FILES_INVALID_ARG_VALUE", msg);
    free(buf);
    return NULL;
  }
  return buf;
}

/*
 * Resolves an ArrayBuffer made by mmap. Returns 1 with *out set for a live
 * mapping, 0 when it was already unmapped (detached), -1 after throwing.
 */
static int get_mapping(napi_env env, napi_value value, qwp_mapping **out) {
  bool ok = false;
  if (napi_is_arraybuffer(env, value, &ok) != napi_ok || !ok) {
    throw_arg_type(env, "buf", "an ArrayBuffer returned by mmap");
    return -1;
  }
  bool detached = false;
  if (napi_is_detached_arraybuffer(env, value, &detached) != napi_ok) {
    throw_internal(env, "could not inspect an ArrayBuffer");
    return -1;
  }
  if (detached) return 0;
  bool tagged = false;
  void *data = NULL;
  if (napi_check_object_type_tag(env, value, &MAPPING_TAG, &tagged) != napi_ok || !tagged ||
      napi_unwrap(env, value, &data) != napi_ok || data == NULL) {
    if (!pending(env)) {
      napi_throw_type_error(env, "ERR_QWP_FILES_INVALID_ARG_VALUE",
                            "The argument 'buf' is not an ArrayBuffer returned by mmap");
    }
    return -1;
  }
  qwp_mapping *mapping = data;
  if (mapping->unmapped) return 0;
  *out = mapping;
  return 1;
}

/* ---- mapping lifetime -------------------------------------------------- */

static void finalize_mapping(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  qwp_mapping *mapping = hint;
  if (!mapping->unmapped) {
    qwp_munmap(mapping->addr, mapping->length);
    COUNT(stat_unmapped_by_gc);
  }
  COUNT(stat_released);
  free(mapping);
}

/* ---- exported functions ------------------------------------------------ */

#define ARGS(n)                                                              \
  size_t argc = (n);                                                         \
  napi_value argv[(n) > 0 ? (n) : 1];                                        \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {     \
    throw_internal(env, "could not read the arguments");                     \
    return NULL;                                                             \
  }                                                                          \
  for (size_t i = argc; i < (n); i++) napi_get_undefined(env, &argv[i]);

static napi_value js_page_size(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result = NULL;
  if (napi_create_double(env, (double)qwp_page_size(), &result) != napi_ok) {
    throw_internal(env, "could not return the page size");
  }
  return result;
}

/* mmap(fd, offset, length, writable) -> ArrayBuffer */
static napi_value js_mmap(napi_env env, napi_callback_info info) {
  ARGS(4)
  int fd;
  int64_t offset, length;
  bool writable;
  if (!get_fd(env, argv[0], &fd)) return NULL;
  if (!get_integer(env, argv[1], "offset", 0, MAX_SAFE_INTEGER, &offset)) return NULL;
  if (!get_integer(env, argv[2], "length", 1, MAX_SAFE_INTEGER, &length)) return NULL;
  if (!get_bool(env, argv[3], "writable", &writable)) return NULL;
  size_t page = qwp_page_size();
  if (offset % (int64_t)page != 0) {
    char must[96];
    snprintf(must, sizeof(must), "a multiple of the page size (%zu)", page);
    throw_range(env, "offset", must, (double)offset);
    return NULL;
  }
  if ((uint64_t)length > (uint64_t)SIZE_MAX) {
    throw_range(env, "length", "addressable on this platform", (double)length);
    return NULL;
  }

  qwp_mapping *mapping = malloc(sizeof(*mapping));
  if (mapping == NULL) {
    throw_system_error(env, -ENOMEM, "mmap", NULL, NULL);
    return NULL;
  }
  void *addr = NULL;
  int rc = qwp_mmap(fd, offset, (size_t)length, writable, &addr);
  if (rc != 0) {
    free(mapping);
    throw_system_error(env, rc, "mmap", NULL, NULL);
    return NULL;
  }
  mapping->addr = addr;
  mapping->length = (size_t)length;
  mapping->unmapped = 0;
  COUNT(stat_mapped);

  napi_value buffer;
  napi_status status = napi_create_external_arraybuffer(env, addr, (size_t)length,
                                                        finalize_mapping, mapping, &buffer);
  if (status == napi_no_external_buffers_allowed || status == napi_pending_exception ||
      status == napi_cannot_run_js) {
    /* Refused before Node took ownership (V8 sandbox as in Electron, or a
       terminating worker): the finalizer will never run, so release here. */
    finalize_mapping(env, addr, mapping);
    if (status == napi_no_external_buffers_allowed) {
      throw_system_error(env, -ENOSYS, "mmap", NULL, NULL);
    } else {
      throw_internal(env, "could not wrap the mapping in an ArrayBuffer");
    }
    return NULL;
  }
  if (status != napi_ok) {
    /* Node owns the mapping and has run (or will run) the finalizer, e.g. at
       once for a length over buffer.constants.MAX_LENGTH with its own error pending. */
    throw_internal(env, "could not wrap the mapping in an ArrayBuffer");
    return NULL;
  }
  if (napi_type_tag_object(env, buffer, &MAPPING_TAG) != napi_ok ||
      napi_wrap(env, buffer, mapping, NULL, NULL, NULL) != napi_ok) {
    throw_internal(env, "could not tag the mapping");
    return NULL;
  }
  return buffer;
}

/* munmap(buf): detaches and unmaps; a no-op on an already unmapped buffer. */
static napi_value js_munmap(napi_env env, napi_callback_info info) {
  ARGS(1)
  qwp_mapping *mapping = NULL;
  int live = get_mapping(env, argv[0], &mapping);
  if (live <= 0) return NULL;
  void *addr = mapping->addr;
  size_t length = mapping->length;
  /* Mark first and never touch the record after detaching: the finalizer may free it. */
  mapping->unmapped = 1;
  if (napi_detach_arraybuffer(env, argv[0]) != napi_ok) {
    mapping->unmapped = 0;
    throw_internal(env, "could not detach the mapping's ArrayBuffer");
    return NULL;
  }
  int rc = qwp_munmap(addr, length);
  COUNT(stat_unmapped_by_call);
  if (rc != 0) {
    throw_system_error(env, rc, "munmap", NULL, NULL);
    return NULL;
  }
  return NULL;
}

/* Validates [offset, offset + length) against the mapping and widens it to whole pages. */
static bool page_range(napi_env env, qwp_mapping *mapping, napi_value js_offset,
                       napi_value js_length, char **start, size_t *span) {
  int64_t offset, length;
  if (!get_integer(env, js_offset, "offset", 0, MAX_SAFE_INTEGER, &offset)) return false;
  if (!get_integer(env, js_length, "length", 0, MAX_SAFE_INTEGER, &length)) return false;
  if ((uint64_t)offset + (uint64_t)length > (uint64_t)mapping->length) {
    char must[96];
    snprintf(must, sizeof(must), "<= %zu (the mapping's length) together with \"offset\"",
             mapping->length);
    throw_range(env, "length", must, (double)length);
    return false;
  }
  size_t page = qwp_page_size();
  size_t first = (size_t)offset - (size_t)offset % page;
  *start = (char *)mapping->addr + first;
  *span = length == 0 ? 0 : (size_t)offset + (size_t)length - first;
  return true;
}

static int get_live_mapping(napi_env env, napi_value value, const char *syscall,
                            qwp_mapping **out) {
  int live = get_mapping(env, value, out);
  if (live == 0) {
    char msg[96];
    snprintf(msg, sizeof(msg), "%s: the mapping was already unmapped", syscall);
    napi_throw_error(env, "ERR_QWP_FILES_INVALID_STATE", msg);
    return -1;
  }
  return live;
}

/* msync(buf, offset, length, sync) */
static napi_value js_msync(napi_env env, napi_callback_info info) {
  ARGS(4)
  qwp_mapping *mapping = NULL;
  if (get_live_mapping(env, argv[0], "msync", &mapping) < 0) return NULL;
  char *start;
  size_t span;
  bool sync;
  if (!page_range(env, mapping, argv[1], argv[2], &start, &span)) return NULL;
  if (!get_bool(env, argv[3], "sync", &sync)) return NULL;
  if (span == 0) return NULL;
  int rc = qwp_msync(start, span, sync);
  if (rc != 0) throw_system_error(env, rc, "msync", NULL, NULL);
  return NULL;
}

/* madvise(buf, offset, length, advice 0..4) */
static napi_value js_madvise(napi_env env, napi_callback_info info) {
  ARGS(4)
  qwp_mapping *mapping = NULL;
  if (get_live_mapping(env, argv[0], "madvise", &mapping) < 0) return NULL;
  char *start;
  size_t span;
  int64_t advice;
  if (!page_range(env, mapping, argv[1], argv[2], &start, &span)) return NULL;
  if (!get_integer(env, argv[3], "advice", QWP_ADVICE_NORMAL, QWP_ADVICE_DONTNEED, &advice)) {
    return NULL;
  }
  if (span == 0) return NULL;
  int rc = qwp_madvise(start, span, (enum qwp_advice)advice);
  if (rc != 0) throw_system_error(env, rc, "madvise", NULL, NULL);
  return NULL;
}

/* fallocate(fd, offset, length) */
static napi_value js_fallocate(napi_env env, napi_callback_info info) {
  ARGS(3)
  int fd;
  int64_t offset, length;
  if (!get_fd(env, argv[0], &fd)) return NULL;
  if (!get_integer(env, argv[1], "offset", 0, MAX_SAFE_INTEGER, &offset)) return NULL;
  if (!get_integer(env, argv[2], "length", 1, MAX_SAFE_INTEGER, &length)) return NULL;
  int rc = qwp_fallocate(fd, offset, length);
  if (rc != 0) throw_system_error(env, rc, "fallocate", NULL, NULL);
  return NULL;
}

/* tryLock(fd) -> boolean */
static napi_value js_try_lock(napi_env env, napi_callback_info info) {
  ARGS(1)
  int fd;
  if (!get_fd(env, argv[0], &fd)) return NULL;
  int rc = qwp_try_lock(fd);
  if (rc < 0) {
    throw_system_error(env, rc, "flock", NULL, NULL);
    return NULL;
  }
  napi_value result = NULL;
  if (napi_get_boolean(env, rc == 1, &result) != napi_ok) throw_internal(env, "could not return the lock result");
  return result;
}

/* unlock(fd) */
static napi_value js_unlock(napi_env env, napi_callback_info info) {
  ARGS(1)
  int fd;
  if (!get_fd(env, argv[0], &fd)) return NULL;
  int rc = qwp_unlock(fd);
  if (rc != 0) throw_system_error(env, rc, "flock", NULL, NULL);
  return NULL;
}

/* fsyncDir(path) */
static napi_value js_fsync_dir(napi_env env, napi_callback_info info) {
  ARGS(1)
  char *path = get_path(env, argv[0], "path");
  if (path == NULL) return NULL;
  const char *syscall = "fsync";
  int rc = qwp_fsync_dir(path, &syscall);
  if (rc != 0) throw_system_error(env, rc, syscall, path, argv[0]);
  free(path);
  return NULL;
}

static void set_count(napi_env env, napi_value obj, const char *name, int64_t value) {
  napi_value v;
  if (napi_create_double(env, (double)value, &v) == napi_ok) {
    napi_set_named_property(env, obj, name, v);
  }
}

/* stats() -> { mapped, unmappedByCall, unmappedByGc, released } for this process. */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result = NULL;
  if (napi_create_object(env, &result) != napi_ok) {
    throw_internal(env, "could not make the stats object");
    return NULL;
  }
  set_count(env, result, "mapped", READ_COUNT(stat_mapped));
  set_count(env, result, "unmappedByCall", READ_COUNT(stat_unmapped_by_call));
  set_count(env, result, "unmappedByGc", READ_COUNT(stat_unmapped_by_gc));
  set_count(env, result, "released", READ_COUNT(stat_released));
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    {"pageSize", NULL, js_page_size, NULL, NULL, NULL, napi_enumerable, NULL},
    {"mmap", NULL, js_mmap, NULL, NULL, NULL, napi_enumerable, NULL},
    {"munmap", NULL, js_munmap, NULL, NULL, NULL, napi_enumerable, NULL},
    {"msync", NULL, js_msync, NULL, NULL, NULL, napi_enumerable, NULL},
    {"madvise", NULL, js_madvise, NULL, NULL, NULL, napi_enumerable, NULL},
    {"fallocate", NULL, js_fallocate, NULL, NULL, NULL, napi_enumerable, NULL},
    {"tryLock", NULL, js_try_lock, NULL, NULL, NULL, napi_enumerable, NULL},
    {"unlock", NULL, js_unlock, NULL, NULL, NULL, napi_enumerable, NULL},
    {"fsyncDir", NULL, js_fsync_dir, NULL, NULL, NULL, napi_enumerable, NULL},
    {"stats", NULL, js_stats, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) {
    return NULL;
  }
  return exports;
}
