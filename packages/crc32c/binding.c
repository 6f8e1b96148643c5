/*
 * N-API glue: converts and validates JS arguments, calls a kernel from
 * src/crc32c.h, converts the result. No CRC logic lives here.
 *
 * Each exported function gets its kernel descriptor (static, shared by every
 * environment) through the callback's data pointer, so the hot path reads no
 * per-environment state. Validation errors are
 * instances of the classes src/errors.ts registers through setErrorClasses
 * (plain TypeError/RangeError with a `code` until then).
 */
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <math.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>

#include "src/crc32c.h"

#define CODE_TYPE "ERR_QWP_CRC32C_INVALID_ARG_TYPE"
#define CODE_RANGE "ERR_QWP_CRC32C_OUT_OF_RANGE"

/* Per-environment state: error classes and the DataView constructor. */
typedef struct {
  napi_ref type_error;
  napi_ref range_error;
  napi_ref data_view;
} env_state;

static env_state *state_of(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) != napi_ok) return NULL;
  return (env_state *)data;
}

/* Throws `message` as an instance of the registered class, else a built-in. */
static void throw_error(napi_env env, int range, const char *message) {
  env_state *st = state_of(env);
  napi_ref ref = st == NULL ? NULL : (range ? st->range_error : st->type_error);
  napi_value ctor = NULL, msg, err;
  if (ref != NULL && napi_get_reference_value(env, ref, &ctor) == napi_ok && ctor != NULL &&
      napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg) == napi_ok &&
      napi_new_instance(env, ctor, 1, &msg, &err) == napi_ok) {
    napi_throw(env, err);
    return;
  }
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return; /* the class constructor threw; surface that error */
  if (range) {
    napi_throw_range_error(env, CODE_RANGE, message);
  } else {
    napi_throw_type_error(env, CODE_TYPE, message);
  }
}

static const char *type_name(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return "unknown";
  switch (t) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "boolean";
    case napi_number: return "number";
    case napi_string: return "string";
    case napi_symbol: return "symbol";
    case napi_object: return "object";
    case napi_function: return "function";
    case napi_external: return "external";
    case napi_bigint: return "bigint";
  }
  return "unknown";
}

/* typeof, refined for the buffer-like objects a caller most likely meant. */
static const char *describe(napi_env env, napi_value v) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) return "a typed array other than Uint8Array";
  if (napi_is_dataview(env, v, &is) == napi_ok && is) return "a DataView";
  if (napi_is_arraybuffer(env, v, &is) == napi_ok && is) return "an ArrayBuffer";
  if (napi_is_array(env, v, &is) == napi_ok && is) return "an Array";
  return type_name(env, v);
}

/*
 * Reads the optional `initial` CRC: undefined means 0, else an integer in
 * [0, 2^32). Returns 0 and throws on bad input.
 */
static int get_initial(napi_env env, const char *fn, napi_value v, uint32_t *out) {
  double d;
  napi_status s = napi_get_value_double(env, v, &d);
  if (s != napi_ok) {
    napi_valuetype t;
    if (napi_typeof(env, v, &t) == napi_ok && t == napi_undefined) {
      *out = 0;
      return 1;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "%s: initial must be a number (a previous CRC), got %s", fn,
             type_name(env, v));
    throw_error(env, 0, msg);
    return 0;
  }
  if (!(d >= 0 && d <= 4294967295.0) || d != floor(d)) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: initial must be an integer in [0, 4294967295], got %.17g", fn,
             d);
    throw_error(env, 1, msg);
    return 0;
  }
  *out = (uint32_t)d;
  return 1;
}

/* Reads an integer in [0, max]; `what` names the argument in the error. */
static int get_index(napi_env env, const char *fn, const char *what, napi_value v, size_t max,
                     size_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: %s must be a number, got %s", fn, what, type_name(env, v));
    throw_error(env, 0, msg);
    return 0;
  }
  /* The 2^53 bound keeps (size_t)d exact and <= max even where (double)max rounds up. */
  if (!(d >= 0 && d <= (double)max && d <= 9007199254740991.0) || d != floor(d)) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s: %s must be an integer in [0, %zu], got %.17g", fn, what, max,
             d);
    throw_error(env, 1, msg);
    return 0;
  }
  *out = (size_t)d;
  return 1;
}

static napi_value make_result(napi_env env, uint32_t crc) {
  napi_value r = NULL;
  napi_create_uint32(env, crc, &r);
  return r;
}

/* crc32c(data: Uint8Array, initial?: number): number */
static napi_value js_crc32c(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *fn_data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &fn_data) != napi_ok) return NULL;
  napi_typedarray_type type;
  size_t length = 0;
  void *ptr = NULL;
  if (argc < 1 ||
      napi_get_typedarray_info(env, argv[0], &type, &length, &ptr, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    char msg[160];
    snprintf(msg, sizeof msg, "crc32c: data must be a Uint8Array or Buffer, got %s",
             argc < 1 ? "nothing" : describe(env, argv[0]));
    throw_error(env, 0, msg);
    return NULL;
  }
  uint32_t initial = 0;
  if (argc >= 2 && !get_initial(env, "crc32c", argv[1], &initial)) return NULL;
  const crc32c_impl *impl = (const crc32c_impl *)fn_data;
  return make_result(env,
                     length == 0 ? initial : impl->fn(initial, (const uint8_t *)ptr, length));
}

static size_t element_size(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array: return 1;
    case napi_int16_array:
    case napi_uint16_array: return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array: return 4;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array: return 8;
  }
  return 0;
}

/*
 * Finds the bytes behind an ArrayBuffer, SharedArrayBuffer or ArrayBufferView.
 * Node-API 8 can neither read nor recognise a bare SharedArrayBuffer, so any
 * other object goes through a temporary `new DataView(v)`: that accepts only
 * a real (Shared)ArrayBuffer and throws for everything else, Proxies included,
 * without running any of the caller's JS (where `instanceof` would call
 * Proxy traps and `new Uint8Array(v)` would copy an array-like of any length).
 */
static int get_bytes(napi_env env, napi_value v, const uint8_t **ptr, size_t *len) {
  bool is;
  void *data = NULL;
  size_t n = 0;
  napi_typedarray_type type;
  /* Typed arrays first and without a separate type test: the hot case. */
  if (napi_get_typedarray_info(env, v, &type, &n, &data, NULL, NULL) == napi_ok) {
    size_t size = element_size(type);
    if (size == 0) return 0;
    *ptr = (const uint8_t *)data;
    *len = n * size;
    return 1;
  }
  if (napi_is_dataview(env, v, &is) == napi_ok && is) {
    if (napi_get_dataview_info(env, v, &n, &data, NULL, NULL) != napi_ok) return 0;
    *ptr = (const uint8_t *)data;
    *len = n;
    return 1;
  }
  if (napi_is_arraybuffer(env, v, &is) == napi_ok && is) {
    if (napi_get_arraybuffer_info(env, v, &data, &n) != napi_ok) return 0;
    *ptr = (const uint8_t *)data;
    *len = n;
    return 1;
  }
  env_state *st = state_of(env);
  napi_value dv_ctor = NULL, view;
  napi_valuetype t;
  if (st == NULL || st->data_view == NULL || napi_typeof(env, v, &t) != napi_ok ||
      t != napi_object || napi_get_reference_value(env, st->data_view, &dv_ctor) != napi_ok ||
      dv_ctor == NULL) {
    return 0;
  }
  if (napi_new_instance(env, dv_ctor, 1, &v, &view) != napi_ok) {
    /* Not a SharedArrayBuffer: drop DataView's TypeError, the caller throws ours. */
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
    return 0;
  }
  if (napi_get_dataview_info(env, view, &n, &data, NULL, NULL) != napi_ok) return 0;
  *ptr = (const uint8_t *)data;
  *len = n;
  return 1;
}

/* crc32cRange(data, offset: number, length: number, initial?: number): number */
static napi_value js_crc32c_range(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  void *fn_data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &fn_data) != napi_ok) return NULL;
  const uint8_t *ptr = NULL;
  size_t total = 0;
  if (argc < 1 || !get_bytes(env, argv[0], &ptr, &total)) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) return NULL;
    char msg[200];
    snprintf(msg, sizeof msg,
             "crc32cRange: data must be an ArrayBuffer, SharedArrayBuffer or ArrayBufferView, "
             "got %s",
             argc < 1 ? "nothing" : describe(env, argv[0]));
    throw_error(env, 0, msg);
    return NULL;
  }
  napi_value undef = NULL;
  if (argc < 3) napi_get_undefined(env, &undef);
  size_t offset, length;
  if (!get_index(env, "crc32cRange", "offset", argc >= 2 ? argv[1] : undef, total, &offset)) {
    return NULL;
  }
  if (!get_index(env, "crc32cRange", "length", argc >= 3 ? argv[2] : undef, total - offset,
                 &length)) {
    return NULL;
  }
  uint32_t initial = 0;
  if (argc >= 4 && !get_initial(env, "crc32cRange", argv[3], &initial)) return NULL;
  const crc32c_impl *impl = (const crc32c_impl *)fn_data;
  return make_result(env, length == 0 ? initial : impl->fn(initial, ptr + offset, length));
}

/* setErrorClasses(TypeErrorClass, RangeErrorClass): undefined */
static napi_value js_set_error_classes(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  napi_valuetype t0 = napi_undefined, t1 = napi_undefined;
  if (argc < 2 || napi_typeof(env, argv[0], &t0) != napi_ok || t0 != napi_function ||
      napi_typeof(env, argv[1], &t1) != napi_ok || t1 != napi_function) {
    napi_throw_type_error(env, CODE_TYPE, "setErrorClasses: expects two constructors");
    return NULL;
  }
  env_state *st = state_of(env);
  if (st == NULL) return NULL;
  if (st->type_error != NULL) napi_delete_reference(env, st->type_error);
  if (st->range_error != NULL) napi_delete_reference(env, st->range_error);
  st->type_error = NULL;
  st->range_error = NULL;
  napi_create_reference(env, argv[0], 1, &st->type_error);
  napi_create_reference(env, argv[1], 1, &st->range_error);
  return NULL;
}

static void free_state(napi_env env, void *data, void *hint) {
  (void)hint;
  env_state *st = (env_state *)data;
  if (st == NULL) return;
  if (st->type_error != NULL) napi_delete_reference(env, st->type_error);
  if (st->range_error != NULL) napi_delete_reference(env, st->range_error);
  if (st->data_view != NULL) napi_delete_reference(env, st->data_view);
  free(st);
}

static napi_ref global_ref(napi_env env, napi_value global, const char *name) {
  napi_value v;
  napi_valuetype t;
  napi_ref ref = NULL;
  if (napi_get_named_property(env, global, name, &v) == napi_ok &&
      napi_typeof(env, v, &t) == napi_ok && t == napi_function) {
    napi_create_reference(env, v, 1, &ref);
  }
  return ref;
}

/* { name, crc32c, crc32cRange } for one kernel. */
static napi_value make_impl(napi_env env, const crc32c_impl *impl) {
  napi_value obj, name, f, g;
  if (napi_create_object(env, &obj) != napi_ok ||
      napi_create_string_utf8(env, impl->name, NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_function(env, "crc32c", NAPI_AUTO_LENGTH, js_crc32c, (void *)impl, &f) !=
          napi_ok ||
      napi_create_function(env, "crc32cRange", NAPI_AUTO_LENGTH, js_crc32c_range, (void *)impl,
                           &g) != napi_ok ||
      napi_set_named_property(env, obj, "name", name) != napi_ok ||
      napi_set_named_property(env, obj, "crc32c", f) != napi_ok ||
      napi_set_named_property(env, obj, "crc32cRange", g) != napi_ok) {
    return NULL;
  }
  return obj;
}

/*
 * exports = { implementations: [{ name, crc32c, crc32cRange }...] (portable
 * first, fastest last), setErrorClasses }. The JS side picks the default
 * (QWP_CRC32C_PORTABLE is read there: getenv here would race with another
 * thread's process.env writes, which Node guards with a lock C cannot take).
 */
NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  env_state *st = (env_state *)calloc(1, sizeof *st);
  if (st == NULL) {
    napi_throw_error(env, NULL, "@qwp/crc32c: out of memory at load");
    return NULL;
  }
  if (napi_set_instance_data(env, st, free_state, NULL) != napi_ok) {
    free(st);
    return NULL;
  }
  napi_value global;
  if (napi_get_global(env, &global) != napi_ok) return NULL;
  st->data_view = global_ref(env, global, "DataView");

  const crc32c_impl *impls[CRC32C_MAX_IMPLS];
  size_t count = crc32c_list(impls);

  napi_value list, item, setter;
  if (napi_create_array_with_length(env, count, &list) != napi_ok) return NULL;
  for (size_t i = 0; i < count; i++) {
    item = make_impl(env, impls[i]);
    if (item == NULL || napi_set_element(env, list, (uint32_t)i, item) != napi_ok) return NULL;
  }
  if (napi_create_function(env, "setErrorClasses", NAPI_AUTO_LENGTH, js_set_error_classes, NULL,
                           &setter) != napi_ok ||
      napi_set_named_property(env, exports, "implementations", list) != napi_ok ||
      napi_set_named_property(env, exports, "setErrorClasses", setter) != napi_ok) {
    return NULL;
  }
  return exports;
}
