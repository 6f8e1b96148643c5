import { InjectedFaultError, InvalidArgumentError, OutOfRangeError } from './errors.js';
import type { Advice, FileStat, FilesFacade, MapMode } from './facade.js';

/** A facade method that a fault can target. */
export type FaultOp = keyof FilesFacade;

/**
 * Which calls a fault hits. Calls are counted per fault from the moment it is
 * armed, and only calls that pass `path` count.
 * - `next: n` — each of the next n calls fails, then the fault is spent;
 * - `nth: n` — only the nth call (1-based) fails, then the fault is spent;
 * - neither — every call fails until `disarm()`.
 */
export interface FaultTrigger {
  next?: number;
  nth?: number;
  /**
   * Only calls on a matching path count. fd-based calls match on the path the
   * fd was opened with through this facade, calls on a mapping (munmap,
   * msync, madvise) on the path of the file it was mapped from through this
   * facade; rename matches on either path.
   */
  path?: (path: string) => boolean;
}

/** What the fault does when it hits. */
export interface FaultOptions extends FaultTrigger {
  /**
   * errno name to throw. Defaults: fsync EIO, fallocate ENOSPC, mmap ENOMEM,
   * readdir EIO, unlink EACCES, anything else EIO. For pwrite, leaving it
   * unset makes a short write instead of an error.
   */
  code?: string;
  /** pwrite short write: bytes actually written (default: half of what was asked, rounded down). */
  bytes?: number;
}

/** A handle on an armed fault. */
export interface Fault {
  readonly op: FaultOp;
  /** Calls this fault has made fail (or cut short). */
  readonly hits: number;
  /** True once the fault will hit no more calls. */
  readonly spent: boolean;
  /** Stops the fault from hitting any further call. */
  disarm(): void;
}

const DEFAULT_CODE: Partial<Record<FaultOp, string>> = {
  fsync: 'EIO',
  fallocate: 'ENOSPC',
  mmap: 'ENOMEM',
  readdir: 'EIO',
  unlink: 'EACCES',
};

/** The syscall name a real failure of each method reports (what node:fs or the addon says). */
const SYSCALL: Record<FaultOp, string> = {
  open: 'open',
  close: 'close',
  pread: 'read',
  pwrite: 'write',
  ftruncate: 'ftruncate',
  fsync: 'fsync',
  fstat: 'fstat',
  stat: 'stat',
  rename: 'rename',
  unlink: 'unlink',
  readdir: 'scandir',
  mkdir: 'mkdir',
  fsyncDir: 'fsync',
  fallocate: 'fallocate',
  mmap: 'mmap',
  munmap: 'munmap',
  msync: 'msync',
  madvise: 'madvise',
  tryLock: 'flock',
  unlock: 'flock',
  pageSize: 'sysconf',
};

function positiveInteger(value: number | undefined, name: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new OutOfRangeError(`FaultTrigger.${name} must be an integer >= 1, got ${value}`);
  }
}

class ArmedFault implements Fault {
  hits = 0;
  spent = false;
  #seen = 0;

  constructor(
    readonly op: FaultOp,
    readonly options: FaultOptions,
  ) {
    positiveInteger(options.next, 'next');
    positiveInteger(options.nth, 'nth');
    if (options.next !== undefined && options.nth !== undefined) {
      throw new OutOfRangeError('FaultTrigger takes `next` or `nth`, not both');
    }
    if (options.bytes !== undefined && (!Number.isInteger(options.bytes) || options.bytes < 0)) {
      throw new OutOfRangeError(`FaultOptions.bytes must be an integer >= 0, got ${options.bytes}`);
    }
  }

  disarm(): void {
    this.spent = true;
  }

  /** Counts a call on `path` (and `other`, rename's target) and says whether this fault hits it. */
  consider(path: string | undefined, other: string | undefined): boolean {
    if (this.spent) return false;
    const filter = this.options.path;
    if (
      filter !== undefined &&
      !(path !== undefined && filter(path)) &&
      !(other !== undefined && filter(other))
    ) {
      return false;
    }
    this.#seen++;
    const { next, nth } = this.options;
    let hit = true;
    if (next !== undefined) {
      if (this.#seen >= next) this.spent = true;
    } else if (nth !== undefined) {
      hit = this.#seen === nth;
      if (this.#seen >= nth) this.spent = true;
    }
    if (hit) this.hits++;
    return hit;
  }
}

function zeroCounts(): Record<FaultOp, number> {
  const counts = {} as Record<FaultOp, number>;
  for (const op of Object.keys(SYSCALL) as FaultOp[]) counts[op] = 0;
  return counts;
}

/**
 * A FilesFacade that passes every call to `inner` unless an armed fault hits
 * it; then it throws a Node-style error (code, errno, syscall, path) or, for
 * pwrite, writes fewer bytes than asked. Counts every call per method.
 *
 * ```ts
 * const files = new FaultInjectingFiles(defaultFiles);
 * files.enospcOnFallocate({ nth: 2 });
 * files.shortWrite({ next: 1, path: (p) => p.endsWith('.sfa') }, 10);
 * ```
 */
export class FaultInjectingFiles implements FilesFacade {
  /** Calls made per method, faulted or not. */
  readonly calls: Record<FaultOp, number> = zeroCounts();
  private raised = 0;
  readonly #faults: ArmedFault[] = [];
  readonly #paths = new Map<number, string>();
  readonly #mapped = new WeakMap<ArrayBuffer, string>();

  /** @param inner the facade that does the real work (usually `defaultFiles`) */
  constructor(readonly inner: FilesFacade) {}

  /** Arms a fault on `op`; see FaultTrigger and FaultOptions. */
  inject(op: FaultOp, options: FaultOptions = {}): Fault {
    if (!Object.hasOwn(SYSCALL, op))
      throw new InvalidArgumentError(`unknown FilesFacade method: ${op}`);
    const fault = new ArmedFault(op, options);
    this.#faults.push(fault);
    return fault;
  }

  /** Calls that a fault made fail or cut short (reset by `resetCounters()`). */
  get faultsRaised(): number {
    return this.raised;
  }

  /** pwrite writes only `bytes` (default: half of the request) and returns that count. */
  shortWrite(trigger: FaultTrigger = {}, bytes?: number): Fault {
    return this.inject('pwrite', bytes === undefined ? trigger : { ...trigger, bytes });
  }

  /** fsync throws EIO. */
  eioOnFsync(trigger: FaultTrigger = {}): Fault {
    return this.inject('fsync', { ...trigger, code: 'EIO' });
  }

  /** fallocate throws ENOSPC. */
  enospcOnFallocate(trigger: FaultTrigger = {}): Fault {
    return this.inject('fallocate', { ...trigger, code: 'ENOSPC' });
  }

  /** mmap throws `code` (default ENOMEM). */
  failMmap(trigger: FaultTrigger = {}, code = 'ENOMEM'): Fault {
    return this.inject('mmap', { ...trigger, code });
  }

  /** readdir throws `code` (default EIO). */
  failReaddir(trigger: FaultTrigger = {}, code = 'EIO'): Fault {
    return this.inject('readdir', { ...trigger, code });
  }

  /** unlink throws `code` (default EACCES). */
  failUnlink(trigger: FaultTrigger = {}, code = 'EACCES'): Fault {
    return this.inject('unlink', { ...trigger, code });
  }

  /** Disarms every fault. */
  clearFaults(): void {
    for (const fault of this.#faults) fault.disarm();
    this.#faults.length = 0;
  }

  /** Sets every call counter and `faultsRaised` back to 0. */
  resetCounters(): void {
    Object.assign(this.calls, zeroCounts());
    this.raised = 0;
  }

  /** Counts the call and returns the fault that hits it, if any (every armed fault counts the call). */
  // Fixed parameters and in-place compaction: every read and write of a test
  // run passes through here, so it allocates nothing.
  #check(op: FaultOp, path: string | undefined, other?: string): ArmedFault | undefined {
    this.calls[op]++;
    const faults = this.#faults;
    let hit: ArmedFault | undefined;
    for (let i = 0; i < faults.length; i++) {
      const fault = faults[i]!;
      if (fault.op === op && fault.consider(path, other) && hit === undefined) hit = fault;
    }
    let live = 0;
    for (let i = 0; i < faults.length; i++) {
      const fault = faults[i]!;
      if (!fault.spent) faults[live++] = fault;
    }
    faults.length = live;
    if (hit !== undefined) this.raised++;
    return hit;
  }

  #error(fault: ArmedFault, path: string | undefined): InjectedFaultError {
    const code = fault.options.code ?? DEFAULT_CODE[fault.op] ?? 'EIO';
    return new InjectedFaultError(code, SYSCALL[fault.op], path);
  }

  /** Throws the fault's error when one hits this call. */
  #guard(op: FaultOp, path: string | undefined, other?: string): void {
    const fault = this.#check(op, path, other);
    if (fault !== undefined) throw this.#error(fault, path);
  }

  open(path: string, flags: string, mode?: number): number {
    this.#guard('open', path);
    const fd = this.inner.open(path, flags, mode);
    this.#paths.set(fd, path);
    return fd;
  }

  close(fd: number): void {
    const path = this.#paths.get(fd);
    this.#paths.delete(fd);
    const fault = this.#check('close', path);
    // Linux releases the fd even when close(2) reports an error, so a faulted close does too.
    this.inner.close(fd);
    if (fault !== undefined) throw this.#error(fault, path);
  }

  pread(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    this.#guard('pread', this.#paths.get(fd));
    return this.inner.pread(fd, buf, offset, length, position);
  }

  pwrite(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    const path = this.#paths.get(fd);
    const fault = this.#check('pwrite', path);
    if (fault === undefined) return this.inner.pwrite(fd, buf, offset, length, position);
    if (fault.options.code !== undefined) throw this.#error(fault, path);
    const short = Math.min(fault.options.bytes ?? Math.floor(length / 2), length);
    return short === 0 ? 0 : this.inner.pwrite(fd, buf, offset, short, position);
  }

  ftruncate(fd: number, length: number): void {
    this.#guard('ftruncate', this.#paths.get(fd));
    this.inner.ftruncate(fd, length);
  }

  fsync(fd: number): void {
    this.#guard('fsync', this.#paths.get(fd));
    this.inner.fsync(fd);
  }

  fstat(fd: number): FileStat {
    this.#guard('fstat', this.#paths.get(fd));
    return this.inner.fstat(fd);
  }

  stat(path: string): FileStat {
    this.#guard('stat', path);
    return this.inner.stat(path);
  }

  rename(from: string, to: string): void {
    this.#guard('rename', from, to);
    this.inner.rename(from, to);
  }

  unlink(path: string): void {
    this.#guard('unlink', path);
    this.inner.unlink(path);
  }

  readdir(path: string): string[] {
    this.#guard('readdir', path);
    return this.inner.readdir(path);
  }

  mkdir(path: string, recursive: boolean): void {
    this.#guard('mkdir', path);
    this.inner.mkdir(path, recursive);
  }

  fsyncDir(path: string): void {
    this.#guard('fsyncDir', path);
    this.inner.fsyncDir(path);
  }

  fallocate(fd: number, offset: number, length: number): void {
    this.#guard('fallocate', this.#paths.get(fd));
    this.inner.fallocate(fd, offset, length);
  }

  mmap(fd: number, offset: number, length: number, mode: MapMode): ArrayBuffer {
    const path = this.#paths.get(fd);
    this.#guard('mmap', path);
    const buf = this.inner.mmap(fd, offset, length, mode);
    if (path !== undefined) this.#mapped.set(buf, path);
    return buf;
  }

  munmap(buf: ArrayBuffer): void {
    this.#guard('munmap', this.#mapped.get(buf));
    this.inner.munmap(buf);
  }

  msync(buf: ArrayBuffer, offset: number, length: number, sync: boolean): void {
    this.#guard('msync', this.#mapped.get(buf));
    this.inner.msync(buf, offset, length, sync);
  }

  madvise(buf: ArrayBuffer, offset: number, length: number, advice: Advice): void {
    this.#guard('madvise', this.#mapped.get(buf));
    this.inner.madvise(buf, offset, length, advice);
  }

  tryLock(fd: number): boolean {
    this.#guard('tryLock', this.#paths.get(fd));
    return this.inner.tryLock(fd);
  }

  unlock(fd: number): void {
    this.#guard('unlock', this.#paths.get(fd));
    this.inner.unlock(fd);
  }

  pageSize(): number {
    this.#guard('pageSize', undefined);
    return this.inner.pageSize();
  }
}
