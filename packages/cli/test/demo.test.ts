import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

async function runDemo(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += d;
  });
  stderr.on('data', (d) => {
    err += d;
  });
  const code = await main(['demo', ...args], { stdin: new PassThrough(), stdout, stderr });
  return { code, out, err };
}

describe('qwp demo', () => {
  it('restarts the server, kills the producer once, and loses no row', async () => {
    const { code, out } = await runDemo(['--rows', '150000']);
    expect(out).toMatch(/>> restarting the server/);
    expect(out).toMatch(/>> SIGKILL of the producer/);
    expect(out).toMatch(/>> new producer on the same slot/);
    expect(out).toMatch(/rows sent\s+150,000/);
    expect(out).toMatch(/rows committed\s+150,000 \(DEDUP view\)/);
    expect(out).toMatch(/rows lost\s+0\n/);
    expect(out).toMatch(/rows corrupted\s+0\n/);
    expect(out).toMatch(/server restarts 1, producer kills 1/);
    expect(code).toBe(0);
  }, 60_000);

  it('refuses a bad --rows and prints help', async () => {
    const bad = await runDemo(['--rows', '5']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--rows must be an integer/);
    const help = await runDemo(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/usage: qwp demo/);
  });
});
