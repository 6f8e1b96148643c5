import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ColumnarColumn,
  type DecodedTable,
  decodeMessage,
  QwpBatch,
  QwpEncoder,
  QwpInvalidValueError,
  SymbolDictionary,
  type TableBuffer,
  type TimestampUnit,
} from '../../src/index.js';
import { LONG, SEED } from '../seed.js';

/**
 * appendColumns against the row API: the same rows written both ways must
 * decode (strict decoder) to identical tables and leave the same symbols in
 * the dictionary.
 */

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** How one type is generated, handed to appendColumns, and written through the row API. */
interface Kind {
  type: ColumnarColumn['type'];
  value: fc.Arbitrary<unknown>;
  /** The `values` of a column from its cells (null cells: any value, masked). */
  array: (cells: unknown[]) => unknown;
  /** Writes one cell (`null` for a null) through the row API. */
  write: (t: TableBuffer, name: string, v: unknown) => void;
  /** A filler value for masked cells of a typed array. */
  filler: unknown;
  unit?: TimestampUnit;
}

function typed<T>(
  type: ColumnarColumn['type'],
  value: fc.Arbitrary<T>,
  make: (cells: T[]) => unknown,
  write: (t: TableBuffer, name: string, v: T | null) => void,
  filler: T,
  unit?: TimestampUnit,
): Kind {
  return {
    type,
    value,
    array: (cells) => make(cells.map((c) => (c === null ? filler : c)) as T[]),
    write: write as Kind['write'],
    filler,
    unit,
  };
}

const KINDS: Kind[] = [
  typed(
    'BOOLEAN',
    fc.integer({ min: 0, max: 255 }),
    (c) => Uint8Array.from(c),
    (t, n, v) => t.booleanColumn(n, v === null ? null : v !== 0),
    7,
  ),
  typed(
    'BYTE',
    fc.integer({ min: -128, max: 127 }),
    (c) => Int8Array.from(c),
    (t, n, v) => t.byteColumn(n, v),
    9,
  ),
  typed(
    'SHORT',
    fc.integer({ min: -32768, max: 32767 }),
    (c) => Int16Array.from(c),
    (t, n, v) => t.shortColumn(n, v),
    9,
  ),
  typed(
    'CHAR',
    fc.integer({ min: 0, max: 0xffff }),
    (c) => Uint16Array.from(c),
    (t, n, v) => t.charColumn(n, v === null ? null : String.fromCharCode(v)),
    65,
  ),
  typed(
    'INT',
    fc.integer(),
    (c) => Int32Array.from(c),
    (t, n, v) => t.int32Column(n, v),
    9,
  ),
  // 0 is IPv4's null sentinel on the wire, for both APIs alike.
  typed(
    'IPv4',
    fc.integer({ min: 1, max: 0xffffffff }),
    (c) => Uint32Array.from(c),
    (t, n, v) => t.ipv4Column(n, v),
    9,
  ),
  typed(
    'FLOAT',
    fc.float(),
    (c) => Float32Array.from(c),
    (t, n, v) => t.float32Column(n, v),
    9,
  ),
  typed(
    'DOUBLE',
    fc.double(),
    (c) => Float64Array.from(c),
    (t, n, v) => t.doubleColumn(n, v),
    9,
  ),
  typed(
    'LONG',
    fc.bigInt(I64_MIN, I64_MAX),
    (c) => BigInt64Array.from(c),
    (t, n, v) => t.longColumn(n, v),
    9n,
  ),
  typed(
    'LONG',
    fc.maxSafeInteger(),
    (c) => Float64Array.from(c),
    (t, n, v) => t.longColumn(n, v),
    9,
  ),
  typed(
    'DATE',
    fc.bigInt(I64_MIN, I64_MAX),
    (c) => BigInt64Array.from(c),
    (t, n, v) => t.dateColumn(n, v),
    9n,
  ),
  typed(
    'TIMESTAMP',
    fc.bigInt(I64_MIN, I64_MAX),
    (c) => BigInt64Array.from(c),
    (t, n, v) => t.timestampColumn(n, v, 'us'),
    9n,
  ),
  typed(
    'TIMESTAMP',
    fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
    (c) => Float64Array.from(c),
    (t, n, v) => t.timestampColumn(n, v, 'ms'),
    9,
    'ms',
  ),
  typed(
    'TIMESTAMP_NANOS',
    fc.bigInt(I64_MIN, I64_MAX),
    (c) => BigInt64Array.from(c),
    (t, n, v) => t.timestampColumn(n, v, 'ns'),
    9n,
  ),
  typed(
    'VARCHAR',
    fc.string({ unit: 'binary', maxLength: 8 }),
    (c) => c,
    (t, n, v) => t.varcharColumn(n, v),
    'masked',
  ),
  typed(
    'SYMBOL',
    fc.constantFrom('a', 'b', 'ETH-USD', 'żółw', '𝄞', ''),
    (c) => c,
    (t, n, v) => t.symbol(n, v),
    'masked',
  ),
];

/** How nulls reach appendColumns: the mask, or (strings) null entries, or (symbols) the dictionary form. */
type Form = 'mask' | 'entries' | 'dictionary';

const TS_MODES = ['none', 'ns', 'us', 'ms-number'] as const;
type TsMode = (typeof TS_MODES)[number];

const sampleArb = fc
  .record({
    rows: fc.integer({ min: 0, max: 30 }),
    kinds: fc.uniqueArray(fc.integer({ min: 0, max: KINDS.length - 1 }), {
      minLength: 1,
      maxLength: 6,
    }),
    ts: fc.constantFrom(...TS_MODES),
    prefix: fc.integer({ min: 0, max: 3 }),
    prefixTs: fc.constantFrom<'ns' | 'us' | null>('ns', 'us', null),
    chunk: fc.option(fc.nat(), { nil: undefined }),
    padded: fc.boolean(),
  })
  .chain((s) =>
    fc.record({
      s: fc.constant(s),
      cols: fc.tuple(
        ...s.kinds.map((k) =>
          fc.record({
            kind: fc.constant(KINDS[k]!),
            form: fc.constantFrom<Form>('mask', 'entries', 'dictionary'),
            cells: fc.array(fc.option(KINDS[k]!.value, { nil: null, freq: 4 }), {
              minLength: s.rows,
              maxLength: s.rows,
            }),
          }),
        ),
      ),
      // Small enough to stay in int64 in any unit the table may convert them to.
      stamps: fc.array(fc.bigInt(0n, 2n ** 52n), { minLength: s.rows, maxLength: s.rows }),
    }),
  );

type Sample = typeof sampleArb extends fc.Arbitrary<infer T> ? T : never;

/** The row values of the designated timestamp, as the row API's at() takes them. */
function stamp(mode: TsMode, v: bigint): [bigint | number, TimestampUnit] {
  if (mode === 'ms-number') return [Number(v % 2n ** 40n), 'ms'];
  return [v, mode as TimestampUnit];
}

function prefix(t: TableBuffer, s: Sample['s']): void {
  for (let i = 0; i < s.prefix; i++) {
    t.longColumn('pre', i);
    if (s.prefixTs === null) t.atNow();
    else t.at(1000n + BigInt(i), s.prefixTs);
  }
}

function viaRows(t: TableBuffer, x: Sample): void {
  const names = x.cols.map((_, k) => `c${k}`);
  for (let r = 0; r < x.s.rows; r++) {
    // Nulls written explicitly keep the column order the columnar call has.
    for (let k = 0; k < x.cols.length; k++) {
      const col = x.cols[k]!;
      col.kind.write(t, names[k]!, col.cells[r]);
    }
    if (x.s.ts === 'none') t.atNow();
    else t.at(...stamp(x.s.ts, x.stamps[r]!));
  }
}

/** appendColumns input for rows `[from, to)`; `pad` extra rows of junk when rowCount is given. */
function columnar(x: Sample, from: number, to: number, pad: number): ColumnarColumn[] {
  return x.cols.map((col, k) => {
    const cells = [...col.cells.slice(from, to), ...new Array(pad).fill(col.kind.filler)];
    const isNull = cells.map((c, i) => i < to - from && c === null);
    const base = {
      name: `c${k}`,
      type: col.kind.type,
      ...(col.kind.unit ? { unit: col.kind.unit } : {}),
    };
    const strings = col.kind.type === 'VARCHAR' || col.kind.type === 'SYMBOL';
    if (strings && col.form === 'entries') {
      return { ...base, values: cells } as ColumnarColumn;
    }
    if (col.kind.type === 'SYMBOL' && col.form === 'dictionary') {
      // Shuffled-ish dictionary with an unused entry; nulls as -1 or a null entry.
      const dictionary: (string | null)[] = [
        'never-used',
        null,
        ...new Set(cells.filter((c) => c !== null) as string[]),
      ].reverse();
      const indices = Int16Array.from(cells, (c, i) =>
        c === null
          ? i % 2 === 0
            ? -1
            : dictionary.indexOf(null)
          : dictionary.indexOf(c as string),
      );
      return { ...base, values: { dictionary, indices } } as ColumnarColumn;
    }
    return {
      ...base,
      values: col.kind.array(cells),
      nulls: Uint8Array.from(isNull, (b) => (b ? 1 : 0)),
    } as ColumnarColumn;
  });
}

function viaColumns(t: TableBuffer, x: Sample): void {
  const n = x.s.rows;
  const cut = x.s.chunk === undefined ? n : x.s.chunk % (n + 1);
  for (const [from, to] of [
    [0, cut],
    [cut, n],
  ] as const) {
    if (to === from) continue;
    const pad = x.s.padded ? 3 : 0;
    const stamps = x.stamps.slice(from, to);
    const options =
      x.s.ts === 'none'
        ? {}
        : x.s.ts === 'ms-number'
          ? {
              timestamps: Float64Array.from([
                ...stamps.map((v) => Number(v % 2n ** 40n)),
                ...new Array(pad).fill(0),
              ]),
              unit: 'ms' as const,
            }
          : {
              timestamps: BigInt64Array.from([...stamps, ...new Array(pad).fill(0n)]),
              unit: x.s.ts,
            };
    t.appendColumns(columnar(x, from, to, pad), {
      ...options,
      ...(x.s.padded ? { rowCount: to - from } : {}),
    });
  }
}

function decoded(batch: QwpBatch): { tables: DecodedTable[]; symbols: string[] } {
  const frames = new QwpEncoder(batch.symbols).encode(batch.tables());
  expect(frames).toHaveLength(1);
  const msg = decodeMessage(frames[0]!, new SymbolDictionary());
  return { tables: msg.tables, symbols: [...(msg.symbolDelta?.entries ?? [])].sort() };
}

const runs = LONG ? 1500 : 150;

describe('appendColumns decodes exactly like the same rows through the row API', () => {
  it('every supported type, nulls in every form, chunked calls, padded arrays, designated timestamps', () => {
    fc.assert(
      fc.property(sampleArb, (x) => {
        const rows = new QwpBatch();
        const rt = rows.table('t');
        prefix(rt, x.s);
        viaRows(rt, x);
        const cols = new QwpBatch();
        const ct = cols.table('t');
        prefix(ct, x.s);
        viaColumns(ct, x);
        expect(ct.rowCount).toBe(rt.rowCount);
        if (rt.rowCount === 0) return;
        const a = decoded(rows);
        const b = decoded(cols);
        expect(b.tables).toEqual(a.tables);
        expect(b.symbols).toEqual(a.symbols);
        expect(cols.symbols.size).toBe(rows.symbols.size);
      }),
      { seed: SEED + 10, numRuns: runs },
    );
  });

  it('a call refused at any row leaves the table and the dictionary as they were', () => {
    fc.assert(
      fc.property(sampleArb, fc.nat(), fc.boolean(), (x, at, symbol) => {
        fc.pre(x.s.rows > 0);
        const control = new QwpBatch();
        prefix(control.table('t'), x.s);
        const batch = new QwpBatch();
        const t = batch.table('t');
        prefix(t, x.s);
        // A poison column last: a lone surrogate at one row, after every other column took its rows.
        const bad = at % x.s.rows;
        const poison = Array.from({ length: x.s.rows }, (_, i) =>
          i === bad ? 'x\ud800' : `p${i}`,
        );
        const input = [
          ...columnar(x, 0, x.s.rows, 0),
          { name: 'poison', type: symbol ? 'SYMBOL' : 'VARCHAR', values: poison } as ColumnarColumn,
        ];
        let err: unknown;
        try {
          t.appendColumns(input);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(QwpInvalidValueError);
        expect((err as QwpInvalidValueError).row).toBe(bad);
        expect([t.rowCount, t.columns.length]).toEqual([
          x.s.prefix,
          x.s.prefix > 0 ? (x.s.prefixTs ? 2 : 1) : 0,
        ]);
        expect(batch.symbols.size).toBe(0);
        if (x.s.prefix > 0) {
          const enc = (b: QwpBatch) =>
            Buffer.from(new QwpEncoder(b.symbols).encode(b.tables())[0]!).toString('hex');
          expect(enc(batch)).toBe(enc(control));
        }
      }),
      { seed: SEED + 11, numRuns: Math.ceil(runs / 2) },
    );
  });
});
