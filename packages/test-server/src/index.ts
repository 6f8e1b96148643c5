export { READ_ONLY_MESSAGE } from './close-codes.js';
export type { DurableAckOptions, DurableTier } from './durable-watermarks.js';
export {
  FrameRejectedError,
  TestServerClosedError,
  TestServerError,
  TestServerListenError,
  TestServerOptionsError,
  TestServerTimeoutError,
} from './errors.js';
export type { AckCorruption, DropPoint, FaultOptions } from './faults.js';
export { Faults } from './faults.js';
export type { AuthOptions, ServerRole } from './handshake.js';
export { DURABLE_ACK_SUBPROTOCOL, QWP_PATHS } from './handshake.js';
export {
  DEFAULT_DEMOTION_GRACE_MS,
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_SAMPLE_RATE,
  type OtherWriter,
  type TestServerOptions,
} from './options.js';
export {
  ColumnType,
  FLAG_DURABLE_ACK_POLL,
  POLL_NOT_NEGOTIATED,
  Status,
  statusName,
  typeName,
} from './protocol.js';
export type { AckMode, ConnectionInfo, FrameRecord } from './records.js';
export type { ColumnSchema, Row, RowStoreOptions, TableColumn, TableCommit } from './row-store.js';
export {
  DEFAULT_MAX_TABLES_PER_CONNECTION,
  DEFAULT_MAX_UNCOMMITTED_ROWS,
  rowJsonReplacer,
} from './row-store.js';
export type { FaultMethods, RestartOptions, TestServer } from './server.js';
export { startTestServer } from './server.js';
export type { ServerModeName, ServerStats } from './stats.js';
export { DEFAULT_CLOSE_DRAIN_MS } from './websocket/server-socket.js';
