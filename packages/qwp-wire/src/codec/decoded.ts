import type { ColumnTypeCode } from './constants.js';

/** An N-dimensional array value, row-major; an empty array has a 0 in `shape`. */
export interface DecodedArray {
  shape: number[];
  values: Float64Array | BigInt64Array;
}

/**
 * One decoded cell. By column type:
 * BOOLEAN boolean; BYTE/SHORT/INT/FLOAT/DOUBLE number; LONG/DATE/TIMESTAMP/
 * TIMESTAMP_NANOS bigint (signed); DECIMAL* bigint (unscaled, see the column's
 * `scale`); LONG256 bigint (unsigned); GEOHASH bigint (see `geohashBits`);
 * UUID string (canonical lowercase); IPv4 string (dotted quad); CHAR string
 * (one UTF-16 unit); VARCHAR/SYMBOL string; BINARY Uint8Array;
 * DOUBLE_ARRAY/LONG_ARRAY {@link DecodedArray}.
 */
export type DecodedValue = boolean | number | bigint | string | Uint8Array | DecodedArray;

/** The 12-byte message header. */
export interface MessageHeader {
  version: number;
  flags: number;
  tableCount: number;
  payloadLength: number;
}

/** The delta symbol dictionary section: ids `start..start+entries.length-1`. */
export interface SymbolDelta {
  start: number;
  entries: string[];
}

/** One column of a decoded table block, row-aligned. */
export interface DecodedColumn {
  /** Column name; "" is the designated timestamp. */
  name: string;
  type: ColumnTypeCode;
  /** The null flag byte as sent (0 = no bitmap). */
  nullFlag: number;
  /** One entry per row; `null` for a null row. */
  values: (DecodedValue | null)[];
  /** GEOHASH precision in bits. */
  geohashBits?: number;
  /** DECIMAL* scale. */
  scale?: number;
  /** TIMESTAMP* encoding byte when FLAG_GORILLA was set (0 plain, 1 Gorilla). */
  encoding?: number;
}

/** One decoded table block. */
export interface DecodedTable {
  name: string;
  rowCount: number;
  columns: DecodedColumn[];
}

/** A decoded ingress message. */
export interface DecodedMessage {
  header: MessageHeader;
  /** Present when FLAG_DELTA_SYMBOL_DICT is set. */
  symbolDelta: SymbolDelta | null;
  tables: DecodedTable[];
}

/** Transposes a decoded table into row objects keyed by column name. */
export function tableRows(table: DecodedTable): Record<string, DecodedValue | null>[] {
  const rows: Record<string, DecodedValue | null>[] = [];
  for (let r = 0; r < table.rowCount; r++) {
    const row: Record<string, DecodedValue | null> = {};
    for (const col of table.columns) row[col.name] = col.values[r] ?? null;
    rows.push(row);
  }
  return rows;
}
