import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { markSlotFailed, openSlot, segmentFileName } from '@qwp/segment-log';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { main } from '../src/index.js';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
  let out = '';
  let err = '';
  io.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  io.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const code = await main(['sf', 'inspect', ...argv], io);
  return { code, out, err };
}

/**
 * Every file's bytes, size, mode and modification and change times, to
 * prove inspect changed nothing: a write or truncate moves mtime, and any
 * metadata change (chmod, a new link) moves ctime, even with the same bytes.
 */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).sort()) out[n] = fileState(join(dir, n));
  out['.'] = fileState(dir);
  return out;
}

function fileState(path: string): string {
  const st = statSync(path, { bigint: true });
  const bytes = st.isDirectory() ? '' : readFileSync(path).toString('base64');
  return `${st.size} ${st.mode} ${st.mtimeNs} ${st.ctimeNs} ${bytes}`;
}

/** A file the Java client wrote, as kept (with its provenance) in segment-log's test fixtures. */
function fixture(name: string): Buffer {
  const hex = readFileSync(
    new URL(`../../segment-log/test/fixtures/java-sf/${name}`, import.meta.url),
    'utf8',
  );
  return Buffer.from(hex.replace(/\s+/g, ''), 'hex');
}

let sfDir: string;
beforeEach(() => {
  sfDir = mkdtempSync(join(tmpdir(), 'qwp-sf-inspect-'));
});
afterEach(() => rmSync(sfDir, { recursive: true, force: true }));

/**
 * A closed slot with 7 frames over three 256-byte segments and two symbols,
 * FSN 1 acknowledged (not drained: everything stays).
 */
function makeSlot(): string {
  const slot = openSlot({ sfDir, senderId: 'ingest-1', segmentSize: 256, autoService: false });
  for (let i = 0; i < 7; i++) slot.ring.tryAppend(new Uint8Array(64).fill(i + 1));
  slot.dict.appendSymbols(['ETH-USD', 'BTC-USD']);
  slot.acknowledge(1);
  slot.close();
  return join(sfDir, 'ingest-1');
}

describe('qwp sf inspect', () => {
  test('a Java-written segment, as JSON', async () => {
    const file = join(sfDir, 'sf-000000000000002a.sfa');
    writeFileSync(file, fixture('java-two-frame.sfa.hex'));
    const before = fileState(file);
    const r = await run([file, '--json']);
    expect(r.code).toBe(0);
    expect((await run([file])).code).toBe(0);
    expect(fileState(file)).toBe(before);
    expect(JSON.parse(r.out)).toEqual({
      file,
      baseSeq: 42,
      flags: 0,
      frames: 2,
      appendOffset: 50,
      tornTailBytes: 0,
      payloadBytes: 10,
    });
  });

  test('a Java-written dictionary, as JSON and as text', async () => {
    const file = join(sfDir, '.symbol-dict');
    writeFileSync(file, fixture('java-two-chunk.symbol-dict.hex'));
    const before = fileState(file);
    const r = await run([file, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      file,
      entries: ['one', 'two', 'three'],
      validLength: 34,
      tornTailBytes: 0,
    });
    const t = await run([file]);
    expect(t.out).toContain('3 symbol(s) in 2 chunk(s)');
    expect(t.out).toContain('2: "three"');
    expect(fileState(file)).toBe(before);
  });

  test('a slot: lock, manifest, watermark, every segment, dictionary and FSN range; nothing is modified', async () => {
    const dir = makeSlot();
    writeFileSync(join(dir, 'README.txt'), 'an operator note');
    const before = snapshot(dir);
    const r = await run([dir, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({
      slot: dir,
      lock: { held: false, pid: process.pid },
      manifest: { file: join(dir, 'sf-manifest.bin'), headBase: 0, activeBase: 6 },
      watermark: { file: join(dir, '.ack-watermark'), ackedFsn: 1 },
      frames: 7,
      firstFsn: 0,
      lastFsn: 6,
      tornTailBytes: 0,
      gaps: [],
      problem: null,
      quarantined: [],
      unrecognized: [join(dir, 'README.txt')],
      dictionary: { entries: ['ETH-USD', 'BTC-USD'], tornTailBytes: 0 },
    });
    // The shape is the interface: every key, in order, and nothing else.
    expect(Object.keys(j)).toEqual([
      'slot',
      'lock',
      'manifest',
      'watermark',
      'segments',
      'dictionary',
      'frames',
      'firstFsn',
      'lastFsn',
      'tornTailBytes',
      'gaps',
      'problem',
      'quarantined',
      'unrecognized',
      'failed',
    ]);
    expect(Object.keys(j.manifest)).toEqual(['file', 'generation', 'headBase', 'activeBase']);
    expect(Object.keys(j.watermark)).toEqual(['file', 'generation', 'ackedFsn']);
    expect(Object.keys(j.dictionary)).toEqual(['file', 'entries', 'validLength', 'tornTailBytes']);
    expect(
      j.segments.map((s: { baseSeq: number; generation: number; role: string }) => [
        s.generation,
        s.role,
        s.baseSeq,
      ]),
    ).toEqual([
      [0, 'chain', 0],
      [1, 'chain', 3],
      [2, 'chain', 6],
    ]);
    expect(j.segments[0]).toEqual({
      file: join(dir, segmentFileName(0)),
      generation: 0,
      role: 'chain',
      baseSeq: 0,
      flags: 1,
      frames: 3,
      appendOffset: 24 + 3 * 72,
      tornTailBytes: 0,
      payloadBytes: 192,
    });
    const t = await run([dir]);
    expect(t.out).toContain('frames: 7, FSN 0..6');
    expect(t.out).toContain('lock: free');
    expect(t.out).toContain('manifest: head FSN 0, active FSN 6');
    expect(t.out).toContain('ack watermark: FSN 1 acknowledged');
    expect(t.out).toContain(`[gen 0, chain] ${join(dir, segmentFileName(0))}: FSN 0..2`);
    expect(t.out).toContain('MANIFEST_REQUIRED');
    expect(t.out).toContain(`not part of the slot format: ${join(dir, 'README.txt')}`);
    expect(snapshot(dir)).toEqual(before);
  });

  test('a slot marked .failed shows the reason', async () => {
    const dir = makeSlot();
    expect(JSON.parse((await run([dir, '--json'])).out).failed).toBeNull();
    markSlotFailed(dir, 'drainer gave up at FSN 4');
    const before = snapshot(dir);
    const r = await run([dir, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).failed).toBe('drainer gave up at FSN 4');
    expect((await run([dir])).out).toContain(
      'FAILED (.failed, orphan scans skip it): drainer gave up at FSN 4',
    );
    expect(snapshot(dir)).toEqual(before);
  });

  test('a held lock is shown with its PID', async () => {
    const slot = openSlot({ sfDir, senderId: 'live', segmentSize: 256, autoService: false });
    try {
      const before = snapshot(slot.dir);
      const r = await run([slot.dir, '--json']);
      expect(JSON.parse(r.out).lock).toEqual({ held: true, pid: process.pid });
      expect((await run([slot.dir])).out).toContain(`lock: HELD (pid ${process.pid})`);
      expect(snapshot(slot.dir)).toEqual(before);
    } finally {
      slot.close();
    }
  });

  test('a torn tail is reported and left on disk', async () => {
    const dir = makeSlot();
    const file = join(dir, segmentFileName(2)); // generation 2 holds FSN 6
    const image = readFileSync(file);
    image[24 + 8 + 5] = image[24 + 8 + 5]! ^ 0xff;
    writeFileSync(file, image);
    const r = await run([file, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ frames: 0, tornTailBytes: 256 - 24 });
    expect(readFileSync(file)).toEqual(image);
    const before = snapshot(dir);
    const s = await run([dir]);
    expect(s.out).toContain('TORN TAIL');
    expect((await run([file])).code).toBe(0);
    expect(snapshot(dir)).toEqual(before); // not truncated, not zeroed, not touched
  });

  test("a dictionary's torn tail is reported in its own text and the slot's, and left on disk", async () => {
    const dir = makeSlot();
    const file = join(dir, '.symbol-dict');
    const image = Buffer.concat([readFileSync(file), Buffer.from([0x02, 0x09, 0x41])]);
    writeFileSync(file, image);
    const before = snapshot(dir);
    const r = await run([file]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('2 symbol(s) in 1 chunk(s)');
    expect(r.out).toContain('TORN TAIL 3 bytes');
    const s = await run([dir]);
    expect(s.out).toMatch(/dictionary: 2 symbol\(s\), valid length \d+, TORN TAIL 3 bytes/);
    expect(readFileSync(file)).toEqual(image);
    expect(snapshot(dir)).toEqual(before);
  });

  test('a gap and a corrupt segment exit 1 and are named', async () => {
    const dir = makeSlot();
    rmSync(join(dir, segmentFileName(1)));
    const r = await run([dir, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.gaps).toEqual([
      {
        previous: join(dir, segmentFileName(0)),
        expected: 3,
        next: join(dir, segmentFileName(2)),
        found: 6,
      },
    ]);
    expect(j.problem).toMatch(/FSN gap/);
    expect(j.segments.every((s: { role: string | null }) => s.role === null)).toBe(true);
    writeFileSync(join(dir, segmentFileName(0)), 'garbage garbage garbage garbage');
    const t = await run([dir]);
    expect(t.code).toBe(1);
    expect(t.out).toContain('ERROR');
    expect(t.out).toContain('bad segment magic');
    expect(t.out).toContain('RECOVERY WOULD REFUSE IT');
  });

  test('a manifest or watermark that is unusable is shown with why', async () => {
    const dir = makeSlot();
    writeFileSync(join(dir, 'sf-manifest.bin'), new Uint8Array(100));
    writeFileSync(join(dir, '.ack-watermark'), new Uint8Array(8192).fill(0x5a));
    const r = await run([dir, '--json']);
    expect(r.code).toBe(1); // flagged segments without a usable manifest: recovery refuses
    const j = JSON.parse(r.out);
    expect(j.manifest).toEqual({
      file: join(dir, 'sf-manifest.bin'),
      error: expect.stringMatching(/100 bytes, not 8192/),
    });
    expect(j.watermark).toEqual({
      file: join(dir, '.ack-watermark'),
      error: expect.stringMatching(/no valid CRC-checked record/),
    });
    const t = await run([dir]);
    expect(t.out).toContain('manifest: UNUSABLE');
    expect(t.out).toContain('ack watermark: UNUSABLE');
  });

  test('a watermark created but never written (all zeros) is shown as nothing acknowledged', async () => {
    const dir = makeSlot();
    writeFileSync(join(dir, '.ack-watermark'), new Uint8Array(8192));
    const j = JSON.parse((await run([dir, '--json'])).out);
    expect(j.watermark).toEqual({ file: join(dir, '.ack-watermark'), generation: 0, ackedFsn: -1 });
    expect((await run([dir])).out).toContain('ack watermark: nothing acknowledged (generation 0)');
  });

  test('the Java manifest and watermark fixtures, found in a slot', async () => {
    const dir = join(sfDir, 'java');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'sf-manifest.bin'),
      fixture('java-manifest-head10-active20.sf-manifest.bin.hex'),
    );
    writeFileSync(join(dir, '.ack-watermark'), fixture('java-ack-watermark-42.ack-watermark.hex'));
    const j = JSON.parse((await run([dir, '--json'])).out);
    expect(j.manifest).toMatchObject({ generation: 1, headBase: 10, activeBase: 20 });
    expect(j.watermark).toMatchObject({ generation: 1, ackedFsn: 42 });
    expect(j.problem).toMatch(/commits segments from FSN 10 to 20 but no segment file exists/);
  });

  test('a missing path or a bad command line', async () => {
    const r = await run([join(sfDir, 'nope')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('nope');
    expect((await run([])).code).toBe(2);
    expect((await run(['a', 'b'])).code).toBe(2);
    expect((await run(['--help'])).out).toContain('2^53');
  });
});
