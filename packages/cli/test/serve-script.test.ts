import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestServer } from '@qwp/test-server';
import { afterEach, describe, expect, it } from 'vitest';
import { serveOptions } from '../src/commands/serve.js';
import { parseScript, parseStep, scriptRunner } from '../src/commands/serve-script.js';
import { frame, RawClient, type Running, runServe } from './serve-helpers.js';

const running: Running[] = [];
const clients: RawClient[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const r of running.splice(0)) {
    r.stop();
    await r.exit;
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function serve(args: string[]): Promise<{ r: Running; url: string }> {
  const r = runServe(['--port', '0', ...args]);
  running.push(r);
  return { r, url: await r.url };
}

async function client(url: string, headers: Record<string, string> = {}): Promise<RawClient> {
  const c = await RawClient.open(url, headers);
  clients.push(c);
  return c;
}

/** What a client received, compactly. */
function seen(c: RawClient): string[] {
  return c.responses.map((r) => {
    if (r.kind === 'ok') {
      return `ok ${r.sequence}${r.tables.map((t) => ` ${t.name}=${t.seqTxn}`).join('')}`;
    }
    if (r.kind === 'error') return `error ${r.status} ${r.sequence} ${r.message}`;
    return `${r.kind} ${r.tables.map((t) => `${t.name}=${t.seqTxn}`).join(',')}`;
  });
}

/** Sends `f` and waits until an OK covers `seq` (or an error arrives). */
async function sendAcked(c: RawClient, f: Buffer, seq: number): Promise<void> {
  c.send(f);
  await c.until(
    () =>
      c.responses.some((r) => (r.kind === 'ok' && r.sequence >= BigInt(seq)) || r.kind === 'error'),
    `the OK of ${seq}`,
  );
}

describe('qwp serve --at / --script: parsing', () => {
  it.each([
    ['frame=100:demote', { kind: 'frame', index: 100 }],
    ['frame=0:reject=WRITE_ERROR,table is busy', { kind: 'frame', index: 0 }],
    ['after=2s:restart=500', { kind: 'after', ms: 2000 }],
    ['after=250ms:stall-uploads', { kind: 'after', ms: 250 }],
    ['after=40:resume-uploads', { kind: 'after', ms: 40 }],
    ['every=200ms:other-writer=trades,2', { kind: 'every', ms: 200 }],
    [' frame=3 : read-only ', { kind: 'frame', index: 3 }],
  ])('%s fires at %j', (text, trigger) => {
    expect(parseStep(text).trigger).toEqual(trigger);
  });

  it.each([
    ['demote', /'demote': a step is WHEN:ACTION/],
    ['frame=x:demote', /'frame=x:demote': frame must be an integer >= 0, got 'x'/],
    ['frame=-1:demote', /frame must be an integer >= 0, got '-1'/],
    ['after=2h:restart', /after must be a duration such as 500ms or 2s, got '2h'/],
    ['every=0ms:drop', /every must be at least 1ms/],
    ['at=3:demote', /WHEN must be frame=N, after=DUR or every=DUR, got 'at=3'/],
    ['frame=1:', /no ACTION after the colon/],
    ['frame=1:explode', /unknown action 'explode'/],
    ['frame=1:demote=PRIMARY', /demote ROLE must be REPLICA or PRIMARY_CATCHUP, got 'PRIMARY'/],
    ['frame=1:promote=REPLICA', /promote ROLE must be a writable role/],
    ['frame=1:reject=OK', /STATUS must be an error status name/],
    ['frame=1:reject=2', /STATUS must be an error status name .* got '2'/],
    ['frame=1:drop-every=0', /drop-every N must be an integer >= 1, got '0'/],
    ['frame=1:drop-every=2,later', /drop-every point must be before-ack or before-process/],
    ['frame=1:drop-rate=1.5', /drop-rate must be in \[0, 1\]/],
    ['frame=1:corrupt-acks=garbled', /corrupt-acks KIND must be malformed or future/],
    ['frame=1:durable-lag=10,0,cloud', /durable-lag TIER must be replicated or local/],
    ['frame=1:other-writer', /other-writer needs a TABLE/],
    ['frame=1:other-writer=t,0', /other-writer STEPS must be an integer >= 1/],
    ['frame=1:restart=soon', /restart DOWN_MS must be an integer >= 0, got 'soon'/],
    ['frame=1:drop=now', /drop takes no argument/],
  ])('refuses %s', (text, message) => {
    let err: unknown;
    try {
      parseStep(text);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: 'UsageError', code: 'ERR_QWP_CLI_USAGE' });
    expect((err as Error).message).toMatch(message);
  });

  // Each action calls the server method it names, with these arguments.
  it.each([
    ['drop', 'dropConnections', []],
    ['drop-every=5', 'dropAfterFrames', [5, 'before-ack']],
    ['drop-every=5,before-process', 'dropAfterFrames', [5, 'before-process']],
    ['drop-every=off', 'dropAfterFrames', [null]],
    ['drop-rate=0.25,9', 'dropAtRandom', [0.25, 9]],
    ['delay=30', 'delayAcks', [30]],
    ['never-ack', 'neverAck', [true]],
    ['ack', 'neverAck', [false]],
    ['reject=WRITE_ERROR', 'rejectFrame', [7, 9, undefined]],
    ['reject=8,no, really', 'rejectFrame', [7, 8, 'no, really']],
    ['refuse=100', 'refuseConnections', [100, undefined]],
    ['refuse=100,503', 'refuseConnections', [100, 503]],
    ['reject-upgrades=421,2', 'rejectUpgrades', [421, 2]],
    ['corrupt-acks=future,3', 'corruptAcks', ['future', 3]],
    ['demote', 'demote', ['REPLICA']],
    ['demote=PRIMARY_CATCHUP', 'demote', ['PRIMARY_CATCHUP']],
    ['promote', 'promote', ['PRIMARY']],
    ['promote=STANDALONE', 'promote', ['STANDALONE']],
    ['read-only', 'setReadOnly', [true]],
    ['writable', 'setReadOnly', [false]],
    ['durable-lag=100', 'setDurableLag', [100, 0, 'replicated']],
    ['durable-lag=10,5,local', 'setDurableLag', [10, 5, 'local']],
    ['stall-uploads', 'stallUploads', [true]],
    ['resume-uploads', 'stallUploads', [false]],
    ['other-writer=trades,3', 'advanceSeqTxn', ['trades', 3]],
    ['restart', 'restart', [{ downMs: 0, keepRows: true }]],
    ['restart=200,lose-rows', 'restart', [{ downMs: 200, keepRows: false }]],
    ['stop', 'stop', []],
    ['start', 'start', []],
    ['reset', 'resetFaults', []],
  ])('%s calls %s(%j)', (action, method, args) => {
    const calls: [string, unknown[]][] = [];
    const fake = new Proxy(
      {},
      {
        get:
          (_, name) =>
          (...a: unknown[]) => {
            if (name === 'stats') return { frames: 7 };
            calls.push([String(name), a]);
            return undefined;
          },
      },
    ) as TestServer;
    const logged: string[] = [];
    const runner = scriptRunner([parseStep(`frame=4:${action}`)], (l) => logged.push(l));
    runner.start(fake);
    runner.onFrame(3);
    expect(calls).toEqual([]);
    runner.onFrame(4);
    runner.stop();
    // At frame=4 a reject answers frame 4 itself; the fake's stats() is not asked.
    const expected = method === 'rejectFrame' ? [4, ...args.slice(1)] : args;
    expect(calls).toEqual([[method, expected]]);
    expect(logged).toEqual([`script: frame=4:${action}`]);
  });

  it('a timed reject answers the next frame to arrive', () => {
    const calls: unknown[][] = [];
    const fake = {
      stats: () => ({ frames: 12 }),
      rejectFrame: (...a: unknown[]) => calls.push(a),
    } as unknown as TestServer;
    const [step] = [parseStep('after=1ms:reject=PARSE_ERROR')];
    void step!.run(fake, null);
    expect(calls).toEqual([[12, 5, undefined]]);
  });

  it('reads a script file: one step a line, # comments, errors name the line', () => {
    const steps = parseScript(
      'plan.txt',
      '# a failover drill\n\nframe=10:demote   # the primary goes\r\nafter=2s:promote\n',
    );
    expect(steps.map((s) => s.text)).toEqual(['frame=10:demote', 'after=2s:promote']);
    expect(() => parseScript('plan.txt', 'frame=1:drop\nframe=2:nope\n')).toThrow(
      /--script plan.txt line 2: 'frame=2:nope': unknown action 'nope'/,
    );
  });

  it('maps the new flags to server options and refuses bad ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qwp-script-'));
    dirs.push(dir);
    const file = join(dir, 'plan.txt');
    writeFileSync(file, 'after=1s:restart\n');
    const parsed = serveOptions([
      '--durable-tiers',
      'local',
      '--durable-lag',
      '20,10',
      '--seed',
      '5',
      '--read-only',
      '--demotion-grace',
      '300',
      '--other-writer',
      'trades:100',
      '--other-writer',
      'quotes:50:3',
      '--at',
      'frame=3:demote',
      '--script',
      file,
    ]);
    expect(parsed.options).toMatchObject({
      durableAck: { tiers: ['local'], lagMs: 20, jitterMs: 10, seed: 5 },
      readOnly: true,
      demotionGraceMs: 300,
      otherWriters: [
        { table: 'trades', everyMs: 100 },
        { table: 'quotes', everyMs: 50, steps: 3 },
      ],
    });
    expect(parsed.script.map((s) => s.text)).toEqual(['frame=3:demote', 'after=1s:restart']);
    expect(serveOptions(['--durable-ack']).options.durableAck).toBe(true);
    for (const [args, message] of [
      [
        ['--durable-tiers', 'cloud'],
        /--durable-tiers must be local, replicated or local,replicated/,
      ],
      [['--durable-tiers', 'local,local'], /--durable-tiers must be/],
      [['--durable-lag', '1,2,3'], /--durable-lag must look like MS\[,JITTER\], got '1,2,3'/],
      [
        ['--other-writer', 'trades'],
        /--other-writer must look like TABLE:MS\[:STEPS\], got 'trades'/,
      ],
      [['--other-writer', 'trades:0'], /--other-writer MS must be an integer >= 1/],
      [['--at', 'frame=1:nope'], /--at 'frame=1:nope': unknown action 'nope'/],
      [['--script', join(dir, 'absent.txt')], /--script .*absent.txt cannot be read/],
      [['--demotion-grace', 'soon'], /--demotion-grace must be an integer >= 0, got 'soon'/],
    ] as const) {
      expect(() => serveOptions([...args])).toThrow(message);
    }
  });
});

describe('qwp serve scenarios, as a client sees them', () => {
  it('demote at frame N: the frames before are acknowledged, frame N gets no answer, then CLOSE 1000', async () => {
    const { r, url } = await serve(['--at', 'frame=3:demote']);
    const c = await client(url);
    for (let i = 0; i < 5; i++) c.send(frame('t', BigInt(i), BigInt(i)));
    expect(await c.closed()).toEqual({ code: 1000, reason: 'replica access is read-only' });
    // One cumulative OK per receive: the last one covers frame 2, none covers 3 or 4.
    expect(seen(c).at(-1)).toBe('ok 2 t=3');
    expect(c.responses.every((x) => x.kind === 'ok' && x.sequence <= 2n)).toBe(true);
    await expect(RawClient.open(url)).rejects.toThrow(/421 Misdirected Request/);
    expect(r.stdout()).toContain('script: frame=3:demote');
    expect(r.stdout()).toMatch(/conn 1: frame 3 refused by a demoted node, no answer/);
  });

  it('demote with durable ACKs: the close is held while uploads stall, PINGs answered', async () => {
    const { url } = await serve([
      '--durable-lag',
      '0',
      '--at',
      'frame=1:stall-uploads',
      '--at',
      'frame=2:demote',
      '--at',
      'frame=3:resume-uploads',
    ]);
    const c = await client(url, { 'X-QWP-Request-Durable-Ack': 'true' });
    await sendAcked(c, frame('t', 0n, 0n), 0);
    await sendAcked(c, frame('t', 1n, 1n), 1);
    c.send(frame('t', 2n, 2n));
    await c.barrier();
    expect(c.close).toBeNull();
    // Frame 3 lifts the stall: it is refused unanswered too, and finds the uploads done.
    c.send(frame('t', 3n, 3n));
    expect(await c.closed()).toEqual({ code: 1000, reason: 'replica access is read-only' });
    expect(seen(c)).toEqual([
      'ok 0 t=1',
      'durable-ack t=1',
      'ok 1 t=2',
      'durable-ack t=1',
      'durable-ack t=2',
    ]);
  });

  it('durable watermark lag, from a script file: it stalls, repeats, then jumps past the OKs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qwp-script-'));
    dirs.push(dir);
    const file = join(dir, 'lag.txt');
    writeFileSync(
      file,
      [
        '# uploads stall from frame 2; another writer commits twice at frame 3;',
        '# uploads resume at frame 4',
        'frame=2:stall-uploads',
        'frame=3:other-writer=t,2',
        'frame=4:resume-uploads',
      ].join('\n'),
    );
    const { r, url } = await serve(['--durable-lag', '0', '--script', file]);
    const c = await client(url, { 'X-QWP-Request-Durable-Ack': 'true' });
    for (let i = 0; i < 5; i++) await sendAcked(c, frame('t', BigInt(i), BigInt(i)), i);
    await c.barrier();
    expect(seen(c)).toEqual([
      'ok 0 t=1',
      'durable-ack t=1',
      'ok 1 t=2',
      'durable-ack t=2',
      // Stalled: the frontier stays at 2 (reported again: t had caught up), below the OK.
      'ok 2 t=3',
      'durable-ack t=2',
      // The other writer took seqTxns 4 and 5: this OK names 6.
      'ok 3 t=6',
      // Resumed: one durable ACK jumps over 3 to 7, the other writer's commits included.
      'ok 4 t=7',
      'durable-ack t=7',
    ]);
    expect(r.stdout()).toContain('script: frame=3:other-writer=t,2');
  });

  it('a read-only node: SECURITY_ERROR for the first data frame, silence after, PINGs answered', async () => {
    const { url } = await serve(['--read-only']);
    const c = await client(url);
    c.send(frame('t', 1n, 1n));
    c.send(frame('t', 2n, 2n));
    await c.until(() => c.responses.length > 0, 'the error');
    await c.barrier();
    expect(seen(c)).toEqual(['error 8 0 replica access is read-only']);
    expect(c.close).toBeNull();
  });

  it('read-only from frame N, and a timed step that fails is reported, the server goes on', async () => {
    const { r, url } = await serve([
      '--at',
      'frame=1:read-only',
      '--at',
      'after=1ms:other-writer=missing',
    ]);
    const c = await client(url);
    await sendAcked(c, frame('t', 1n, 1n), 0);
    c.send(frame('t', 2n, 2n));
    await c.until(() => c.responses.length > 1, 'the error');
    expect(seen(c)).toEqual(['ok 0 t=1', 'error 8 1 replica access is read-only']);
    expect(r.stdout()).toMatch(
      /script: after=1ms:other-writer=missing failed: advanceSeqTxn: table 'missing' does not exist/,
    );
  });

  it('restart and stop/start are scriptable too', async () => {
    const { r, url } = await serve(['--at', 'frame=1:restart=50']);
    const c = await client(url);
    await sendAcked(c, frame('t', 1n, 1n), 0);
    c.send(frame('t', 2n, 2n));
    // The restart cuts the connection without a CLOSE; the server listens again after 50 ms.
    expect(await c.closed()).toBeNull();
    expect(c.ended).toBe(true);
    const deadline = Date.now() + 3000;
    let d: RawClient | null = null;
    while (d === null && Date.now() < deadline) {
      d = await client(url).catch(() => null);
      if (d === null) await new Promise((res) => setTimeout(res, 20));
    }
    expect(d).not.toBeNull();
    expect(r.stdout()).toContain('restart: rows kept');
  });

  it('--no-auto-create, --max-tables and --max-uncommitted-rows bite as on QuestDB', async () => {
    const noCreate = await serve(['--no-auto-create']);
    const a = await client(noCreate.url);
    await sendAcked(a, frame('t', 0n, 0n), 0);
    expect(seen(a)).toEqual(['error 6 0 failed to create table update details for: t']);

    const capped = await serve(['--max-tables', '1']);
    const b = await client(capped.url);
    await sendAcked(b, frame('t', 0n, 0n), 0);
    await sendAcked(b, frame('u', 1n, 1n), 1);
    expect(seen(b)).toEqual(['ok 0 t=1', 'error 9 1 too many distinct tables, limit: 1']);

    expect(
      serveOptions(['--max-uncommitted-rows', '5', '--close-drain', '100']).options,
    ).toMatchObject({
      maxUncommittedRows: 5,
      closeDrainMs: 100,
    });
    expect(() => serveOptions(['--max-uncommitted-rows', '0'])).toThrow(
      /--max-uncommitted-rows must be an integer >= 1, got '0'/,
    );
    expect(() => serveOptions(['--max-tables', 'x'])).toThrow(/--max-tables must be an integer/);
  });
});
