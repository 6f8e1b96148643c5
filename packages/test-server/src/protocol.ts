/**
 * Wire facts the server uses, taken from @qwp/qwp-wire so there is one
 * source of truth, plus the few server-side conventions the codec lacks.
 */
export {
  ColumnType,
  columnTypeName as typeName,
  FLAG_DEFER_COMMIT,
  FLAG_DELTA_SYMBOL_DICT,
  HEADER_SIZE,
  Status,
  statusName,
  VERSION as QWP_VERSION_1,
} from '@qwp/qwp-wire/codec';

/** Name QuestDB gives a designated timestamp column created over QWP/ILP. */
export const DESIGNATED_TIMESTAMP_NAME = 'timestamp';

/**
 * Header flag of a durable-ACK poll: a table-less message that asks for the
 * durable progress (for clients that cannot send WebSocket PINGs). QuestDB's
 * QwpConstants defines it; the codec does not, as no data frame carries it.
 */
export const FLAG_DURABLE_ACK_POLL = 0x02;

/** QuestDB's PARSE_ERROR message for a durable-ACK poll on a connection without durable ACKs. */
export const POLL_NOT_NEGOTIATED = 'durable ACK poll was not negotiated';
