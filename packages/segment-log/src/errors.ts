/**
 * Every error @qwp/segment-log throws on purpose is a SegmentLogError with a
 * stable `code`, a message that names the path (or input) at fault and why,
 * and the underlying cause attached.
 */

/** Stable codes of {@link SegmentLogError}. */
export type SegmentLogErrorCode =
  | 'ERR_QWP_SF_IO'
  | 'ERR_QWP_SF_CORRUPT'
  | 'ERR_QWP_SF_UNSUPPORTED_VERSION'
  | 'ERR_QWP_SF_FRAME_TOO_LARGE'
  | 'ERR_QWP_SF_FSN_GAP'
  | 'ERR_QWP_SF_SLOT_LOCKED'
  | 'ERR_QWP_SF_BAD_SENDER_ID'
  | 'ERR_QWP_SF_BAD_DIR'
  | 'ERR_QWP_SF_BAD_ARGUMENT'
  | 'ERR_QWP_SF_CLOSED'
  | 'ERR_QWP_SF_RECOVERY'
  | 'ERR_QWP_SF_UNREPLAYABLE';

/** Base class of every error this package throws on purpose. */
export class SegmentLogError extends Error {
  readonly code: SegmentLogErrorCode;
  /** The file or directory at fault, when there is one. */
  readonly path: string | undefined;
  /**
   * Failures of the clean-up that ran after this error (an unmap, close or
   * unlink that also failed), kept so none is lost; see `suppress()`.
   */
  readonly suppressed: unknown[] = [];

  constructor(
    code: SegmentLogErrorCode,
    message: string,
    details: { path?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.path = details.path;
  }
}

/** An operating-system call failed (open, pread, fallocate, mmap, fsync, unlink...). */
export class SegmentIoError extends SegmentLogError {
  declare readonly code: 'ERR_QWP_SF_IO';
  /** The errno code of the cause (`ENOSPC`, `EIO`, ...), when it had one. */
  readonly errno: string | undefined;

  constructor(message: string, path: string, cause?: unknown) {
    super('ERR_QWP_SF_IO', message, { path, cause });
    this.errno = errnoOf(cause);
  }
}

/** The bytes on disk cannot be what this package wrote: bad magic, impossible header, a bad frame. */
export class SegmentCorruptError extends SegmentLogError {
  declare readonly code: 'ERR_QWP_SF_CORRUPT';
  /** Byte offset in `path` of what is corrupt, when one place is. */
  readonly offset: number | undefined;

  constructor(message: string, path: string, cause?: unknown, offset?: number) {
    super('ERR_QWP_SF_CORRUPT', message, { path, cause });
    this.offset = offset;
  }
}

/**
 * The slot's files contradict each other: a segment that requires a
 * manifest without one, a chain that does not match the manifest's bounds
 * (missing head or active segment, data beyond the active bound, a segment
 * across the head). Nothing was changed; the same open fails the same way
 * until someone repairs the slot (or quarantines it, see `openSlot`'s
 * `quarantineUnreplayable`).
 */
export class RecoveryError extends SegmentLogError {
  declare readonly code: 'ERR_QWP_SF_RECOVERY';

  constructor(message: string, slotDir: string, cause?: unknown) {
    super('ERR_QWP_SF_RECOVERY', message, { path: slotDir, cause });
  }
}

/**
 * The stored frames cannot be replayed as they are: a frame's symbol delta
 * starts past every id the dictionary and the frames before it define (the
 * ids it builds on are lost), or redefines a known id with another symbol.
 * Nothing was changed.
 */
export class UnreplayableSlotError extends SegmentLogError {
  declare readonly code: 'ERR_QWP_SF_UNREPLAYABLE';
  /** The first frame that cannot be replayed. */
  readonly fsn: number;

  constructor(message: string, slotDir: string, fsn: number) {
    super('ERR_QWP_SF_UNREPLAYABLE', message, { path: slotDir });
    this.fsn = fsn;
  }
}

/** A well-formed file written by a format version this build does not read. */
export class UnsupportedVersionError extends SegmentLogError {
  declare readonly code: 'ERR_QWP_SF_UNSUPPORTED_VERSION';
  readonly version: number;

  constructor(path: string, version: number) {
    super('ERR_QWP_SF_UNSUPPORTED_VERSION', `unsupported format version ${version} in ${path}`, {
      path,
    });
    this.version = version;
  }
}

/** A frame cannot fit even an empty segment; nothing was written. */
export class FrameTooLargeError extends SegmentLogError {
  declare readonly code: 'ERR_QWP_SF_FRAME_TOO_LARGE';
  readonly payloadLength: number;
  readonly maxPayloadLength: number;

  constructor(payloadLength: number, maxPayloadLength: number) {
    super(
      'ERR_QWP_SF_FRAME_TOO_LARGE',
      `frame payload of ${payloadLength} bytes exceeds the ${maxPayloadLength}-byte maximum of one segment; nothing was written`,
    );
    this.payloadLength = payloadLength;
    this.maxPayloadLength = maxPayloadLength;
  }
}

/** Two consecutive segments of a slot do not continue each other's FSNs. */
export class FsnGapError extends SegmentLogError {
  declare readonly code: 'ERR_QWP_SF_FSN_GAP';
  readonly previousFile: string;
  readonly nextFile: string;

  constructor(
    previousFile: string,
    expectedBaseSeq: number,
    nextFile: string,
    nextBaseSeq: number,
  ) {
    super(
      'ERR_QWP_SF_FSN_GAP',
      `FSN gap: ${previousFile} ends before FSN ${expectedBaseSeq} but ${nextFile} starts at FSN ${nextBaseSeq}`,
      { path: nextFile },
    );
    this.previousFile = previousFile;
    this.nextFile = nextFile;
  }
}

/** Another live process holds the slot's `.lock` (or its logical lock in `<sf_dir>/.slot-locks`). */
export class SlotLockedError extends SegmentLogError {
  declare readonly code: 'ERR_QWP_SF_SLOT_LOCKED';
  /** The holder's PID as written in the `.lock.pid` beside the lock, or undefined when absent or unreadable. */
  readonly holderPid: number | undefined;

  /** @param cause why the holder's PID could not be read, when it could not */
  constructor(lockPath: string, holderPid: number | undefined, cause?: unknown) {
    super(
      'ERR_QWP_SF_SLOT_LOCKED',
      `store-and-forward slot is locked by another process (pid ${holderPid ?? 'unknown'}): ${lockPath}`,
      { path: lockPath, cause },
    );
    this.holderPid = holderPid;
  }
}

/** A sender_id that is not `[A-Za-z0-9_-]+` (so never `/` or `..`). */
export class BadSenderIdError extends SegmentLogError {
  declare readonly code: 'ERR_QWP_SF_BAD_SENDER_ID';

  /** @param sfDir the sf_dir the slot was to be made in (the error's `path`), when known */
  constructor(senderId: string, sfDir?: string) {
    super(
      'ERR_QWP_SF_BAD_SENDER_ID',
      `sender_id ${JSON.stringify(senderId)}${sfDir === undefined ? '' : ` for sf_dir ${sfDir}`} is invalid: use 1 to 255 of [A-Za-z0-9_-], so it is one directory name inside sf_dir`,
      { path: sfDir },
    );
  }
}

/** sf_dir (or the slot directory) is not a usable directory: a file, unwritable, unreadable. */
export class BadDirectoryError extends SegmentLogError {
  declare readonly code: 'ERR_QWP_SF_BAD_DIR';

  constructor(message: string, path: string, cause?: unknown) {
    super('ERR_QWP_SF_BAD_DIR', message, { path, cause });
  }
}

/** An argument outside its allowed range (segment size, FSN, ...). */
export class BadArgumentError extends SegmentLogError {
  declare readonly code: 'ERR_QWP_SF_BAD_ARGUMENT';

  constructor(message: string) {
    super('ERR_QWP_SF_BAD_ARGUMENT', message);
  }
}

/** A call on a segment, ring, dictionary or lock that was already closed. */
export class ClosedError extends SegmentLogError {
  declare readonly code: 'ERR_QWP_SF_CLOSED';

  constructor(what: string) {
    super('ERR_QWP_SF_CLOSED', `${what} is closed`);
  }
}

/**
 * Records `secondary`, a clean-up failure that happened while `primary` was
 * being thrown, on `primary` without replacing it: as its cause when it has
 * none, else appended to its `suppressed` list (created on an Error that is
 * not a {@link SegmentLogError}). A non-Error `primary` cannot carry it, so
 * it is then dropped; this package only throws Errors.
 */
export function suppress(primary: unknown, secondary: unknown): void {
  if (!(primary instanceof Error)) return;
  if (primary.cause === undefined) {
    (primary as { cause?: unknown }).cause = secondary;
    return;
  }
  const p = primary as Error & { suppressed?: unknown[] };
  if (p.suppressed === undefined) p.suppressed = [];
  p.suppressed.push(secondary);
}

/**
 * Runs every step even when some throw (releases that must all happen), then
 * throws the first failure with the later ones {@link suppress}ed on it.
 */
export function runAll(steps: Iterable<() => void>): void {
  let failed = false;
  let failure: unknown;
  for (const step of steps) {
    try {
      step();
    } catch (err) {
      if (failed) suppress(failure, err);
      else [failed, failure] = [true, err];
    }
  }
  if (failed) throw failure;
}

/** The errno code string of a Node-style error, if any. */
export function errnoOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** A short reason for a message: the cause's message (Node's carries the errno code), or the thrown value as text. */
export function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
