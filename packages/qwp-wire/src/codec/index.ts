/**
 * QWP v1 ingress codec.
 *
 * API note
 * - Constants: MAGIC, VERSION, HEADER_SIZE, FLAG_*, ColumnType (type codes),
 *   Status (response status codes), Limits (server defaults), columnTypeName,
 *   statusName.
 * - Decoding a message: `decodeMessage(bytes, dictionary, options)` returns
 *   `{ header, symbolDelta, tables: [{ name, rowCount, columns: [{ name, type,
 *   nullFlag, values, geohashBits?, scale?, encoding? }] }] }`; `values` has one
 *   entry per row (null for a null row; see DecodedValue for the JS type per
 *   column type). `tableRows(table)` transposes to row objects.
 *   `dictionary` is a {@link SymbolDictionary}: one per connection; the delta
 *   section of each message is applied to it only when the whole message
 *   decodes; a delta starting past its size is DICTIONARY_GAP; `reset()` it
 *   when the connection ends.
 *   Every rejection is a QwpDecodeError `{ status, offset, reason }`.
 *   Strict by default; `SERVER_COMPATIBLE_DECODE_OPTIONS` (spread into the
 *   options) accepts exactly what QuestDB's server parses.
 * - Responses: encodeOkResponse(sequence, [{ name, seqTxn }]),
 *   encodeErrorResponse(status, sequence, message),
 *   encodeDurableAckResponse([{ name, seqTxn }]), decodeResponse(bytes)
 *   (DURABLE_ACK / LOCAL_DURABLE_ACK may carry bytes past the spec layout).
 * - Encoding: see encoder.ts / table-buffer.ts (row API, symbol dictionary,
 *   split frames, catch-up frames) and columnar.ts (appendColumns inputs).
 *
 * @module codec
 */

export {
  QwpBatchSizeError,
  QwpDecodeError,
  QwpError,
  QwpInvalidValueError,
  ServerInfoError,
  type ServerInfoErrorCode,
} from '../errors.js';
export { QwpBatch, type QwpBatchOptions } from './batch.js';
export type {
  AppendColumnsOptions,
  ColumnarColumn,
  ColumnBase,
  DictionaryIndices,
  DictionaryValues,
  StringValues,
} from './columnar.js';
export {
  ColumnType,
  type ColumnTypeCode,
  type ColumnTypeName,
  columnTypeName,
  ENCODING_GORILLA,
  ENCODING_UNCOMPRESSED,
  FLAG_DEFER_COMMIT,
  FLAG_DELTA_SYMBOL_DICT,
  FLAG_GORILLA,
  HEADER_SIZE,
  Limits,
  MAGIC,
  Status,
  type StatusCode,
  statusName,
  VERSION,
} from './constants.js';
export {
  type DecodedArray,
  type DecodedColumn,
  type DecodedMessage,
  type DecodedTable,
  type DecodedValue,
  type MessageHeader,
  type SymbolDelta,
  tableRows,
} from './decoded.js';
export {
  type DecodeOptions,
  decodeMessage,
  decodeMessageHeader,
  isDecodeError,
  SERVER_COMPATIBLE_DECODE_OPTIONS,
} from './decoder.js';
export { type EncoderOptions, type FrameSink, QwpEncoder } from './encoder.js';
export { GlobalSymbolDictionary } from './global-symbol-dictionary.js';
export {
  type DurableAckResponse,
  decodeResponse,
  type ErrorResponse,
  encodeDurableAckResponse,
  encodeErrorResponse,
  encodeLocalDurableAckResponse,
  encodeOkResponse,
  type LocalDurableAckResponse,
  type OkResponse,
  type Response,
  type TableSeqTxn,
} from './response.js';
export {
  CAP_ZONE,
  decodeServerInfo,
  encodeServerInfo,
  MSG_KIND_SERVER_INFO,
  type ServerInfo,
  type ServerInfoFields,
} from './server-info.js';
export { SymbolDictionary } from './symbol-dictionary.js';
export { type ArrayInput, TableBuffer, type TimestampUnit } from './table-buffer.js';
export { columnNameProblem, tableNameProblem } from './validation.js';
export {
  readVarint,
  VARINT_TOO_LONG,
  VARINT_TRUNCATED,
  type VarintValue,
  varintSize,
  writeVarint,
} from './varint.js';
