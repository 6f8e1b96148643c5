import { ProtocolError } from '../errors.js';

/**
 * Maps the server's per-connection sequence numbers to FSNs. The server
 * numbers every binary message of a connection from 0 and acknowledges
 * cumulatively: an OK for sequence s covers every message up to s. Messages
 * are recorded as runs: catch-up messages carry no FSN, data frames carry
 * consecutive FSNs (a run breaks where frames are skipped).
 */
export class AckTracker {
  /** Runs as flat triples: [wireStart, fsnStart (-1: no FSN), count]. */
  private runs: number[] = [];
  /** Index (in triples) of the oldest run not yet fully acknowledged. */
  private head = 0;
  private sent = 0;
  private ackedSeq = -1;

  /** A new connection: sequences restart at 0. */
  reset(): void {
    this.runs.length = 0;
    this.head = 0;
    this.sent = 0;
    this.ackedSeq = -1;
  }

  /** Messages sent on this connection. */
  get sentCount(): number {
    return this.sent;
  }

  /** Highest sequence acknowledged on this connection, -1 for none. */
  get acknowledgedSequence(): number {
    return this.ackedSeq;
  }

  /** Records a sent message without an FSN (symbol catch-up). */
  sentWithoutFsn(): void {
    this.record(-1);
  }

  /** Records a sent data frame. */
  sentFrame(fsn: number): void {
    this.record(fsn);
  }

  private record(fsn: number): void {
    const r = this.runs;
    const n = r.length;
    if (n > 0) {
      const start = r[n - 2]!;
      const count = r[n - 1]!;
      const contiguous = fsn < 0 ? start < 0 : start >= 0 && start + count === fsn;
      if (contiguous) {
        r[n - 1] = count + 1;
        this.sent++;
        return;
      }
    }
    r.push(this.sent, fsn, 1);
    this.sent++;
  }

  /**
   * The FSN of the message with sequence `seq`, or, for a catch-up message,
   * of the nearest data frame before it (-1 when there is none).
   */
  fsnAt(seq: number): number {
    const r = this.runs;
    let best = -1;
    for (let i = this.head * 3; i < r.length; i += 3) {
      const wire = r[i]!;
      if (wire > seq) break;
      const fsn = r[i + 1]!;
      const count = r[i + 2]!;
      if (fsn >= 0) best = fsn + Math.min(seq - wire, count - 1);
    }
    return best;
  }

  /**
   * A cumulative OK for `seq`. Returns the highest FSN it acknowledges, or
   * -1 when it covers no data frame. Throws ProtocolError for a sequence
   * never sent (the caller drops the connection; nothing is trimmed).
   */
  onOk(seq: number): number {
    if (!Number.isSafeInteger(seq) || seq < 0 || seq >= this.sent) {
      throw new ProtocolError(
        `server acknowledged sequence ${seq} but only ${this.sent} message(s) were sent on this connection`,
      );
    }
    if (seq <= this.ackedSeq) return -1;
    this.ackedSeq = seq;
    const fsn = this.fsnAt(seq);
    // Drop runs wholly covered, keeping the last one (fsnAt looks back at it).
    const r = this.runs;
    while ((this.head + 1) * 3 < r.length && r[(this.head + 1) * 3]! <= seq) this.head++;
    if (this.head > 1024) {
      r.splice(0, this.head * 3);
      this.head = 0;
    }
    return fsn;
  }
}
