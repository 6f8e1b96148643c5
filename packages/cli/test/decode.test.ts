import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { QwpBatch, QwpEncoder } from '@qwp/qwp-wire/codec';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

async function run(
  argv: string[],
  stdin: Uint8Array | string = '',
): Promise<{ code: number; out: string; err: string }> {
  const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
  let out = '';
  let err = '';
  io.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  io.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  io.stdin.end(stdin);
  const code = await main(['decode', ...argv], io);
  return { code, out, err };
}

function sample(): Uint8Array[] {
  const batch = new QwpBatch();
  const enc = new QwpEncoder(batch.symbols);
  const t = batch.table('trades');
  t.symbol('sym', 'ETH-USD')
    .longColumn('qty', 2n ** 62n)
    .doubleColumn('px', 2615.5)
    .at(1_700_000_000_000_000_001n, 'ns');
  t.symbol('sym', 'BTC-USD')
    .doubleColumn('px', 1.25)
    .decimal64Column('fee', '-0.05')
    .at(1_700_000_000_000_000_002n, 'ns');
  const first = enc.encode(batch.tables())[0]!;
  batch.clear();
  batch
    .table('trades')
    .symbol('sym', 'SOL-USD')
    .doubleArrayColumn('m', [[1, 2]])
    .atNow();
  const second = enc.encode(batch.tables())[0]!;
  return [first, second];
}

const dir = mkdtempSync(join(tmpdir(), 'qwp-decode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('qwp decode', () => {
  it('prints --json with 64-bit integers as strings and the designated timestamp as ""', async () => {
    const [frame] = sample();
    const file = join(dir, 'm.bin');
    writeFileSync(file, frame!);
    const { code, out } = await run([file, '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      version: 1,
      flags: 0x0c,
      symbolDelta: { start: 0, entries: ['ETH-USD', 'BTC-USD'] },
      tables: [
        {
          name: 'trades',
          columns: [
            { name: 'sym', type: 'SYMBOL' },
            { name: 'qty', type: 'LONG' },
            { name: 'px', type: 'DOUBLE' },
            { name: '', type: 'TIMESTAMP_NANOS' },
            { name: 'fee', type: 'DECIMAL64' },
          ],
          rows: [
            ['ETH-USD', '4611686018427387904', 2615.5, '1700000000000000001', null],
            ['BTC-USD', null, 1.25, '1700000000000000002', '-0.05'],
          ],
        },
      ],
    });
  });

  it('reads hex text from stdin, ignoring whitespace, and prints text', async () => {
    const [frame] = sample();
    const hexText = Buffer.from(frame!)
      .toString('hex')
      .replace(/(..)/g, '$1 ')
      .replace(/(.{48})/g, '$1\n');
    const { code, out } = await run(['-', '--hex'], hexText);
    expect(code).toBe(0);
    expect(out).toContain('flags 0x0c (GORILLA|DELTA_SYMBOL_DICT)');
    expect(out).toContain('symbol delta: start 0, 2 new entries');
    expect(out).toContain('table "trades": 2 row(s), 5 column(s)');
    expect(out).toContain(
      '[0] sym="ETH-USD" qty=4611686018427387904 px=2615.5 (ts)=1700000000000000001 fee=null',
    );
  });

  it('prints every column of the schema with its type, the designated timestamp and encoding', async () => {
    const [frame] = sample();
    const { code, out } = await run([], frame!);
    expect(code).toBe(0);
    const schema = out
      .split('\n')
      .filter((line) => /^ {2}["(]/.test(line) || /^ {2}"" /.test(line));
    expect(schema).toEqual([
      '  "sym" SYMBOL',
      '  "qty" LONG nulls:bitmap',
      '  "px" DOUBLE',
      '  "" (designated timestamp) TIMESTAMP_NANOS gorilla',
      '  "fee" DECIMAL64(scale 2) nulls:bitmap',
    ]);
    expect(out).toContain('[1] sym="BTC-USD" qty=null px=1.25 (ts)=1700000000000000002 fee=-0.05');
  });

  it('decodes a mid-connection message with placeholder symbols for earlier ids', async () => {
    const [, second] = sample();
    const { code, out } = await run(['--json'], second!);
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json.symbolDelta).toEqual({ start: 2, entries: ['SOL-USD'] });
    expect(json.tables[0].rows).toEqual([['SOL-USD', [[1, 2]]]]);
  });

  it('exits 1 with the offset and reason for a malformed message', async () => {
    const [frame] = sample();
    const bad = frame!.slice();
    bad[5] = 0x82;
    const { code, err } = await run([], bad);
    expect(code).toBe(1);
    expect(err).toMatch(/malformed message at byte 5: reserved flag bits/);
  });

  it('reports the first fault decodeMessage finds, even when the delta start is also malformed', async () => {
    // Bad magic, FLAG_DELTA_SYMBOL_DICT, no tables, a 1-byte payload that opens a varint: the
    // stand-in dictionary cannot read the delta start, and must leave the verdict to the decoder.
    const bad = Uint8Array.from([0x51, 0x57, 0x50, 0x32, 1, 0x08, 0, 0, 1, 0, 0, 0, 0x80]);
    const { code, err } = await run([], bad);
    expect(code).toBe(1);
    expect(err).toMatch(/malformed message at byte 0: bad magic/);
    bad[3] = 0x31;
    const truncated = await run([], bad);
    expect(truncated.code).toBe(1);
    expect(truncated.err).toMatch(/malformed message at byte 12: truncated varint delta_start/);
  });

  it('exits 1 naming a file it cannot read', async () => {
    const missing = join(dir, 'missing.bin');
    const r = await run([missing]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot read ${missing}`);
  });

  it('exits 1 for text that is not hex, 2 for a bad command line', async () => {
    expect((await run(['--hex'], 'zz')).code).toBe(1);
    const usage = await run(['a', 'b']);
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/at most one FILE/);
    expect((await run(['--nope'])).code).toBe(2);
  });
});
