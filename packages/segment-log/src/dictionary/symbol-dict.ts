import { crc32cRange } from '@qwp/crc32c';
import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import { readVarint, type VarintValue, varintSize, writeVarint } from '@qwp/qwp-wire/codec';
import {
  BadArgumentError,
  ClosedError,
  errnoOf,
  reasonOf,
  SegmentCorruptError,
  SegmentIoError,
  suppress,
  UnsupportedVersionError,
} from '../errors.js';
import {
  closeQuietlyInto,
  openFile,
  readWhole,
  syncDirectory,
  useThenClose,
  writeFully,
} from '../file-io.js';
import {
  CORRUPT_SUFFIX,
  DICT_FILE_NAME,
  DICT_HEADER_SIZE,
  DICT_MAGIC,
  DICT_VERSION,
} from '../format.js';

/** What parsing a `.symbol-dict` image found. */
export interface SymbolDictScan {
  /** Symbols in id order (entry i is id i), from the CRC-valid chunks only. */
  entries: string[];
  chunks: number;
  /** Header plus every CRC-valid chunk: where the next chunk goes. */
  validLength: number;
  /** Bytes after the last good chunk (a torn or corrupt tail). */
  tornTailBytes: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const encoder = new TextEncoder();
const CRC_SIZE = 4;
/** More entries than any chunk can hold (each takes at least one byte): a corrupt count. */
const MAX_COUNT = 0x7fff_ffff;

/**
 * Parses a whole dictionary image: checks the header, then takes chunks
 * while each is complete, CRC-valid and well-formed, and stops at the first
 * that is not. A bad magic throws {@link SegmentCorruptError}, an unknown
 * version {@link UnsupportedVersionError}.
 */
export function parseSymbolDict(image: Uint8Array, path: string): SymbolDictScan {
  if (image.length < DICT_HEADER_SIZE) {
    throw new SegmentCorruptError(
      `${path} is ${image.length} bytes, shorter than the ${DICT_HEADER_SIZE}-byte dictionary header`,
      path,
    );
  }
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const magic = view.getUint32(0, true);
  if (magic !== DICT_MAGIC) {
    throw new SegmentCorruptError(
      `${path} has bad dictionary magic 0x${magic.toString(16).padStart(8, '0')}`,
      path,
    );
  }
  if (image[4] !== DICT_VERSION) throw new UnsupportedVersionError(path, image[4]!);
  if (image[5] !== 0 || image[6] !== 0 || image[7] !== 0) {
    throw new SegmentCorruptError(`${path} has non-zero reserved header bytes`, path);
  }
  const entries: string[] = [];
  const v: VarintValue = { value: 0 };
  const limit = image.length;
  let pos = DICT_HEADER_SIZE;
  let chunks = 0;
  while (pos < limit) {
    const countEnd = readVarint(image, pos, limit, v);
    if (countEnd < 0) break;
    const count = v.value;
    const entriesStart = readVarint(image, countEnd, limit, v);
    if (entriesStart < 0) break;
    const entriesEnd = entriesStart + v.value;
    // A zero count is the zero-filled tail Java's 4 MiB growth leaves, or a torn chunk.
    if (count === 0 || count > MAX_COUNT || entriesEnd + CRC_SIZE > limit) break;
    const crc = crc32cRange(image, pos, entriesEnd - pos);
    if (crc !== view.getUint32(entriesEnd, true)) break;
    const parsed = parseEntries(image, entriesStart, entriesEnd, count, v);
    if (parsed === undefined) break;
    for (const sym of parsed) entries.push(sym);
    pos = entriesEnd + CRC_SIZE;
    chunks++;
  }
  return { entries, chunks, validLength: pos, tornTailBytes: limit - pos };
}

/** Decodes exactly `count` `[len varint][utf8]` entries filling `[start, end)`, or undefined. */
export function parseEntries(
  image: Uint8Array,
  start: number,
  end: number,
  count: number,
  v: VarintValue = { value: 0 },
): string[] | undefined {
  const out: string[] = [];
  let p = start;
  for (let i = 0; i < count; i++) {
    const strStart = readVarint(image, p, end, v);
    if (strStart < 0) return undefined;
    const strEnd = strStart + v.value;
    if (strEnd > end) return undefined;
    out.push(utf8.decode(image.subarray(strStart, strEnd)));
    p = strEnd;
  }
  return p === end ? out : undefined;
}

/** Reads and parses a dictionary file without modifying it. */
export function inspectSymbolDict(
  path: string,
  files: FilesFacade = defaultFiles,
): SymbolDictScan & { fileSize: number } {
  const fd = openFile(files, path, 'r', 'open dictionary');
  return useThenClose(files, fd, path, () => {
    const image = readWhole(files, fd, path);
    return { ...parseSymbolDict(image, path), fileSize: image.length };
  });
}

/** Options of {@link PersistedSymbolDict.open}. */
export interface OpenDictOptions {
  files?: FilesFacade;
}

/**
 * The slot's `.symbol-dict`: every symbol the sender has given an id, as
 * CRC-checked chunks (one chunk per frame that introduced new symbols).
 * The producer appends a frame's new symbols BEFORE publishing the frame,
 * so the dictionary on disk always covers every frame that survives.
 */
export class PersistedSymbolDict {
  /** Bytes of torn tail dropped at open. */
  readonly tornTailBytes: number;
  private readonly loaded: string[];
  private appendOffset: number;
  private count: number;
  private scratch = new Uint8Array(256);
  /** Chunks written since the last fsync. */
  private dirty = false;
  private closed = false;

  private constructor(
    private readonly files: FilesFacade,
    readonly path: string,
    private fd: number,
    appendOffset: number,
    loaded: string[],
    tornTailBytes: number,
  ) {
    this.appendOffset = appendOffset;
    this.loaded = loaded;
    this.count = loaded.length;
    this.tornTailBytes = tornTailBytes;
  }

  /**
   * Opens `<slotDir>/.symbol-dict` for recovery: parses and keeps every
   * CRC-valid chunk and truncates a torn tail; creates the file when absent
   * (or when only a sub-header stub exists). Never recreates over a file with
   * a header: a bad magic or version throws and leaves the file untouched.
   */
  static open(slotDir: string, options: OpenDictOptions = {}): PersistedSymbolDict {
    const files = options.files ?? defaultFiles;
    const path = `${slotDir}/${DICT_FILE_NAME}`;
    let existing = -1;
    try {
      existing = files.stat(path).size;
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') {
        throw new SegmentIoError(`cannot stat dictionary ${path}: ${reasonOf(err)}`, path, err);
      }
    }
    if (existing < DICT_HEADER_SIZE) return PersistedSymbolDict.create(files, slotDir);
    const fd = openFile(files, path, 'r+', 'open dictionary');
    try {
      const scan = parseSymbolDict(readWhole(files, fd, path), path);
      if (scan.tornTailBytes > 0) {
        try {
          files.ftruncate(fd, scan.validLength);
        } catch (err) {
          throw new SegmentIoError(
            `cannot truncate the torn tail of ${path} at ${scan.validLength}: ${reasonOf(err)}`,
            path,
            err,
          );
        }
      }
      const dict = new PersistedSymbolDict(
        files,
        path,
        fd,
        scan.validLength,
        scan.entries,
        scan.tornTailBytes,
      );
      // Chunks an earlier process wrote may sit in the page cache only: the
      // first sync from here (a flush, a trim) makes them durable too.
      dict.dirty = scan.chunks > 0 || scan.tornTailBytes > 0;
      return dict;
    } catch (err) {
      closeQuietlyInto(files, fd, err);
      throw err;
    }
  }

  /** Opens `<slotDir>/.symbol-dict` empty, discarding any previous content (a fresh slot). */
  static openClean(slotDir: string, options: OpenDictOptions = {}): PersistedSymbolDict {
    return PersistedSymbolDict.create(options.files ?? defaultFiles, slotDir);
  }

  /**
   * Moves an unreadable `.symbol-dict` (a bad header or another version)
   * aside to `.symbol-dict.corrupt`, keeping its bytes, and starts a fresh
   * one holding `symbols` (fsynced). Recovery calls it only once the stored
   * frames rebuilt every id their deltas define, from id 0.
   */
  static replace(
    slotDir: string,
    symbols: readonly string[],
    options: OpenDictOptions = {},
  ): { dict: PersistedSymbolDict; quarantinedTo: string } {
    const files = options.files ?? defaultFiles;
    const path = `${slotDir}/${DICT_FILE_NAME}`;
    const aside = `${path}${CORRUPT_SUFFIX}`;
    try {
      files.rename(path, aside);
    } catch (err) {
      throw new SegmentIoError(`cannot move ${path} aside: ${reasonOf(err)}`, path, err);
    }
    const dict = PersistedSymbolDict.create(files, slotDir);
    try {
      dict.extend(symbols);
    } catch (err) {
      try {
        dict.close();
      } catch (closeErr) {
        suppress(err, closeErr);
      }
      throw err;
    }
    return { dict, quarantinedTo: aside };
  }

  private static create(files: FilesFacade, slotDir: string): PersistedSymbolDict {
    const path = `${slotDir}/${DICT_FILE_NAME}`;
    const fd = openFile(files, path, 'w+', 'create dictionary', 0o644);
    try {
      const header = new Uint8Array(DICT_HEADER_SIZE);
      new DataView(header.buffer).setUint32(0, DICT_MAGIC, true);
      header[4] = DICT_VERSION;
      writeFully(files, fd, path, header, 0, DICT_HEADER_SIZE, 0);
      // A fresh `.symbol-dict`: make its directory entry durable before any chunk relies on it.
      syncDirectory(files, slotDir);
      return new PersistedSymbolDict(files, path, fd, DICT_HEADER_SIZE, [], 0);
    } catch (err) {
      closeQuietlyInto(files, fd, err);
      throw err;
    }
  }

  /**
   * Every symbol known, in id order: those recovered at open, then any that
   * recovery rebuilt from the stored frames. Symbols appended later are not
   * listed here (the caller knows them).
   */
  get loadedSymbols(): readonly string[] {
    return this.loaded;
  }

  /** True when chunks were written since the last fsync. */
  get needsSync(): boolean {
    return this.dirty;
  }

  /**
   * Appends `symbols` (rebuilt by recovery) as one chunk, lists them in
   * {@link loadedSymbols} and fsyncs, so the ids they take are durable before
   * any new frame can use the ids after them.
   */
  extend(symbols: readonly string[]): void {
    if (symbols.length === 0) return;
    this.appendSymbols(symbols);
    for (const sym of symbols) this.loaded.push(sym);
    this.fsync();
  }

  /** Number of symbols (the next id). */
  get size(): number {
    return this.count;
  }

  /** Bytes of header plus chunks written so far. */
  get length(): number {
    return this.appendOffset;
  }

  /**
   * Appends `symbols` as one chunk (ids `size .. size+n-1`). A failed write
   * throws without advancing, so a retry rewrites the same chunk in place.
   */
  appendSymbols(symbols: readonly string[]): void {
    if (this.closed) throw new ClosedError(`dictionary ${this.path}`);
    if (symbols.length === 0) return;
    let entryBytes = 0;
    for (const s of symbols) {
      const n = Buffer.byteLength(s, 'utf8');
      entryBytes += varintSize(n) + n;
    }
    const head = varintSize(symbols.length) + varintSize(entryBytes);
    const buf = this.ensureScratch(head + entryBytes + CRC_SIZE);
    let p = writeVarint(buf, 0, symbols.length);
    p = writeVarint(buf, p, entryBytes);
    for (const s of symbols) {
      p = writeVarint(buf, p, Buffer.byteLength(s, 'utf8'));
      p += encoder.encodeInto(s, buf.subarray(p)).written;
    }
    this.writeChunk(buf, p, symbols.length);
  }

  /**
   * Appends `count` wire entries (`[len varint][utf8]` each, exactly filling
   * `entries`, as a frame's symbol delta carries them) as one chunk.
   */
  appendRawEntries(entries: Uint8Array, count: number): void {
    if (this.closed) throw new ClosedError(`dictionary ${this.path}`);
    if (count === 0 && entries.length === 0) return;
    if (count <= 0 || parseEntries(entries, 0, entries.length, count) === undefined) {
      throw new BadArgumentError(
        `raw dictionary entries (${entries.length} bytes) do not hold exactly ${count} [len][utf8] entries`,
      );
    }
    const head = varintSize(count) + varintSize(entries.length);
    const buf = this.ensureScratch(head + entries.length + CRC_SIZE);
    let p = writeVarint(buf, 0, count);
    p = writeVarint(buf, p, entries.length);
    buf.set(entries, p);
    this.writeChunk(buf, p + entries.length, count);
  }

  /** fsync(2) of the dictionary (for OS-crash durability; not needed for a process crash). */
  fsync(): void {
    if (this.closed) throw new ClosedError(`dictionary ${this.path}`);
    try {
      this.files.fsync(this.fd);
      this.dirty = false;
    } catch (err) {
      throw new SegmentIoError(`cannot fsync ${this.path}: ${reasonOf(err)}`, this.path, err);
    }
  }

  /** Syncs what is pending and closes the file; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.files.close(this.fd);
    } catch (err) {
      throw new SegmentIoError(`cannot close ${this.path}: ${reasonOf(err)}`, this.path, err);
    } finally {
      this.fd = -1;
    }
  }

  private writeChunk(buf: Uint8Array, entriesEnd: number, count: number): void {
    const crc = crc32cRange(buf, 0, entriesEnd);
    new DataView(buf.buffer, buf.byteOffset).setUint32(entriesEnd, crc, true);
    const total = entriesEnd + CRC_SIZE;
    writeFully(this.files, this.fd, this.path, buf, 0, total, this.appendOffset);
    this.appendOffset += total;
    this.count += count;
    this.dirty = true;
  }

  private ensureScratch(n: number): Uint8Array {
    if (this.scratch.length < n) {
      this.scratch = new Uint8Array(Math.max(n, this.scratch.length * 2));
    }
    return this.scratch;
  }
}
