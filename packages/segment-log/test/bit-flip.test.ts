import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  LONG,
  payloadFor,
  removeDir,
  rng,
  tempDir,
  testSeed,
  yieldToEventLoop,
} from './helpers.js';
import {
  inspectSegmentFile,
  inspectSymbolDict,
  MmapSegment,
  openSlot,
  PersistedSymbolDict,
  SegmentLogError,
  segmentFileName,
} from './internals.js';

/**
 * Random bit flips anywhere in a segment or dictionary file: opening never
 * crashes (only typed errors), never hands out a corrupt frame or entry
 * (what opens is always a prefix of what was written), and every detected
 * loss is reported (torn tail bytes, or a typed error for the header).
 */

const ITER = LONG ? 20_000 : 400;
const TIMEOUT = LONG ? 900_000 : 20_000;
const FRAMES = 12;
const SEG = 1024;
let dir: string;
let segImage: Uint8Array;
let frameEnds: number[];
let dictImage: Uint8Array;
let dictEntries: string[];

beforeAll(() => {
  dir = tempDir();
  const seg = MmapSegment.createInMemory(1000, SEG);
  frameEnds = [];
  for (let i = 0; i < FRAMES; i++) {
    seg.tryAppend(payloadFor(1000 + i, 8 + i * 5));
    frameEnds.push(seg.appendOffset);
  }
  segImage = seg.bytes.slice();
  const d = PersistedSymbolDict.openClean(dir);
  dictEntries = [];
  for (let c = 0; c < 6; c++) {
    const chunk = Array.from({ length: 1 + (c % 3) }, (_, k) => `sym-${c}-${k}-${'é'.repeat(c)}`);
    d.appendSymbols(chunk);
    dictEntries.push(...chunk);
  }
  d.close();
  dictImage = new Uint8Array(inspectSymbolDictImage());
});
afterAll(() => removeDir(dir));

function inspectSymbolDictImage(): Buffer {
  return readFileSync(join(dir, '.symbol-dict'));
}

/** Flips 1 to 3 random bits; `first` is the lowest byte touched, `firstBody` the lowest at or after 24. */
function flip(
  image: Uint8Array,
  rand: () => number,
): { out: Uint8Array; first: number; firstBody: number } {
  const out = image.slice();
  const n = 1 + Math.floor(rand() * 3);
  let first = out.length;
  let firstBody = out.length;
  for (let i = 0; i < n; i++) {
    const byte = Math.floor(rand() * out.length);
    out[byte] = out[byte]! ^ (1 << Math.floor(rand() * 8));
    first = Math.min(first, byte);
    if (byte >= 24) firstBody = Math.min(firstBody, byte);
  }
  // Two flips of the same bit cancel out: measure what actually differs.
  first = out.findIndex((b, i) => b !== image[i]);
  if (first < 0) first = out.length;
  firstBody = out.findIndex((b, i) => i >= 24 && b !== image[i]);
  if (firstBody < 0) firstBody = out.length;
  return { out, first, firstBody };
}

describe('bit flips', () => {
  test(
    `segment: ${ITER} seeded flips`,
    async () => {
      const rand = rng(testSeed(0xb17f11b));
      const slotDir = join(dir, 'slot');
      const path = join(slotDir, segmentFileName(1000));
      let typed = 0;
      let cut = 0;
      for (let it = 0; it < ITER; it++) {
        if (it % 256 === 255) await yieldToEventLoop();
        const { out, first, firstBody } = flip(segImage, rand);
        mkdirSync(slotDir, { recursive: true });
        writeFileSync(path, out);
        let scan: ReturnType<typeof inspectSegmentFile>;
        try {
          scan = inspectSegmentFile(path);
        } catch (err) {
          expect(err).toBeInstanceOf(SegmentLogError);
          expect(first).toBeLessThan(24); // only the header can make it unreadable
          typed++;
          continue;
        }
        // Frames kept are exactly the frames whose bytes lie before the first flip.
        expect(scan.frameCount).toBe(frameEnds.filter((end) => end <= firstBody).length);
        if (scan.frameCount < FRAMES || firstBody < out.length) {
          expect(scan.tornTailBytes).toBeGreaterThan(0); // loss or junk is reported
          cut++;
        }
        // Through a slot: either a typed error (e.g. a baseSeq flip breaks the name) or the prefix.
        try {
          const slot = openSlot({
            sfDir: dir,
            senderId: 'slot',
            segmentSize: SEG,
            autoService: false,
          });
          try {
            const r = slot.ring.reader(1000);
            let k = 0;
            while (r.next()) {
              const want = payloadFor(1000 + k, 8 + k * 5);
              expect(Buffer.from(r.payload()).equals(Buffer.from(want))).toBe(true);
              k++;
            }
            expect(k).toBe(scan.frameCount);
          } finally {
            slot.close();
          }
        } catch (err) {
          expect(err).toBeInstanceOf(SegmentLogError);
          expect(first).toBeLessThan(24);
        }
        removeDir(slotDir);
      }
      expect(typed).toBeGreaterThan(0);
      expect(cut).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  test(
    `dictionary: ${ITER} seeded flips`,
    async () => {
      const rand = rng(testSeed(0xd1c7) + 1);
      const path = join(dir, 'flipped.symbol-dict');
      let typed = 0;
      for (let it = 0; it < ITER; it++) {
        if (it % 256 === 255) await yieldToEventLoop();
        const { out } = flip(dictImage, rand);
        writeFileSync(path, out);
        let scan: ReturnType<typeof inspectSymbolDict>;
        try {
          scan = inspectSymbolDict(path);
        } catch (err) {
          expect(err).toBeInstanceOf(SegmentLogError);
          typed++;
          continue;
        }
        expect(dictEntries.slice(0, scan.entries.length)).toEqual(scan.entries);
        if (scan.entries.length < dictEntries.length) expect(scan.tornTailBytes).toBeGreaterThan(0);
        expect(scan.validLength + scan.tornTailBytes).toBe(out.length);
      }
      expect(typed).toBeGreaterThan(0);
    },
    TIMEOUT,
  );
});
