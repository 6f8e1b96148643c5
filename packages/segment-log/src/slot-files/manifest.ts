/**
 * `sf-manifest.bin`: which segments a slot has committed, as the Java and
 * Rust clients keep it (SfManifest.java, qwp_ws_sfa_manifest.rs). Record
 * fields: `headBase` (baseSeq of the oldest retained segment) and
 * `activeBase` (baseSeq of the segment appends go to); valid when
 * `headBase >= 0 && activeBase >= headBase`. Every update is one record
 * pwrite and one fsync.
 */
import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import {
  BadArgumentError,
  ClosedError,
  errnoOf,
  reasonOf,
  SegmentIoError,
  suppress,
} from '../errors.js';
import {
  closeQuietlyInto,
  openFile,
  readFully,
  sizeOf,
  syncDirectory,
  useThenClose,
  writeFully,
} from '../file-io.js';
import { CORRUPT_SUFFIX, MANIFEST_FILE_NAME } from '../format.js';
import {
  DUAL_RECORD_FILE_SIZE,
  encodeRecord,
  RECORD_SIZE,
  recordOffset,
  selectRecord,
} from './dual-record.js';

/** 'SFM1' read as a little-endian u32. */
export const MANIFEST_MAGIC = 0x314d4653;

/** The committed chain bounds a manifest holds. */
export interface ManifestBounds {
  generation: number;
  headBase: number;
  activeBase: number;
}

/** What is on disk at `<slot>/sf-manifest.bin`, read without changing it. */
export type ManifestState =
  | { kind: 'absent'; path: string }
  | { kind: 'valid'; path: string; bounds: ManifestBounds }
  /** Wrong size, or neither record valid: the reference quarantines it to `.corrupt`. */
  | { kind: 'invalid'; path: string; reason: string };

export function manifestPath(slotDir: string): string {
  return `${slotDir}/${MANIFEST_FILE_NAME}`;
}

/** Reads and validates the manifest of `slotDir` (positioned reads, no change). */
export function readManifest(slotDir: string, files: FilesFacade = defaultFiles): ManifestState {
  const path = manifestPath(slotDir);
  let fd: number;
  try {
    fd = files.open(path, 'r');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return { kind: 'absent', path };
    throw new SegmentIoError(`cannot open manifest ${path}: ${reasonOf(err)}`, path, err);
  }
  return useThenClose(files, fd, path, () => {
    const size = sizeOf(files, fd, path);
    if (size !== DUAL_RECORD_FILE_SIZE) {
      return {
        kind: 'invalid',
        path,
        reason: `${path} is ${size} bytes, not ${DUAL_RECORD_FILE_SIZE}`,
      };
    }
    const image = new Uint8Array(DUAL_RECORD_FILE_SIZE);
    readFully(files, fd, path, image, 0, image.length, 0);
    const record = selectRecord(image, MANIFEST_MAGIC, (r) => r.first >= 0 && r.second >= r.first);
    if (record === undefined) {
      return { kind: 'invalid', path, reason: `${path} holds no valid CRC-checked record` };
    }
    return {
      kind: 'valid',
      path,
      bounds: { generation: record.generation, headBase: record.first, activeBase: record.second },
    };
  });
}

function checkBounds(headBase: number, activeBase: number): void {
  if (
    !Number.isSafeInteger(headBase) ||
    !Number.isSafeInteger(activeBase) ||
    headBase < 0 ||
    activeBase < headBase
  ) {
    throw new BadArgumentError(
      `invalid manifest bounds: head ${headBase}, active ${activeBase} (need 0 <= head <= active)`,
    );
  }
}

/** An open, writable `sf-manifest.bin`. */
export class SfManifest {
  private readonly scratch = new Uint8Array(RECORD_SIZE);
  private readonly scratchView = new DataView(this.scratch.buffer);
  private closed = false;

  private constructor(
    private readonly files: FilesFacade,
    readonly path: string,
    private readonly fd: number,
    private bounds: ManifestBounds,
  ) {}

  /**
   * Creates the manifest exclusively (8192 zero bytes, reserved with
   * fallocate), writes generation 1 (at offset 4096) and fsyncs the file and
   * the directory. A failure unlinks the half-made file.
   */
  static create(
    slotDir: string,
    headBase: number,
    activeBase: number,
    files: FilesFacade = defaultFiles,
  ): SfManifest {
    checkBounds(headBase, activeBase);
    const path = manifestPath(slotDir);
    const fd = openFile(files, path, 'wx+', 'create manifest', 0o644);
    try {
      try {
        files.fallocate(fd, 0, DUAL_RECORD_FILE_SIZE);
      } catch (err) {
        throw new SegmentIoError(`cannot reserve manifest ${path}: ${reasonOf(err)}`, path, err);
      }
      const manifest = new SfManifest(files, path, fd, {
        generation: 0,
        headBase: 0,
        activeBase: 0,
      });
      manifest.write(headBase, activeBase);
      syncDirectory(files, slotDir);
      return manifest;
    } catch (err) {
      closeQuietlyInto(files, fd, err);
      try {
        files.unlink(path);
      } catch {
        // Nothing depends on a manifest that never got its first record durable;
        // recovery treats the leftover as invalid and quarantines it.
      }
      throw err;
    }
  }

  /** Opens a manifest `readManifest` found valid, for updates. */
  static open(
    slotDir: string,
    bounds: ManifestBounds,
    files: FilesFacade = defaultFiles,
  ): SfManifest {
    const path = manifestPath(slotDir);
    const fd = openFile(files, path, 'r+', 'open manifest');
    return new SfManifest(files, path, fd, { ...bounds });
  }

  /**
   * Moves `sf-manifest.bin` aside to `sf-manifest.bin.corrupt` (replacing an
   * older one), or deletes it when the rename fails; throws when neither
   * works, since a leftover would block the next exclusive create.
   */
  static quarantine(slotDir: string, files: FilesFacade = defaultFiles): string {
    const path = manifestPath(slotDir);
    const aside = `${path}${CORRUPT_SUFFIX}`;
    try {
      files.rename(path, aside);
      return aside;
    } catch (renameErr) {
      try {
        files.unlink(path);
        return path;
      } catch (err) {
        const failure = new SegmentIoError(
          `cannot quarantine invalid manifest ${path}: ${reasonOf(renameErr)}`,
          path,
          renameErr,
        );
        suppress(failure, err);
        throw failure;
      }
    }
  }

  /** Deletes `sf-manifest.bin` if present (a slot reset to "nothing durable"). */
  static remove(slotDir: string, files: FilesFacade = defaultFiles): void {
    const path = manifestPath(slotDir);
    try {
      files.unlink(path);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') {
        throw new SegmentIoError(`cannot delete manifest ${path}: ${reasonOf(err)}`, path, err);
      }
    }
  }

  /** The base FSN of the oldest segment of the chain. */
  get headBase(): number {
    return this.bounds.headBase;
  }

  /** The base FSN of the segment being appended to. */
  get activeBase(): number {
    return this.bounds.activeBase;
  }

  /** The generation of the current record: it grows by one per write. */
  get generation(): number {
    return this.bounds.generation;
  }

  /**
   * Commits new bounds. Like the references, a bound never moves back here
   * (a caller working from an older snapshot is clamped), and an update that
   * changes nothing writes nothing.
   */
  update(headBase: number, activeBase: number): void {
    const head = Math.max(headBase, this.bounds.headBase);
    const active = Math.max(activeBase, this.bounds.activeBase);
    if (head === this.bounds.headBase && active === this.bounds.activeBase) return;
    this.write(head, active);
  }

  /**
   * Moves the active bound back to `activeBase` (>= head). Only recovery
   * does this, with the slot locked, after every segment above `activeBase`
   * was emptied: cutting an aborted tail off the log. Readers take any valid
   * record of the highest generation, so the Java and Rust clients accept it.
   */
  rewindActive(activeBase: number): void {
    if (activeBase === this.bounds.activeBase) return;
    this.write(this.bounds.headBase, activeBase);
  }

  /** Closes the file; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.files.close(this.fd);
    } catch (err) {
      throw new SegmentIoError(`cannot close ${this.path}: ${reasonOf(err)}`, this.path, err);
    }
  }

  private write(headBase: number, activeBase: number): void {
    if (this.closed) throw new ClosedError(`manifest ${this.path}`);
    checkBounds(headBase, activeBase);
    const generation = this.bounds.generation + 1;
    encodeRecord(
      this.scratch,
      this.scratchView,
      0,
      MANIFEST_MAGIC,
      generation,
      headBase,
      activeBase,
    );
    writeFully(
      this.files,
      this.fd,
      this.path,
      this.scratch,
      0,
      RECORD_SIZE,
      recordOffset(generation),
    );
    try {
      this.files.fsync(this.fd);
    } catch (err) {
      throw new SegmentIoError(`cannot fsync ${this.path}: ${reasonOf(err)}`, this.path, err);
    }
    this.bounds = { generation, headBase, activeBase };
  }
}
