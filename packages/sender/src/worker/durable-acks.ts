import type { TableSeqTxn } from '@qwp/qwp-wire';

interface Pending {
  /** Highest FSN the OK covers. */
  fsn: number;
  /** The seqTxn each table committed at, per the OK. */
  tables: TableSeqTxn[];
}

/**
 * With `request_durable_ack=on`, an OK only says the rows are in the
 * server's WAL; the ACK that trims comes when DURABLE_ACK frames report
 * every table of that OK uploaded at or past its seqTxn. OKs wait here, in
 * order; the head pops once covered. An OK naming no table (nothing
 * committed to a WAL table) is durable as soon as everything before it is.
 * A reconnect forgets it all: the server re-OKs replayed frames and starts
 * its durable watermarks over.
 */
export class DurableAckTracker {
  private readonly pending: Pending[] = [];
  private head = 0;
  private readonly durable = new Map<string, bigint>();

  /** OKs not yet durable. */
  get pendingCount(): number {
    return this.pending.length - this.head;
  }

  /** An OK covering frames through `fsn` (use -1 for one covering only catch-up frames). */
  onOk(fsn: number, tables: readonly TableSeqTxn[]): number {
    this.pending.push({ fsn, tables: [...tables] });
    return this.advance();
  }

  /** A DURABLE_ACK: per-table cumulative watermarks. Returns the FSN now durable, or -1. */
  onDurableAck(tables: readonly TableSeqTxn[]): number {
    for (const t of tables) {
      const prev = this.durable.get(t.name);
      if (prev === undefined || t.seqTxn > prev) this.durable.set(t.name, t.seqTxn);
    }
    return this.advance();
  }

  reset(): void {
    this.pending.length = 0;
    this.head = 0;
    this.durable.clear();
  }

  /** Pops every covered head entry; returns the highest FSN popped, or -1. */
  private advance(): number {
    let fsn = -1;
    const p = this.pending;
    while (this.head < p.length && this.covered(p[this.head]!)) {
      fsn = Math.max(fsn, p[this.head]!.fsn);
      this.head++;
    }
    if (this.head > 256 && this.head * 2 > p.length) {
      p.splice(0, this.head);
      this.head = 0;
    }
    return fsn;
  }

  private covered(entry: Pending): boolean {
    for (const t of entry.tables) {
      const d = this.durable.get(t.name);
      if (d === undefined || d < t.seqTxn) return false;
    }
    return true;
  }
}
