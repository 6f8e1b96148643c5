/**
 * Watches the raw bytes of a WebSocket connection (client to server) for a
 * fragmented data message: a TEXT or BINARY frame with FIN clear, or a
 * CONTINUATION frame. QuestDB closes such a connection with 1002, but `ws`
 * reassembles fragments before it emits a message, so the server has to
 * see the frame headers itself. Only headers are parsed; payload bytes are
 * skipped, and nothing is allocated per chunk.
 */
export class FragmentWatcher {
  /** Complete data messages seen before the first fragmented one (null: none seen). */
  fragmentedAt: number | null = null;
  private messages = 0;
  private readonly header = Buffer.alloc(14);
  private headerBytes = 0;
  /** Payload bytes of the current frame still to skip. */
  private skip = 0;
  /** Set when the stream stops looking like WebSocket frames; `ws` fails it on its own. */
  private lost = false;

  /**
   * Feeds the next chunk read from the socket.
   * @returns true when this chunk revealed the first fragmented data frame
   */
  feed(chunk: Uint8Array): boolean {
    if (this.fragmentedAt !== null || this.lost) return false;
    let at = 0;
    while (at < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
        continue;
      }
      this.header[this.headerBytes++] = chunk[at++]!;
      const need = this.headerLength();
      if (need < 0 || this.headerBytes < need) continue;
      if (this.endOfHeader()) return true;
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

  private endOfHeader(): boolean {
    const h = this.header;
    const fin = (h[0]! & 0x80) !== 0;
    const opcode = h[0]! & 0x0f;
    const len7 = h[1]! & 0x7f;
    let length = len7;
    if (len7 === 126) length = h.readUInt16BE(2);
    else if (len7 === 127) length = Number(h.readBigUInt64BE(2));
    this.headerBytes = 0;
    this.skip = length;
    if (!Number.isSafeInteger(length)) {
      this.lost = true;
      return false;
    }
    if (opcode === 0x0 || ((opcode === 0x1 || opcode === 0x2) && !fin)) {
      this.fragmentedAt = this.messages;
      return true;
    }
    if (opcode === 0x1 || opcode === 0x2) this.messages++;
    return false;
  }
}
