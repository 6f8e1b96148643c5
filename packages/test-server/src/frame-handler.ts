import {
  type DecodedMessage,
  decodeMessage,
  decodeMessageHeader,
  isDecodeError,
  type MessageHeader,
  type SymbolDictionary,
} from '@qwp/qwp-wire';
import { FrameRejectedError } from './errors.js';
import { FLAG_DELTA_SYMBOL_DICT, HEADER_SIZE, Status } from './protocol.js';

/**
 * The seam between the server and the codec: every frame goes through
 * `checkHeader`, then either `decodeFull` (strict mode and sampled frames)
 * or `applyDictionaryDelta` (throughput mode's cheap path). Codec errors
 * become FrameRejectedError with the status the codec assigns.
 */

function rethrow(err: unknown): never {
  if (isDecodeError(err)) throw new FrameRejectedError(err.status, err.message, { cause: err });
  throw err;
}

/**
 * Checks the 12-byte header like the server does before the payload:
 * length, magic, negotiated version, reserved flags, payload length.
 * @throws FrameRejectedError (PARSE_ERROR) naming the field and offset
 */
export function checkHeader(
  frame: Uint8Array,
  version: number,
  maxBatchSize: number,
): MessageHeader {
  try {
    return decodeMessageHeader(frame, { version, maxBatchSize });
  } catch (err) {
    rethrow(err);
  }
}

const FLAGS_RESERVED = ~0x0d & 0xff;

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
  const flags = frame[5]!;
  if ((flags & FLAGS_RESERVED) !== 0) return -1;
  const payload = (frame[8]! | (frame[9]! << 8) | (frame[10]! << 16) | (frame[11]! << 24)) >>> 0;
  if (payload > maxBatchSize || payload !== frame.length - HEADER_SIZE) return -1;
  return flags;
}

/**
 * Strictly decodes the whole message against the connection dictionary,
 * which it extends only when the message decodes.
 * @throws FrameRejectedError (PARSE_ERROR or DICTIONARY_GAP)
 */
export function decodeFull(
  frame: Uint8Array,
  dict: SymbolDictionary,
  version: number,
  maxBatchSize: number,
): DecodedMessage {
  try {
    return decodeMessage(frame, dict, { version, maxBatchSize });
  } catch (err) {
    rethrow(err);
  }
}

function readVarint(frame: Uint8Array, at: { pos: number }): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    const b = frame[at.pos];
    if (b === undefined) {
      throw new FrameRejectedError(
        Status.PARSE_ERROR,
        `varint runs past the end of the message (at byte ${at.pos})`,
      );
    }
    at.pos++;
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return result;
    mul *= 128;
  }
  throw new FrameRejectedError(
    Status.PARSE_ERROR,
    `varint longer than 10 bytes (at byte ${at.pos})`,
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Applies only the delta symbol dictionary section of a frame, so a later
 * sampled frame still resolves its ids. Same rules as the codec: a start
 * past the end is DICTIONARY_GAP, an overlap overwrites.
 */
export function applyDictionaryDelta(
  frame: Uint8Array,
  flags: number,
  dict: SymbolDictionary,
): void {
  if ((flags & FLAG_DELTA_SYMBOL_DICT) === 0) return;
  const at = { pos: HEADER_SIZE };
  const start = readVarint(frame, at);
  const count = readVarint(frame, at);
  if (start > dict.size) {
    throw new FrameRejectedError(
      Status.DICTIONARY_GAP,
      `symbol delta starts at id ${start} but the connection dictionary has ${dict.size} entries (at byte ${HEADER_SIZE})`,
    );
  }
  const entries: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = readVarint(frame, at);
    const end = at.pos + len;
    if (end > frame.length) {
      throw new FrameRejectedError(
        Status.PARSE_ERROR,
        `symbol ${start + i} runs past the end of the message (at byte ${at.pos})`,
      );
    }
    try {
      entries.push(utf8.decode(frame.subarray(at.pos, end)));
    } catch (err) {
      throw new FrameRejectedError(
        Status.PARSE_ERROR,
        `symbol ${start + i} is not valid UTF-8 (at byte ${at.pos})`,
        { cause: err },
      );
    }
    at.pos = end;
  }
  dict.apply(start, entries);
}
