import { QwpBatchSizeError, QwpError } from '../errors.js';
import { ByteWriter } from './byte-writer.js';
import type { ColumnBuffer } from './column-buffer.js';
import {
  ColumnType,
  ENCODING_GORILLA,
  ENCODING_UNCOMPRESSED,
  FLAG_DEFER_COMMIT,
  FLAG_DELTA_SYMBOL_DICT,
  FLAG_GORILLA,
  HEADER_SIZE,
  Limits,
  MAGIC,
  VERSION,
} from './constants.js';
import type { GlobalSymbolDictionary } from './global-symbol-dictionary.js';
import { writeGorilla } from './gorilla-encoder.js';
import type { TableBuffer } from './table-buffer.js';

/**
 * Receives one encoded frame, a view valid until the call returns. Symbol
 * ids `[deltaStart, deltaEnd)` are new in this frame (its dictionary delta;
 * equal when it has none): a store-and-forward sender persists exactly those
 * strings (`dict.symbols[id]`, `dict.utf8[id]`) before it stores the frame.
 */
export type FrameSink = (frame: Uint8Array, deltaStart: number, deltaEnd: number) => void;

/** The sink of a dry run: the frames are only measured. */
const discardFrame: FrameSink = () => {};

/** Encoder settings. */
export interface EncoderOptions {
  /** Set FLAG_GORILLA and compress timestamp columns where it fits (default true). */
  gorilla?: boolean;
  /** Max bytes of one message (default 16 MiB); set it from X-QWP-Max-Batch-Size. */
  maxBatchSize?: number;
}

/**
 * Encodes table buffers into QWP messages for one connection at a time.
 * Every message sets FLAG_DELTA_SYMBOL_DICT; the encoder keeps the sent
 * watermark (`sentSymbols`: ids below it have crossed this connection) and
 * puts only newer ids in each delta. Call {@link resetConnection} on a new
 * connection, then send {@link encodeCatchUp} frames before replayed data.
 * One reusable scratch buffer; each returned frame is its own copy.
 */
export class QwpEncoder {
  private readonly dict: GlobalSymbolDictionary;
  private readonly gorilla: boolean;
  private readonly w = new ByteWriter();
  private maxBytes: number;
  private sent = 0;

  constructor(dict: GlobalSymbolDictionary, options: EncoderOptions = {}) {
    this.dict = dict;
    this.gorilla = options.gorilla ?? true;
    this.maxBytes = checkMaxBatchSize(options.maxBatchSize ?? Limits.MAX_BATCH_SIZE);
  }

  /** Max bytes of one message, header included; see {@link setMaxBatchSize}. */
  get maxBatchSize(): number {
    return this.maxBytes;
  }

  /** Symbol ids `[0, sentSymbols)` have been sent on this connection. */
  get sentSymbols(): number {
    return this.sent;
  }

  /**
   * Sets the max bytes of one message, header included (e.g. from the
   * server's X-QWP-Max-Batch-Size once connected). Throws QwpError
   * ERR_QWP_BATCH_SIZE for a value that is not an integer of at least
   * {@link HEADER_SIZE} + 1.
   */
  setMaxBatchSize(bytes: number): void {
    this.maxBytes = checkMaxBatchSize(bytes);
  }

  /**
   * Declares ids `[0, count)` already known to the server on this
   * connection: a sender restoring a dictionary whose symbols its stored
   * frames carried, or rolling the watermark back to resend the symbols of
   * frames it took back. Throws QwpError ERR_QWP_SYMBOL_DICTIONARY unless
   * `count` is an integer in `[0, dictionary size]`.
   */
  setSentSymbols(count: number): void {
    if (!Number.isInteger(count) || count < 0 || count > this.dict.size) {
      throw new QwpError(
        'ERR_QWP_SYMBOL_DICTIONARY',
        `sentSymbols must be an integer in [0, ${this.dict.size}] (the dictionary's size), got ${count}`,
      );
    }
    this.sent = count;
  }

  /** A new connection: the server's dictionary is empty again. */
  resetConnection(): void {
    this.sent = 0;
  }

  /**
   * Encodes the non-empty `tables` as one logical batch: one message if it
   * fits `maxBatchSize` and no table has more than 1,000,000 rows (the
   * server's per-block limit), else several, FLAG_DEFER_COMMIT on all but the
   * last (on all of them if `deferCommit`). New symbols go in the first frame's
   * delta (or, if they alone do not fit, in delta-only frames before it).
   * Throws QwpBatchSizeError if a single row cannot fit in a frame.
   * Returns one copy per frame; see {@link encodeEach} to avoid the copies.
   */
  encode(tables: Iterable<TableBuffer>, deferCommit = false): Uint8Array[] {
    const frames: Uint8Array[] = [];
    this.encodeEach(tables, (f) => frames.push(f.slice()), deferCommit);
    return frames;
  }

  /**
   * Like {@link encode}, but hands each frame to `sink` as a view of the
   * encoder's scratch, valid only until `sink` returns (e.g. to copy it
   * straight into a segment). The symbol watermark advances only past frames
   * `sink` accepted: if it throws, the symbols of that frame are resent.
   * A row too large for any frame throws before `sink` sees a frame with
   * rows (only delta-only frames, which commit nothing, may precede it).
   */
  encodeEach(tables: Iterable<TableBuffer>, sink: FrameSink, deferCommit = false): void {
    this.checkWatermark();
    const list: TableBuffer[] = [];
    for (const t of tables) if (t.rowCount > 0) list.push(t);
    if (this.tryWhole(list, sink, deferCommit)) return;
    if (this.deltaSize(this.sent, this.dict.size) + HEADER_SIZE > this.maxBytes) {
      this.encodeDictionaryFrames(this.sent, sink);
    }
    // Split once without a sink first: a row that fits no frame must fail
    // before any DEFER_COMMIT frame is taken, or the next committing frame
    // would commit the part of this batch sent ahead of the failure.
    const watermark = this.sent;
    this.splitInto(list, discardFrame, deferCommit);
    this.sent = watermark;
    this.splitInto(list, sink, deferCommit);
  }

  /**
   * Catch-up after (re)connect: the whole dictionary, ids 0.., as delta-only
   * messages with FLAG_DEFER_COMMIT and no tables, split to fit. Marks all
   * ids sent. Returns no frames for an empty dictionary.
   */
  encodeCatchUp(): Uint8Array[] {
    const frames: Uint8Array[] = [];
    this.encodeDictionaryFrames(0, (f) => frames.push(f.slice()));
    return frames;
  }

  /** An empty message with FLAG_DEFER_COMMIT clear: commits deferred rows. */
  encodeCommit(): Uint8Array {
    this.checkWatermark();
    this.beginMessage();
    this.writeDelta(this.sent, this.sent);
    return this.finishMessage(0).slice();
  }

  /** A dictionary truncated below the watermark would make a delta of negative length. */
  private checkWatermark(): void {
    if (this.sent > this.dict.size) {
      throw new QwpError(
        'ERR_QWP_SYMBOL_DICTIONARY',
        `the symbol dictionary holds ${this.dict.size} symbols, fewer than the ${this.sent} already sent on this connection (truncated below sentSymbols without resetConnection())`,
      );
    }
  }

  // ---- message framing ----

  private beginMessage(): void {
    const w = this.w;
    w.reset();
    w.ensure(HEADER_SIZE);
    w.pos = HEADER_SIZE;
  }

  /** Fills in the header; returns a view of the message in the scratch. */
  private finishMessage(flags: number, tableCount = 0): Uint8Array {
    const w = this.w;
    const v = w.view;
    v.setUint32(0, MAGIC, true);
    v.setUint8(4, VERSION);
    v.setUint8(5, flags | FLAG_DELTA_SYMBOL_DICT | (this.gorilla ? FLAG_GORILLA : 0));
    v.setUint16(6, tableCount, true);
    v.setUint32(8, w.pos - HEADER_SIZE, true);
    return w.buf.subarray(0, w.pos);
  }

  private writeDelta(from: number, to: number): void {
    const w = this.w;
    w.varint(from);
    w.varint(to - from);
    const utf8 = this.dict.utf8;
    for (let id = from; id < to; id++) w.lengthPrefixed(utf8[id]!);
  }

  private deltaSize(from: number, to: number): number {
    let n = 20;
    for (let id = from; id < to; id++) n += 5 + this.dict.utf8[id]!.length;
    return n;
  }

  private tryWhole(list: TableBuffer[], sink: FrameSink, deferCommit: boolean): boolean {
    if (list.length > Limits.MAX_TABLES_PER_MESSAGE) return false;
    for (const t of list) if (t.rowCount > Limits.MAX_ROWS_PER_TABLE) return false;
    this.beginMessage();
    const dictEnd = this.dict.size;
    this.writeDelta(this.sent, dictEnd);
    for (const t of list) {
      writeTableBlock(this.w, t, 0, t.rowCount, this.gorilla);
      if (this.w.pos > this.maxBytes) return false;
    }
    sink(this.finishMessage(deferCommit ? FLAG_DEFER_COMMIT : 0, list.length), this.sent, dictEnd);
    this.sent = dictEnd;
    return true;
  }

  /** Delta-only frames covering ids `[from, dict.size)`, each DEFER_COMMIT. */
  private encodeDictionaryFrames(from: number, sink: FrameSink): void {
    const utf8 = this.dict.utf8;
    const end = this.dict.size;
    let id = from;
    while (id < end) {
      // Worst-case delta header: two 5-byte varints.
      let budget = this.maxBytes - HEADER_SIZE - 10;
      let stop = id;
      while (stop < end) {
        const need = 5 + utf8[stop]!.length;
        if (need > budget) break;
        budget -= need;
        stop++;
      }
      if (stop === id) {
        throw new QwpBatchSizeError(
          `symbol ${id}`,
          HEADER_SIZE + 15 + utf8[id]!.length,
          this.maxBytes,
        );
      }
      this.beginMessage();
      this.writeDelta(id, stop);
      sink(this.finishMessage(FLAG_DEFER_COMMIT), id, stop);
      this.sent = stop;
      id = stop;
    }
  }

  /** Packs table row ranges greedily into frames no larger than maxBatchSize. */
  private splitInto(list: TableBuffer[], sink: FrameSink, deferCommit: boolean): void {
    const w = this.w;
    const max = this.maxBytes;
    let tablesInFrame = 0;
    let frameDictEnd = this.sent;
    const open = (): void => {
      this.beginMessage();
      frameDictEnd = this.dict.size;
      this.writeDelta(this.sent, frameDictEnd);
      tablesInFrame = 0;
    };
    const close = (last: boolean): void => {
      sink(
        this.finishMessage(last && !deferCommit ? 0 : FLAG_DEFER_COMMIT, tablesInFrame),
        this.sent,
        frameDictEnd,
      );
      this.sent = frameDictEnd;
    };
    open();
    for (const t of list) {
      let row = 0;
      // Average bytes per row of `t` and of its block with no rows (name,
      // schema, column headers), measured on its first attempt. Each later
      // attempt tries the rows that fit the space left, and a sixteenth more,
      // instead of every row left: writing the whole rest once per frame made
      // a split quadratic in the rows.
      let perRow = 0;
      let overhead = 0;
      while (row < t.rowCount) {
        const mark = w.pos;
        const left = Math.min(t.rowCount - row, Limits.MAX_ROWS_PER_TABLE);
        let rows = left;
        if (perRow > 0) {
          const fit = Math.max(0, Math.floor((max - mark - overhead) / perRow));
          rows = Math.max(1, Math.min(left, fit + (fit >>> 4) + 1));
        }
        writeTableBlock(w, t, row, row + rows, this.gorilla);
        if (perRow === 0) {
          const size = w.pos - mark;
          writeTableBlock(w, t, row, row, this.gorilla);
          overhead = w.pos - mark - size;
          w.pos = mark + size;
          perRow = Math.max((size - overhead) / rows, 1 / 8);
        }
        if (w.pos > max || tablesInFrame === Limits.MAX_TABLES_PER_MESSAGE) {
          // Shrink the range until it fits the space left in this frame: scale
          // the rows by how much the rows' part of the block overshot, and a
          // little more each time the rows are denser than average.
          let shrink = 1;
          for (;;) {
            const rowBytes = w.pos - mark - overhead;
            w.pos = mark;
            if (tablesInFrame === Limits.MAX_TABLES_PER_MESSAGE) break;
            // The block overshot, so rowBytes > the space left: rows only shrink.
            rows =
              rowBytes <= 0 ? 0 : Math.floor((rows * (max - mark - overhead) * shrink) / rowBytes);
            if (rows <= 0) break;
            writeTableBlock(w, t, row, row + rows, this.gorilla);
            if (w.pos <= max) break;
            shrink *= 0.95;
          }
          if (w.pos === mark) {
            // An empty frame that still carries new symbols goes out as a
            // delta-only frame; only a row that fits no frame at all fails.
            if (tablesInFrame === 0 && frameDictEnd === this.sent) {
              writeTableBlock(w, t, row, row + 1, this.gorilla);
              throw new QwpBatchSizeError(`a row of table '${t.name}'`, w.pos, max);
            }
            close(false);
            open();
            continue;
          }
        }
        tablesInFrame++;
        row += rows;
        if (rows === Limits.MAX_ROWS_PER_TABLE && row < t.rowCount) {
          // The server refuses a block of more rows; the rest of the table
          // starts the next frame, so no message names a table twice.
          close(false);
          open();
        }
      }
    }
    close(true);
  }
}

/** @internal Writes the table block for rows `[from, to)` of `t`. */
export function writeTableBlock(
  w: ByteWriter,
  t: TableBuffer,
  from: number,
  to: number,
  gorilla: boolean,
): void {
  const cols = t.columns;
  w.lengthPrefixed(t.nameUtf8);
  w.varint(to - from);
  w.varint(cols.length);
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i]!;
    w.lengthPrefixed(c.nameUtf8);
    w.u8(c.type);
  }
  // A half-written row's values sit past the last completed row's: never sent.
  const whole = to === t.rowCount && !t.hasOpenRow;
  for (let i = 0; i < cols.length; i++) writeColumn(w, cols[i]!, from, to, whole, gorilla);
}

function writeColumn(
  w: ByteWriter,
  c: ColumnBuffer,
  from: number,
  to: number,
  toEnd: boolean,
  gorilla: boolean,
): void {
  // Counting nulls is only needed for a split's row range.
  const vFrom = from === 0 ? 0 : c.valuesBefore(from);
  const vTo = toEnd ? c.valueCount : c.valuesBefore(to);
  const n = vTo - vFrom;
  if (c.sentinel || n === to - from) {
    w.u8(0);
  } else {
    w.u8(1);
    writeBitmap(w, c.nulls, from, to);
  }
  switch (c.type) {
    case ColumnType.BOOLEAN: {
      const bytes = (n + 7) >>> 3;
      w.ensure(bytes);
      const buf = w.buf;
      const src = c.u8;
      buf.fill(0, w.pos, w.pos + bytes);
      for (let i = 0; i < n; i++) if (src[vFrom + i] !== 0) buf[w.pos + (i >>> 3)]! |= 1 << (i & 7);
      w.pos += bytes;
      return;
    }
    case ColumnType.SYMBOL: {
      w.ensure(n * 5);
      const buf = w.buf;
      const ids = c.i32;
      let p = w.pos;
      for (let i = vFrom; i < vTo; i++) {
        // writeVarint inlined for int32 ids (shifts, not division): one per row.
        let id = ids[i]!;
        while (id >= 0x80) {
          buf[p++] = (id & 0x7f) | 0x80;
          id >>>= 7;
        }
        buf[p++] = id;
      }
      w.pos = p;
      return;
    }
    case ColumnType.TIMESTAMP:
    case ColumnType.TIMESTAMP_NANOS:
      if (gorilla) {
        if (n >= 2) {
          const at = w.pos;
          w.u8(ENCODING_GORILLA);
          if (writeGorilla(w, c.i32, vFrom, vTo)) return;
          w.pos = at;
        }
        w.u8(ENCODING_UNCOMPRESSED);
      }
      w.bytes(c.u8.subarray(vFrom * 8, vTo * 8));
      return;
    case ColumnType.GEOHASH: {
      // 0 = no call fixed the precision; 1 bit is the narrowest the server accepts.
      const bits = c.geohashBits === 0 ? 1 : c.geohashBits;
      w.varint(bits);
      const size = (bits + 7) >>> 3;
      w.ensure(n * size);
      const buf = w.buf;
      const src = c.u8;
      let p = w.pos;
      for (let i = vFrom; i < vTo; i++) {
        for (let b = 0; b < size; b++) buf[p++] = src[i * 8 + b]!;
      }
      w.pos = p;
      return;
    }
    case ColumnType.DECIMAL64:
    case ColumnType.DECIMAL128:
    case ColumnType.DECIMAL256:
      w.u8(Math.max(c.scale, 0));
      w.bytes(c.u8.subarray(vFrom * c.width, vTo * c.width));
      return;
    case ColumnType.VARCHAR:
    case ColumnType.BINARY: {
      const base = c.offsets[vFrom]!;
      w.ensure((n + 1) * 4);
      for (let i = vFrom; i <= vTo; i++) w.u32(c.offsets[i]! - base);
      w.bytes(c.data.subarray(base, c.offsets[vTo]!));
      return;
    }
    case ColumnType.DOUBLE_ARRAY:
    case ColumnType.LONG_ARRAY:
      w.bytes(c.data.subarray(c.offsets[vFrom]!, c.offsets[vTo]!));
      return;
    default:
      w.bytes(c.u8.subarray(vFrom * c.width, vTo * c.width));
  }
}

function writeBitmap(w: ByteWriter, nulls: Uint8Array, from: number, to: number): void {
  const bytes = (to - from + 7) >>> 3;
  w.ensure(bytes);
  const buf = w.buf;
  if ((from & 7) === 0) {
    const start = from >>> 3;
    for (let i = 0; i < bytes; i++) buf[w.pos + i] = nulls[start + i] ?? 0;
    // Clear bits past `to` in the last byte (they belong to later rows).
    const tail = (to - from) & 7;
    if (tail !== 0) buf[w.pos + bytes - 1]! &= (1 << tail) - 1;
  } else {
    buf.fill(0, w.pos, w.pos + bytes);
    for (let r = from; r < to; r++) {
      if (((nulls[r >>> 3] ?? 0) >>> (r & 7)) & 1)
        buf[w.pos + ((r - from) >>> 3)]! |= 1 << ((r - from) & 7);
    }
  }
  w.pos += bytes;
}

function checkMaxBatchSize(bytes: number): number {
  if (!Number.isInteger(bytes) || bytes <= HEADER_SIZE) {
    throw new QwpError(
      'ERR_QWP_BATCH_SIZE',
      `maxBatchSize must be an integer over the ${HEADER_SIZE}-byte header, got ${bytes}`,
    );
  }
  return bytes;
}
