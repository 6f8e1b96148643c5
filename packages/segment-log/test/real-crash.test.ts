import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { childScript, LONG, payloadFor, removeDir, rng, tempDir, testSeed } from './helpers.js';
import { inspectSegmentFile, openSlot } from './internals.js';

let sfDir: string;
beforeEach(() => {
  sfDir = tempDir();
});
afterEach(() => removeDir(sfDir));

const SEG = 64 * 1024;

/** Spawns the appender, resolves once it has started appending; tracks the last FSN and ACK it printed. */
async function startChild(): Promise<{
  child: ChildProcess;
  printed: () => number;
  printedAck: () => number;
}> {
  const child = spawn(
    process.execPath,
    [childScript('append-child.mjs'), sfDir, 'crash', `${SEG}`],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let printed = -1;
  let printedAck = -1;
  let tail = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const lines = (tail + d.toString()).split('\n');
      tail = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('ready')) resolve();
        else if (line.startsWith('p ')) {
          const [, fsn, ack] = line.split(' ');
          printed = Math.max(printed, Number(fsn));
          printedAck = Math.max(printedAck, Number(ack));
        }
      }
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`appender exited early (${code ?? signal}): ${stderr}`)),
    );
  });
  return { child, printed: () => printed, printedAck: () => printedAck };
}

test(
  `SIGKILL at random moments ${LONG ? 100 : 20} times: the log holds a valid prefix`,
  async () => {
    const rand = rng(testSeed(0xc0ffee));
    const runs = LONG ? 100 : 20;
    let lastSeen = -1;
    let maxTorn = 0;
    let symbolChecks = 0;
    let ackChecks = 0;
    for (let run = 0; run < runs; run++) {
      const { child, printed, printedAck } = await startChild();
      await new Promise((r) => setTimeout(r, 5 + Math.floor(rand() * 120)));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      const acked = printed();
      const t0 = performance.now();

      const slot = openSlot({ sfDir, senderId: 'crash', segmentSize: SEG, autoService: false });
      try {
        const ring = slot.ring;
        // Everything the child reported as published survived; nothing was invented.
        expect(ring.nextFsn - 1).toBeGreaterThanOrEqual(acked);
        expect(ring.nextFsn - 1).toBeGreaterThanOrEqual(lastSeen);
        // Its ACKs survived too: a restart resumes above the last one it recorded.
        expect(ring.ackedFsn).toBeGreaterThanOrEqual(printedAck());
        if (ring.ackedFsn >= 0) ackChecks++;
        const r = ring.reader(ring.firstFsn);
        let expected = ring.firstFsn;
        const bad: number[] = [];
        // A frame's symbol reached the dictionary before the frame was published.
        const symbols = new Set(slot.dict.loadedSymbols);
        const missingSymbols: number[] = [];
        while (r.next()) {
          if (r.fsn % 64 === 0) {
            if (symbols.has(`s${r.fsn}`)) symbolChecks++;
            else missingSymbols.push(r.fsn);
          }
          const want = payloadFor(r.fsn, 8 + (r.fsn % 997));
          const got = new Uint8Array(r.buffer, r.offset, r.length);
          let same = r.fsn === expected && got.length === want.length;
          for (let i = 0; same && i < want.length; i++) same = got[i] === want[i];
          if (!same) bad.push(r.fsn);
          expected++;
        }
        expect(bad).toEqual([]);
        expect(missingSymbols).toEqual([]);
        expect(expected).toBe(ring.nextFsn);
        lastSeen = ring.nextFsn - 1;
        if (process.env.QWP_CRASH_TRACE)
          console.log(run, acked, lastSeen, ring.firstFsn, (performance.now() - t0).toFixed(0));
        maxTorn = Math.max(maxTorn, slot.report.tornTailBytes);
        // Only the newest segment can have been cut mid-frame.
        const segs = slot.report.segments;
        for (const s of segs.slice(0, -1)) expect(s.tornTailBytes).toBe(0);
      } finally {
        slot.close();
      }
    }
    expect(lastSeen).toBeGreaterThan(1000);
    expect(symbolChecks).toBeGreaterThan(20);
    expect(ackChecks).toBeGreaterThan(5);
    // Every file left is a valid segment: a read-only scan of each finds a clean prefix.
    for (const name of readdirSync(join(sfDir, 'crash')).filter((n) => n.endsWith('.sfa'))) {
      const scan = inspectSegmentFile(join(sfDir, 'crash', name));
      expect(scan.frameCount).toBeGreaterThanOrEqual(0);
    }
  },
  LONG ? 900_000 : 120_000,
);
