import type { TableBuffer } from '@qwp/qwp-wire';
import { TransactionError } from './errors.js';
import { RowWriter } from './row-writer.js';

/** What a transaction needs from its sender. */
export interface TransactionHost {
  beginTransactionRow(table: string): TableBuffer;
  /** Bytes no single value may exceed (the frame budget less headroom). */
  readonly maxValueBytes: number;
  endTransactionRows(count: number): void;
  flushTransaction(): void;
}

/**
 * The row API inside `sender.transaction(async (tx) => ...)`. Everything
 * written here reaches the server as one all-or-nothing group: frames with
 * FLAG_DEFER_COMMIT, the last one committing. Valid only while the
 * callback runs.
 */
export class Transaction extends RowWriter {
  private open = true;

  /** @internal */
  constructor(private readonly host: TransactionHost) {
    super();
    this.valueLimit = host.maxValueBytes;
  }

  /**
   * Encodes the rows written so far into the transaction's frames (they
   * are published with the rest at commit). Never needed for correctness;
   * it only bounds the memory of a large transaction's row buffers.
   */
  flush(): void {
    this.check();
    this.host.flushTransaction();
  }

  /** @internal The transaction ended; every later call throws. */
  end(): void {
    this.open = false;
    this.forgetRow();
  }

  protected beginRow(table: string): TableBuffer {
    this.check();
    return this.host.beginTransactionRow(table);
  }

  protected endRows(count: number): void {
    this.host.endTransactionRows(count);
  }

  private check(): void {
    if (!this.open) {
      throw new TransactionError('the transaction has ended: use it only inside its callback');
    }
  }
}
