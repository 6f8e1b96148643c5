import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { serveOptions } from '../src/commands/serve.js';
import { main } from '../src/index.js';
import { frame, type Running, runServe, upgradeRequest } from './serve-helpers.js';

const running: Running[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const r of running.splice(0)) {
    r.stop();
    await r.exit;
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A minimal WebSocket client over a raw socket (the cli package has no ws
 * dependency): upgrades, sends masked binary frames, and reads the server's
 * answers until they cover every frame sent or the peer closed. OKs are
 * cumulative (one covers every sequence up to its own), so it resolves with
 * the number of frames covered: the highest answered sequence + 1. Rejects
 * with the status line when the upgrade is refused.
 */
function sendAndWait(
  url: string,
  frames: Buffer[],
  headers: Record<string, string> = {},
): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(target.port), target.hostname);
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let got = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`only ${got}/${frames.length} frames answered`));
    }, 3000);
    const finish = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(got);
    };
    sock.on('connect', () => sock.write(upgradeRequest(target, headers)));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = buf.subarray(0, buf.indexOf('\r\n')).toString();
        if (!status.includes(' 101 ')) {
          clearTimeout(timer);
          sock.destroy();
          reject(new Error(status));
          return;
        }
        upgraded = true;
        buf = buf.subarray(end + 4);
        for (const f of frames) {
          const mask = Buffer.from([1, 2, 3, 4]);
          const head =
            f.length < 126
              ? Buffer.from([0x82, 0x80 | f.length])
              : Buffer.from([0x82, 0x80 | 126, f.length >> 8, f.length & 0xff]);
          const body = Buffer.from(f.map((b, i) => b ^ mask[i % 4]!));
          sock.write(Buffer.concat([head, mask, body]));
        }
      }
      // Server frames are unmasked and small here: 2-byte header, 7-bit length.
      while (buf.length >= 2 && buf.length >= 2 + (buf[1]! & 0x7f)) {
        const opcode = buf[0]! & 0x0f;
        const payload = buf.subarray(2, 2 + (buf[1]! & 0x7f));
        buf = buf.subarray(2 + (buf[1]! & 0x7f));
        if (opcode === 0x08) return finish();
        // OK and error frames: status byte, then the int64 sequence they answer.
        if (payload.length >= 9 && payload[0] !== 0x02) {
          got = Math.max(got, Number(payload.readBigInt64LE(1)) + 1);
        }
        if (got === frames.length) return finish();
      }
    });
    sock.on('close', finish);
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** The status line and headers the server answers a plain QWP upgrade with (bounded). */
function upgradeResponse(url: string): Promise<string> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(target.port), target.hostname);
    let head = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no upgrade response, got: ${head}`));
    }, 3000);
    sock.on('connect', () => sock.write(upgradeRequest(target)));
    sock.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      sock.destroy();
      resolve(head.slice(0, end));
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe('qwp serve', () => {
  it('serves on loopback, prints connections and row counts, dumps rows, stops on abort', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qwp-serve-'));
    dirs.push(dir);
    const dump = join(dir, 'rows.jsonl');
    const r = runServe([
      '--port',
      '0',
      '--dump',
      dump,
      '--report-interval',
      '20',
      '--dedup',
      'trades:v',
    ]);
    running.push(r);
    const url = await r.url;
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/write\/v4$/);
    await sendAndWait(url, [
      frame('trades', 1n, 10n),
      frame('trades', 2n, 11n),
      frame('quotes', 3n, 12n),
    ]);
    const deadline = Date.now() + 3000;
    while (!/rows: trades=2 quotes=1/.test(r.stdout()) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 10));
    }
    running.pop();
    r.stop();
    expect(await r.exit).toBe(0);
    const out = r.stdout();
    expect(out).toMatch(/conn 1: open from 127\.0\.0\.1:\d+/);
    expect(out).toMatch(/conn 1: closed code=/);
    expect(out).toContain('rows: trades=2 quotes=1');
    expect(out).toContain('stopping (abort)');
    const lines = readFileSync(dump, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { table: 'trades', seqTxn: '1', row: { v: '1', timestamp: '10' } },
      { table: 'trades', seqTxn: '2', row: { v: '2', timestamp: '11' } },
      { table: 'quotes', seqTxn: '1', row: { v: '3', timestamp: '12' } },
    ]);
  });

  it('applies --auth, --drop-every and --max-batch-size', async () => {
    const r = runServe([
      '--port',
      '0',
      '--auth',
      'u:p',
      '--drop-every',
      '2',
      '--max-batch-size',
      '4096',
    ]);
    running.push(r);
    const url = await r.url;
    await expect(sendAndWait(url, [frame('t', 1n, 1n)])).rejects.toThrow(/401/);
    const auth = { Authorization: `Basic ${Buffer.from('u:p').toString('base64')}` };
    // The second frame drops the connection before its ACK: only the first is answered.
    await expect(sendAndWait(url, [frame('t', 1n, 1n), frame('t', 2n, 2n)], auth)).resolves.toBe(1);
    expect(r.stdout()).toMatch(/dropped by fault at frame 1/);
    const noAuth = runServe(['--port', '0', '--max-batch-size', '4096']);
    running.push(noAuth);
    expect(await upgradeResponse(await noAuth.url)).toMatch(
      /^HTTP\/1\.1 101 [\s\S]*\r\nX-QWP-Max-Batch-Size: 4096(\r\n|$)/,
    );
  });

  it('applies --token and --ack-delay, and --role REPLICA refuses ingest with 421', async () => {
    const r = runServe(['--port', '0', '--token', 's3cret', '--ack-delay', '150']);
    running.push(r);
    const url = await r.url;
    await expect(sendAndWait(url, [frame('t', 1n, 1n)])).rejects.toThrow(/401/);
    await expect(
      sendAndWait(url, [frame('t', 1n, 1n)], { Authorization: 'Bearer wrong' }),
    ).rejects.toThrow(/401/);
    const t0 = Date.now();
    await expect(
      sendAndWait(url, [frame('t', 1n, 1n)], { Authorization: 'Bearer s3cret' }),
    ).resolves.toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    const replica = runServe(['--port', '0', '--role', 'REPLICA']);
    running.push(replica);
    await expect(sendAndWait(await replica.url, [frame('t', 1n, 1n)])).rejects.toThrow(
      /421 Misdirected Request/,
    );
    expect(replica.stdout()).toMatch(/refused: 421 ingest refused by role REPLICA/);
  });

  it('maps flags to server options and refuses bad ones', () => {
    const { options, dump } = serveOptions([
      '--host',
      '::1',
      '--max-batch-size',
      '1000',
      '--drop-every',
      '3',
      '--dump',
      'rows.jsonl',
      '--role',
      'REPLICA',
      '--zone',
      'z1',
      '--token',
      'T',
      '--ack-delay',
      '5',
      '--mode',
      'throughput',
      '--sample-rate',
      '0.5',
      '--durable-ack',
      '--ack-mode',
      'per-frame',
      '--long-arrays',
      'accept',
    ]);
    expect(options).toMatchObject({
      port: 9000,
      host: '::1',
      maxBatchSize: 1000,
      role: 'REPLICA',
      zone: 'z1',
      auth: { token: 'T' },
      faults: { ackDelayMs: 5, dropAfterFrames: 3 },
      mode: 'throughput',
      sampleRate: 0.5,
      durableAck: true,
      ackMode: 'per-frame',
      longArrays: 'accept',
    });
    expect(dump).toBe('rows.jsonl');
    // Loopback unless told otherwise.
    expect(serveOptions([]).options).toMatchObject({ port: 9000, host: '127.0.0.1' });
    expect(serveOptions([]).options).not.toHaveProperty('ackMode');
    expect(() => serveOptions(['--ack-mode', 'sometimes'])).toThrow(
      /--ack-mode must be cumulative or per-frame/,
    );
    expect(() => serveOptions(['--long-arrays', 'yes'])).toThrow(
      /--long-arrays must be reject or accept/,
    );
    expect(() => serveOptions(['--mode', 'fast'])).toThrow(
      /--mode must be strict or throughput, got 'fast'/,
    );
    expect(() => serveOptions(['--port', 'x'])).toThrow(/--port must be an integer/);
    expect(() => serveOptions(['--port', '70000'])).toThrow(
      /--port must be at most 65535, got 70000/,
    );
    expect(() => serveOptions(['--sample-rate', '2'])).toThrow(/--sample-rate must be in \[0, 1\]/);
    expect(() => serveOptions(['--max-batch-size', '16777217'])).toThrow(
      /--max-batch-size must be at most 16777216, got 16777217/,
    );
    let usage: unknown;
    try {
      serveOptions(['--report-interval', '1']);
    } catch (err) {
      usage = err;
    }
    expect(usage).toMatchObject({ name: 'UsageError', code: 'ERR_QWP_CLI_USAGE' });
    expect(() => serveOptions(['--auth', 'nocolon'])).toThrow(/--auth must look like A:B/);
    expect(() => serveOptions(['--bogus'])).toThrow(/bogus/);
  });

  it('exits 2 with the reason on a bad flag, 1 when the dump file cannot be opened', async () => {
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (d) => {
      err += d;
    });
    const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr };
    expect(await main(['serve', '--drop-every', '0'], io)).toBe(2);
    expect(err).toContain('--drop-every must be an integer >= 1');
    expect(await main(['serve', '--port', '0', '--dump', '/nonexistent-dir/x.jsonl'], io)).toBe(1);
    expect(err).toContain('cannot open --dump file /nonexistent-dir/x.jsonl');
  });
});
