import { HEADER_SIZE, MAGIC, VERSION } from '../../src/index.js';

/** `payload` behind a hand-built 12-byte message header (magic, version 1, `flags`, `tableCount`). */
export function withHeader(flags: number, tableCount: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint8(4, VERSION);
  v.setUint8(5, flags);
  v.setUint16(6, tableCount, true);
  v.setUint32(8, payload.length, true);
  out.set(payload, HEADER_SIZE);
  return out;
}
