/**
 * The checkpoint of a resumable import: a small JSON file in the sender's
 * slot directory saying how many input rows are in the slot, and up to
 * which FSN. It is written after each flush() has put those rows' frames in
 * the slot, so it never runs ahead of them: a crash between a flush and the
 * next checkpoint only makes the restart send some rows again (DEDUP
 * absorbs them); it never skips a row the slot does not hold.
 */
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from './errors.js';
import type { PlanShape } from './plan.js';
import type { Format } from './sources.js';

export const CHECKPOINT_FILE = 'qwp-send.checkpoint.json';

export interface Checkpoint {
  version: 1;
  /** Absolute path of the input, or `-` for stdin. */
  input: string;
  /** Size and modification time of the input file (null for stdin), to notice a changed file. */
  size: number | null;
  mtimeMs: number | null;
  format: Format;
  table: string;
  plan: PlanShape;
  /** Data rows [0, rows) are in the slot, in frames up to `fsn`. */
  rows: number;
  fsn: number;
  /** Where the last of those rows is in the input (`line 12`), null when none. */
  last: string | null;
}

/** The checkpoint in `slotDir`, or null when there is none. */
export function readCheckpoint(slotDir: string): Checkpoint | null {
  const path = join(slotDir, CHECKPOINT_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CheckpointError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  let c: Checkpoint;
  try {
    c = JSON.parse(text) as Checkpoint;
  } catch (err) {
    throw new CheckpointError(`${path} is not a qwp send checkpoint: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (
    c?.version !== 1 ||
    !Number.isSafeInteger(c.rows) ||
    c.rows < 0 ||
    !Number.isSafeInteger(c.fsn) ||
    typeof c.input !== 'string' ||
    typeof c.table !== 'string' ||
    typeof c.plan !== 'object'
  ) {
    throw new CheckpointError(`${path} is not a qwp send checkpoint of version 1`);
  }
  return c;
}

/**
 * Replaces the checkpoint atomically: a temporary file, fsync, rename, and
 * an fsync of the directory, so a crash leaves the old one or the new one.
 */
export function writeCheckpoint(slotDir: string, c: Checkpoint): void {
  const path = join(slotDir, CHECKPOINT_FILE);
  const tmp = `${path}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(c, null, 1)}\n`);
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    const dir = openSync(slotDir, 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch (err) {
    throw new CheckpointError(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Removes the checkpoint (the import finished, or ended at a bad row with the rows before it committed). */
export function removeCheckpoint(slotDir: string): void {
  const path = join(slotDir, CHECKPOINT_FILE);
  try {
    rmSync(path, { force: true });
    rmSync(`${path}.tmp`, { force: true });
  } catch (err) {
    throw new CheckpointError(`cannot remove ${path}: ${(err as Error).message}`, { cause: err });
  }
}
