/**
 * The pure-JavaScript CRC32C kernel: slice-by-16 over tables built at load,
 * used when the addon cannot load (or QWP_CRC32C_JS=1). It takes the same
 * arguments as the addon's kernels, checks them the same way and throws the
 * same errors with the same messages, and like them never runs the caller's
 * JS: buffers are recognised and measured through the built-in getters
 * captured below (no Proxy trap, no own-property getter, no valueOf).
 */
import { types } from 'node:util';
import type { ByteSource, Crc32cImplementation } from './binding.js';
import { Crc32cRangeError, Crc32cTypeError } from './errors.js';

/** Castagnoli polynomial, bit-reflected. */
const POLY = 0x82f63b78;
const SLICES = 16;

/**
 * Flat slice-by-16 table: entry [k * 256 + b] is the register after byte b
 * followed by k zero bytes (as in scripts/gen-tables.mjs for the C kernels).
 * Int32Array, so every lookup stays a small integer in V8.
 */
const TABLE = buildTable();

function buildTable(): Int32Array {
  const t = new Int32Array(SLICES * 256);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[b] = c;
  }
  for (let k = 1; k < SLICES; k++) {
    for (let b = 0; b < 256; b++) {
      const prev = t[(k - 1) * 256 + b]!;
      t[k * 256 + b] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
}

/** CRC32C of bytes[start, end), continuing `crc`; the caller has checked the bounds. */
function update(crc: number, bytes: Uint8Array, start: number, end: number): number {
  const t = TABLE;
  let c = ~crc;
  let i = start;
  for (const stop = end - 15; i < stop; i += 16) {
    const w =
      c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c =
      t[0xf00 + (w & 0xff)]! ^
      t[0xe00 + ((w >>> 8) & 0xff)]! ^
      t[0xd00 + ((w >>> 16) & 0xff)]! ^
      t[0xc00 + (w >>> 24)]! ^
      t[0xb00 + bytes[i + 4]!]! ^
      t[0xa00 + bytes[i + 5]!]! ^
      t[0x900 + bytes[i + 6]!]! ^
      t[0x800 + bytes[i + 7]!]! ^
      t[0x700 + bytes[i + 8]!]! ^
      t[0x600 + bytes[i + 9]!]! ^
      t[0x500 + bytes[i + 10]!]! ^
      t[0x400 + bytes[i + 11]!]! ^
      t[0x300 + bytes[i + 12]!]! ^
      t[0x200 + bytes[i + 13]!]! ^
      t[0x100 + bytes[i + 14]!]! ^
      t[bytes[i + 15]!]!;
  }
  for (; i < end; i++) c = (c >>> 8) ^ t[(c ^ bytes[i]!) & 0xff]!;
  return ~c >>> 0;
}

// Built-in getters, captured at load: called on the caller's object they read
// internal slots only, and throw or return undefined for anything else.
type Getter<T> = (this: unknown) => T;
function getter<T>(proto: object, key: PropertyKey): Getter<T> {
  return Object.getOwnPropertyDescriptor(proto, key)!.get as Getter<T>;
}
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
/** 'Uint8Array', 'Float64Array', … for a typed array; undefined for anything else. */
const typedArrayKind = getter<string | undefined>(typedArrayProto, Symbol.toStringTag);
const typedArrayLength = getter<number>(typedArrayProto, 'length');
const typedArrayByteOffset = getter<number>(typedArrayProto, 'byteOffset');
const typedArrayByteLength = getter<number>(typedArrayProto, 'byteLength');
const typedArrayBuffer = getter<ArrayBufferLike>(typedArrayProto, 'buffer');
const dataViewByteOffset = getter<number>(DataView.prototype, 'byteOffset');
const dataViewByteLength = getter<number>(DataView.prototype, 'byteLength');
const dataViewBuffer = getter<ArrayBufferLike>(DataView.prototype, 'buffer');
const arrayBufferByteLength = getter<number>(ArrayBuffer.prototype, 'byteLength');
const sharedByteLength = getter<number>(SharedArrayBuffer.prototype, 'byteLength');

/**
 * One whole-buffer Uint8Array per (Shared)ArrayBuffer, made at its first
 * non-Uint8Array call, so repeated calls on the same memory allocate nothing.
 * Made without a length, so it follows a resizable buffer.
 */
const wholeViews = new WeakMap<ArrayBufferLike, Uint8Array>();

function wholeView(buffer: ArrayBufferLike): Uint8Array {
  let view = wholeViews.get(buffer);
  if (view === undefined) {
    view = new Uint8Array(buffer);
    wholeViews.set(buffer, view);
  }
  return view;
}

// Error messages: word for word what binding.c writes.

/** What napi_typeof reports. */
function typeName(v: unknown): string {
  return v === null ? 'null' : typeof v;
}

/** typeof, refined for the buffer-like objects a caller most likely meant (as binding.c's describe). */
function describe(v: unknown): string {
  if (typedArrayKind.call(v) !== undefined) return 'a typed array other than Uint8Array';
  if (types.isDataView(v)) return 'a DataView';
  if (types.isArrayBuffer(v)) return 'an ArrayBuffer';
  if (Array.isArray(v) && !types.isProxy(v)) return 'an Array';
  return typeName(v);
}

/** printf's %.17g, which binding.c uses for a bad number. */
function g17(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (!Number.isFinite(d)) return d > 0 ? 'inf' : '-inf';
  const [mantissa, exp] = d.toExponential(16).split('e') as [string, string];
  const x = Number(exp);
  const trim = (s: string) => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  if (x >= -4 && x < 17) return trim(d.toFixed(16 - x));
  const digits = String(Math.abs(x)).padStart(2, '0');
  return `${trim(mantissa)}e${x < 0 ? '-' : '+'}${digits}`;
}

/** The optional `initial` CRC: undefined is 0, else an integer in [0, 2^32). */
function checkInitial(fn: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number') {
    throw new Crc32cTypeError(
      `${fn}: initial must be a number (a previous CRC), got ${typeName(v)}`,
    );
  }
  const crc = v >>> 0; // -0 becomes 0
  if (crc !== v) {
    throw new Crc32cRangeError(
      `${fn}: initial must be an integer in [0, 4294967295], got ${g17(v)}`,
    );
  }
  return crc;
}

/** An index argument: an integer in [0, max]. */
function checkIndex(what: string, v: unknown, max: number): number {
  if (typeof v !== 'number') {
    throw new Crc32cTypeError(`crc32cRange: ${what} must be a number, got ${typeName(v)}`);
  }
  if (!(v >= 0 && v <= max && v <= Number.MAX_SAFE_INTEGER) || v !== Math.floor(v)) {
    throw new Crc32cRangeError(
      `crc32cRange: ${what} must be an integer in [0, ${max}], got ${g17(v)}`,
    );
  }
  return v;
}

/** A DataView's byte offset or length; 0 once it is detached or out of bounds (its getters throw then). */
function dataViewMeasure(v: unknown, measure: Getter<number>): number {
  try {
    return measure.call(v);
  } catch {
    return 0;
  }
}

/**
 * CRC32C of `data`, continuing from `initial`.
 * @param data a Uint8Array or Buffer
 * @param initial a previous CRC (default 0)
 */
function crc32c(data: Uint8Array, initial?: number): number {
  if (typedArrayKind.call(data) !== 'Uint8Array') {
    // biome-ignore lint/complexity/noArguments: binding.c's message tells a missing argument from undefined; a rest parameter would allocate per call.
    const got = arguments.length < 1 ? 'nothing' : describe(data);
    throw new Crc32cTypeError(`crc32c: data must be a Uint8Array or Buffer, got ${got}`);
  }
  const crc = checkInitial('crc32c', initial);
  return update(crc, data, 0, typedArrayLength.call(data));
}

/**
 * CRC32C of bytes [offset, offset + length) of `data`, continuing from `initial`.
 * @param data an ArrayBuffer, SharedArrayBuffer or any ArrayBufferView
 * @param offset first byte, relative to a view's start
 * @param length byte count
 * @param initial a previous CRC (default 0)
 */
function crc32cRange(data: ByteSource, offset: number, length: number, initial?: number): number {
  // Where the bytes are: `bytes` from index `base`, `total` of them.
  let bytes: Uint8Array | undefined;
  let base = 0;
  let total: number;
  const kind = typedArrayKind.call(data);
  if (kind === 'Uint8Array') {
    bytes = data as Uint8Array;
    total = typedArrayLength.call(data);
  } else if (kind !== undefined) {
    total = typedArrayByteLength.call(data);
    if (total > 0) {
      bytes = wholeView(typedArrayBuffer.call(data));
      base = typedArrayByteOffset.call(data);
    }
  } else if (types.isDataView(data)) {
    total = dataViewMeasure(data, dataViewByteLength);
    if (total > 0) {
      bytes = wholeView(dataViewBuffer.call(data));
      base = dataViewMeasure(data, dataViewByteOffset);
    }
  } else if (types.isArrayBuffer(data)) {
    total = arrayBufferByteLength.call(data);
    if (total > 0) bytes = wholeView(data as ArrayBuffer);
  } else if (types.isSharedArrayBuffer(data)) {
    total = sharedByteLength.call(data);
    if (total > 0) bytes = wholeView(data as SharedArrayBuffer);
  } else {
    // biome-ignore lint/complexity/noArguments: as in crc32c above.
    const got = arguments.length < 1 ? 'nothing' : describe(data);
    throw new Crc32cTypeError(
      `crc32cRange: data must be an ArrayBuffer, SharedArrayBuffer or ArrayBufferView, got ${got}`,
    );
  }
  const from = checkIndex('offset', offset, total);
  const count = checkIndex('length', length, total - from);
  const crc = checkInitial('crc32cRange', initial);
  if (count === 0 || bytes === undefined) return crc;
  return update(crc, bytes, base + from, base + from + count);
}

/** The JavaScript kernel, named 'js'. */
export const jsKernel: Crc32cImplementation = Object.freeze({ name: 'js', crc32c, crc32cRange });
