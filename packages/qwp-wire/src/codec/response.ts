import { QwpDecodeError, QwpError } from '../errors.js';
import { ByteReader } from './byte-reader.js';
import { Status } from './constants.js';

/** A table's sequencer transaction in an OK or DURABLE_ACK frame. */
export interface TableSeqTxn {
  name: string;
  seqTxn: bigint;
}

/** OK: the batch with server-assigned `sequence` was committed to the WAL. */
export interface OkResponse {
  kind: 'ok';
  status: 0;
  sequence: bigint;
  tables: TableSeqTxn[];
}

/** Any non-OK, non-DURABLE_ACK status: the batch `sequence` was rejected. */
export interface ErrorResponse {
  kind: 'error';
  status: number;
  sequence: bigint;
  message: string;
}

/** DURABLE_ACK: cumulative per-table durably-uploaded watermarks (no sequence). */
export interface DurableAckResponse {
  kind: 'durable-ack';
  status: 2;
  tables: TableSeqTxn[];
}

/** LOCAL_DURABLE_ACK (0x0E, server extension): like DURABLE_ACK, for the local-disk tier. */
export interface LocalDurableAckResponse {
  kind: 'local-durable-ack';
  status: 0x0e;
  tables: TableSeqTxn[];
}

/** A decoded server response frame. */
export type Response = OkResponse | ErrorResponse | DurableAckResponse | LocalDurableAckResponse;

const encoder = new TextEncoder();
const MAX_U16 = 0xffff;

/** Encodes an OK frame: status 0, int64 sequence, uint16 table count, per table name + seqTxn. */
export function encodeOkResponse(
  sequence: bigint | number,
  tables: readonly TableSeqTxn[] = [],
): Uint8Array {
  return encodeTableFrame(Status.OK, BigInt(sequence), tables);
}

/** Encodes a DURABLE_ACK frame: status 2, uint16 table count, per table name + seqTxn. */
export function encodeDurableAckResponse(tables: readonly TableSeqTxn[]): Uint8Array {
  return encodeTableFrame(Status.DURABLE_ACK, null, tables);
}

/** Encodes a LOCAL_DURABLE_ACK frame (0x0E, server extension): the DURABLE_ACK layout. */
export function encodeLocalDurableAckResponse(tables: readonly TableSeqTxn[]): Uint8Array {
  return encodeTableFrame(Status.LOCAL_DURABLE_ACK, null, tables);
}

/**
 * Encodes an error frame: status, int64 sequence, uint16 message length,
 * UTF-8 message. A message over 65535 bytes is cut at a character boundary.
 */
export function encodeErrorResponse(
  status: number,
  sequence: bigint | number,
  message: string,
): Uint8Array {
  if (
    !Number.isInteger(status) ||
    status < 1 ||
    status > 0xff ||
    status === Status.DURABLE_ACK ||
    status === Status.LOCAL_DURABLE_ACK
  ) {
    throw new QwpError(
      'ERR_QWP_RESPONSE',
      `error response status ${status} must be a byte other than 0 and 2`,
    );
  }
  let msg = encoder.encode(message);
  if (msg.length > MAX_U16) {
    let cut = MAX_U16;
    while (cut > 0 && (msg[cut]! & 0xc0) === 0x80) cut--;
    msg = msg.subarray(0, cut);
  }
  const out = new Uint8Array(1 + 8 + 2 + msg.length);
  const view = new DataView(out.buffer);
  out[0] = status;
  view.setBigInt64(1, BigInt.asIntN(64, BigInt(sequence)), true);
  view.setUint16(9, msg.length, true);
  out.set(msg, 11);
  return out;
}

function encodeTableFrame(
  status: number,
  sequence: bigint | null,
  tables: readonly TableSeqTxn[],
): Uint8Array {
  if (tables.length > MAX_U16)
    throw new QwpError('ERR_QWP_RESPONSE', `${tables.length} tables exceed 65535`);
  const names = tables.map((t) => encoder.encode(t.name));
  let size = 1 + (sequence === null ? 0 : 8) + 2;
  for (const n of names) {
    if (n.length > MAX_U16)
      throw new QwpError('ERR_QWP_RESPONSE', `table name of ${n.length} bytes exceeds 65535`);
    size += 2 + n.length + 8;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = status;
  let p = 1;
  if (sequence !== null) {
    view.setBigInt64(p, BigInt.asIntN(64, sequence), true);
    p += 8;
  }
  view.setUint16(p, tables.length, true);
  p += 2;
  for (let i = 0; i < tables.length; i++) {
    const n = names[i]!;
    view.setUint16(p, n.length, true);
    out.set(n, p + 2);
    p += 2 + n.length;
    view.setBigInt64(p, BigInt.asIntN(64, tables[i]!.seqTxn), true);
    p += 8;
  }
  return out;
}

/**
 * Decodes a server response frame. Truncated frames, bad UTF-8 and an empty
 * frame are QwpDecodeErrors (status PARSE_ERROR), and so are extra bytes
 * after an OK or error frame. DURABLE_ACK and LOCAL_DURABLE_ACK frames may
 * carry bytes after their spec layout: the server is adding a per-table
 * field to them, and a client must not break on a newer server's acks.
 */
export function decodeResponse(bytes: Uint8Array): Response {
  const r = new ByteReader(bytes);
  const status = r.u8('response status');
  let result: Response;
  let tolerateTrailing = false;
  if (status === Status.OK) {
    const sequence = r.i64('response sequence');
    result = { kind: 'ok', status: 0, sequence, tables: readTables(r) };
  } else if (status === Status.DURABLE_ACK) {
    result = { kind: 'durable-ack', status: 2, tables: readTables(r) };
    tolerateTrailing = true;
  } else if (status === Status.LOCAL_DURABLE_ACK) {
    result = { kind: 'local-durable-ack', status: 0x0e, tables: readTables(r) };
    tolerateTrailing = true;
  } else {
    const sequence = r.i64('response sequence');
    const len = r.u16('error message length');
    result = { kind: 'error', status, sequence, message: r.utf8(len, 'error message') };
  }
  if (r.remaining !== 0 && !tolerateTrailing) {
    throw new QwpDecodeError(
      Status.PARSE_ERROR,
      r.pos,
      `${r.remaining} trailing bytes in response`,
    );
  }
  return result;
}

function readTables(r: ByteReader): TableSeqTxn[] {
  const count = r.u16('response table count');
  if (count * 10 > r.remaining) r.fail(`truncated response: ${count} table entries cannot fit`);
  const tables: TableSeqTxn[] = [];
  for (let i = 0; i < count; i++) {
    const len = r.u16('response table name length');
    const name = r.utf8(len, 'response table name');
    tables.push({ name, seqTxn: r.i64('response seqTxn') });
  }
  return tables;
}
