/** What the producer of `qwp demo` tells the demo, as IPC messages. */
export type ProducerReport =
  | { type: 'flushed'; id: number; fsn: number }
  | {
      type: 'stats';
      written: number;
      publishedFsn: number;
      ackedFsn: number;
      storeBytes: number;
      connected: boolean;
      replayed: number;
    }
  | { type: 'done' }
  | { type: 'error'; message: string };

const SYMBOLS = ['BTC-USD', 'ETH-USD', 'SOL-USD', 'XRP-USD', 'ADA-USD', 'DOGE-USD'];

/** The row an id stands for, so the demo can check every row that arrived. */
export function demoRow(id: number): { sym: string; px: number; qty: number; ts: number } {
  return {
    sym: SYMBOLS[id % SYMBOLS.length]!,
    px: 1000 + (id % 997) / 4,
    qty: 1 + (id % 50),
    ts: 1_700_000_000_000_000 + id,
  };
}
