// How QuestDB finds or creates a block's table, adds columns, numbers seqTxns,
// commits early at qwp.max.uncommitted.rows and caps the tables of one
// connection (QwpTudCache, QwpWalAppender and QwpIngressProcessorState of
// questdb/questdb; see the README's row-store section for the commits).
import { ColumnType, Status } from '@qwp/qwp-wire/codec';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_UNCOMMITTED_ROWS, type TestServerOptions } from '../src/index.js';
import { ackCoverage } from './helpers/client.js';
import {
  type ColumnSpec,
  doubleArrays,
  emptyCommit,
  longs,
  message,
  simpleRows,
  T,
  type TableSpec,
  timestamps,
  varchars,
} from './helpers/frames.js';
import { serverPerTest } from './helpers/server-per-test.js';

const { start, open } = serverPerTest();

const DEFER = 0x01;
const long = (name: string, values: bigint[]): ColumnSpec => ({
  name,
  type: T.LONG,
  data: longs(values),
});
const ts = (values: bigint[]): ColumnSpec => ({
  name: '',
  type: T.TIMESTAMP,
  data: timestamps(values),
});
const arr = (...shape: number[]) => ({
  shape,
  values: Array(shape.reduce((a, b) => a * b, 1)).fill(1),
});
const block = (name: string, rowCount: number, columns: ColumnSpec[]): TableSpec => ({
  name,
  rowCount,
  columns,
});
/** `rows` rows of LONG `v` (1, 2, ...) with a designated timestamp, to table `name`. */
const rowsOf = (name: string, rows: number, extra: ColumnSpec[] = []): TableSpec => {
  const values = Array.from({ length: rows }, (_, i) => BigInt(i + 1));
  return block(name, rows, [long('v', values), ...extra, ts(values)]);
};
const frame = (tables: TableSpec[], flags = 0) => message({ tables, flags });
/** A block of `t` that adds column b (an ALTER), then sends text that is no LONG into v. */
const refusedAfterAlter = (): TableSpec =>
  block('t', 1, [long('b', [1n]), { name: 'v', type: T.VARCHAR, data: varchars(['x']) }, ts([1n])]);

describe('status of a block whose table cannot be had (QwpTudCache.getTableUpdateDetails)', () => {
  const failed = (t: string) => `failed to create table update details for: ${t}`;
  it.each<{
    label: string;
    options?: TestServerOptions;
    /** Make table `t` (v LONG, timestamp) first, as SQL would. */
    existing?: boolean;
    tables: TableSpec[];
    status: number;
    message: string;
    /** Tables that exist afterwards. */
    after: string[];
  }>([
    ...['a/b', 'x?', '.hidden', 'a..b', ' lead', 'trail ', 'tab\tname'].flatMap((name) =>
      [0, 1].map((rows) => ({
        label: `table name ${JSON.stringify(name)}, ${rows} row(s)`,
        tables: [rowsOf(name, rows)],
        status: Status.INTERNAL_ERROR,
        message: failed(name),
        after: [],
      })),
    ),
    ...['a.b', 'a-b', 'x?', ''].flatMap((name) =>
      [0, 1].map((rows) => ({
        label: `column name ${JSON.stringify(name)} in a new table, ${rows} row(s)`,
        tables: [rowsOf('t', rows, [long(name, Array(rows).fill(5n))])],
        status: Status.INTERNAL_ERROR,
        message: failed('t'),
        after: [],
      })),
    ),
    {
      label: 'a second empty-named timestamp in a new table',
      tables: [block('t', 1, [ts([1n]), ts([2n])])],
      status: Status.INTERNAL_ERROR,
      message: failed('t'),
      after: [],
    },
    {
      label: 'a new table with autoCreateTables off',
      options: { autoCreateTables: false },
      tables: [rowsOf('t', 1)],
      status: Status.INTERNAL_ERROR,
      message: failed('t'),
      after: [],
    },
    {
      label: 'a new table with autoCreateTables off, after a block for an existing one',
      options: { autoCreateTables: false },
      existing: true,
      tables: [rowsOf('t', 1), rowsOf('u', 0)],
      status: Status.INTERNAL_ERROR,
      message: failed('u'),
      after: ['t'],
    },
    {
      label: 'arrays of two dimensionalities in the first block of a new table',
      tables: [
        block('t', 2, [
          { name: 'a', type: T.DOUBLE_ARRAY, data: doubleArrays([arr(2), arr(1, 2)]) },
          ts([1n, 2n]),
        ]),
      ],
      status: Status.SCHEMA_MISMATCH,
      message:
        'array dimensionality mismatch in QWP batch [column=a, expectedDims=1, actualDims=2]',
      after: [],
    },
    {
      label: 'arrays of two dimensionalities in a block of an existing table',
      existing: true,
      tables: [
        block('t', 3, [
          { name: 'a', type: T.DOUBLE_ARRAY, data: doubleArrays([arr(3), null, arr(1, 1, 1)]) },
          ts([1n, 2n, 3n]),
        ]),
      ],
      status: Status.SCHEMA_MISMATCH,
      message:
        'array dimensionality mismatch in QWP batch [column=a, expectedDims=1, actualDims=3]',
      after: ['t'],
    },
    {
      label: 'a LONG_ARRAY column in a new table',
      tables: [block('t', 1, [{ name: 'l', type: T.LONG_ARRAY, data: doubleArrays([arr(1)]) }])],
      status: Status.WRITE_ERROR,
      message: 'long arrays are not supported, only double arrays',
      after: [],
    },
    {
      label: 'a bad column name added to an existing table',
      existing: true,
      tables: [rowsOf('t', 1, [long('a.b', [5n])])],
      status: Status.WRITE_ERROR,
      message: 'invalid column name [table=t, column=a.b]',
      after: ['t'],
    },
  ])('$label', async ({ options, existing, tables, status, message: text, after }) => {
    const s = await start(options);
    if (existing === true) {
      s.createTable(
        't',
        [
          { name: 'v', type: ColumnType.LONG },
          { name: 'timestamp', type: ColumnType.TIMESTAMP },
        ],
        'timestamp',
      );
    }
    const c = await open(s);
    c.send(frame(tables));
    const [r] = await c.waitFor(1);
    expect(r).toEqual({ kind: 'error', status, sequence: 0n, message: text });
    expect(s.tables()).toEqual(after);
  });

  it('autoCreateTables off still writes an existing table', async () => {
    const s = await start({ autoCreateTables: false });
    s.createTable('t', [{ name: 'timestamp', type: ColumnType.TIMESTAMP }], 'timestamp');
    const c = await open(s);
    c.send(frame([rowsOf('T', 2)]));
    expect((await c.waitFor(1))[0]).toEqual({
      kind: 'ok',
      status: 0,
      sequence: 0n,
      // The ALTER adding v, then the commit; the OK names the table as stored.
      tables: [{ name: 't', seqTxn: 2n }],
    });
  });
});

describe('zero-row blocks find or create their table', () => {
  it.each<{ label: string; tables: TableSpec[]; schema: Record<string, string[]>; seqTxn: bigint }>(
    [
      {
        label: 'a new table gets the block schema and an auto timestamp',
        tables: [
          block('t', 0, [long('a', []), { name: 's', type: T.VARCHAR, data: varchars([]) }]),
        ],
        schema: { t: ['a', 's', 'timestamp'] },
        seqTxn: 0n,
      },
      {
        label: 'the designated timestamp stays where the block puts it',
        tables: [block('t', 0, [ts([]), long('a', [])])],
        schema: { t: ['timestamp', 'a'] },
        seqTxn: 0n,
      },
      {
        label: 'a DOUBLE_ARRAY column waits for a block with an array',
        tables: [
          block('t', 0, [
            { name: 'x', type: T.DOUBLE_ARRAY, data: doubleArrays([]) },
            long('a', []),
          ]),
        ],
        schema: { t: ['a', 'timestamp'] },
        seqTxn: 0n,
      },
      {
        label: 'a later block with rows adds its columns (one ALTER each) and commits',
        tables: [block('t', 0, [long('a', [])]), rowsOf('t', 1, [long('b', [7n])])],
        schema: { t: ['a', 'timestamp', 'v', 'b'] },
        seqTxn: 3n,
      },
    ],
  )('$label', async ({ tables, schema, seqTxn }) => {
    const s = await start();
    const c = await open(s);
    c.send(frame(tables));
    expect((await c.waitFor(1))[0]).toMatchObject({ kind: 'ok', sequence: 0n });
    for (const [table, names] of Object.entries(schema)) {
      expect(s.schema(table).map((col) => col.name)).toEqual(names);
    }
    expect(s.seqTxn('t')).toBe(seqTxn);
  });
});

describe('seqTxn steps: every ALTER and every commit takes one', () => {
  it.each<{
    label: string;
    frames: Buffer[];
    /** seqTxns the OKs report, folded. */
    oks: Record<string, bigint>;
    /** Sequence of the error frame, when one is expected. */
    error?: bigint;
    seqTxn: bigint;
    schema: string[];
  }>([
    {
      label: 'the first frame of a new table commits at 1 (creating it takes none)',
      frames: [frame([rowsOf('t', 2, [long('b', [1n, 2n])])])],
      oks: { t: 1n },
      seqTxn: 1n,
      schema: ['v', 'b', 'timestamp'],
    },
    {
      label: 'two columns added by a later frame: two ALTERs, then the commit',
      frames: [
        frame([rowsOf('t', 1)]),
        frame([rowsOf('t', 1, [long('b', [1n]), long('c', [1n])])]),
      ],
      oks: { t: 4n },
      seqTxn: 4n,
      schema: ['v', 'timestamp', 'b', 'c'],
    },
    {
      label: 'a column added in a later block of the same frame',
      frames: [frame([rowsOf('t', 1), rowsOf('t', 1, [long('b', [1n])])])],
      oks: { t: 2n },
      seqTxn: 2n,
      schema: ['v', 'timestamp', 'b'],
    },
    {
      label: 'a column named in another letter case is the same column: no ALTER',
      frames: [frame([rowsOf('t', 1)]), frame([block('T', 1, [long('V', [9n]), ts([9n])])])],
      oks: { t: 2n },
      seqTxn: 2n,
      schema: ['v', 'timestamp'],
    },
    {
      label: 'a refused frame keeps its ALTERs and takes their seqTxns, unreported',
      frames: [frame([rowsOf('t', 1)]), frame([refusedAfterAlter()])],
      oks: { t: 1n },
      error: 1n,
      seqTxn: 2n,
      schema: ['v', 'timestamp', 'b'],
    },
    {
      label: 'an ALTER in a deferred frame is reported by the OK of the group',
      frames: [
        frame([rowsOf('t', 1)]),
        frame([rowsOf('t', 1, [long('b', [1n])])], DEFER),
        frame([rowsOf('t', 1)], DEFER),
        emptyCommit(),
      ],
      oks: { t: 3n },
      seqTxn: 3n,
      schema: ['v', 'timestamp', 'b'],
    },
  ])('$label', async ({ frames, oks, error, seqTxn, schema }) => {
    const s = await start();
    const c = await open(s);
    for (const f of frames) c.send(f);
    await c.barrier();
    const errors = c.responses.filter((r) => r.kind === 'error');
    expect(errors.map((r) => r.sequence)).toEqual(error === undefined ? [] : [error]);
    expect(ackCoverage(c.responses).tables).toEqual(oks);
    expect(s.seqTxn('t')).toBe(seqTxn);
    expect(s.schema('t').map((col) => col.name)).toEqual(schema);
  });

  it('a refused frame stores no row, and the next commit comes after its ALTER', async () => {
    const s = await start();
    const c = await open(s);
    c.send(frame([rowsOf('t', 1)]));
    const bad = frame([refusedAfterAlter()]);
    c.send(bad);
    const rs = await c.waitForAck(1);
    expect(rs.at(-1)).toMatchObject({
      kind: 'error',
      status: Status.SCHEMA_MISMATCH,
      sequence: 1n,
      message: "cannot parse 'x' as LONG [column=v]",
    });
    expect(s.rows('t')).toHaveLength(1);
    // The next connection's commit comes after the ALTER.
    const d = await open(s);
    d.send(frame([rowsOf('t', 1)]));
    expect((await d.waitFor(1))[0]).toMatchObject({ tables: [{ name: 't', seqTxn: 3n }] });
  });
});

describe('maxUncommittedRows: a table is committed once a block brings it to the cap', () => {
  it.each<{
    label: string;
    max: number;
    frames: Buffer[];
    /** [sequence, seqTxns] of each OK, in order. */
    oks: [bigint, Record<string, bigint>][];
    error?: bigint;
    rows: Record<string, number>;
    seqTxn: Record<string, bigint>;
  }>([
    {
      label: 'one block over the cap is one commit: the check runs per block, not per row',
      max: 3,
      frames: [frame([rowsOf('t', 5)])],
      oks: [[0n, { t: 1n }]],
      rows: { t: 5 },
      seqTxn: { t: 1n },
    },
    {
      label: 'blocks of one frame: committed when the cap is reached, the rest at the end',
      max: 3,
      frames: [frame([rowsOf('t', 2), rowsOf('t', 2), rowsOf('t', 2)])],
      oks: [[0n, { t: 2n }]],
      rows: { t: 6 },
      seqTxn: { t: 2n },
    },
    {
      label: 'the part committed before a refused block stays, and no OK reports it',
      max: 3,
      frames: [frame([rowsOf('t', 3), rowsOf('u', 1), block('t', 1, [long('a.b', [1n])])])],
      oks: [],
      error: 0n,
      rows: { t: 3, u: 0 },
      seqTxn: { t: 1n, u: 0n },
    },
    {
      label: 'a deferred frame that leaves nothing uncommitted is acknowledged',
      max: 2,
      frames: [
        frame([rowsOf('t', 1)], DEFER),
        frame([rowsOf('t', 1)], DEFER),
        frame([rowsOf('t', 1)], DEFER),
        emptyCommit(),
      ],
      oks: [
        [1n, { t: 1n }],
        [3n, { t: 2n }],
      ],
      rows: { t: 3 },
      seqTxn: { t: 2n },
    },
    {
      label: 'a deferred frame is not acknowledged while another table holds rows',
      max: 2,
      frames: [
        frame([rowsOf('u', 1)], DEFER),
        frame([rowsOf('t', 2)], DEFER),
        frame([rowsOf('t', 1)]),
      ],
      oks: [[2n, { t: 2n, u: 1n }]],
      rows: { t: 3, u: 1 },
      seqTxn: { t: 2n, u: 1n },
    },
    {
      label: 'a deferred frame without rows holds back the OK of later ones until the commit',
      max: 1,
      frames: [
        frame([], DEFER),
        frame([rowsOf('t', 1)], DEFER),
        frame([rowsOf('t', 1)], DEFER),
        emptyCommit(),
      ],
      oks: [[3n, { t: 2n }]],
      rows: { t: 2 },
      seqTxn: { t: 2n },
    },
    {
      label: 'a refused frame rolls back the open group, but not what was committed early',
      max: 2,
      frames: [
        frame([rowsOf('t', 2)], DEFER),
        frame([rowsOf('t', 1)], DEFER),
        frame([block('t', 1, [long('a.b', [1n])])], DEFER),
      ],
      oks: [[0n, { t: 1n }]],
      error: 2n,
      rows: { t: 2 },
      seqTxn: { t: 1n },
    },
  ])('$label', async ({ max, frames, oks, error, rows, seqTxn }) => {
    const s = await start({ maxUncommittedRows: max });
    const c = await open(s);
    // A PING after each frame flushes its OK before the next frame arrives.
    for (const f of frames) {
      c.send(f);
      await c.barrier();
    }
    const got = c.responses.filter((r) => r.kind === 'ok');
    expect(
      got.map((r) => [r.sequence, Object.fromEntries(r.tables.map((t) => [t.name, t.seqTxn]))]),
    ).toEqual(oks);
    const errors = c.responses.filter((r) => r.kind === 'error');
    expect(errors.map((r) => r.sequence)).toEqual(error === undefined ? [] : [error]);
    for (const [table, n] of Object.entries(rows)) expect(s.rows(table), table).toHaveLength(n);
    for (const [table, n] of Object.entries(seqTxn)) expect(s.seqTxn(table), table).toBe(n);
  });

  it.each<{ label: string; max?: number; frames: Buffer[]; oks: bigint[] }>([
    {
      label: 'the OK of a frame closing a deferred group goes out at once',
      frames: [frame([rowsOf('t', 1)], DEFER), frame([rowsOf('t', 1)]), frame([rowsOf('t', 1)])],
      oks: [1n, 2n],
    },
    {
      label: 'an OK covering a deferred frame committed early waits for the end of the burst',
      max: 2,
      frames: [frame([rowsOf('t', 2)], DEFER), frame([rowsOf('t', 1)])],
      oks: [1n],
    },
  ])('$label', async ({ max, frames, oks }) => {
    const s = await start(max === undefined ? {} : { maxUncommittedRows: max });
    const c = await open(s);
    // One TCP write, so the server reads the frames as one burst.
    const socket = (c.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.cork();
    for (const f of frames) c.send(f);
    socket.uncork();
    await c.barrier();
    expect(c.responses.map((r) => (r.kind === 'ok' ? r.sequence : r.kind))).toEqual(oks);
  });

  it(`defaults to ${DEFAULT_MAX_UNCOMMITTED_ROWS.toLocaleString('en')} rows per table`, async () => {
    expect(DEFAULT_MAX_UNCOMMITTED_ROWS).toBe(1_000_000);
    const s = await start();
    const c = await open(s);
    // Blocks without columns: a million rows in a few bytes.
    c.send(frame([block('t', 999_999, [])], DEFER));
    await c.barrier();
    expect(c.responses).toEqual([]);
    expect(s.seqTxn('t')).toBe(0n);
    c.send(frame([block('t', 1, [])], DEFER));
    expect(await c.waitFor(1)).toEqual([
      { kind: 'ok', status: 0, sequence: 1n, tables: [{ name: 't', seqTxn: 1n }] },
    ]);
    expect(s.rows('t')).toHaveLength(1_000_000);
  });
});

describe('distinct tables per connection', () => {
  const full = (n: number) => `too many distinct tables, limit: ${n}`;
  it.each<{
    label: string;
    frames: Buffer[];
    error: { sequence: bigint; message: string } | null;
    tables: string[];
  }>([
    {
      label: 'the third table of a connection capped at two',
      frames: [frame([rowsOf('a', 1), rowsOf('b', 1)]), frame([rowsOf('c', 1)])],
      error: { sequence: 1n, message: full(2) },
      tables: ['a', 'b'],
    },
    {
      label: 'zero-row blocks count',
      frames: [frame([block('a', 0, []), block('b', 0, [])]), frame([rowsOf('c', 1)])],
      error: { sequence: 1n, message: full(2) },
      tables: ['a', 'b'],
    },
    {
      label: 'a table already written, in any letter case, does not count again',
      frames: [frame([rowsOf('a', 1), rowsOf('b', 1)]), frame([rowsOf('A', 1), rowsOf('b', 1)])],
      error: null,
      tables: ['a', 'b'],
    },
    {
      label: 'tables of a refused frame count',
      frames: [
        frame([rowsOf('a', 1), block('b', 1, [long('x.y', [1n])])]),
        frame([rowsOf('c', 1)]),
      ],
      error: { sequence: 0n, message: 'invalid column name [table=b, column=x.y]' },
      tables: ['a', 'b'],
    },
    {
      label: 'the cap is checked before the name',
      frames: [frame([rowsOf('a', 1), rowsOf('b', 1)]), frame([rowsOf('bad/name', 1)])],
      error: { sequence: 1n, message: full(2) },
      tables: ['a', 'b'],
    },
  ])('$label', async ({ frames, error, tables }) => {
    const s = await start({ maxTablesPerConnection: 2 });
    s.createTable('b', [{ name: 'timestamp', type: ColumnType.TIMESTAMP }], 'timestamp');
    const c = await open(s);
    for (const f of frames) c.send(f);
    await c.barrier();
    const errors = c.responses.filter((r) => r.kind === 'error');
    expect(errors).toEqual(
      error === null ? [] : [{ kind: 'error', status: Status.WRITE_ERROR, ...error }],
    );
    expect(s.tables().sort()).toEqual(tables);
  });

  it('another connection has its own count', async () => {
    const s = await start({ maxTablesPerConnection: 1 });
    const c = await open(s);
    c.send(frame([rowsOf('a', 1)]));
    c.send(frame([rowsOf('b', 1)]));
    const rs = await c.waitForAck(1);
    expect(rs.at(-1)).toEqual({
      kind: 'error',
      status: Status.WRITE_ERROR,
      sequence: 1n,
      message: full(1),
    });
    const d = await open(s);
    d.send(frame([rowsOf('b', 1)]));
    expect((await d.waitFor(1))[0]).toMatchObject({
      kind: 'ok',
      tables: [{ name: 'b', seqTxn: 1n }],
    });
  });

  it('defaults to 10,000 tables', async () => {
    const s = await start();
    const c = await open(s);
    const names = Array.from({ length: 10_001 }, (_, i) => `t${i}`);
    c.send(frame(names.map((n) => block(n, 0, []))));
    expect(await c.waitFor(1)).toEqual([
      { kind: 'error', status: Status.WRITE_ERROR, sequence: 0n, message: full(10_000) },
    ]);
    expect(s.tables()).toHaveLength(10_000);
  });
});

describe('table names are case-insensitive, as in QuestDB', () => {
  it('writes one table whatever the case, and OKs name it as created', async () => {
    const s = await start();
    const c = await open(s);
    c.send(simpleRows('Trades', [{ v: 1n, ts: 1n }]));
    c.send(simpleRows('trades', [{ v: 2n, ts: 2n }]));
    await c.waitForAck(1);
    expect(ackCoverage(c.responses).tables).toEqual({ Trades: 2n });
    expect(s.tables()).toEqual(['Trades']);
    expect(s.rows('TRADES').map((r) => r.v)).toEqual([1n, 2n]);
  });
});
