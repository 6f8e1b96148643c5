import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import {
  BadDirectoryError,
  BadSenderIdError,
  errnoOf,
  reasonOf,
  runAll,
  SegmentIoError,
  SlotLockedError,
} from '../errors.js';
import {
  closeQuietlyInto,
  openFile,
  openFileIfExists,
  syncDirectory,
  useThenClose,
  writeFully,
} from '../file-io.js';
import { LOCK_FILE_NAME, LOCK_PID_FILE_NAME, LOGICAL_LOCK_DIR_NAME } from '../format.js';

const SENDER_ID = /^[A-Za-z0-9_-]{1,255}$/;

/** True when `senderId` is 1..255 of `[A-Za-z0-9_-]` (so never `/` or `..`). */
export function isValidSenderId(senderId: string): boolean {
  return SENDER_ID.test(senderId);
}

/**
 * Throws {@link BadSenderIdError} unless `isValidSenderId(senderId)`; `sfDir`,
 * when given, is named in the error as the directory the slot was for.
 */
export function validateSenderId(senderId: string, sfDir?: string): void {
  if (!isValidSenderId(senderId)) throw new BadSenderIdError(senderId, sfDir);
}

/** `<sfDir>/<senderId>`, after validating the sender id. */
export function slotDirectory(sfDir: string, senderId: string): string {
  validateSenderId(senderId, sfDir);
  return `${sfDir.replace(/\/+$/, '')}/${senderId}`;
}

/**
 * Makes sure `dir` exists as a directory (creating parents), or throws
 * {@link BadDirectoryError} naming it and why: a file is in the way, or it
 * cannot be created.
 */
export function ensureDirectory(files: FilesFacade, dir: string): void {
  try {
    const st = files.stat(dir);
    if (!st.isDirectory) throw new BadDirectoryError(`${dir} exists and is not a directory`, dir);
    return;
  } catch (err) {
    if (err instanceof BadDirectoryError) throw err;
    if (errnoOf(err) !== 'ENOENT') {
      throw new BadDirectoryError(`cannot stat ${dir}: ${reasonOf(err)}`, dir, err);
    }
  }
  // The levels about to be made, deepest first: each one's entry lives in its parent.
  const missing: string[] = [];
  for (let d = dir.replace(/\/+$/, ''); d !== '' && !existsAsEntry(files, d); d = parentOf(d)) {
    missing.push(d);
  }
  try {
    files.mkdir(dir, true);
  } catch (err) {
    throw new BadDirectoryError(`cannot create directory ${dir}: ${reasonOf(err)}`, dir, err);
  }
  // Make every new entry durable, the outermost last so no durable entry points at a lost one.
  for (const d of missing) {
    const parent = parentOf(d);
    if (parent !== '') syncDirectory(files, parent);
  }
}

/** `a/b/c` -> `a/b`; `/a` -> `/`; `a` -> `.`; `/` -> ''. */
function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) return path === '.' ? '' : '.';
  if (i === 0) return path === '/' ? '' : '/';
  return path.slice(0, i);
}

/** True when something exists at `path`; a stat error other than ENOENT counts as existing (mkdir reports it). */
function existsAsEntry(files: FilesFacade, path: string): boolean {
  try {
    files.stat(path);
    return true;
  } catch (err) {
    return errnoOf(err) !== 'ENOENT';
  }
}

/**
 * A probe ({@link SlotLock.probe}: `qwp sf inspect`, another sender's orphan
 * scan) holds a free lock for microseconds, so a refusal is retried a few
 * times, 2 ms apart, before it counts as contention.
 */
const LOCK_RETRIES = 5;
const LOCK_RETRY_MS = 2;
const retryClock = new Int32Array(new SharedArrayBuffer(4));

function tryLockBriefly(files: FilesFacade, fd: number): boolean {
  for (let attempt = 0; ; attempt++) {
    if (files.tryLock(fd)) return true;
    if (attempt === LOCK_RETRIES) return false;
    Atomics.wait(retryClock, 0, 0, LOCK_RETRY_MS);
  }
}

/**
 * Reads the PID written in the `.lock.pid` file at `pidPath`, or undefined
 * when there is none or its text is not a PID (a holder between its
 * truncate and its write). A failed read throws {@link SegmentIoError}.
 */
function readHolderPid(files: FilesFacade, pidPath: string): number | undefined {
  const fd = openFileIfExists(files, pidPath, 'r', 'open holder PID file');
  if (fd === undefined) return undefined;
  return useThenClose(files, fd, pidPath, () => {
    const buf = new Uint8Array(32);
    let n: number;
    try {
      n = files.pread(fd, buf, 0, buf.length, 0);
    } catch (err) {
      throw new SegmentIoError(
        `cannot read the holder PID in ${pidPath}: ${reasonOf(err)}`,
        pidPath,
        err,
      );
    }
    const text = Buffer.from(buf.subarray(0, n)).toString('utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  });
}

/** Replaces `pidPath` with this process's `"<pid>\n"`; returns its length. */
function writeHolderPid(files: FilesFacade, pidPath: string): number {
  const pid = Buffer.from(`${process.pid}\n`, 'utf8');
  const fd = openFile(files, pidPath, 'w', 'write holder PID file', 0o644);
  useThenClose(files, fd, pidPath, () => writeFully(files, fd, pidPath, pid, 0, pid.length, 0));
  return pid.length;
}

/**
 * An exclusive, non-blocking flock on a lock file, with the holder's PID in
 * a `.lock.pid` file beside it (the Java and Rust layout: the lock file
 * itself stays empty, since Windows' range locks keep other processes from
 * reading a held file). The kernel releases the flock when the holder dies,
 * so a crashed sender never leaves a slot locked. Neither file is ever
 * deleted: a waiting process must never race an unlink into a second inode.
 *
 * Two kinds: the slot's own `<slot>/.lock`, held for the slot's lifetime,
 * and Java's logical lock `<sf_dir>/.slot-locks/<sender_id>.lock`, taken
 * before it around an open or an orphan adoption; being outside the slot
 * directory, it still guards the name while a slot is renamed aside.
 */
export class SlotLock {
  private closed = false;

  private constructor(
    private readonly files: FilesFacade,
    readonly path: string,
    /** The `.lock.pid` beside the lock file. */
    readonly pidPath: string,
    private readonly fd: number,
    /** Bytes of the `.lock.pid` file (the holder's PID line), counted against sf_max_total_bytes. */
    readonly sizeBytes: number,
  ) {}

  /**
   * Creates `slotDir` if needed and takes `<slotDir>/.lock`, writing
   * `<slotDir>/.lock.pid`. Throws {@link SlotLockedError} naming the
   * holder's PID when a live process has it.
   */
  static acquire(slotDir: string, options: { files?: FilesFacade } = {}): SlotLock {
    const files = options.files ?? defaultFiles;
    ensureDirectory(files, slotDir);
    return SlotLock.acquireAt(
      files,
      slotDir,
      `${slotDir}/${LOCK_FILE_NAME}`,
      `${slotDir}/${LOCK_PID_FILE_NAME}`,
    );
  }

  /**
   * Takes the logical lock of slot `senderId` in `sfDir`:
   * `<sfDir>/.slot-locks/<senderId>.lock` with its `.lock.pid` (Java's
   * SlotLock.acquireLogical), creating `.slot-locks` if needed.
   */
  static acquireLogical(
    sfDir: string,
    senderId: string,
    options: { files?: FilesFacade } = {},
  ): SlotLock {
    const files = options.files ?? defaultFiles;
    validateSenderId(senderId, sfDir);
    const dir = logicalLockDirectory(sfDir);
    ensureDirectory(files, dir);
    return SlotLock.acquireAt(
      files,
      dir,
      `${dir}/${senderId}${LOCK_FILE_NAME}`,
      `${dir}/${senderId}${LOCK_PID_FILE_NAME}`,
    );
  }

  private static acquireAt(
    files: FilesFacade,
    dir: string,
    path: string,
    pidPath: string,
  ): SlotLock {
    let fd: number;
    try {
      // 'a+' creates without truncating: an older client's PID in it stays readable.
      fd = files.open(path, 'a+', 0o644);
    } catch (err) {
      throw new BadDirectoryError(`cannot open slot lock ${path}: ${reasonOf(err)}`, path, err);
    }
    try {
      let locked: boolean;
      try {
        locked = tryLockBriefly(files, fd);
      } catch (err) {
        throw new SegmentIoError(`cannot flock ${path}: ${reasonOf(err)}`, path, err);
      }
      if (!locked) {
        // Contention is the error to report; an unreadable PID becomes its cause.
        let pid: number | undefined;
        let readFailure: unknown;
        try {
          pid = readHolderPid(files, pidPath);
        } catch (err) {
          readFailure = err;
        }
        throw new SlotLockedError(path, pid, readFailure);
      }
      const size = writeHolderPid(files, pidPath);
      // `.lock` and `.lock.pid` may have just been created: make their entries durable.
      syncDirectory(files, dir);
      return new SlotLock(files, path, pidPath, fd, size);
    } catch (err) {
      closeQuietlyInto(files, fd, err);
      throw err;
    }
  }

  /**
   * Reads the PID in `<slotDir>/.lock.pid` and whether a live process holds
   * `<slotDir>/.lock`, without taking it for long. Undefined when there is
   * no `.lock`.
   */
  static probe(
    slotDir: string,
    files: FilesFacade = defaultFiles,
  ): { held: boolean; pid: number | undefined } | undefined {
    const path = `${slotDir}/${LOCK_FILE_NAME}`;
    const fd = openFileIfExists(files, path, 'r', 'open slot lock');
    if (fd === undefined) return undefined;
    return useThenClose(files, fd, path, () => {
      const pid = readHolderPid(files, `${slotDir}/${LOCK_PID_FILE_NAME}`);
      try {
        const free = files.tryLock(fd);
        if (free) files.unlock(fd);
        return { held: !free, pid };
      } catch (err) {
        throw new SegmentIoError(`cannot probe the flock of ${path}: ${reasonOf(err)}`, path, err);
      }
    });
  }

  /** Releases the lock (unlock, then close). Both files stay. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const { files, fd, path } = this;
    const step = (what: string, call: () => void) => () => {
      try {
        call();
      } catch (err) {
        throw new SegmentIoError(`cannot ${what} ${path}: ${reasonOf(err)}`, path, err);
      }
    };
    runAll([step('unlock', () => files.unlock(fd)), step('close', () => files.close(fd))]);
  }
}

/** `<sfDir>/.slot-locks`. */
export function logicalLockDirectory(sfDir: string): string {
  return `${sfDir.replace(/\/+$/, '')}/${LOGICAL_LOCK_DIR_NAME}`;
}
