import { Status } from '@qwp/qwp-wire/codec';
import { describe, expect, it } from 'vitest';
import { ackCoverage, rawRequest, upgradeHeaders } from './helpers/client.js';
import { simpleRows } from './helpers/frames.js';
import { serverPerTest } from './helpers/server-per-test.js';

const { start, open } = serverPerTest();

// The "Bad input" list, end to end: each one answered as QuestDB
// answers it, logged, and a connection that stays open through all of them
// keeps being served.

const row = (i: number) => simpleRows('t', [{ v: BigInt(i), ts: BigInt(i) }]);

function patched(frame: Buffer, at: number, value: number): Buffer {
  const out = Buffer.from(frame);
  out[at] = value;
  return out;
}

describe('bad input', () => {
  it('answers each bad frame with PARSE_ERROR naming the fault, logs it, and serves the other connection on', async () => {
    const lines: string[] = [];
    const s = await start({ log: (l) => lines.push(l) });
    const good = await open(s);
    const cases: [string, Buffer, RegExp][] = [
      ['garbage bytes', Buffer.from('definitely not a QWP frame'), /magic/i],
      ['a truncated frame', row(0).subarray(0, 20), /payload|length|bytes/i],
      ['a wrong magic', patched(row(0), 0, 0x58), /magic/i],
      ['a wrong version', patched(row(0), 4, 2), /version/i],
    ];
    let seq = 0;
    for (const [name, frame, reason] of cases) {
      const bad = await open(s);
      bad.send(frame);
      const [r] = await bad.waitFor(1);
      expect(r, name).toMatchObject({ kind: 'error', status: Status.PARSE_ERROR, sequence: 0n });
      const message = r?.kind === 'error' ? r.message : '';
      expect(message, name).toMatch(reason);
      expect(
        lines.some((l) => l.includes('frame 0 rejected with PARSE_ERROR') && l.endsWith(message)),
        `${name}: log has the rejection`,
      ).toBe(true);
      good.send(row(seq));
      expect(ackCoverage(await good.waitForAck(seq)).highest, name).toBe(BigInt(seq));
      seq++;
    }
    expect(s.stats().errors).toEqual({ PARSE_ERROR: cases.length });
    expect(s.rows('t')).toHaveLength(cases.length);
  });

  it('closes a text frame with 1003 and a reason, logs it, and serves the other connection on', async () => {
    const lines: string[] = [];
    const s = await start({ log: (l) => lines.push(l) });
    const good = await open(s);
    const bad = await open(s);
    bad.send('{"not":"binary"}');
    expect(await bad.closed()).toEqual({
      code: 1003,
      reason: 'text frames are not supported, QWP requires binary frames',
    });
    expect(lines).toContainEqual(
      expect.stringMatching(/^conn 2: text message of 16 bytes, closing 1003$/),
    );
    good.send(row(0));
    expect((await good.waitFor(1))[0]).toMatchObject({ kind: 'ok', sequence: 0n });
  });

  it('answers an upgrade without the WebSocket headers with 400 and the reason, and logs it', async () => {
    const lines: string[] = [];
    const s = await start({ log: (l) => lines.push(l) });
    const good = await open(s);
    const plain = await rawRequest(s.port, '/write/v4', {});
    expect(plain).toMatchObject({ status: 400, body: 'Missing Upgrade header' });
    const noKey: Record<string, string> = { ...upgradeHeaders() };
    delete noKey['Sec-WebSocket-Key'];
    const keyless = await rawRequest(s.port, '/write/v4', noKey);
    expect(keyless).toMatchObject({ status: 400, body: 'Missing Sec-WebSocket-Key header' });
    expect(lines).toContainEqual(
      expect.stringMatching(/^http GET \/write\/v4 answered 400 Missing Upgrade header$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^upgrade GET \/write\/v4 from \S+ refused: 400 Missing Sec-WebSocket-Key header$/,
      ),
    );
    good.send(row(0));
    expect((await good.waitFor(1))[0]).toMatchObject({ kind: 'ok', sequence: 0n });
  });
});
