// The server's public records of connections and frames, kept apart from
// connection.ts so their published declarations stay free of the internals.

import type { DurableTier } from './durable-watermarks.js';

/** What happened to one binary frame, as kept in `server.frames`. */
export interface FrameRecord {
  /** Server-wide index, counting every binary frame since start from 0. */
  index: number;
  connectionId: number;
  /** Position on its connection, from 0 (the sequence its response carries). */
  wireSeq: number;
  bytes: number;
  /** Header flags, or null when the header was unreadable. */
  flags: number | null;
  /**
   * 'committed' (OK due), 'deferred' (FLAG_DEFER_COMMIT, OK withheld until
   * the group commits), 'rejected' (error frame sent), 'refused' (consumed
   * without an answer after an earlier error), 'dropped' (connection cut by a fault),
   * 'demoted' (refused without an answer by a demoted node: the client replays
   * it after the close), 'poll' (a durable-ACK poll: nothing committed).
   */
  outcome: 'committed' | 'deferred' | 'rejected' | 'refused' | 'dropped' | 'demoted' | 'poll';
  /** Error status sent for a rejected frame. */
  status: number | null;
  message: string | null;
  /** Table blocks of the frame (empty when not decoded). */
  tables: string[];
  rows: number;
}

/** One accepted WebSocket connection, as kept in `server.connections`. */
export interface ConnectionInfo {
  id: number;
  remoteAddress: string;
  remotePort: number;
  clientId: string | null;
  version: number;
  /** Whether durable ACKs were granted (any tier). */
  durableAck: boolean;
  /** The durable-ack tiers granted: 'local' (LOCAL_DURABLE_ACK frames), 'replicated' (DURABLE_ACK). */
  durableTiers: DurableTier[];
  openedAt: number;
  closedAt: number | null;
  frames: number;
  /**
   * How it closed: the client's CLOSE code when the client closed first (1005
   * when its CLOSE had none), the server's when it did, 1006 when the TCP
   * connection ended without a CLOSE; null while open.
   */
  closeCode: number | null;
  closeReason: string | null;
}

/** How responses are batched: cumulative like QuestDB's server (default), or one OK per committed frame. */
export type AckMode = 'per-frame' | 'cumulative';
