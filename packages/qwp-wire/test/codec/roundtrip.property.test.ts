import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ColumnType,
  type DecodedTable,
  decodeMessage,
  FLAG_DEFER_COMMIT,
  QwpBatch,
  QwpEncoder,
  SymbolDictionary,
  type TableBuffer,
} from '../../src/index.js';
import { LONG, SEED } from '../seed.js';

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** How one column type is generated, written through the row API, and expected back. */
interface TypeCase {
  type: number;
  /** Per-column parameter (GeoHash bits, decimal scale). */
  param: fc.Arbitrary<number>;
  value: (param: number) => fc.Arbitrary<unknown>;
  write: (t: TableBuffer, name: string, v: unknown, param: number) => void;
  expected: (v: unknown) => unknown;
  /** What a null row decodes to (sentinel types have no null). */
  nullAs?: unknown;
}

const noParam = fc.constant(0);
const same = (v: unknown) => v;
const arrayShape = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 });

function arrayCase(type: number, elem: fc.Arbitrary<number | bigint>): TypeCase {
  return {
    type,
    param: noParam,
    value: () =>
      arrayShape.chain((shape) =>
        fc
          .array(elem, {
            minLength: shape.reduce((a, b) => a * b, 1),
            maxLength: shape.reduce((a, b) => a * b, 1),
          })
          .map((values) => ({ shape, values })),
      ),
    write: (t, n, v) =>
      type === ColumnType.DOUBLE_ARRAY
        ? t.doubleArrayColumn(n, v as { shape: number[]; values: number[] })
        : t.longArrayColumn(n, v as { shape: number[]; values: bigint[] }),
    expected: (v) => {
      const { shape, values } = v as { shape: number[]; values: (number | bigint)[] };
      return {
        shape,
        values:
          type === ColumnType.DOUBLE_ARRAY
            ? Float64Array.from(values as number[])
            : BigInt64Array.from(values as bigint[]),
      };
    },
  };
}

function decimalCase(type: number, bits: number, maxScale: number): TypeCase {
  const lim = 2n ** BigInt(bits - 1);
  return {
    type,
    param: fc.integer({ min: 0, max: maxScale }),
    value: () => fc.bigInt(-lim, lim - 1n),
    write: (t, n, v, scale) =>
      type === ColumnType.DECIMAL64
        ? t.decimal64Column(n, v as bigint, scale)
        : type === ColumnType.DECIMAL128
          ? t.decimal128Column(n, v as bigint, scale)
          : t.decimal256Column(n, v as bigint, scale),
    expected: same,
  };
}

const CASES: TypeCase[] = [
  {
    type: ColumnType.BOOLEAN,
    param: noParam,
    value: () => fc.boolean(),
    write: (t, n, v) => t.booleanColumn(n, v as boolean),
    expected: same,
    nullAs: false,
  },
  {
    type: ColumnType.BYTE,
    param: noParam,
    value: () => fc.integer({ min: -128, max: 127 }),
    write: (t, n, v) => t.byteColumn(n, v as number),
    expected: same,
    nullAs: 0,
  },
  {
    type: ColumnType.SHORT,
    param: noParam,
    value: () => fc.integer({ min: -32768, max: 32767 }),
    write: (t, n, v) => t.shortColumn(n, v as number),
    expected: same,
    nullAs: 0,
  },
  {
    type: ColumnType.CHAR,
    param: noParam,
    value: () => fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    write: (t, n, v) => t.charColumn(n, v as string),
    expected: same,
    nullAs: '\u0000',
  },
  {
    type: ColumnType.INT,
    param: noParam,
    value: () => fc.integer(),
    write: (t, n, v) => t.int32Column(n, v as number),
    expected: same,
  },
  {
    type: ColumnType.LONG,
    param: noParam,
    value: () => fc.oneof(fc.bigInt(I64_MIN, I64_MAX), fc.maxSafeInteger()),
    write: (t, n, v) => t.longColumn(n, v as bigint),
    expected: (v) => BigInt(v as bigint),
  },
  {
    type: ColumnType.FLOAT,
    param: noParam,
    value: () => fc.double(),
    write: (t, n, v) => t.float32Column(n, v as number),
    expected: (v) => Math.fround(v as number),
  },
  {
    type: ColumnType.DOUBLE,
    param: noParam,
    value: () => fc.double(),
    write: (t, n, v) => t.doubleColumn(n, v as number),
    expected: same,
  },
  {
    type: ColumnType.SYMBOL,
    param: noParam,
    value: () => fc.constantFrom('a', 'b', 'ETH-USD', 'żółw', '𝄞', ''),
    write: (t, n, v) => t.symbol(n, v as string),
    expected: same,
  },
  {
    type: ColumnType.TIMESTAMP,
    param: noParam,
    value: () =>
      fc.oneof(
        fc.bigInt(I64_MIN, I64_MAX),
        fc.integer({ min: 0, max: 10 }).map((i) => 1_700_000_000_000_000n + BigInt(i) * 1000n),
      ),
    write: (t, n, v) => t.timestampColumn(n, v as bigint, 'us'),
    expected: same,
  },
  {
    type: ColumnType.TIMESTAMP_NANOS,
    param: noParam,
    value: () => fc.bigInt(I64_MIN, I64_MAX),
    write: (t, n, v) => t.timestampColumn(n, v as bigint, 'ns'),
    expected: same,
  },
  {
    type: ColumnType.DATE,
    param: noParam,
    value: () => fc.bigInt(I64_MIN, I64_MAX),
    write: (t, n, v) => t.dateColumn(n, v as bigint),
    expected: same,
  },
  {
    type: ColumnType.UUID,
    param: noParam,
    value: () => fc.uuid(),
    write: (t, n, v) => t.uuidColumn(n, v as string),
    expected: same,
  },
  {
    type: ColumnType.LONG256,
    param: noParam,
    value: () => fc.bigInt(0n, 2n ** 256n - 1n),
    write: (t, n, v) => t.long256Column(n, v as bigint),
    expected: same,
  },
  {
    type: ColumnType.GEOHASH,
    param: fc.integer({ min: 1, max: 60 }),
    // All-ones of whole bytes is GEOHASH's null sentinel: not a value.
    value: (bits) =>
      fc
        .bigInt(0n, 2n ** BigInt(bits) - 1n)
        .filter((v) => bits % 8 !== 0 || v !== 2n ** BigInt(bits) - 1n),
    write: (t, n, v, bits) => t.geohashColumn(n, v as bigint, bits),
    expected: same,
  },
  {
    type: ColumnType.VARCHAR,
    param: noParam,
    value: () => fc.string({ unit: 'binary', maxLength: 12 }),
    write: (t, n, v) => t.varcharColumn(n, v as string),
    expected: same,
  },
  {
    type: ColumnType.BINARY,
    param: noParam,
    value: () => fc.uint8Array({ maxLength: 12 }),
    write: (t, n, v) => t.binaryColumn(n, v as Uint8Array),
    expected: same,
  },
  {
    type: ColumnType.IPV4,
    param: noParam,
    // 0 is IPv4's null sentinel (QuestDB cannot store 0.0.0.0).
    value: () => fc.integer({ min: 1, max: 0xffffffff }),
    write: (t, n, v) => t.ipv4Column(n, v as number),
    expected: (v) => {
      const x = v as number;
      return `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
    },
  },
  arrayCase(ColumnType.DOUBLE_ARRAY, fc.double()),
  arrayCase(ColumnType.LONG_ARRAY, fc.bigInt(I64_MIN, I64_MAX)),
  decimalCase(ColumnType.DECIMAL64, 64, 18),
  decimalCase(ColumnType.DECIMAL128, 128, 38),
  decimalCase(ColumnType.DECIMAL256, 256, 76),
];

interface ColumnPlan {
  name: string;
  c: TypeCase;
  param: number;
}

/** A cell: 'omit' (column not called), null, or a value. */
type Cell = { kind: 'omit' } | { kind: 'null' } | { kind: 'value'; v: unknown };

const planArb = fc
  .uniqueArray(fc.integer({ min: 0, max: CASES.length - 1 }), { minLength: 1, maxLength: 6 })
  .chain((idx) =>
    fc
      .tuple(...idx.map((i) => CASES[i]!.param))
      .map((params) =>
        idx.map((i, k) => ({ name: `c${k}_${CASES[i]!.type}`, c: CASES[i]!, param: params[k]! })),
      ),
  );

const tableArb = planArb.chain((plan) =>
  fc.record({
    plan: fc.constant(plan),
    unit: fc.constantFrom<'ns' | 'us' | null>('ns', 'us', null),
    rows: fc.array(
      fc.tuple(
        fc.tuple(
          ...plan.map((p) =>
            fc.oneof(
              { weight: 1, arbitrary: fc.constant<Cell>({ kind: 'omit' }) },
              { weight: 1, arbitrary: fc.constant<Cell>({ kind: 'null' }) },
              {
                weight: 4,
                arbitrary: p.c.value(p.param).map<Cell>((v) => ({ kind: 'value', v })),
              },
            ),
          ),
        ),
        fc.bigInt(0n, 2n ** 62n),
      ),
      { minLength: 1, maxLength: 40 },
    ),
  }),
);

type Sample = {
  plan: ColumnPlan[];
  unit: 'ns' | 'us' | null;
  rows: [Cell[], bigint][];
};

function write(t: TableBuffer, s: Sample): void {
  for (const [cells, ts] of s.rows) {
    let wrote = false;
    s.plan.forEach((p, k) => {
      const cell = cells[k]!;
      if (cell.kind === 'omit') return;
      p.c.write(t, p.name, cell.kind === 'null' ? null : cell.v, p.param);
      wrote = true;
    });
    if (s.unit === null) {
      if (!wrote) p0(t, s);
      t.atNow();
    } else {
      t.at(ts, s.unit);
    }
  }
}

/** A row that would be empty under atNow() writes an explicit null so it still has a column. */
function p0(t: TableBuffer, s: Sample): void {
  const p = s.plan[0]!;
  p.c.write(t, p.name, null, p.param);
}

function expectTable(decoded: DecodedTable[], s: Sample): void {
  const rows = decoded.reduce((n, t) => n + t.rowCount, 0);
  expect(rows).toBe(s.rows.length);
  const byName = new Map<string, unknown[]>();
  for (const t of decoded) {
    const offset = [...byName.values()][0]?.length ?? 0;
    for (const col of t.columns) {
      const list = byName.get(col.name) ?? new Array(offset).fill(undefined);
      list.push(...col.values);
      byName.set(col.name, list);
    }
    for (const list of byName.values())
      while (list.length < offset + t.rowCount) list.push(undefined);
  }
  s.plan.forEach((p, k) => {
    const got = byName.get(p.name);
    const wroteAny = s.rows.some(
      ([cells], i) => cells[k]!.kind !== 'omit' || (s.unit === null && k === 0 && rowEmpty(s, i)),
    );
    if (!wroteAny) {
      expect(got).toBeUndefined();
      return;
    }
    const want = s.rows.map(([cells]) => {
      const cell = cells[k]!;
      if (cell.kind === 'value') return p.c.expected(cell.v);
      return p.c.nullAs ?? null;
    });
    // A column absent from one split frame decodes as undefined there: treat as null.
    expect(got!.map((v) => (v === undefined ? (p.c.nullAs ?? null) : v))).toEqual(want);
  });
  if (s.unit !== null) {
    expect(byName.get('')).toEqual(s.rows.map(([, ts]) => ts));
  }
}

function rowEmpty(s: Sample, i: number): boolean {
  return s.rows[i]![0].every((c) => c.kind === 'omit');
}

const runs = LONG ? 2000 : 150;

describe('round trip: every column type with random nulls, omissions and shapes', () => {
  it('one frame', () => {
    fc.assert(
      fc.property(tableArb, fc.boolean(), (s, gorilla) => {
        const batch = new QwpBatch();
        const enc = new QwpEncoder(batch.symbols, { gorilla });
        write(batch.table('t'), s as Sample);
        const frames = enc.encode(batch.tables());
        expect(frames).toHaveLength(1);
        const msg = decodeMessage(frames[0]!, new SymbolDictionary());
        expectTable(msg.tables, s as Sample);
      }),
      { seed: SEED, numRuns: runs },
    );
  });

  it('split into DEFER_COMMIT frames under a small max batch size', () => {
    let multiFrame = 0;
    fc.assert(
      fc.property(tableArb, fc.integer({ min: 200, max: 700 }), (s, max) => {
        const batch = new QwpBatch();
        const enc = new QwpEncoder(batch.symbols, { maxBatchSize: max });
        write(batch.table('t'), s as Sample);
        let frames: Uint8Array[];
        try {
          frames = enc.encode(batch.tables());
        } catch (err) {
          // A single row bigger than the frame is the one allowed failure.
          expect((err as { code?: string }).code).toBe('ERR_QWP_BATCH_SIZE');
          return;
        }
        if (frames.length > 1) multiFrame++;
        const dict = new SymbolDictionary();
        const tables: DecodedTable[] = [];
        frames.forEach((f, i) => {
          expect(f.length).toBeLessThanOrEqual(max);
          expect((f[5]! & FLAG_DEFER_COMMIT) !== 0).toBe(i < frames.length - 1);
          tables.push(...decodeMessage(f, dict).tables);
        });
        expectTable(tables, s as Sample);
      }),
      { seed: SEED + 1, numRuns: Math.ceil(runs / 2) },
    );
    // The sizes are chosen so that splitting really happens.
    expect(multiFrame).toBeGreaterThan(5);
  });
});

describe('QwpBatch.maxEncodedBytes', () => {
  it('bounds the encoded size from above (delta aside)', () => {
    fc.assert(
      fc.property(tableArb, (s) => {
        const batch = new QwpBatch();
        write(batch.table('t'), s as Sample);
        const [frame] = new QwpEncoder(batch.symbols).encode(batch.tables());
        const delta = batch.symbols.utf8.reduce((n, u) => n + u.length + 5, 10);
        expect(frame!.length).toBeLessThanOrEqual(batch.maxEncodedBytes() + delta);
        expect(batch.maxEncodedBytes()).toBeLessThan(frame!.length * 4 + 200);
      }),
      { seed: SEED + 2, numRuns: 50 },
    );
  });
});
