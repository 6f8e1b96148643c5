/**
 * Each recovery step on its own (openSlot runs them in order; see
 * src/recovery/open-slot.ts): lock, scan, plan the chain under the manifest,
 * seed the ACK, find and cut the aborted tail, and the drained-close clean-up.
 * The dictionary step has its own file (dictionary-step.test.ts).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultFiles } from '@qwp/files-native';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { removeDir, segmentsOnDisk, tempDir, thrown } from './helpers.js';
import {
  cleanupDrainedSlot,
  cutAbortedTail,
  type FramePredicate,
  FsnGapError,
  findAbortedTail,
  type ManifestState,
  MmapSegment,
  planChain,
  RecoveryError,
  readManifest,
  type ScannedSegment,
  SfManifest,
  SlotLockedError,
  type SlotScan,
  scanSlot,
  seedAck,
  segmentFileName,
  takeSlotLocks,
} from './internals.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => removeDir(dir));

/** A scanned segment as planChain sees it. */
function seg(
  name: string,
  baseSeq: number,
  frames: number,
  more: Partial<ScannedSegment> = {},
): ScannedSegment {
  return {
    name,
    path: `/slot/${name}`,
    generation: 0,
    manifestRequired: true,
    baseSeq,
    createdMicros: 0,
    flags: 1,
    frameCount: frames,
    appendOffset: 24,
    payloadBytes: 0,
    tornTailBytes: 0,
    fileSize: 256,
    emptyFrameIndex: -1,
    ...more,
  };
}

function scanOf(segments: ScannedSegment[], corrupt: SlotScan['corrupt'] = []): SlotScan {
  return { dir: '/slot', names: [], segments, corrupt, unreadable: [], nextGeneration: 9 };
}

const manifest = (headBase: number, activeBase: number): ManifestState => ({
  kind: 'valid',
  path: '/slot/sf-manifest.bin',
  bounds: { generation: 1, headBase, activeBase },
});
const none: ManifestState = { kind: 'absent', path: '/slot/sf-manifest.bin' };

describe('step: lock', () => {
  test('takes the logical lock, then the slot lock; a held logical lock refuses the open first', () => {
    const locks = takeSlotLocks(dir, 's', join(dir, 's'), defaultFiles);
    expect(locks.logical.path).toBe(join(dir, '.slot-locks', 's.lock'));
    expect(locks.slot.path).toBe(join(dir, 's', '.lock'));
    locks.slot.close();
    const err = thrown(() => takeSlotLocks(dir, 's', join(dir, 's'), defaultFiles));
    expect(err).toBeInstanceOf(SlotLockedError);
    expect((err as Error).message).toContain('.slot-locks');
    locks.logical.close();
    const again = takeSlotLocks(dir, 's', join(dir, 's'), defaultFiles);
    again.slot.close();
    again.logical.close();
  });
});

describe('step: scan', () => {
  test('reads every *.sfa by header, sets aside bad headers, and finds the next generation', () => {
    const a = MmapSegment.create(join(dir, segmentFileName(4)), 10, 256, { flags: 1 });
    a.tryAppend(new Uint8Array(3).fill(1));
    a.close();
    MmapSegment.create(join(dir, 'sf-initial.sfa'), 5, 256).close();
    writeFileSync(join(dir, 'junk.sfa'), 'not a segment, not at all, no');
    writeFileSync(join(dir, `${segmentFileName(7)}.corrupt`), '');
    writeFileSync(join(dir, 'notes'), '');
    const scan = scanSlot(dir, defaultFiles);
    expect(
      scan.segments.map((s) => [s.name, s.baseSeq, s.frameCount, s.manifestRequired, s.generation]),
    ).toEqual([
      ['sf-initial.sfa', 5, 0, false, -1],
      [segmentFileName(4), 10, 1, true, 4],
    ]);
    expect(scan.corrupt.map((c) => c.name)).toEqual(['junk.sfa']);
    expect(scan.nextGeneration).toBe(8); // past the quarantined generation 7 too
  });

  test('an unknown format version stops the scan (never dropped); an empty frame too', () => {
    const p = join(dir, segmentFileName(0));
    MmapSegment.create(p, 0, 256).close();
    const bytes = new Uint8Array(readFileSync(p));
    bytes[4] = 2;
    writeFileSync(p, bytes);
    expect(() => scanSlot(dir, defaultFiles)).toThrow(/unsupported format version 2/);
    expect(scanSlot(dir, defaultFiles, { tolerant: true }).unreadable.map((u) => u.name)).toEqual([
      segmentFileName(0),
    ]);
  });
});

describe('step: plan the chain under the manifest', () => {
  test('a manifested chain: stale below the head removed, the active found, spares removed', () => {
    const stale = seg('a', 0, 5);
    const head = seg('b', 5, 5);
    const active = seg('c', 10, 2);
    const spare = seg('d', 12, 0);
    const plan = planChain(scanOf([stale, head, active, spare]), manifest(5, 10));
    expect(plan).toMatchObject({ kind: 'chain', legacy: false, manifest: 'keep' });
    expect(plan.chain).toEqual([head, active]);
    expect(plan.remove).toEqual([stale, spare]);
  });

  test('an empty active segment after a committed rotation continues the chain', () => {
    const head = seg('a', 0, 3);
    const active = seg('b', 3, 0);
    expect(planChain(scanOf([head, active]), manifest(0, 3)).chain).toEqual([head, active]);
    expect(() => planChain(scanOf([head, seg('b', 4, 0)]), manifest(0, 4))).toThrow(
      /does not continue/,
    );
  });

  test('the reference refusals: across the head, beyond the active, missing head, missing active, gap', () => {
    expect(() => planChain(scanOf([seg('a', 0, 5), seg('b', 5, 1)]), manifest(3, 5))).toThrow(
      /across the manifest's head at 3/,
    );
    expect(() => planChain(scanOf([seg('a', 0, 5), seg('b', 5, 1)]), manifest(0, 0))).toThrow(
      /beyond the manifest's active segment/,
    );
    expect(() => planChain(scanOf([seg('b', 5, 1)]), manifest(0, 5))).toThrow(
      /head segment \(FSN 0\)/,
    );
    expect(() => planChain(scanOf([seg('a', 0, 5)]), manifest(0, 5))).toThrow(
      /active segment \(FSN 5\)/,
    );
    expect(() => planChain(scanOf([seg('a', 0, 4), seg('b', 5, 1)]), manifest(0, 5))).toThrow(
      FsnGapError,
    );
    const err = thrown(() => planChain(scanOf([seg('a', 0, 4)]), none));
    expect(err).toBeInstanceOf(RecoveryError);
    expect((err as Error).message).toMatch(/requires sf-manifest.bin/);
  });

  test('a legacy slot: the contiguous data is the chain and a manifest is to be created; bad headers quarantined', () => {
    const legacy = (s: ScannedSegment) => ({ ...s, manifestRequired: false, flags: 0 });
    const a = legacy(seg('a', 0, 3));
    const b = legacy(seg('b', 3, 2));
    const empty = legacy(seg('c', 0, 0));
    const torn = legacy(seg('d', 0, 0, { tornTailBytes: 9 }));
    const bad = { name: 'e', path: '/slot/e', error: new Error('bad magic') as never };
    const plan = planChain(scanOf([a, b, empty, torn], [bad]), none);
    expect(plan).toMatchObject({ kind: 'chain', legacy: true, manifest: 'create' });
    expect(plan.chain).toEqual([a, b]);
    expect(plan.remove).toEqual([empty]);
    expect(plan.quarantine).toEqual([torn, bad]);
    const initial = legacy(seg('sf-initial.sfa', 7, 0));
    expect(planChain(scanOf([legacy(seg('x', 7, 0)), initial]), none).chain).toEqual([initial]);
  });

  test('fresh: nothing survives, or a collapsed manifest after a drained close crashed part-way', () => {
    expect(planChain(scanOf([]), none)).toMatchObject({ kind: 'fresh', manifest: 'none' });
    expect(planChain(scanOf([]), manifest(4, 4))).toMatchObject({
      kind: 'fresh',
      manifest: 'remove',
    });
    expect(planChain(scanOf([seg('a', 0, 3)]), manifest(4, 4))).toMatchObject({
      kind: 'fresh',
      manifest: 'remove',
    });
    expect(() => planChain(scanOf([]), manifest(0, 4))).toThrow(/no segment file exists/);
  });
});

describe('step: seed the ACK', () => {
  test('max(lowestBase - 1, watermark); a watermark at or past the next FSN is repaired', () => {
    expect(seedAck(undefined, 10, 20)).toEqual({ ackedFsn: 9, repair: false });
    expect(seedAck(-1, 10, 20)).toEqual({ ackedFsn: 9, repair: false });
    expect(seedAck(14, 10, 20)).toEqual({ ackedFsn: 14, repair: false });
    expect(seedAck(19, 10, 20)).toEqual({ ackedFsn: 19, repair: false });
    expect(seedAck(20, 10, 20)).toEqual({ ackedFsn: 9, repair: true });
    expect(seedAck(3, 10, 20)).toEqual({ ackedFsn: 9, repair: false });
  });
});

describe('step: the aborted tail', () => {
  const deferred: FramePredicate = (bytes, offset) => bytes[offset] === 0xdd;
  const frame = (d: boolean) => new Uint8Array(20).fill(d ? 0xdd : 0x11);

  let generation = 0;
  function chain(groups: boolean[][]): MmapSegment[] {
    let base = 0;
    return groups.map((g) => {
      const s = MmapSegment.create(join(dir, segmentFileName(generation++)), base, 256, {
        flags: 1,
      });
      for (const d of g) s.tryAppend(frame(d));
      base += g.length;
      return s;
    });
  }

  test('found newest segment first; none when the log ends with a commit or holds nothing', () => {
    const segs = chain([[false, true], [true, true], [true]]);
    expect(findAbortedTail(segs, deferred)).toEqual({ boundaryFsn: 0, fromFsn: 1, toFsn: 4 });
    const committed = chain([[true, false]]);
    expect(findAbortedTail(committed, deferred)).toBeNull();
    expect(findAbortedTail([], deferred)).toBeNull();
    for (const s of [...segs, ...committed]) s.close();
  });

  test('cut newest segment first, rewinding the manifest; the chain stays valid at every step', () => {
    const segs = chain([[false, true], [true, true], [true]]);
    const m = SfManifest.create(dir, 0, 4);
    const emptied = cutAbortedTail(segs, 1, m);
    expect(emptied).toEqual([segs[2], segs[1]]);
    expect(segs.map((s) => s.frameCount)).toEqual([1, 0, 0]);
    expect(readManifest(dir)).toMatchObject({ bounds: { headBase: 0, activeBase: 0 } });
    expect(segmentsOnDisk(dir).map((s) => s.frames)).toEqual([1, 0, 0]); // durable: on disk already
    m.close();
    for (const s of segs) s.close();
  });
});

describe('step: the drained-close clean-up', () => {
  test('collapses the manifest, unlinks every *.sfa (sf-initial first), then the side files; keeps the lock files', () => {
    for (const n of [
      'sf-initial.sfa',
      segmentFileName(3),
      segmentFileName(1),
      '.lock',
      '.lock.pid',
      '.ack-watermark',
      '.symbol-dict',
      'other',
    ]) {
      writeFileSync(join(dir, n), '');
    }
    const m = SfManifest.create(dir, 2, 9);
    cleanupDrainedSlot(dir, m, defaultFiles);
    expect(m.headBase).toBe(9);
    m.close();
    expect(readdirSync(dir).sort()).toEqual(['.lock', '.lock.pid', 'other']);
  });
});
