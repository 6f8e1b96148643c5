// The lower layers' errors a sender can throw, importable from here since a
// project that installs only @qwp/sender cannot name its dependencies.
export {
  ConnectStringError,
  QwpBatchSizeError,
  QwpError,
  QwpInvalidValueError,
} from '@qwp/qwp-wire';
export { SegmentLogError, SlotLockedError } from '@qwp/segment-log';
export { type Listeners, SenderBuilder } from './builder.js';
export {
  AuthError,
  BackpressureError,
  ConnectError,
  DataLossError,
  DurableAckError,
  PoisonFrameError,
  ProtocolError,
  SenderClosedError,
  SenderError,
  type SenderErrorCode,
  SenderOptionsError,
  SenderStateError,
  SenderTimeoutError,
  ServerRejectedError,
  SlotQuarantinedError,
  StoreAndForwardUnavailableError,
  TransactionError,
  UndeliverableFrameError,
  WorkerError,
} from './errors.js';
export type {
  DrainProgress,
  DrainResult,
  DrainSlotOptions,
  OrphanEvent,
} from './orphan-drain.js';
export type {
  AppendColumnsOptions,
  ArrayInput,
  ColumnarColumn,
  TimestampUnit,
} from './row-writer.js';
export { RowWriter } from './row-writer.js';
export {
  Sender,
  type SenderEvents,
  type SenderOptions,
  type SenderStats,
} from './sender.js';
export type { Durability } from './settings.js';
export type { ConnectedInfo } from './shared/messages.js';
export { Transaction } from './transaction.js';
