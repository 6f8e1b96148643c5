import type { DecodedArray, DecodedColumn, DecodedValue } from '@qwp/qwp-wire/codec';
import { FrameRejectedError } from './errors.js';
import { ColumnType, Status, typeName } from './protocol.js';
import { decimalText, floatText, geohashText, isoText, timestampFromText } from './value-text.js';

/**
 * Write-time type coercion, as QuestDB's QwpWalAppender does it: a column
 * sent with another type than the table's is converted when the pair is
 * supported. Every refusal here is SCHEMA_MISMATCH: a pair the server
 * refuses, a geohash precision or an array dimensionality that differs from
 * the column's, and a value the column cannot hold (out of range, not a
 * whole number, unparsable text, a timestamp that overflows). The server
 * raises these with CairoException.schemaMismatch() and maps that flag to
 * STATUS_SCHEMA_MISMATCH; its end-to-end tests (QwpSenderE2ETest) expect
 * every coercion, type and value-conversion refusal to be SCHEMA_MISMATCH,
 * a refusal a replay of the same bytes can never get past.
 */

/** What the store knows about a column's type. */
export interface ColumnTypeInfo {
  /** QWP type code the column was created with. */
  type: number;
  /** DOUBLE_ARRAY: number of dimensions (known once a non-null array was written). */
  dims?: number;
  /** DECIMAL*: scale. */
  scale?: number;
  /** GEOHASH: precision in bits. */
  geohashBits?: number;
}

/** Converts one non-null wire value to the column's representation (or throws SCHEMA_MISMATCH). */
export type Converter = (value: DecodedValue) => unknown;

const C = ColumnType;
const INTEGER_WIRE = new Set<number>([C.BYTE, C.SHORT, C.INT, C.LONG]);
const FLOAT_WIRE = new Set<number>([C.FLOAT, C.DOUBLE]);
/** Column types the server writes through its fixed-width path (isFixedTypeCoercionAllowed). */
const FIXED_COLUMNS = new Set<number>([
  C.BYTE,
  C.SHORT,
  C.INT,
  C.LONG,
  C.FLOAT,
  C.DOUBLE,
  C.DATE,
  C.UUID,
  C.LONG256,
  C.GEOHASH,
]);
/** Wire types the server reads with its fixed-width cursor. */
const FIXED_WIRE = new Set<number>([
  C.BYTE,
  C.SHORT,
  C.INT,
  C.LONG,
  C.FLOAT,
  C.DOUBLE,
  C.DATE,
  C.UUID,
  C.LONG256,
  C.CHAR,
  C.IPV4,
]);
const DECIMALS = new Set<number>([C.DECIMAL64, C.DECIMAL128, C.DECIMAL256]);
const TIMESTAMPS = new Set<number>([C.TIMESTAMP, C.TIMESTAMP_NANOS]);

const INT_RANGE: Record<number, [bigint, bigint]> = {
  [C.BYTE]: [-128n, 127n],
  [C.SHORT]: [-32768n, 32767n],
  [C.INT]: [-(2n ** 31n), 2n ** 31n - 1n],
  [C.LONG]: [-(2n ** 63n), 2n ** 63n - 1n],
};
const MAX_I64 = 2n ** 63n - 1n;
const MIN_I64 = -(2n ** 63n);

/** Decimal precision of each decimal wire type (Decimals.getDecimalTagPrecision). */
export function decimalPrecision(type: number): number {
  return type === C.DECIMAL64 ? 18 : type === C.DECIMAL128 ? 38 : 76;
}

/** The column's type as QuestDB names it (ColumnType.nameOf) in its error messages. */
export function questdbTypeName(col: ColumnTypeInfo): string {
  switch (col.type) {
    case C.TIMESTAMP_NANOS:
      return 'TIMESTAMP_NS';
    case C.DOUBLE_ARRAY:
      return `DOUBLE${'[]'.repeat(Math.max(1, col.dims ?? 1))}`;
    case C.LONG_ARRAY:
      return `LONG${'[]'.repeat(Math.max(1, col.dims ?? 1))}`;
    case C.GEOHASH: {
      const bits = col.geohashBits ?? 60;
      return bits % 5 === 0 ? `GEOHASH(${bits / 5}c)` : `GEOHASH(${bits}b)`;
    }
    case C.DECIMAL64:
    case C.DECIMAL128:
    case C.DECIMAL256:
      return `DECIMAL(${decimalPrecision(col.type)},${col.scale ?? 0})`;
    default:
      return typeName(col.type);
  }
}

/** A frame refused at write time for a reason other than its types and values: STATUS_WRITE_ERROR. */
export function writeError(message: string): FrameRejectedError {
  return new FrameRejectedError(Status.WRITE_ERROR, message);
}

/**
 * A frame whose column type, geohash precision, array shape or value does
 * not fit the table's column: QuestDB answers STATUS_SCHEMA_MISMATCH, and a
 * replay of the same bytes can never succeed.
 */
export function schemaMismatch(message: string): FrameRejectedError {
  return new FrameRejectedError(Status.SCHEMA_MISMATCH, message);
}

/** TIMESTAMP or TIMESTAMP_NANOS: the types a designated timestamp may have. */
export function isTimestampType(type: number): boolean {
  return TIMESTAMPS.has(type);
}

/** "cannot write X to column [column=.., type=..]" (typeMismatchException). */
function mismatch(wire: number, column: string, col: ColumnTypeInfo): FrameRejectedError {
  return schemaMismatch(
    `cannot write ${typeName(wire)} to column [column=${column}, type=${questdbTypeName(col)}]`,
  );
}

/** "type coercion from X to Y is not supported [column=..]" (coercionNotSupportedException). */
function unsupported(wire: number, column: string, col: ColumnTypeInfo): FrameRejectedError {
  return schemaMismatch(
    `type coercion from ${typeName(wire)} to ${questdbTypeName(col)} is not supported [column=${column}]`,
  );
}

function outOfRange(value: unknown, column: string, col: ColumnTypeInfo): FrameRejectedError {
  return schemaMismatch(
    `value ${String(value)} is out of range for column [column=${column}, type=${questdbTypeName(col)}]`,
  );
}

function toInteger(v: bigint, column: string, col: ColumnTypeInfo): number | bigint {
  const [min, max] = INT_RANGE[col.type]!;
  if (v < min || v > max) throw outOfRange(v, column, col);
  return col.type === C.LONG ? v : Number(v);
}

function floatToInteger(v: number, column: string, col: ColumnTypeInfo): number | bigint | null {
  // NaN is QuestDB's float null; it stays null in any numeric column.
  if (Number.isNaN(v)) return null;
  if (!Number.isInteger(v)) {
    throw schemaMismatch(
      `value ${v} is not a whole number for column [column=${column}, type=${questdbTypeName(col)}]`,
    );
  }
  return toInteger(BigInt(v), column, col);
}

function decimalFromText(text: string, column: string, col: ColumnTypeInfo, wire: number): bigint {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) {
    throw schemaMismatch(
      `cannot parse '${text}' as ${questdbTypeName(col)} [column=${column}, from=${typeName(wire)}]`,
    );
  }
  const scale = col.scale ?? 0;
  const frac = m[3] ?? '';
  if (frac.replace(/0+$/, '').length > scale) {
    throw schemaMismatch(
      `value ${text} has more than ${scale} decimal places for column [column=${column}, type=${questdbTypeName(col)}]`,
    );
  }
  const digits = `${m[2] ?? ''}${frac.padEnd(scale, '0').slice(0, scale)}`;
  const unscaled = BigInt(digits === '' ? '0' : digits) * (m[1] === '-' ? -1n : 1n);
  return checkDecimal(unscaled, text, column, col);
}

function checkDecimal(unscaled: bigint, shown: unknown, column: string, col: ColumnTypeInfo) {
  const limit = 10n ** BigInt(decimalPrecision(col.type));
  if (unscaled >= limit || unscaled <= -limit) throw outOfRange(shown, column, col);
  return unscaled;
}

function rescaleDecimal(
  unscaled: bigint,
  from: number,
  column: string,
  col: ColumnTypeInfo,
): bigint {
  const to = col.scale ?? 0;
  if (from === to) return checkDecimal(unscaled, unscaled, column, col);
  if (from < to) return checkDecimal(unscaled * 10n ** BigInt(to - from), unscaled, column, col);
  const div = 10n ** BigInt(from - to);
  if (unscaled % div !== 0n) {
    throw schemaMismatch(
      `decimal with scale ${from} loses digits in column [column=${column}, type=${questdbTypeName(col)}]`,
    );
  }
  return checkDecimal(unscaled / div, unscaled, column, col);
}

const UUID_TEXT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function parseFailure(text: string, column: string, col: ColumnTypeInfo): FrameRejectedError {
  return schemaMismatch(`cannot parse '${text}' as ${questdbTypeName(col)} [column=${column}]`);
}

/** VARCHAR into a non-text column: parsed, as putStringTo*Column does. */
function fromText(column: string, col: ColumnTypeInfo): Converter | null {
  const t = col.type;
  if (t === C.BOOLEAN) {
    return (v) => {
      const s = (v as string).trim().toLowerCase();
      if (s === 'true') return true;
      if (s === 'false') return false;
      throw parseFailure(v as string, column, col);
    };
  }
  if (t in INT_RANGE || t === C.DATE) {
    return (v) => {
      const s = (v as string).trim();
      if (!/^[+-]?\d+$/.test(s)) throw parseFailure(v as string, column, col);
      const n = BigInt(s);
      if (t === C.DATE) {
        if (n < MIN_I64 || n > MAX_I64) throw outOfRange(s, column, col);
        return n;
      }
      return toInteger(n, column, col);
    };
  }
  if (t === C.FLOAT || t === C.DOUBLE) {
    return (v) => {
      const s = (v as string).trim();
      const n = s === '' ? Number.NaN : Number(s);
      if (Number.isNaN(n) && s.toLowerCase() !== 'nan')
        throw parseFailure(v as string, column, col);
      return t === C.FLOAT ? Math.fround(n) : n;
    };
  }
  if (TIMESTAMPS.has(t)) {
    return (v) => {
      const n = timestampFromText(v as string, t === C.TIMESTAMP_NANOS);
      if (n === null || n < MIN_I64 || n > MAX_I64) throw parseFailure(v as string, column, col);
      return n;
    };
  }
  if (t === C.UUID) {
    return (v) => {
      if (!UUID_TEXT.test(v as string)) throw parseFailure(v as string, column, col);
      return (v as string).toLowerCase();
    };
  }
  if (t === C.LONG256) {
    return (v) => {
      const s = (v as string).trim();
      if (!/^0x[0-9a-fA-F]{1,64}$/.test(s)) throw parseFailure(v as string, column, col);
      return BigInt(s);
    };
  }
  if (t === C.CHAR) {
    // putCharColumn stores the first character; an empty string is null.
    return (v) => ((v as string).length === 0 ? null : (v as string)[0]);
  }
  if (DECIMALS.has(t)) return (v) => decimalFromText(v as string, column, col, C.VARCHAR);
  return null;
}

/** Any supported wire value into a VARCHAR (or SYMBOL) column: its text. */
function toText(wire: DecodedColumn): Converter | null {
  switch (wire.type) {
    case C.VARCHAR:
    case C.SYMBOL:
    case C.UUID:
    case C.IPV4:
    case C.CHAR:
      return (v) => v;
    case C.BOOLEAN:
      return (v) => (v ? 'true' : 'false');
    case C.BYTE:
    case C.SHORT:
    case C.INT:
    case C.LONG:
      return (v) => String(v);
    case C.FLOAT:
    case C.DOUBLE:
      return (v) => floatText(v as number);
    case C.TIMESTAMP:
      return (v) => isoText(v as bigint, 6);
    case C.TIMESTAMP_NANOS:
      return (v) => isoText(v as bigint, 9);
    case C.DATE:
      return (v) => isoText(v as bigint, 3);
    case C.LONG256:
      return (v) => `0x${(v as bigint).toString(16)}`;
    case C.GEOHASH: {
      const bits = wire.geohashBits ?? 60;
      return (v) => geohashText(v as bigint, bits);
    }
    case C.DECIMAL64:
    case C.DECIMAL128:
    case C.DECIMAL256: {
      const scale = wire.scale ?? 0;
      return (v) => decimalText(v as bigint, scale);
    }
    default:
      return null;
  }
}

/**
 * The converter from `wire`'s values to the column `col` named `column`,
 * or a SCHEMA_MISMATCH when QuestDB refuses the pair. Null values never reach
 * the converter. Same-type columns convert by identity.
 */
export function converterFor(wire: DecodedColumn, column: string, col: ColumnTypeInfo): Converter {
  const w = wire.type;
  const t = col.type;
  if (w === t) {
    if (DECIMALS.has(t)) {
      const from = wire.scale ?? 0;
      if (from === (col.scale ?? 0)) return (v) => v;
      return (v) => rescaleDecimal(v as bigint, from, column, col);
    }
    if (t === C.GEOHASH && (wire.geohashBits ?? 0) !== (col.geohashBits ?? 0)) {
      throw schemaMismatch(
        `geohash precision ${wire.geohashBits ?? 0} bits does not match column [column=${column}, type=${questdbTypeName(col)}]`,
      );
    }
    return (v) => v;
  }
  if (
    t === C.VARCHAR ||
    (t === C.SYMBOL && (INTEGER_WIRE.has(w) || FLOAT_WIRE.has(w) || w === C.VARCHAR))
  ) {
    const conv = toText(wire);
    if (conv !== null) return conv;
    throw mismatch(w, column, col);
  }
  if (w === C.VARCHAR) {
    const conv = fromText(column, col);
    if (conv !== null) return conv;
    throw mismatch(w, column, col);
  }
  if (TIMESTAMPS.has(t)) {
    if (TIMESTAMPS.has(w)) {
      if (w === C.TIMESTAMP) {
        return (v) => {
          const x = v as bigint;
          if (x > MAX_I64 / 1000n || x < MIN_I64 / 1000n) {
            throw schemaMismatch(`timestamp overflow converting micros to nanos: ${x}`);
          }
          return x * 1000n;
        };
      }
      // Java's long division truncates toward zero, as BigInt division does.
      return (v) => (v as bigint) / 1000n;
    }
    if (INTEGER_WIRE.has(w)) return (v) => BigInt(v as number | bigint);
    if (FIXED_WIRE.has(w)) throw unsupported(w, column, col);
    throw mismatch(w, column, col);
  }
  if (DECIMALS.has(t)) {
    const scale = 10n ** BigInt(col.scale ?? 0);
    if (DECIMALS.has(w)) {
      const from = wire.scale ?? 0;
      return (v) => rescaleDecimal(v as bigint, from, column, col);
    }
    if (INTEGER_WIRE.has(w)) {
      return (v) => checkDecimal(BigInt(v as number | bigint) * scale, v, column, col);
    }
    if (FLOAT_WIRE.has(w)) {
      return (v) => {
        const n = v as number;
        if (Number.isNaN(n)) return null;
        return decimalFromText(String(n), column, col, w);
      };
    }
    throw mismatch(w, column, col);
  }
  if (FIXED_COLUMNS.has(t)) {
    if (w === C.BOOLEAN) {
      if (t in INT_RANGE) return (v) => (t === C.LONG ? (v ? 1n : 0n) : v ? 1 : 0);
      if (t === C.FLOAT || t === C.DOUBLE) return (v) => (v ? 1 : 0);
      throw mismatch(w, column, col);
    }
    if (!FIXED_WIRE.has(w)) throw mismatch(w, column, col);
    const fromInteger = INTEGER_WIRE.has(w);
    const fromFloat = FLOAT_WIRE.has(w);
    if (fromInteger && t in INT_RANGE) {
      return (v) => toInteger(BigInt(v as number | bigint), column, col);
    }
    if (fromInteger && t === C.DATE) return (v) => BigInt(v as number | bigint);
    if ((fromInteger || fromFloat) && (t === C.FLOAT || t === C.DOUBLE)) {
      return t === C.FLOAT ? (v) => Math.fround(Number(v)) : (v) => Number(v);
    }
    if (fromFloat && t in INT_RANGE) return (v) => floatToInteger(v as number, column, col);
    throw unsupported(w, column, col);
  }
  throw mismatch(w, column, col);
}

/**
 * The one number of dimensions every non-null array of a DOUBLE_ARRAY batch
 * has, or -1 when all are null; differing counts are SCHEMA_MISMATCH
 * (getArrayBatchDimensionality, in QwpTudCache for a new table and in
 * QwpWalAppender for an existing one).
 */
export function batchDimensions(wire: DecodedColumn, column: string): number {
  let dims = -1;
  for (const v of wire.values) {
    if (v === null) continue;
    const d = (v as DecodedArray).shape.length;
    if (dims === -1) dims = d;
    else if (d !== dims) {
      throw schemaMismatch(
        `array dimensionality mismatch in QWP batch [column=${column}, expectedDims=${dims}, actualDims=${d}]`,
      );
    }
  }
  return dims;
}

/** SCHEMA_MISMATCH when a batch's array dimensions differ from the column's (validateArrayColumnType). */
export function checkArrayDimensions(column: string, col: ColumnTypeInfo, batchDims: number): void {
  if (batchDims < 1 || col.dims === undefined || col.dims === batchDims) return;
  throw schemaMismatch(
    `array dimensionality mismatch [column=${column}, expected=${questdbTypeName(col)}, actual=${questdbTypeName({ type: col.type, dims: batchDims })}]`,
  );
}
