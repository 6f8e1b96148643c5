import {
  type DecodedMessage,
  type DecodeOptions,
  decodeMessage,
  decodeMessageHeader,
  isDecodeError,
  Limits,
  type MessageHeader,
  readVarint as readWireVarint,
  SERVER_COMPATIBLE_DECODE_OPTIONS,
  type SymbolDictionary,
  VARINT_TOO_LONG,
  VARINT_TRUNCATED,
  type VarintValue,
} from '@qwp/qwp-wire/codec';
import { FrameRejectedError } from './errors.js';
import { FLAG_DELTA_SYMBOL_DICT, HEADER_SIZE, Status } from './protocol.js';

/**
 * The seam between the server and the codec: every frame's header goes
 * through `fastHeaderFlags` (and `checkHeader`, for the codec's exact error,
 * when that refuses it), then either `decodeFull` (strict mode and sampled
 * frames) or `applyDictionaryDelta` (throughput mode's cheap path). Codec
 * errors become FrameRejectedError with the status the codec assigns.
 */

function rethrow(err: unknown): never {
  if (isDecodeError(err)) throw new FrameRejectedError(err.status, err.message, { cause: err });
  throw err;
}

/**
 * The codec options of one connection: what QuestDB's server parses
 * (SERVER_COMPATIBLE_DECODE_OPTIONS) at its negotiated version and the
 * advertised batch cap. Built once per connection, not per frame.
 */
export function serverDecodeOptions(version: number, maxBatchSize: number): DecodeOptions {
  return Object.freeze({ ...SERVER_COMPATIBLE_DECODE_OPTIONS, version, maxBatchSize });
}

/**
 * Checks the 12-byte header like the server does before the payload:
 * length, magic, negotiated version, payload length against the cap and
 * the bytes present. Like QuestDB, reserved flag bits and bytes past the
 * declared payload are not errors.
 * @param options from serverDecodeOptions
 * @throws FrameRejectedError (PARSE_ERROR) naming the field and offset
 */
export function checkHeader(frame: Uint8Array, options: DecodeOptions): MessageHeader {
  try {
    return decodeMessageHeader(frame, options);
  } catch (err) {
    rethrow(err);
  }
}

/**
 * Allocation-free header check for the throughput path: returns the flags
 * byte when the header is valid, -1 otherwise (then call `checkHeader` for
 * the codec's exact error).
 */
export function fastHeaderFlags(frame: Uint8Array, version: number, maxBatchSize: number): number {
  if (frame.length < HEADER_SIZE) return -1;
  // 'QWP1' little-endian, byte by byte to avoid a DataView per frame.
  if (frame[0] !== 0x51 || frame[1] !== 0x57 || frame[2] !== 0x50 || frame[3] !== 0x31) return -1;
  if (frame[4] !== version) return -1;
  const payload = payloadLength(frame);
  if (payload > maxBatchSize || payload > frame.length - HEADER_SIZE) return -1;
  return frame[5]!;
}

/**
 * Decodes the whole message as QuestDB's server parses it against the
 * connection dictionary, which it extends only when the message decodes.
 * Checks the server makes at write time are the row store's.
 * @param options from serverDecodeOptions
 * @throws FrameRejectedError (PARSE_ERROR or DICTIONARY_GAP)
 */
export function decodeFull(
  frame: Uint8Array,
  dict: SymbolDictionary,
  options: DecodeOptions,
): DecodedMessage {
  try {
    return decodeMessage(frame, dict, options);
  } catch (err) {
    rethrow(err);
  }
}

function payloadLength(frame: Uint8Array): number {
  return (frame[8]! | (frame[9]! << 8) | (frame[10]! << 16) | (frame[11]! << 24)) >>> 0;
}

const varint: VarintValue = { value: 0 };

/** An unsigned LEB128 varint before `end` that fits an int32, as the codec (and the server) reads it. */
function readVarint(frame: Uint8Array, at: { pos: number }, end: number): number {
  const start = at.pos;
  const next = readWireVarint(frame, start, end, varint);
  if (next === VARINT_TRUNCATED) {
    throw new FrameRejectedError(
      Status.PARSE_ERROR,
      `varint runs past the end of the payload (at byte ${start})`,
    );
  }
  if (next === VARINT_TOO_LONG) {
    throw new FrameRejectedError(
      Status.PARSE_ERROR,
      `varint longer than 10 bytes (at byte ${start})`,
    );
  }
  if (varint.value > 0x7fffffff) {
    throw new FrameRejectedError(
      Status.PARSE_ERROR,
      `varint ${varint.value} exceeds int32 (at byte ${start})`,
    );
  }
  at.pos = next;
  return varint.value;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
// Reused by every applyDictionaryDelta call (synchronous, never re-entered),
// so the throughput path allocates no cursor or entry list per frame.
const cursor = { pos: 0 };
const pending: string[] = [];

/**
 * Applies only the delta symbol dictionary section of a frame, so a later
 * sampled frame still resolves its ids. Same rules and order as the codec
 * and the server: a size over the limit is PARSE_ERROR, then a start past
 * the end is DICTIONARY_GAP, a count over the bytes left is PARSE_ERROR; an
 * overlap overwrites.
 */
export function applyDictionaryDelta(
  frame: Uint8Array,
  flags: number,
  dict: SymbolDictionary,
): void {
  if ((flags & FLAG_DELTA_SYMBOL_DICT) === 0) return;
  const at = cursor;
  at.pos = HEADER_SIZE;
  const end = HEADER_SIZE + payloadLength(frame);
  const start = readVarint(frame, at, end);
  const count = readVarint(frame, at, end);
  const max = Limits.MAX_SYMBOL_DICTIONARY_SIZE;
  if (start + count > max) {
    throw new FrameRejectedError(
      Status.PARSE_ERROR,
      `symbol dictionary would grow to ${start + count} > ${max} (at byte ${HEADER_SIZE})`,
    );
  }
  if (start > dict.size) {
    throw new FrameRejectedError(
      Status.DICTIONARY_GAP,
      `symbol delta starts at id ${start} but the connection dictionary has ${dict.size} entries (at byte ${HEADER_SIZE})`,
    );
  }
  if (count > end - at.pos) {
    throw new FrameRejectedError(
      Status.PARSE_ERROR,
      `symbol delta count ${count} exceeds the remaining bytes (at byte ${HEADER_SIZE})`,
    );
  }
  // Collected first, applied only once every entry is valid.
  pending.length = 0;
  for (let i = 0; i < count; i++) {
    const len = readVarint(frame, at, end);
    const stop = at.pos + len;
    if (stop > end) {
      throw new FrameRejectedError(
        Status.PARSE_ERROR,
        `symbol ${start + i} runs past the end of the message (at byte ${at.pos})`,
      );
    }
    try {
      pending.push(utf8.decode(frame.subarray(at.pos, stop)));
    } catch (err) {
      throw new FrameRejectedError(
        Status.PARSE_ERROR,
        `symbol ${start + i} is not valid UTF-8 (at byte ${at.pos})`,
        { cause: err },
      );
    }
    at.pos = stop;
  }
  dict.apply(start, pending);
  pending.length = 0;
}
