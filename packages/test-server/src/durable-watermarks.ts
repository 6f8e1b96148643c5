import type { TableSeqTxn } from '@qwp/qwp-wire/codec';

/**
 * One connection's durable-ack bookkeeping: the per-table seqTxns its OKs
 * reported, each "uploaded" (due in a DURABLE_ACK) from a given time on.
 * QuestDB polls its upload registry only when the connection receives
 * something, so the connection asks `takeReady` on inbound traffic, never
 * on a timer.
 */
export class DurableWatermarks {
  /** In OK order, so `readyAt` never decreases (one delay per server). */
  private readonly pending: { table: string; seqTxn: bigint; readyAt: number }[] = [];
  private head = 0;

  /** Records the watermarks one OK carried, uploaded from `readyAt` (ms since epoch) on. */
  record(tables: readonly TableSeqTxn[], readyAt: number): void {
    for (const t of tables) this.pending.push({ table: t.name, seqTxn: t.seqTxn, readyAt });
  }

  /**
   * Takes every watermark uploaded by `now`: the highest seqTxn per table,
   * in the order the tables were first committed; each is reported once.
   */
  takeReady(now: number): TableSeqTxn[] {
    const latest = new Map<string, bigint>();
    while (this.head < this.pending.length && this.pending[this.head]!.readyAt <= now) {
      const p = this.pending[this.head++]!;
      latest.set(p.table, p.seqTxn);
    }
    // Compact once the consumed prefix dominates, so the array stays bounded.
    if (this.head > 64 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    const out: TableSeqTxn[] = [];
    for (const [name, seqTxn] of latest) out.push({ name, seqTxn });
    return out;
  }
}
