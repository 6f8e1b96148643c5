import {
  closeSync,
  existsSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type Advice,
  defaultFiles,
  type FileStat,
  type FilesFacade,
  type MapMode,
} from '@qwp/files-native';

const PAGE = 4096;

/** One file as the simulated disk knows it, followed through renames and unlinks. */
interface Node {
  path: string;
  /** The bytes (and length) an OS crash cannot lose: what the last fsync/msync covered. */
  durable: Uint8Array;
}

type DirOp =
  | { kind: 'create'; dir: string; node: Node }
  | { kind: 'rename'; dir: string; node: Node; from: string; to: string; replaced?: Node }
  | { kind: 'unlink'; dir: string; node: Node; path: string };

/** How much of what was not made durable an OS crash keeps. */
export type LossMode = 'all-lost' | 'random';

/**
 * A FilesFacade over the real file system that can simulate an OS crash
 * (power loss), for the slot's files:
 * - file contents: every page not covered by an fsync of the file or an
 *   msync(MS_SYNC) of its mapping since it last changed is lost, all of them
 *   (`all-lost`) or each independently with probability 1/2 (`random`: the
 *   kernel writes dirty pages back in any order, so any subset may have
 *   reached the disk); a file's length is what its durable pages need;
 * - directory entries: creates, renames and unlinks not followed by an fsync
 *   of their directory are undone, newest first (a journaling file system
 *   commits them in order, so what survives is a prefix: all of them undone,
 *   or a random prefix kept).
 * Writes through a mapping are invisible to a facade; they are found at the
 * crash by comparing each file with its durable image.
 */
export class PowerLossFiles implements FilesFacade {
  private readonly nodes = new Map<string, Node>();
  private readonly byFd = new Map<number, Node>();
  private readonly byBuffer = new WeakMap<ArrayBuffer, Node>();
  private ops: DirOp[] = [];
  private stashes = 0;
  /** Pages written back (kept) and lost (reverted) by the crashes so far. */
  pagesKept = 0;
  pagesLost = 0;
  /** Directory operations undone by the crashes so far. */
  entriesUndone = 0;

  constructor(
    private readonly stashDir: string,
    private readonly inner: FilesFacade = defaultFiles,
  ) {}

  /**
   * The machine loses power: directory operations and page contents that
   * were not made durable are undone (see the class comment). `rand` makes
   * the `random` choices. Afterwards everything on disk is durable.
   */
  powerLoss(mode: LossMode, rand: () => number): void {
    const pending = this.ops;
    const keep = mode === 'all-lost' ? 0 : Math.floor(rand() * (pending.length + 1));
    for (let i = pending.length - 1; i >= keep; i--) {
      const op = pending[i]!;
      this.entriesUndone++;
      if (op.kind === 'create') {
        unlinkSync(op.node.path);
        this.nodes.delete(op.node.path);
      } else if (op.kind === 'rename') {
        renameSync(op.to, op.from);
        this.nodes.delete(op.to);
        op.node.path = op.from;
        this.nodes.set(op.from, op.node);
        if (op.replaced !== undefined) {
          renameSync(op.replaced.path, op.to);
          op.replaced.path = op.to;
          this.nodes.set(op.to, op.replaced);
        }
      } else {
        renameSync(op.node.path, op.path);
        op.node.path = op.path;
        this.nodes.set(op.path, op.node);
      }
    }
    this.ops = [];
    for (const node of this.nodes.values()) this.revert(node, mode, rand);
  }

  /** Rewrites `node`'s file as the crash leaves it and makes that its durable image. */
  private revert(node: Node, mode: LossMode, rand: () => number): void {
    if (!existsSync(node.path)) return;
    const now = new Uint8Array(readFileSync(node.path));
    const old = node.durable;
    // A length change (growth, a truncate) that was never synced survives or not as a whole.
    const length =
      now.length === old.length || (mode === 'random' && rand() < 0.5) ? now.length : old.length;
    const out = new Uint8Array(length);
    const page = (bytes: Uint8Array, from: number, to: number) => {
      const p = new Uint8Array(to - from); // beyond a file's end reads as zeros (a hole)
      p.set(bytes.subarray(from, Math.min(to, bytes.length)));
      return p;
    };
    for (let from = 0; from < length; from += PAGE) {
      const to = Math.min(from + PAGE, length);
      const nowPage = page(now, from, to);
      const oldPage = page(old, from, to);
      const same = nowPage.every((b, i) => b === oldPage[i]);
      const kept = same || (mode === 'random' && rand() < 0.5);
      if (!same) {
        if (kept) this.pagesKept++;
        else this.pagesLost++;
      }
      out.set(kept ? nowPage : oldPage, from);
    }
    const fd = openSync(node.path, 'r+');
    try {
      writeSync(fd, out, 0, out.length, 0);
      ftruncateSync(fd, out.length);
    } finally {
      closeSync(fd);
    }
    node.durable = out;
  }

  /** Marks the whole current content of `node` durable. */
  private syncWhole(node: Node): void {
    node.durable = existsSync(node.path) ? new Uint8Array(readFileSync(node.path)) : node.durable;
  }

  private nodeFor(path: string): Node {
    let node = this.nodes.get(path);
    if (node === undefined) {
      // A file from before the facade saw it: on disk, durable as it is.
      node = {
        path,
        durable: existsSync(path) ? new Uint8Array(readFileSync(path)) : new Uint8Array(0),
      };
      this.nodes.set(path, node);
    }
    return node;
  }

  open(path: string, flags: string, mode?: number): number {
    const creates = /[wax]/.test(flags) && !existsSync(path);
    const fd = this.inner.open(path, flags, mode);
    let node: Node;
    if (creates) {
      node = { path, durable: new Uint8Array(0) };
      this.nodes.set(path, node);
      this.ops.push({ kind: 'create', dir: dirname(path), node });
    } else {
      node = this.nodeFor(path);
    }
    this.byFd.set(fd, node);
    return fd;
  }
  rename(from: string, to: string): void {
    const node = this.nodeFor(from);
    const replaced = this.nodes.get(to);
    if (replaced !== undefined) {
      // Keep the replaced file aside so a crash can bring it back.
      const stash = join(this.stashDir, `replaced-${this.stashes++}`);
      this.inner.rename(to, stash);
      replaced.path = stash;
    }
    this.inner.rename(from, to);
    this.nodes.delete(from);
    node.path = to;
    this.nodes.set(to, node);
    this.ops.push({ kind: 'rename', dir: dirname(to), node, from, to, replaced });
  }
  unlink(path: string): void {
    const node = this.nodeFor(path);
    // Kept aside (same file system) so a power loss can bring it back.
    const stash = join(this.stashDir, `unlinked-${this.stashes++}`);
    this.inner.rename(path, stash);
    this.nodes.delete(path);
    node.path = stash;
    this.ops.push({ kind: 'unlink', dir: dirname(path), node, path });
  }
  fsyncDir(path: string): void {
    this.inner.fsyncDir(path);
    const dir = path.replace(/\/+$/, '');
    this.ops = this.ops.filter((op) => op.dir !== dir);
  }
  fsync(fd: number): void {
    this.inner.fsync(fd);
    const node = this.byFd.get(fd);
    if (node !== undefined) this.syncWhole(node);
  }
  mmap(fd: number, offset: number, length: number, mode: MapMode): ArrayBuffer {
    const buf = this.inner.mmap(fd, offset, length, mode);
    const node = this.byFd.get(fd);
    if (node !== undefined) this.byBuffer.set(buf, node);
    return buf;
  }
  msync(buf: ArrayBuffer, offset: number, length: number, sync: boolean): void {
    this.inner.msync(buf, offset, length, sync);
    const node = this.byBuffer.get(buf);
    if (node === undefined || !sync || !existsSync(node.path)) return;
    const now = new Uint8Array(readFileSync(node.path));
    // msync(MS_SYNC) writes the range's pages (and, like fdatasync, the file's length).
    const from = Math.floor(offset / PAGE) * PAGE;
    const to = Math.min(now.length, Math.ceil((offset + length) / PAGE) * PAGE);
    const next = new Uint8Array(now.length);
    next.set(node.durable.subarray(0, Math.min(node.durable.length, now.length)));
    next.set(now.subarray(from, to), from);
    node.durable = next;
  }
  close(fd: number): void {
    this.inner.close(fd);
    this.byFd.delete(fd);
  }
  pread(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    return this.inner.pread(fd, buf, offset, length, position);
  }
  pwrite(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    return this.inner.pwrite(fd, buf, offset, length, position);
  }
  ftruncate(fd: number, length: number): void {
    this.inner.ftruncate(fd, length);
  }
  fstat(fd: number): FileStat {
    return this.inner.fstat(fd);
  }
  stat(path: string): FileStat {
    return this.inner.stat(path);
  }
  readdir(path: string): string[] {
    return this.inner.readdir(path);
  }
  mkdir(path: string, recursive: boolean): void {
    this.inner.mkdir(path, recursive);
  }
  fallocate(fd: number, offset: number, length: number): void {
    this.inner.fallocate(fd, offset, length);
  }
  munmap(buf: ArrayBuffer): void {
    this.inner.munmap(buf);
  }
  madvise(buf: ArrayBuffer, offset: number, length: number, advice: Advice): void {
    this.inner.madvise(buf, offset, length, advice);
  }
  tryLock(fd: number): boolean {
    return this.inner.tryLock(fd);
  }
  unlock(fd: number): void {
    this.inner.unlock(fd);
  }
  pageSize(): number {
    return this.inner.pageSize();
  }
}
