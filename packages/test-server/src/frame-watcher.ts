/**
 * Watches the raw bytes of a WebSocket connection (client to server) for
 * the frames QuestDB refuses that `ws` would accept:
 * - a fragmented data message (a TEXT or BINARY frame with FIN clear, or a
 *   CONTINUATION frame): QuestDB closes with 1002, `ws` reassembles it;
 * - a frame that does not fit QuestDB's receive buffer (header plus payload
 *   longer than the advertised X-QWP-Max-Batch-Size + 14): QuestDB closes
 *   with 1009 as soon as it reads the header, `ws` only knows a payload cap.
 * It also reads the status code of the client's CLOSE, which QuestDB
 * answers with a code of its own where `ws` echoes or refuses it.
 * The server must therefore see the frame headers itself. Only headers (and
 * a CLOSE's first two payload bytes) are parsed; other payload bytes are
 * skipped, and nothing is allocated per chunk.
 */

/** Why QuestDB refuses a frame `ws` would accept. */
export type FrameRefusalKind = 'fragmented' | 'too-big';

/** The first refused frame of a connection. */
export interface FrameRefusal {
  kind: FrameRefusalKind;
  /** Complete data messages before it: the ones QuestDB still handles. */
  at: number;
}

/** Bytes a WebSocket frame header adds at most (2 + 8-byte length + 4-byte mask), as QuestDB reserves them. */
export const MAX_FRAME_HEADER_BYTES = 14;

export class FrameWatcher {
  /** The first refused frame seen, or null. */
  refusal: FrameRefusal | null = null;
  /**
   * Status code of the client's first CLOSE frame: -1 when its payload held
   * none (0 or 1 byte), null while no masked CLOSE has been read.
   */
  clientCloseCode: number | null = null;
  private messages = 0;
  private readonly header = Buffer.alloc(MAX_FRAME_HEADER_BYTES);
  private headerBytes = 0;
  /** Payload bytes of the current frame still to skip. */
  private skip = 0;
  /** Set when the stream stops looking like WebSocket frames; `ws` fails it on its own. */
  private lost = false;
  /** Bytes of a CLOSE payload's status code still to read (0: none). */
  private closeCodeLeft = 0;
  private closeCode = 0;
  private readonly closeMask = Buffer.alloc(4);

  /**
   * @param maxFrameBytes the largest frame, header included, the server
   *   takes (QuestDB's receive buffer); 0 for no limit
   */
  constructor(private readonly maxFrameBytes = 0) {}

  /**
   * Feeds the next chunk read from the socket.
   * @returns true when this chunk revealed the first refused frame
   */
  feed(chunk: Uint8Array): boolean {
    if (this.refusal !== null || this.lost) return false;
    let at = 0;
    while (at < chunk.length) {
      if (this.closeCodeLeft > 0) {
        // The status code: two big-endian bytes, unmasked with the frame's key.
        const i = 2 - this.closeCodeLeft;
        this.closeCode = (this.closeCode << 8) | (chunk[at++]! ^ this.closeMask[i]!);
        this.skip--;
        if (--this.closeCodeLeft === 0) this.clientCloseCode = this.closeCode;
        continue;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
        continue;
      }
      this.header[this.headerBytes++] = chunk[at++]!;
      const need = this.headerLength();
      if (need < 0 || this.headerBytes < need) continue;
      if (this.endOfHeader(need)) return true;
      if (this.lost) return false;
    }
    return false;
  }

  /** Length of the frame header being read, or -1 while it is still unknown. */
  private headerLength(): number {
    if (this.headerBytes < 2) return -1;
    const b1 = this.header[1]!;
    const len7 = b1 & 0x7f;
    const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    return 2 + ext + ((b1 & 0x80) !== 0 ? 4 : 0);
  }

  private endOfHeader(headerLength: number): boolean {
    const h = this.header;
    const fin = (h[0]! & 0x80) !== 0;
    const opcode = h[0]! & 0x0f;
    const len7 = h[1]! & 0x7f;
    let length = len7;
    if (len7 === 126) length = h.readUInt16BE(2);
    else if (len7 === 127) length = Number(h.readBigUInt64BE(2));
    this.headerBytes = 0;
    this.skip = length;
    // QuestDB checks the size first: its parser needs the whole frame in its buffer.
    if (this.maxFrameBytes > 0 && headerLength + length > this.maxFrameBytes) {
      this.refusal = { kind: 'too-big', at: this.messages };
      return true;
    }
    if (!Number.isSafeInteger(length)) {
      this.lost = true;
      return false;
    }
    if (opcode === 0x0 || ((opcode === 0x1 || opcode === 0x2) && !fin)) {
      this.refusal = { kind: 'fragmented', at: this.messages };
      return true;
    }
    if (opcode === 0x1 || opcode === 0x2) this.messages++;
    const masked = (h[1]! & 0x80) !== 0;
    if (opcode === 0x8 && masked && this.clientCloseCode === null) {
      if (length < 2) {
        this.clientCloseCode = -1;
      } else {
        h.copy(this.closeMask, 0, headerLength - 4, headerLength);
        this.closeCode = 0;
        this.closeCodeLeft = 2;
      }
    }
    return false;
  }
}
