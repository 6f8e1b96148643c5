import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sender } from '@qwp/sender';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterEach, describe, expect, it } from 'vitest';
import { CHECKPOINT_FILE } from '../src/send/checkpoint.js';
import { Fixture, runSend, types } from './send-helpers.js';

const fixtures: Fixture[] = [];
async function fixture(options?: Parameters<typeof Fixture.start>[0]): Promise<Fixture> {
  const f = await Fixture.start(options);
  fixtures.push(f);
  return f;
}

afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.close();
});

const T0 = 1_700_000_000_000_000n; // µs

describe('qwp send: CSV', () => {
  it('infers every type, sends every row, and makes ts the designated timestamp', async () => {
    const f = await fixture();
    const file = f.path('trades.csv');
    writeFileSync(
      file,
      [
        'ts,sym,px,qty,ok,note,seen',
        '2023-11-14T22:13:20.000001Z,BTC,1.5,3,true,hello,2024-01-02',
        '2023-11-14T22:13:20.5Z,ETH,-2e3,-4,FALSE,"a, ""quoted""\nnewline",2024-01-02T10:00:00+02:00',
        '',
        '2023-11-14 22:13:21,BTC,,9007199254740993,true,,',
      ].join('\n'),
    );
    const r = await runSend([
      file,
      '--table',
      'trades',
      '--conf',
      f.conf,
      '--timestamp',
      'ts',
      '--symbols',
      'sym',
    ]);
    expect(r.err).not.toMatch(/qwp send: .*(error|cannot)/);
    expect(r.code).toBe(0);
    expect(types(f.server, 'trades')).toEqual({
      sym: 'SYMBOL',
      px: 'DOUBLE',
      qty: 'LONG',
      ok: 'BOOLEAN',
      note: 'VARCHAR',
      seen: 'TIMESTAMP',
      timestamp: 'TIMESTAMP',
    });
    expect(f.server.rows('trades')).toEqual([
      {
        sym: 'BTC',
        px: 1.5,
        qty: 3n,
        ok: true,
        note: 'hello',
        seen: 1_704_153_600_000_000n,
        timestamp: T0 + 1n,
      },
      {
        sym: 'ETH',
        px: -2000,
        qty: -4n,
        ok: false,
        note: 'a, "quoted"\nnewline',
        seen: 1_704_182_400_000_000n,
        timestamp: T0 + 500_000n,
      },
      {
        sym: 'BTC',
        px: null,
        qty: 9_007_199_254_740_993n,
        ok: true,
        note: null,
        seen: null,
        timestamp: T0 + 1_000_000n,
      },
    ]);
    expect(r.err).toMatch(
      /columns: sym SYMBOL \(given\), px DOUBLE, qty LONG, ok BOOLEAN, note VARCHAR, seen TIMESTAMP; designated timestamp: ts \(TIMESTAMP\)/,
    );
    expect(r.out).toMatch(/rows sent\s+3\n/);
    expect(r.out).toMatch(/rows acknowledged\s+3\n/);
  });

  it('--types overrides inference; numeric timestamps take --unit; a .tsv is tab-separated', async () => {
    const f = await fixture();
    const file = f.path('m.tsv');
    writeFileSync(
      file,
      'id\tt\tv\tcode\tip\n1\t1700000000000\t2.5\t7\t10.0.0.1\n2\t1700000000001\t3\t8\t10.0.0.2\n',
    );
    const r = await runSend([
      file,
      '--table',
      'm',
      '--conf',
      f.conf,
      '--timestamp',
      't',
      '--unit',
      'ms',
      '--types',
      'id:varchar,v:FLOAT',
      '--types',
      'code:SHORT,ip:IPv4',
    ]);
    expect(r.code).toBe(0);
    expect(types(f.server, 'm')).toEqual({
      id: 'VARCHAR',
      v: 'FLOAT',
      code: 'SHORT',
      ip: 'IPv4',
      timestamp: 'TIMESTAMP',
    });
    const rows = f.server.rows('m');
    expect(rows.map((x) => [x.id, x.v, x.code, x.timestamp])).toEqual([
      ['1', 2.5, 7, 1_700_000_000_000_000n],
      ['2', 3, 8, 1_700_000_000_001_000n],
    ]);
    expect(rows[0]!.ip).toBe('10.0.0.1');
  });

  it('without --timestamp the server stamps the rows; nanosecond ISO text makes TIMESTAMP_NANOS', async () => {
    const f = await fixture();
    const file = f.path('n.csv');
    writeFileSync(file, 'at,x\n2023-11-14T22:13:20.123456789Z,1\n2023-11-14T22:13:20Z,2\n');
    const before = BigInt(Date.now()) * 1000n;
    const r = await runSend([file, '--table', 'n', '--conf', f.conf]);
    expect(r.code).toBe(0);
    expect(types(f.server, 'n')).toEqual({
      at: 'TIMESTAMP_NANOS',
      x: 'LONG',
      timestamp: 'TIMESTAMP',
    });
    const rows = f.server.rows('n');
    expect(rows[0]!.at).toBe(1_700_000_000_123_456_789n);
    expect(rows[0]!.timestamp as bigint).toBeGreaterThanOrEqual(before);
    expect(r.err).toMatch(/designated timestamp: the server clock/);
  });

  it('reads stdin with --format', async () => {
    const f = await fixture();
    const r = await runSend(['-', '--format', 'csv', '--table', 's', '--conf', f.conf], {
      stdin: 'a,b\n1,x\n2,y\n',
    });
    expect(r.code).toBe(0);
    expect(f.server.rows('s').map((x) => [x.a, x.b])).toEqual([
      [1n, 'x'],
      [2n, 'y'],
    ]);
    expect(r.err).toMatch(/qwp send: stdin \(csv\) -> table 's'/);
  });

  it('infers from the first --infer-rows rows only', async () => {
    const f = await fixture();
    const file = f.path('late.csv');
    writeFileSync(file, 'v\n1\n2\n2.5\n');
    const r = await runSend([file, '--table', 'late', '--conf', f.conf, '--infer-rows', '2']);
    // LONG from the first two rows; 2.5 is then not a LONG: a bad row on line 4.
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/late\.csv line 4, column 'v': "2\.5" is not a LONG/);
    expect(f.server.rows('late').map((x) => x.v)).toEqual([1n, 2n]);
    const all = await runSend([file, '--table', 'late2', '--conf', f.conf]);
    expect(all.code).toBe(0);
    expect(types(f.server, 'late2').v).toBe('DOUBLE');
  });
});

describe('qwp send: a bad row', () => {
  function csv(rows: number, bad: number, badLine: string): string {
    const lines = ['id,px,sym'];
    for (let i = 0; i < rows; i++) lines.push(i === bad ? badLine : `${i},${i / 4},s${i % 3}`);
    return `${lines.join('\n')}\n`;
  }

  it('commits the rows before it, sends nothing after it, and names line, column and reason', async () => {
    const f = await fixture();
    const file = f.path('bad.csv');
    writeFileSync(file, csv(1000, 600, '600,not-a-number,s0'));
    const r = await runSend([file, '--table', 'b', '--conf', f.conf, '--infer-rows', '100']);
    expect(r.code).toBe(1);
    // Data row 600 is line 602 (the header is line 1).
    expect(r.err).toMatch(/bad\.csv line 602, column 'px': "not-a-number" is not a DOUBLE/);
    expect(r.err).toMatch(/the 600 rows before it are committed, nothing after it was sent/);
    const ids = f.server.rows('b').map((x) => Number(x.id));
    expect(ids).toEqual([...Array(600).keys()]);
    expect(r.out).toMatch(/rows acknowledged\s+600\n/);
  });

  it('a CSV row with the wrong number of fields, or unparsable, stops at its line', async () => {
    const f = await fixture();
    const short = f.path('short.csv');
    writeFileSync(short, csv(50, 20, '20,1.5'));
    let r = await runSend([short, '--table', 'c1', '--conf', f.conf]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/short\.csv line 22: 2 fields, but the header has 3/);
    expect(f.server.rows('c1')).toHaveLength(20);

    const quote = f.path('quote.csv');
    writeFileSync(quote, csv(50, 30, '30,"1.5"x,s0'));
    r = await runSend([quote, '--table', 'c2', '--conf', f.conf]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/quote\.csv line 32: Invalid Closing Quote/);
    expect(f.server.rows('c2')).toHaveLength(30);
  });

  it('a value the sender refuses (out of range for the column type) names the line too', async () => {
    const f = await fixture();
    const file = f.path('range.csv');
    writeFileSync(file, 'b\n1\n2\n300\n4\n');
    const r = await runSend([file, '--table', 'r', '--conf', f.conf, '--types', 'b:BYTE']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /range\.csv line 4, column 'b': .*BYTE needs an integer in \[-128, 127\]/,
    );
    expect(f.server.rows('r').map((x) => x.b)).toEqual([1, 2]);
  });

  it('NDJSON: a line that is not JSON stops at its line', async () => {
    const f = await fixture();
    const file = f.path('bad.ndjson');
    writeFileSync(file, '{"a":1}\n\n{"a":2}\n{"a":3\n{"a":4}\n');
    const r = await runSend([file, '--table', 'j', '--conf', f.conf]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.ndjson line 4: not JSON/);
    expect(f.server.rows('j').map((x) => x.a)).toEqual([1n, 2n]);
  });

  it('an empty designated timestamp is a bad row', async () => {
    const f = await fixture();
    const file = f.path('ts.csv');
    writeFileSync(file, 'ts,v\n2024-01-01T00:00:00Z,1\n,2\n');
    const r = await runSend([file, '--table', 'e', '--conf', f.conf, '--timestamp', 'ts']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ts\.csv line 3, column 'ts': the designated timestamp is empty/);
    expect(f.server.rows('e')).toHaveLength(1);
  });
});

describe('qwp send: NDJSON', () => {
  it('types JSON values by their JSON type; later keys become columns; objects are JSON text', async () => {
    const f = await fixture();
    const file = f.path('events.ndjson');
    writeFileSync(
      file,
      [
        '{"t":1700000000000,"user":"ann","n":1,"score":0.5,"ok":true,"at":"2024-01-01T00:00:00Z","meta":{"k":[1,2]}}',
        '{"t":1700000000001,"user":"bob","n":2,"score":1,"ok":false,"at":null}',
        '{"t":1700000000002,"user":"ann","n":3,"score":2.25,"ok":true,"extra":"late"}',
      ].join('\n'),
    );
    const r = await runSend([
      file,
      '--table',
      'ev',
      '--conf',
      f.conf,
      '--timestamp',
      't',
      '--unit',
      'ms',
      '--symbols',
      'user',
      '--infer-rows',
      '2',
    ]);
    expect(r.code).toBe(0);
    expect(types(f.server, 'ev')).toEqual({
      user: 'SYMBOL',
      n: 'LONG',
      score: 'DOUBLE',
      ok: 'BOOLEAN',
      at: 'TIMESTAMP',
      meta: 'VARCHAR',
      timestamp: 'TIMESTAMP',
      extra: 'VARCHAR',
    });
    const rows = f.server.rows('ev');
    expect(
      rows.map((x) => [x.user, x.n, x.score, x.ok, x.at, x.meta, x.extra, x.timestamp]),
    ).toEqual([
      ['ann', 1n, 0.5, true, 1_704_067_200_000_000n, '{"k":[1,2]}', null, 1_700_000_000_000_000n],
      ['bob', 2n, 1, false, null, null, null, 1_700_000_000_001_000n],
      ['ann', 3n, 2.25, true, null, null, 'late', 1_700_000_000_002_000n],
    ]);
  });

  it('reads NDJSON from stdin', async () => {
    const f = await fixture();
    const r = await runSend(['-', '--format', 'ndjson', '--table', 'sj', '--conf', f.conf], {
      stdin: '{"a":"x"}\r\n{"a":"y"}\n',
    });
    expect(r.code).toBe(0);
    expect(f.server.rows('sj').map((x) => x.a)).toEqual(['x', 'y']);
  });
});

describe('qwp send: Parquet', () => {
  it("maps the file's own types and reads every row group", async () => {
    const f = await fixture();
    const file = f.path('p.parquet');
    const n = 250;
    const ids = Array.from({ length: n }, (_, i) => i);
    parquetWriteFile({
      filename: file,
      rowGroupSize: 100,
      columnData: [
        { name: 'id', data: ids, type: 'INT32' },
        { name: 'big', data: ids.map((i) => BigInt(i) * 10_000_000_000n), type: 'INT64' },
        { name: 'px', data: ids.map((i) => (i % 7 === 0 ? null : i / 8)), type: 'DOUBLE' },
        { name: 'f', data: ids.map((i) => i / 2), type: 'FLOAT' },
        { name: 'ok', data: ids.map((i) => i % 2 === 0), type: 'BOOLEAN' },
        { name: 'sym', data: ids.map((i) => `s${i % 3}`), type: 'STRING' },
        { name: 'ts', data: ids.map((i) => new Date(1_700_000_000_000 + i)), type: 'TIMESTAMP' },
        {
          name: 'when',
          data: ids.map((i) => new Date(1_600_000_000_000 + i * 1000)),
          type: 'TIMESTAMP',
        },
      ],
    });
    const r = await runSend([
      file,
      '--table',
      'pq',
      '--conf',
      f.conf,
      '--timestamp',
      'ts',
      '--symbols',
      'sym',
    ]);
    expect(r.code).toBe(0);
    expect(types(f.server, 'pq')).toEqual({
      id: 'INT',
      big: 'LONG',
      px: 'DOUBLE',
      f: 'FLOAT',
      ok: 'BOOLEAN',
      sym: 'SYMBOL',
      when: 'TIMESTAMP',
      timestamp: 'TIMESTAMP',
    });
    const rows = f.server.rows('pq');
    expect(rows).toHaveLength(n);
    for (const [i, row] of rows.entries()) {
      expect(row).toEqual({
        id: i,
        big: BigInt(i) * 10_000_000_000n,
        px: i % 7 === 0 ? null : i / 8,
        f: i / 2,
        ok: i % 2 === 0,
        sym: `s${i % 3}`,
        when: BigInt(1_600_000_000_000 + i * 1000) * 1000n,
        timestamp: BigInt(1_700_000_000_000 + i) * 1000n,
      });
    }
    expect(r.err).toMatch(/columns: id INT \(declared\)/);
  });

  it('a Parquet value the column type refuses names its row index', async () => {
    const f = await fixture();
    const file = f.path('r.parquet');
    parquetWriteFile({
      filename: file,
      rowGroupSize: 10,
      columnData: [
        {
          name: 'v',
          data: Array.from({ length: 30 }, (_, i) => (i === 17 ? 1000 : i)),
          type: 'INT32',
        },
      ],
    });
    const r = await runSend([file, '--table', 'pr', '--conf', f.conf, '--types', 'v:BYTE']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/r\.parquet row 17, column 'v': .*BYTE needs an integer/);
    expect(f.server.rows('pr').map((x) => x.v)).toEqual([...Array(17).keys()]);
  });
});

describe('qwp send: progress and output', () => {
  it('prints plain progress lines off a terminal and a bar with ETA on one', async () => {
    const f = await fixture();
    const file = f.path('p.csv');
    writeFileSync(file, `v\n${[...Array(2000).keys()].join('\n')}\n`);
    const plain = await runSend([file, '--table', 'pl', '--conf', f.conf]);
    expect(plain.code).toBe(0);
    expect(plain.err).not.toContain('\u001b[');
    expect(plain.err).toMatch(
      /^\[=+\] 100% \| 2,000 rows \| [\d,]+ rows\/s \| 8\.7 KiB\/8\.7 KiB \| acked 2,000 \| ETA /m,
    );

    const tty = await runSend([file, '--table', 'tt', '--conf', f.conf], { tty: true });
    expect(tty.code).toBe(0);
    expect(tty.err).toContain('\u001b['); // redrawn in place
    expect(tty.err).toMatch(/2,000 rows \| [\d,]+ rows\/s/);
    expect(tty.out).toMatch(/qwp send: 2,000 rows of .*p\.csv are in 'tt'/);
  });

  it('says so when nothing listens where it sends', async () => {
    const f = await fixture();
    const file = f.path('x.csv');
    writeFileSync(file, 'v\n1\n');
    const port = f.server.port;
    await f.server.stop();
    const r = await runSend([file, '--table', 'x', '--conf', `ws::addr=127.0.0.1:${port};`]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/qwp send: cannot start the sender: /);
    await f.server.start();
  });
});

describe('qwp send: usage', () => {
  it.each([
    [[], /name the input/],
    [['a.csv'], /--table is required/],
    [['a.txt', '--table', 't'], /cannot tell the format of a\.txt/],
    [['-', '--table', 't'], /reading stdin: say --format csv or --format ndjson/],
    [['-', '--table', 't', '--format', 'parquet'], /Parquet cannot be read from stdin/],
    [['a.csv', '--table', 't', '--format', 'xml'], /--format must be csv, ndjson or parquet/],
    [['a.csv', '--table', 't', '--unit', 'h'], /--unit must be ns, us, ms or s/],
    [['a.csv', '--table', 't', '--types', 'a:WHATEVER'], /--types takes column:TYPE pairs/],
    [['a.csv', '--table', 't', '--types', 'a'], /--types takes column:TYPE pairs/],
    [['a.csv', '--table', 'a/b'], /--table 'a\/b': /],
    [
      ['a.csv', '--table', 't', '--conf', 'http::addr=x;'],
      /--conf: schema 'http' is not supported/,
    ],
    [
      ['a.csv', '--table', 't', '--sf-dir', '/tmp/x', '--conf', 'ws::addr=h;sf_dir=/y;'],
      /--sf-dir and sf_dir/,
    ],
    [['a.csv', 'b.csv', '--table', 't'], /one input at a time/],
    [['a.csv', '--table', 't', '--bogus'], /Unknown option '--bogus'/],
    [['a.ndjson', '--table', 't', '--delimiter', ';'], /--delimiter applies to CSV only/],
  ])('%j is refused', async (args, message) => {
    const r = await runSend(args as string[]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('refuses columns the input does not have, and timestamps it cannot read', async () => {
    const f = await fixture();
    const file = f.path('u.csv');
    writeFileSync(file, 'n,s\n1,a\n');
    const cases: [string[], RegExp][] = [
      [['--symbols', 'zz'], /u\.csv has no column 'zz' \(it has n, s\)/],
      [['--types', 'zz:LONG'], /has no column 'zz'/],
      [['--timestamp', 'zz'], /--timestamp zz: .* has no such column/],
      [['--timestamp', 'n'], /--timestamp n holds numbers: say what they count with --unit/],
      [
        ['--timestamp', 's'],
        /--timestamp s: its values are VARCHAR, not ISO-8601 timestamps or numbers/,
      ],
      [['--symbols', 's', '--types', 's:VARCHAR'], /column 's' is in both --symbols and --types/],
    ];
    for (const [extra, message] of cases) {
      const r = await runSend([file, '--table', 'u', '--conf', f.conf, ...extra]);
      expect(r.err).toMatch(message);
      expect(r.code).toBe(2);
    }
    expect(f.server.tables()).toEqual([]);
  });

  it('a missing file or an empty CSV exits 1 before anything is sent', async () => {
    const f = await fixture();
    let r = await runSend([f.path('none.csv'), '--table', 't', '--conf', f.conf]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot read .*none\.csv/);
    writeFileSync(f.path('empty.csv'), '');
    r = await runSend([f.path('empty.csv'), '--table', 't', '--conf', f.conf]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/empty\.csv has no CSV header: it is empty/);
    expect(f.server.tables()).toEqual([]);
  });

  it('prints help', async () => {
    const r = await runSend(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/usage: qwp send FILE\|- --table T/);
  });
});

describe('qwp send --sf-dir', () => {
  it('removes its checkpoint when the import is complete', async () => {
    const f = await fixture();
    const file = f.path('c.csv');
    writeFileSync(file, 'v\n1\n2\n');
    const sf = join(f.dir, 'sf');
    const r = await runSend([file, '--table', 'c', '--conf', f.conf, '--sf-dir', sf]);
    expect(r.code).toBe(0);
    expect(existsSync(join(sf, 'qwp-send-c'))).toBe(true);
    expect(existsSync(join(sf, 'qwp-send-c', CHECKPOINT_FILE))).toBe(false);
    expect(f.server.rows('c')).toHaveLength(2);
  });

  it('a checkpoint left over a slot its sender drained and cleaned resumes as all acknowledged', async () => {
    const f = await fixture();
    const sf = join(f.dir, 'sf');
    const a = f.path('a.csv');
    writeFileSync(a, 'v\n1\n2\n3\n');
    f.server.neverAck(true);
    const first = await runSend([
      a,
      '--table',
      'k',
      '--conf',
      f.conf,
      '--sf-dir',
      sf,
      '--ack-timeout',
      '0',
    ]);
    expect(first.code).toBe(1);
    f.server.neverAck(false);
    // What a run stopped after its drained close, before removing the checkpoint, leaves.
    const other = await Sender.fromConfig(`${f.conf}sf_dir=${sf};sender_id=qwp-send-k;`);
    await other.close();
    expect(existsSync(join(sf, 'qwp-send-k', CHECKPOINT_FILE))).toBe(true);
    const again = await runSend([a, '--table', 'k', '--conf', f.conf, '--sf-dir', sf]);
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/rows before 3 \(through line 4\) were all acknowledged/);
    expect(again.out).toMatch(/rows sent\s+0 /);
    expect(again.out).toMatch(/rows acknowledged\s+3\n/);
    // The unacknowledged first copy and the replay (no DEDUP key here), nothing from `again`.
    expect(f.server.rows('k')).toHaveLength(6);
  });

  it('refuses to resume an unfinished import of another input', async () => {
    const f = await fixture();
    const sf = join(f.dir, 'sf');
    const a = f.path('a.csv');
    writeFileSync(a, 'v\n1\n2\n3\n');
    // An import that cannot finish: the server never acknowledges.
    f.server.neverAck(true);
    const first = await runSend([
      a,
      '--table',
      'k',
      '--conf',
      f.conf,
      '--sf-dir',
      sf,
      '--ack-timeout',
      '0',
    ]);
    expect(first.code).toBe(1);
    expect(first.err).toMatch(
      /did not acknowledge everything within --ack-timeout .* run the same command again to finish the import/,
    );
    expect(existsSync(join(sf, 'qwp-send-k', CHECKPOINT_FILE))).toBe(true);
    f.server.neverAck(false);

    const b = f.path('b.csv');
    writeFileSync(b, 'v\n1\n');
    const other = await runSend([b, '--table', 'k', '--conf', f.conf, '--sf-dir', sf]);
    expect(other.code).toBe(1);
    expect(other.err).toMatch(
      /holds an unfinished import of .*a\.csv \(3 rows stored\) that differs from this one: input/,
    );

    // The same import again finishes it: nothing is re-read, the slot's frames are re-sent.
    const again = await runSend([a, '--table', 'k', '--conf', f.conf, '--sf-dir', sf]);
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/resuming: rows before 3 \(through line 4\) are stored in the slot/);
    expect(again.out).toMatch(/rows sent\s+0 \(resumed after 3 rows already stored\)/);
    expect(again.out).toMatch(/rows acknowledged\s+3\n/);
    expect(existsSync(join(sf, 'qwp-send-k', CHECKPOINT_FILE))).toBe(false);
  });
});
