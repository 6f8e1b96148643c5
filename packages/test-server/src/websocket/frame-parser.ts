import {
  isControlOpcode,
  isKnownOpcode,
  MAX_CONTROL_PAYLOAD,
  MAX_FRAME_HEADER_BYTES,
  OPCODE_CLOSE,
} from './constants.js';
import { Unmasker } from './mask.js';

/** Where the parser reports what it reads. */
export interface FrameSink {
  /**
   * A complete frame, its payload unmasked. The payload is a view of the
   * socket's chunk (or of one buffer the frame was assembled in) that the
   * parser never touches again, so it may be kept.
   */
  frame(opcode: number, fin: boolean, payload: Buffer): void;
  /**
   * A header announcing a frame of `frameBytes` (header included) over the
   * limit, reported as soon as the header is read; nothing more is parsed.
   */
  oversize(frameBytes: number): void;
  /** A frame QuestDB's parser refuses, named by `reason`; nothing more is parsed. */
  malformed(reason: string): void;
}

/** What readHeader returns while the header is still incomplete. */
const NEED_MORE = 0;
/** What readHeader returns after a refusal (already reported). */
const REFUSED = -1;

/**
 * An incremental parser of client-to-server WebSocket frames that applies
 * QuestDB's rules (WebSocketFrameParser.parse), in its order: RSV bits set,
 * an unknown opcode, a fragmented control frame, an unmasked frame, a 64-bit
 * length with its top bit set, a control payload over 125 bytes and a CLOSE
 * payload of 1 byte are malformed; then a frame whose header and payload
 * exceed `maxFrameBytes` is oversize. Each check runs as soon as the bytes it
 * needs have arrived. Frames and headers may be split across any chunk
 * boundary. A frame wholly inside one chunk is unmasked in place and handed
 * over as a view of it: nothing is copied or allocated for it but the view.
 */
export class FrameParser {
  private stopped = false;
  /** The bytes of a header split across chunks. */
  private readonly header = Buffer.alloc(MAX_FRAME_HEADER_BYTES);
  private headerBytes = 0;
  private opcode = 0;
  private fin = false;
  private mask = 0;
  private length = 0;
  /** A frame whose payload spans chunks is assembled here. */
  private pending: Buffer | null = null;
  private pendingBytes = 0;
  private readonly unmasker = new Unmasker();

  /**
   * @param sink receives frames and refusals, synchronously, in stream order
   * @param maxFrameBytes the largest frame, header included, accepted
   *   (QuestDB's receive buffer: X-QWP-Max-Batch-Size + 14)
   */
  constructor(
    private readonly sink: FrameSink,
    private readonly maxFrameBytes: number,
  ) {}

  /** Whether parsing has ended (a refusal, or stop()). */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Ends parsing: every byte pushed from now on, and the rest of the chunk being parsed, is discarded. */
  stop(): void {
    this.stopped = true;
    this.pending = null;
  }

  /** Parses the next bytes read from the client. */
  push(chunk: Buffer): void {
    const end = chunk.length;
    let at = 0;
    while (at < end && !this.stopped) {
      if (this.pending !== null) {
        at = this.fill(chunk, at, end);
        continue;
      }
      let headerLength: number;
      if (this.headerBytes === 0) {
        headerLength = this.readHeader(chunk, at, end);
        if (headerLength === NEED_MORE) {
          chunk.copy(this.header, 0, at, end);
          this.headerBytes = end - at;
          return;
        }
        if (headerLength === REFUSED) return;
        at += headerLength;
      } else {
        // A header never exceeds the scratch, so this completes it or eats the chunk.
        const had = this.headerBytes;
        const take = Math.min(MAX_FRAME_HEADER_BYTES - had, end - at);
        chunk.copy(this.header, had, at, at + take);
        headerLength = this.readHeader(this.header, 0, had + take);
        if (headerLength === NEED_MORE) {
          this.headerBytes = had + take;
          return;
        }
        if (headerLength === REFUSED) return;
        this.headerBytes = 0;
        at += headerLength - had;
      }
      const length = this.length;
      if (end - at >= length) {
        this.unmasker.unmask(chunk, at, at + length, this.mask);
        const payload = chunk.subarray(at, at + length);
        at += length;
        this.sink.frame(this.opcode, this.fin, payload);
      } else {
        // Its own memory, so the frame handed over can be kept.
        this.pending = Buffer.allocUnsafeSlow(length);
        this.pendingBytes = 0;
        at = this.fill(chunk, at, end);
      }
    }
  }

  /** Copies payload bytes of a split frame; hands the frame over once complete. */
  private fill(chunk: Buffer, at: number, end: number): number {
    const pending = this.pending!;
    const n = Math.min(pending.length - this.pendingBytes, end - at);
    chunk.copy(pending, this.pendingBytes, at, at + n);
    this.pendingBytes += n;
    if (this.pendingBytes === pending.length) {
      this.pending = null;
      this.unmasker.unmask(pending, 0, pending.length, this.mask);
      this.sink.frame(this.opcode, this.fin, pending);
    }
    return at + n;
  }

  /**
   * Reads the header at buf[off, end).
   * @returns its length, NEED_MORE, or REFUSED (reported to the sink)
   */
  private readHeader(buf: Buffer, off: number, end: number): number {
    const available = end - off;
    if (available < 2) return NEED_MORE;
    const b0 = buf[off]!;
    const b1 = buf[off + 1]!;
    if ((b0 & 0x70) !== 0) {
      return this.refuse(`RSV bits set (first byte 0x${b0.toString(16)}) without an extension`);
    }
    const opcode = b0 & 0x0f;
    if (!isKnownOpcode(opcode)) return this.refuse(`unknown opcode 0x${opcode.toString(16)}`);
    const fin = (b0 & 0x80) !== 0;
    const control = isControlOpcode(opcode);
    if (control && !fin) {
      return this.refuse(`fragmented control frame (opcode 0x${opcode.toString(16)})`);
    }
    if ((b1 & 0x80) === 0) return this.refuse('unmasked client frame');
    let length = b1 & 0x7f;
    let pos = off + 2;
    if (length === 126) {
      if (available < 4) return NEED_MORE;
      length = (buf[off + 2]! << 8) | buf[off + 3]!;
      pos = off + 4;
    } else if (length === 127) {
      if (available < 10) return NEED_MORE;
      const high = buf.readUInt32BE(off + 2);
      if (high >= 0x80000000) return this.refuse('64-bit payload length with its top bit set');
      length = high * 0x1_0000_0000 + buf.readUInt32BE(off + 6);
      pos = off + 10;
    }
    if (control && length > MAX_CONTROL_PAYLOAD) {
      return this.refuse(`control frame payload of ${length} bytes (at most 125)`);
    }
    if (opcode === OPCODE_CLOSE && length === 1) return this.refuse('CLOSE payload of 1 byte');
    if (end - pos < 4) return NEED_MORE;
    const headerLength = pos + 4 - off;
    if (headerLength + length > this.maxFrameBytes) {
      this.stop();
      this.sink.oversize(headerLength + length);
      return REFUSED;
    }
    this.opcode = opcode;
    this.fin = fin;
    this.mask = buf.readUInt32BE(pos);
    this.length = length;
    return headerLength;
  }

  private refuse(reason: string): number {
    this.stop();
    this.sink.malformed(reason);
    return REFUSED;
  }
}
