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
