import { QwpDecodeError } from '../errors.js';
import { Status } from './constants.js';
import { readVarint, VARINT_TRUNCATED, type VarintValue } from './varint.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Bounds-checked little-endian reader over one frame. Every read checks the
 * remaining length first, so a malformed frame ends in a QwpDecodeError
 * naming the field and its offset, never a RangeError; nothing is allocated
 * beyond what the frame's own bytes justify.
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  /** A view of `bytes`, for bulk reads at offsets already bounds-checked. */
  readonly view: DataView;
  /** Absolute read position. */
  pos: number;
  /** Exclusive end of the readable region. */
  end: number;
  /** Scratch result of the shared varint reader, so a varint read allocates nothing. */
  private readonly decoded: VarintValue = { value: 0 };

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.end = end;
  }

  /** Bytes left before `end`. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws a PARSE_ERROR at the current position (or `at`). */
  fail(reason: string, at = this.pos, status: number = Status.PARSE_ERROR): never {
    throw new QwpDecodeError(status, at, reason);
  }

  /** Ensures `n` more bytes exist; `what` names the field for the error. */
  need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      this.fail(`truncated ${what}: needs ${n} bytes, ${this.end - this.pos} left`);
    }
  }

  /** Reads a uint8; `what` names the field in the error if the frame ends. */
  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }

  /** Reads a little-endian uint16. */
  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  /** Reads a little-endian uint32. */
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Reads a little-endian int32. */
  i32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Reads a little-endian int64. */
  i64(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A view (no copy) of the next `n` bytes. */
  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /**
   * Unsigned LEB128 that must fit a non-negative int32 (the server reads every
   * varint into an int): more than 5 significant bytes, or a larger value, is
   * a PARSE_ERROR.
   */
  varint(what: string): number {
    const start = this.pos;
    const end = readVarint(this.bytes, start, this.end, this.decoded);
    if (end === VARINT_TRUNCATED) this.fail(`truncated varint ${what}`, start);
    if (end < 0) this.fail(`varint ${what} longer than 10 bytes`, start);
    const result = this.decoded.value;
    if (result > 0x7fffffff) this.fail(`varint ${what} ${result} exceeds int32`, start);
    this.pos = end;
    return result;
  }

  /** UTF-8 text of the next `n` bytes; invalid UTF-8 is a PARSE_ERROR. */
  utf8(n: number, what: string): string {
    const at = this.pos;
    const slice = this.take(n, what);
    try {
      return utf8.decode(slice);
    } catch (cause) {
      throw new QwpDecodeError(Status.PARSE_ERROR, at, `${what} is not valid UTF-8`, { cause });
    }
  }

  /** Reads a little-endian int64 at an absolute offset already bounds-checked. */
  i64At(at: number): bigint {
    return this.view.getBigInt64(at, true);
  }

  /** Reads a little-endian float64 at an absolute offset already bounds-checked. */
  f64At(at: number): number {
    return this.view.getFloat64(at, true);
  }

  /** Reads a little-endian int32 at an absolute offset already bounds-checked. */
  i32At(at: number): number {
    return this.view.getInt32(at, true);
  }

  /** Reads a little-endian uint32 at an absolute offset already bounds-checked. */
  u32At(at: number): number {
    return this.view.getUint32(at, true);
  }
}
