/**
 * A hand-written QWP message builder for tests, written from the spec
 * (qwp-ingress-websocket.md), independent of the codec under test.
 */

export const T = {
  BOOLEAN: 0x01,
  LONG: 0x05,
  DOUBLE: 0x07,
  SYMBOL: 0x09,
  TIMESTAMP: 0x0a,
  VARCHAR: 0x0f,
  DOUBLE_ARRAY: 0x11,
  LONG_ARRAY: 0x12,
} as const;

/** Growable little-endian byte writer. */
export class Bytes {
  private buf = Buffer.alloc(256);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.length);
    this.length += 2;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.length);
    this.length += 4;
    return this;
  }

  i64(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64LE(v, this.length);
    this.length += 8;
    return this;
  }

  f64(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.length);
    this.length += 8;
    return this;
  }

  varint(v: number): this {
    let x = v;
    while (x >= 0x80) {
      this.u8((x & 0x7f) | 0x80);
      x = Math.floor(x / 128);
    }
    return this.u8(x);
  }

  /** varint length + UTF-8 bytes. */
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.varint(b.length);
    return this.raw(b);
  }

  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }
}

/** A column for the builder: name, type code, and its already-encoded data section. */
export interface ColumnSpec {
  name: string;
  type: number;
  data: Uint8Array;
}

export interface TableSpec {
  name: string;
  rowCount: number;
  columns: ColumnSpec[];
}

export interface MessageSpec {
  tables: TableSpec[];
  flags?: number;
  version?: number;
  /** Delta symbol dictionary (sets FLAG_DELTA_SYMBOL_DICT). */
  delta?: { start: number; entries: string[] };
}

/** Builds header + payload. */
export function message(spec: MessageSpec): Buffer {
  const payload = new Bytes();
  let flags = spec.flags ?? 0;
  if (spec.delta !== undefined) {
    flags |= 0x08;
    payload.varint(spec.delta.start).varint(spec.delta.entries.length);
    for (const e of spec.delta.entries) payload.str(e);
  }
  for (const t of spec.tables) {
    payload.str(t.name).varint(t.rowCount).varint(t.columns.length);
    for (const c of t.columns) payload.str(c.name).u8(c.type);
    for (const c of t.columns) payload.raw(c.data);
  }
  const body = payload.bytes();
  const head = new Bytes()
    .u32(0x31505751)
    .u8(spec.version ?? 1)
    .u8(flags)
    .u16(spec.tables.length)
    .u32(body.length);
  return Buffer.concat([head.bytes(), body]);
}

/** The empty message with the flag clear: commits an open deferred group. */
export function emptyCommit(): Buffer {
  return message({ tables: [] });
}

function nullSection(out: Bytes, values: readonly unknown[]): unknown[] {
  if (!values.some((v) => v === null)) {
    out.u8(0);
    return [...values];
  }
  out.u8(1);
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v === null) bitmap[i >> 3]! |= 1 << (i & 7);
  });
  out.raw(bitmap);
  return values.filter((v) => v !== null);
}

/** LONG column data (bitmap mode when any value is null). */
export function longs(values: readonly (bigint | null)[]): Uint8Array {
  const out = new Bytes();
  for (const v of nullSection(out, values) as bigint[]) out.i64(v);
  return out.bytes();
}

/** DOUBLE column data. */
export function doubles(values: readonly (number | null)[]): Uint8Array {
  const out = new Bytes();
  for (const v of nullSection(out, values) as number[]) out.f64(v);
  return out.bytes();
}

/** TIMESTAMP column data, uncompressed, for a message without FLAG_GORILLA. */
export function timestamps(values: readonly (bigint | null)[]): Uint8Array {
  return longs(values);
}

/** VARCHAR column data: offsets (count+1) x u32 then bytes. */
export function varchars(values: readonly (string | null)[]): Uint8Array {
  const out = new Bytes();
  const present = nullSection(out, values) as string[];
  const bufs = present.map((s) => Buffer.from(s, 'utf8'));
  let off = 0;
  out.u32(0);
  for (const b of bufs) {
    off += b.length;
    out.u32(off);
  }
  for (const b of bufs) out.raw(b);
  return out.bytes();
}

/** SYMBOL column data in global-dictionary mode: varint ids. */
export function symbols(ids: readonly (number | null)[]): Uint8Array {
  const out = new Bytes();
  for (const id of nullSection(out, ids) as number[]) out.varint(id);
  return out.bytes();
}

/** DOUBLE_ARRAY column data: per array its dimension count (u8), lengths (i32) and values. */
export function doubleArrays(
  values: readonly ({ shape: readonly number[]; values: readonly number[] } | null)[],
): Uint8Array {
  const out = new Bytes();
  for (const a of nullSection(out, values) as { shape: number[]; values: number[] }[]) {
    out.u8(a.shape.length);
    for (const d of a.shape) out.u32(d);
    for (const v of a.values) out.f64(v);
  }
  return out.bytes();
}

/** BOOLEAN column data, sentinel mode, bit-packed LSB first. */
export function booleans(values: readonly boolean[]): Uint8Array {
  const out = new Bytes();
  out.u8(0);
  const packed = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v) packed[i >> 3]! |= 1 << (i & 7);
  });
  return out.raw(packed).bytes();
}

/** Parses the spec's hex listings: '#' comments and whitespace ignored. */
export function hex(listing: string): Buffer {
  const clean = listing
    .split('\n')
    .map((l) => l.replace(/#.*$/, ''))
    .join('')
    .replace(/\s+/g, '');
  return Buffer.from(clean, 'hex');
}

/** Patches the header's payload_length (the spec writes XX XX XX XX). */
export function withPayloadLength(msg: Buffer): Buffer {
  const out = Buffer.from(msg);
  out.writeUInt32LE(out.length - 12, 8);
  return out;
}

/** A one-table message `table` with a LONG column `v` and a designated timestamp. */
export function simpleRows(
  table: string,
  rows: readonly { v: bigint; ts: bigint }[],
  flags = 0,
): Buffer {
  return message({
    flags,
    tables: [
      {
        name: table,
        rowCount: rows.length,
        columns: [
          { name: 'v', type: T.LONG, data: longs(rows.map((r) => r.v)) },
          { name: '', type: T.TIMESTAMP, data: timestamps(rows.map((r) => r.ts)) },
        ],
      },
    ],
  });
}

/** The symbols of {@link tradeRows}, in the order a fresh dictionary numbers them. */
export const TRADE_SYMBOLS = ['ETH-USD', 'BTC-USD'] as const;

/**
 * Ten trades of every common column type, nulls in `amount` and `note`, as
 * the server's rows() gives them back: the hand-built trades message of
 * frames.test.ts and the encoder's in encoder-crosscheck.test.ts both carry them.
 */
export function tradeRows() {
  return Array.from({ length: 10 }, (_, i) => ({
    symbol: TRADE_SYMBOLS[i % 2]!,
    side: i % 3 === 0 ? 'buy' : 'sell',
    price: 2615.5 + i,
    amount: i === 4 ? null : i * 0.25,
    id: BigInt(1000 + i),
    flag: i % 2 === 0,
    note: i === 7 ? null : `n${i}`,
    timestamp: 1_700_000_000_000_000n + BigInt(i) * 1000n,
  }));
}
