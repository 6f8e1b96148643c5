import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultFiles } from '@qwp/files-native';
import { FaultInjectingFiles } from '@qwp/files-native/testing';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { payloadFor, removeDir, tempDir } from './helpers.js';
import {
  BadDirectoryError,
  FAILED_FILE_NAME,
  findOrphanSlots,
  inspectSlot,
  markSlotFailed,
  openSlot,
  quarantineSlot,
  readSlotFailure,
  SegmentIoError,
} from './internals.js';

let sfDir: string;
beforeEach(() => {
  sfDir = tempDir();
});
afterEach(() => removeDir(sfDir));

const SEG = 256;

/** A closed slot holding `frames` frames (0 = an empty slot with just its first segment). */
function slotWith(senderId: string, frames: number): string {
  const slot = openSlot({ sfDir, senderId, segmentSize: SEG, autoService: false });
  for (let i = 0; i < frames; i++) slot.ring.tryAppend(payloadFor(i, 16));
  slot.close();
  return slot.dir;
}

describe('.failed sentinel', () => {
  test('markSlotFailed writes the reason; readSlotFailure reads it back; recovery and inspect report it', () => {
    const dir = slotWith('a', 2);
    expect(readSlotFailure(dir)).toBeNull();
    const files = new FaultInjectingFiles(defaultFiles);
    markSlotFailed(dir, 'drainer gave up:\nserver rejected FSN 1', files);
    expect(files.calls.fsync).toBe(1);
    expect(files.calls.fsyncDir).toBe(1);
    expect(readFileSync(join(dir, FAILED_FILE_NAME), 'utf8')).toBe(
      'drainer gave up: server rejected FSN 1\n',
    );
    expect(readSlotFailure(dir)).toBe('drainer gave up: server rejected FSN 1');
    markSlotFailed(dir, 'second reason');
    expect(readSlotFailure(dir)).toBe('second reason');
    expect(inspectSlot(dir).failed).toBe('second reason');
    const slot = openSlot({ sfDir, senderId: 'a', segmentSize: SEG, autoService: false });
    expect(slot.report.failed).toBe('second reason');
    expect(slot.report.frames).toBe(2); // the owner still opens its slot
    slot.close();
  });

  test('an unreadable sentinel is reported, not fatal to the owner', () => {
    const dir = slotWith('a', 1);
    markSlotFailed(dir, 'x');
    const files = new FaultInjectingFiles(defaultFiles);
    files.inject('open', { path: (p) => p.endsWith(FAILED_FILE_NAME), code: 'EACCES' });
    const errors: Error[] = [];
    const slot = openSlot({
      sfDir,
      senderId: 'a',
      segmentSize: SEG,
      autoService: false,
      files,
      onError: (e) => errors.push(e),
    });
    expect(slot.report.failed).toMatch(/^\(unreadable \.failed: .*EACCES/);
    expect(errors[0]).toBeInstanceOf(SegmentIoError);
    expect(inspectSlot(dir, files).failed).toMatch(/unreadable/);
    slot.close();
  });

  test('an fsync failure while marking is a typed error naming the sentinel', () => {
    const dir = slotWith('a', 1);
    const files = new FaultInjectingFiles(defaultFiles);
    files.eioOnFsync({ nth: 1 });
    let err: unknown;
    try {
      markSlotFailed(dir, 'x', files);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SegmentIoError);
    expect((err as SegmentIoError).path).toBe(join(dir, FAILED_FILE_NAME));
  });
});

describe('findOrphanSlots', () => {
  test('lists sibling slots holding frames that are neither ours, failed, locked nor empty', () => {
    slotWith('own', 3);
    slotWith('orphan-b', 2);
    slotWith('orphan-a', 1);
    slotWith('empty', 0);
    markSlotFailed(slotWith('failed', 2), 'poison frame');
    const locked = openSlot({ sfDir, senderId: 'locked', segmentSize: SEG, autoService: false });
    locked.ring.tryAppend(payloadFor(0, 16));
    writeFileSync(join(sfDir, 'a-file'), 'not a slot');
    mkdirSync(join(sfDir, 'bad.name'));
    writeFileSync(join(sfDir, 'bad.name', 'sf-0000000000000000.sfa'), 'x');
    try {
      const found = findOrphanSlots(`${sfDir}/`, 'own');
      expect(found).toEqual([
        { senderId: 'orphan-a', slotDir: join(sfDir, 'orphan-a'), segments: 1 },
        { senderId: 'orphan-b', slotDir: join(sfDir, 'orphan-b'), segments: 1 },
      ]);
      expect(findOrphanSlots(sfDir, 'orphan-a').map((o) => o.senderId)).toEqual([
        'orphan-b',
        'own',
      ]);
    } finally {
      locked.close();
    }
    // Once its holder is gone, the locked slot is an orphan too.
    expect(findOrphanSlots(sfDir, 'own').map((o) => o.senderId)).toContain('locked');
  });

  test("quarantined slots (<id>.unreplayable-<n>) and Java's .slot-locks are never orphans", () => {
    slotWith('live', 2);
    const moved = slotWith('bad', 2);
    expect(quarantineSlot(sfDir, 'bad', 'a test')).toBe(join(sfDir, 'bad.unreplayable-0'));
    expect(existsSync(moved)).toBe(false);
    unlinkSync(join(sfDir, 'bad.unreplayable-0', '.failed')); // even without its sentinel
    mkdirSync(join(sfDir, '.slot-locks'), { recursive: true });
    writeFileSync(join(sfDir, '.slot-locks', 'x.sfa'), 'not a segment');
    expect(findOrphanSlots(sfDir, 'own').map((o) => o.senderId)).toEqual(['live']);
  });

  test('quarantineSlot takes the first free <id>.unreplayable-<n>, writes .failed, and gives up after 64', () => {
    for (let n = 0; n < 3; n++) {
      slotWith('q', 1);
      expect(quarantineSlot(sfDir, 'q', `round ${n}`)).toBe(join(sfDir, `q.unreplayable-${n}`));
      expect(readFileSync(join(sfDir, `q.unreplayable-${n}`, '.failed'), 'utf8')).toBe(
        `unreplayable: round ${n}\n`,
      );
    }
    for (let n = 3; n < 64; n++) mkdirSync(join(sfDir, `q.unreplayable-${n}`));
    slotWith('q', 1);
    expect(() => quarantineSlot(sfDir, 'q', 'full')).toThrow(/q.unreplayable-0..63 are all taken/);
    expect(existsSync(join(sfDir, 'q'))).toBe(true);
  });

  test('a slot whose segment cannot be read is listed (recovery will name the problem)', () => {
    const dir = slotWith('broken', 1);
    writeFileSync(join(dir, 'sf-0000000000000000.sfa'), 'garbage header bytes, not a segment');
    expect(findOrphanSlots(sfDir, 'own').map((o) => o.senderId)).toEqual(['broken']);
  });

  test('a missing sf_dir has no orphans; an unreadable one is an error', () => {
    expect(findOrphanSlots(join(sfDir, 'nope'), 'own')).toEqual([]);
    const files = new FaultInjectingFiles(defaultFiles);
    files.failReaddir({ nth: 1 });
    expect(() => findOrphanSlots(sfDir, 'own', files)).toThrow(BadDirectoryError);
  });
});
