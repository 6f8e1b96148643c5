import {
  existsSync,
  readdirSync,
  readFileSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { defaultFiles } from '@qwp/files-native';
import { decodeMessage, SymbolDictionary } from '@qwp/qwp-wire/codec';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { qwpMessage, removeDir, tempDir, thrown } from './helpers.js';
import {
  inspectSymbolDict,
  openSlot,
  planDictionary,
  readQwpDelta,
  type Slot,
  UnreplayableSlotError,
} from './internals.js';

let sfDir: string;
beforeEach(() => {
  sfDir = tempDir();
});
afterEach(() => removeDir(sfDir));

const open = (qwp = true, extra: Partial<Parameters<typeof openSlot>[0]> = {}) =>
  openSlot({ sfDir, senderId: 's', segmentSize: 1024, autoService: false, qwp, ...extra });

/** Appends a frame introducing `symbols` at `start`, its chunk first (as a sender must). */
function withSymbols(slot: Slot, start: number, symbols: string[]): void {
  slot.dict.appendSymbols(symbols);
  expect(slot.ring.tryAppend(qwpMessage({ delta: { start, symbols } }))).toBeGreaterThanOrEqual(0);
}

function dictPath(slot: Slot): string {
  return join(slot.dir, '.symbol-dict');
}

/** Every file of the slot with its bytes (but the lock files), to prove nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).sort()) {
    if (n.startsWith('.lock')) continue;
    out[n] = readFileSync(join(dir, n)).toString('base64');
  }
  return out;
}

describe('readQwpDelta', () => {
  test('reads the delta section the way the codec does, and flags a malformed one', () => {
    const m = qwpMessage({ delta: { start: 0, symbols: ['ETH-USD', 'BTC'] }, tables: 0, body: 0 });
    const d = { start: 0, count: 0, entriesOffset: 0, entriesEnd: 0 };
    expect(readQwpDelta(m, 0, m.length, d)).toBe(1);
    expect(d).toMatchObject({ start: 0, count: 2, entriesEnd: m.length });
    // The codec's strict decoder reads the same section from the same bytes.
    expect(decodeMessage(m, new SymbolDictionary()).symbolDelta).toMatchObject({
      start: 0,
      entries: ['ETH-USD', 'BTC'],
    });
    expect(readQwpDelta(qwpMessage({}), 0, 28, d)).toBe(0);
    const cut = m.subarray(0, 12 + 3);
    expect(readQwpDelta(cut, 0, cut.length, d)).toBe(-1);
  });
});

describe('the dictionary covers every id the frames define', () => {
  test('a torn dictionary tail is rebuilt from the frames, appended and reported', () => {
    let slot = open();
    withSymbols(slot, 0, ['a', 'b']);
    withSymbols(slot, 2, ['c']);
    withSymbols(slot, 3, ['d', 'e']);
    const path = dictPath(slot);
    slot.lock.close(); // crash
    const full = readFileSync(path);
    truncateSync(path, full.length - 9); // the newest chunk torn (as an OS crash may leave it)
    slot = open();
    expect(slot.report).toMatchObject({ rebuiltSymbols: 2, symbols: 5 });
    expect(slot.dict.loadedSymbols).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(inspectSymbolDict(path).entries).toEqual(['a', 'b', 'c', 'd', 'e']);
    withSymbols(slot, 5, ['f']); // the next id continues
    slot.close();
  });

  test('a missing dictionary is rebuilt from frames that define every id from 0', () => {
    let slot = open();
    withSymbols(slot, 0, ['x']);
    withSymbols(slot, 1, ['y']);
    const path = dictPath(slot);
    slot.lock.close();
    unlinkSync(path);
    slot = open();
    expect(slot.report.rebuiltSymbols).toBe(2);
    expect(inspectSymbolDict(path).entries).toEqual(['x', 'y']);
    slot.close();
  });

  test('an unusable dictionary (bad magic, another version) is moved aside and replaced when the frames rebuild it', () => {
    for (const damage of [(b: Buffer) => b.fill(0, 0, 4), (b: Buffer) => (b[4] = 2)]) {
      removeDir(sfDir);
      sfDir = tempDir();
      let slot = open();
      withSymbols(slot, 0, ['p', 'q']);
      const path = dictPath(slot);
      slot.lock.close();
      const bytes = readFileSync(path);
      damage(bytes);
      writeFileSync(path, bytes);
      slot = open();
      expect(slot.report.dictionaryQuarantinedTo).toBe(`${path}.corrupt`);
      expect(readFileSync(`${path}.corrupt`)).toEqual(bytes); // kept as it was
      expect(inspectSymbolDict(path).entries).toEqual(['p', 'q']);
      slot.close();
    }
  });

  test('ids lost with their frames make the slot unreplayable: nothing changes, the frame is named', () => {
    let slot = open();
    withSymbols(slot, 0, ['a', 'b', 'c']);
    for (let i = 0; i < 20; i++) slot.ring.tryAppend(qwpMessage({ body: 60 })); // rotate past the first segment
    slot.acknowledge(slot.ring.nextFsn - 1); // the frame defining 0..2 is trimmed
    withSymbols(slot, 3, ['d']);
    const path = dictPath(slot);
    slot.lock.close();
    truncateSync(path, 8); // only the header: ids 0..2 are gone everywhere
    const before = snapshot(slot.dir);
    const err = thrown(() => open());
    expect(err).toBeInstanceOf(UnreplayableSlotError);
    expect((err as Error).message).toMatch(
      /defines symbol ids from 3, but .* know only 0: ids 0..2 are lost/,
    );
    expect(snapshot(slot.dir)).toEqual(before);
    // With quarantineUnreplayable the slot is moved aside and a fresh one opens.
    slot = open(true, { quarantineUnreplayable: true });
    expect(slot.report.quarantinedSlot?.path).toBe(join(sfDir, 's.unreplayable-0'));
    expect(existsSync(join(sfDir, 's.unreplayable-0', '.failed'))).toBe(true);
    slot.close();
  });

  test('a frame that redefines a known id with another symbol makes the slot unreplayable', () => {
    const slot = open();
    withSymbols(slot, 0, ['a', 'b']);
    slot.ring.tryAppend(qwpMessage({ delta: { start: 1, symbols: ['B!', 'c'] } }));
    slot.lock.close();
    const err = thrown(() => open());
    expect(err).toBeInstanceOf(UnreplayableSlotError);
    expect((err as Error).message).toMatch(/symbol id 1 as "B!", but it is "b"/);
  });

  test('an opaque log (qwp off) takes the dictionary as it is', () => {
    let slot = open(false);
    withSymbols(slot, 0, ['a']);
    const path = dictPath(slot);
    slot.lock.close();
    truncateSync(path, 8);
    slot = open(false);
    expect(slot.report.rebuiltSymbols).toBe(0);
    expect(slot.dict.size).toBe(0);
    slot.close();
  });

  test('planDictionary alone changes nothing and says what it would append', () => {
    const slot = open();
    withSymbols(slot, 0, ['a']);
    withSymbols(slot, 1, ['b']);
    const segs = slot.ring.segments();
    writeFileSync(dictPath(slot), readFileSync(dictPath(slot)).subarray(0, 8 + 8)); // the header and the first chunk
    const before = snapshot(slot.dir);
    const plan = planDictionary(slot.dir, segs, { files: defaultFiles, qwp: true });
    expect(plan).toMatchObject({ state: 'ok', known: ['a'], rebuilt: ['b'], checked: true });
    expect(snapshot(slot.dir)).toEqual(before);
    slot.close();
  });
});
