import { MAX_CLOSE_REASON_BYTES, OPCODE_CLOSE } from './constants.js';

/** Header bytes of an unmasked (server) frame carrying `length` payload bytes. */
export function serverHeaderLength(length: number): number {
  return length <= 125 ? 2 : length <= 0xffff ? 4 : 10;
}

/** One unmasked frame with FIN set, as QuestDB's WebSocketFrameWriter writes it. */
export function encodeFrame(opcode: number, payload: Uint8Array): Buffer {
  const length = payload.length;
  const headerLength = serverHeaderLength(length);
  const out = Buffer.allocUnsafe(headerLength + length);
  out[0] = 0x80 | opcode;
  if (headerLength === 2) {
    out[1] = length;
  } else if (headerLength === 4) {
    out[1] = 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
    out.writeUInt32BE(length >>> 0, 6);
  }
  out.set(payload, headerLength);
  return out;
}

/** `text` as UTF-8, cut to at most `max` bytes without splitting a character. */
function utf8Prefix(text: string, max: number): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return bytes;
  let end = max;
  // Step back over continuation bytes (10xxxxxx) to a character start.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/**
 * A CLOSE frame with `code` and `reason`; like QuestDB's writeCloseFrame, the
 * reason is cut to 123 UTF-8 bytes so the payload stays a legal control payload.
 */
export function encodeCloseFrame(code: number, reason: string): Buffer {
  const text = utf8Prefix(reason, MAX_CLOSE_REASON_BYTES);
  const payload = Buffer.allocUnsafe(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return encodeFrame(OPCODE_CLOSE, payload);
}
