/**
 * Column types of `qwp send`: the sender's type names, how a text or JSON
 * value is read as one of them, and how the type of a column is inferred
 * from sample values.
 */
import type { Sender, TimestampUnit } from '@qwp/sender';

/** The column types `qwp send` writes (the sender's names; `--types col:TYPE`). */
export const SEND_TYPES = [
  'SYMBOL',
  'VARCHAR',
  'BOOLEAN',
  'BYTE',
  'SHORT',
  'INT',
  'LONG',
  'FLOAT',
  'DOUBLE',
  'CHAR',
  'DATE',
  'TIMESTAMP',
  'TIMESTAMP_NANOS',
  'UUID',
  'LONG256',
  'IPv4',
  'DECIMAL',
  'BINARY',
] as const;
export type SendType = (typeof SEND_TYPES)[number];

const TYPE_BY_NAME = new Map<string, SendType>(SEND_TYPES.map((t) => [t.toUpperCase(), t]));
TYPE_BY_NAME.set('STRING', 'VARCHAR');

/** `name` as a SendType (case-insensitive, STRING = VARCHAR), or undefined. */
export function sendType(name: string): SendType | undefined {
  return TYPE_BY_NAME.get(name.toUpperCase());
}

/** A value could not be read as its column's type; the message says why. */
export class ValueError extends Error {
  override readonly name = 'ValueError';
}

/**
 * A timestamp read from Parquet, in nanoseconds since the epoch: tagged, so
 * it is never mistaken for a plain integer, whose unit is `--unit`'s.
 */
export class Instant {
  constructor(readonly nanos: bigint) {}
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL_DOUBLE = /^(?:[+-]?(?:inf|infinity)|nan)$/i;
// YYYY-MM-DD, then optionally [T ]hh:mm[:ss[.fraction]] and Z or an offset.
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UNIT_NANOS: Record<TimestampUnit, bigint> = {
  ns: 1n,
  us: 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
};

/** True when `text` is an ISO-8601 date or date-time (see {@link parseIso}). */
export function isIsoTimestamp(text: string): boolean {
  return ISO.test(text) && parseIsoNanos(text) !== undefined;
}

/** Fractional-second digits of an ISO timestamp (0 when none). */
function fractionDigits(text: string): number {
  return ISO.exec(text)?.[7]?.length ?? 0;
}

/**
 * Nanoseconds since the epoch of an ISO-8601 date or date-time; a time
 * without an offset is UTC. Undefined when `text` is not one, or names a
 * day or time that does not exist.
 */
export function parseIsoNanos(text: string): bigint | undefined {
  const m = ISO.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day
  ) {
    return undefined;
  }
  let nanos = BigInt(ms) * 1_000_000n + BigInt(frac.padEnd(9, '0'));
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1n : 1n;
    const digits = zone.slice(1).replace(':', '');
    const offH = BigInt(digits.slice(0, 2));
    const offM = BigInt(digits.slice(2) || '0');
    if (offH > 23n || offM > 59n) return undefined;
    nanos -= sign * (offH * 3600n + offM * 60n) * 1_000_000_000n;
  }
  return nanos;
}

// ---- inference ----

/** How many rows type inference looks at, unless --infer-rows says otherwise. */
export const DEFAULT_INFER_ROWS = 1000;

/**
 * Collects sample values of one column and names its type: every non-empty
 * sample an integer (int64) -> LONG; a number -> DOUBLE; true/false ->
 * BOOLEAN; an ISO-8601 timestamp -> TIMESTAMP (TIMESTAMP_NANOS when one has
 * more than 6 fractional digits); anything else, or no sample at all,
 * VARCHAR. JSON values count by their JSON type (a JSON string is never a
 * number); objects and arrays are VARCHAR.
 */
export class TypeGuess {
  private integer = true;
  private number = true;
  private boolean = true;
  private timestamp = true;
  private nanos = false;
  private seen = 0;

  /** `json`: values are JSON values, whose strings are text even when they look like numbers. */
  constructor(private readonly json = false) {}

  add(value: unknown): void {
    if (value === null || value === undefined || value === '') return;
    this.seen++;
    if (typeof value === 'string') {
      const t = value;
      if (this.json) {
        this.integer = false;
        this.number = false;
        this.boolean = false;
      }
      if (this.integer && !(INTEGER.test(t) && fitsInt64(t))) this.integer = false;
      if (this.number && !(DECIMAL.test(t) || SPECIAL_DOUBLE.test(t))) this.number = false;
      if (this.boolean && !/^(?:true|false)$/i.test(t)) this.boolean = false;
      if (this.timestamp) {
        if (isIsoTimestamp(t)) this.nanos ||= fractionDigits(t) > 6;
        else this.timestamp = false;
      }
      return;
    }
    this.timestamp = false;
    if (typeof value === 'number') {
      this.boolean = false;
      if (!Number.isSafeInteger(value)) this.integer = false;
    } else if (typeof value === 'boolean') {
      this.integer = false;
      this.number = false;
    } else {
      this.integer = false;
      this.number = false;
      this.boolean = false;
    }
  }

  /** The type the samples so far point to. */
  get type(): SendType {
    if (this.seen === 0) return 'VARCHAR';
    if (this.integer) return 'LONG';
    if (this.number) return 'DOUBLE';
    if (this.boolean) return 'BOOLEAN';
    if (this.timestamp) return this.nanos ? 'TIMESTAMP_NANOS' : 'TIMESTAMP';
    return 'VARCHAR';
  }
}

function fitsInt64(text: string): boolean {
  if (text.length < 19) return true;
  const v = BigInt(text);
  return v >= INT64_MIN && v <= INT64_MAX;
}

// ---- conversion ----

/** A null value: an empty CSV field, a JSON null, a missing key or a Parquet null. */
export function isNull(value: unknown): boolean {
  return value === null || value === undefined || value === '';
}

function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'bigint') return `${value}`;
  if (value instanceof Instant) return `${value.nanos} ns`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  return typeof value === 'object' ? safeJson(value) : String(value);
}

function fail(value: unknown, type: string): never {
  throw new ValueError(`${describe(value)} is not a ${type}`);
}

/** JSON text of an object, with bigints as numbers' digits and bytes as hex. */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
    if (v instanceof Instant) return v.nanos.toString();
    return v;
  });
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && !(value instanceof Instant)) return safeJson(value);
  if (value instanceof Instant) return value.nanos.toString();
  return String(value);
}

function asInteger(value: unknown, type: string): number | bigint {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value;
    return fail(value, type);
  }
  if (typeof value === 'bigint') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const t = value.trim();
    if (INTEGER.test(t)) {
      const v = BigInt(t);
      if (v < INT64_MIN || v > INT64_MAX)
        throw new ValueError(`${describe(value)} is outside int64`);
      return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
    }
  }
  return fail(value, type);
}

function asSmallInteger(value: unknown, type: string): number {
  const v = asInteger(value, type);
  // The sender checks the range and names it; a bigint is out of any small range.
  return typeof v === 'bigint' ? Number(v) : v;
}

function asDouble(value: unknown, type: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const t = value.trim();
    if (DECIMAL.test(t)) return Number(t);
    if (SPECIAL_DOUBLE.test(t)) {
      const l = t.toLowerCase();
      return l === 'nan' ? Number.NaN : l.startsWith('-') ? -Infinity : Infinity;
    }
  }
  return fail(value, type);
}

function asBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const l = value.trim().toLowerCase();
    if (l === 'true' || l === '1') return true;
    if (l === 'false' || l === '0') return false;
  }
  if (value === 1 || value === 1n) return true;
  if (value === 0 || value === 0n) return false;
  return fail(value, 'BOOLEAN (true/false/1/0)');
}

/**
 * A timestamp value in nanoseconds: an Instant, an ISO-8601 string, or an
 * integer (number, bigint or integer text) counting `unit`s. A fractional
 * number counts `unit`s too (e.g. 1.5 s).
 */
export function asNanos(value: unknown, unit: TimestampUnit, type: string): bigint {
  if (value instanceof Instant) return value.nanos;
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) return fail(value, type);
    return BigInt(ms) * 1_000_000n;
  }
  if (typeof value === 'string') {
    const iso = parseIsoNanos(value.trim());
    if (iso !== undefined) return iso;
  }
  const scale = UNIT_NANOS[unit];
  if (typeof value === 'bigint') return value * scale;
  if (typeof value === 'number' && Number.isFinite(value)) {
    if (Number.isInteger(value)) return BigInt(value) * scale;
    return BigInt(Math.round(value * Number(scale)));
  }
  if (typeof value === 'string' && INTEGER.test(value.trim())) return BigInt(value.trim()) * scale;
  if (typeof value === 'string' && DECIMAL.test(value.trim())) {
    return BigInt(Math.round(Number(value.trim()) * Number(scale)));
  }
  return fail(value, `${type} (ISO-8601, or a number of ${unit})`);
}

/** Floor division for nanos -> micros, so instants before 1970 round down like QuestDB's. */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/**
 * Writes one non-null value of `type` into the sender's open row. Reading
 * the value can throw ValueError; the sender's own checks (ranges, UUID,
 * IPv4, ...) throw QwpInvalidValueError and discard the row.
 */
export type ColumnWriter = (sender: Sender, name: string, value: unknown) => void;

/** Reads `value` as `type` without writing it (so a bad value never leaves a half-written row). */
export type ValueReader = (value: unknown) => unknown;

/** How a value becomes `type` (`unit`: what plain integers count in TIMESTAMP / DATE columns). */
export function readerFor(type: SendType, unit: TimestampUnit): ValueReader {
  switch (type) {
    case 'SYMBOL':
    case 'VARCHAR':
    case 'UUID':
    case 'DECIMAL':
      return asText;
    case 'LONG256':
      return (v) => (typeof v === 'bigint' ? v : asText(v));
    case 'IPv4':
      return (v) => (typeof v === 'number' ? v : asText(v));
    case 'CHAR':
      return (v) => {
        const t = asText(v);
        if (t.length !== 1) throw new ValueError(`${describe(v)} is not one character (CHAR)`);
        return t;
      };
    case 'BOOLEAN':
      return asBoolean;
    case 'BYTE':
    case 'SHORT':
    case 'INT':
      return (v) => asSmallInteger(v, type);
    case 'LONG':
      return (v) => asInteger(v, 'LONG (64-bit integer)');
    case 'FLOAT':
    case 'DOUBLE':
      return (v) => asDouble(v, `${type} (number)`);
    case 'TIMESTAMP':
      return (v) => floorDiv(asNanos(v, unit, type), 1000n);
    case 'TIMESTAMP_NANOS':
      return (v) => asNanos(v, unit, type);
    case 'DATE':
      // QuestDB's DATE counts milliseconds, so plain integers do too.
      return (v) => Number(floorDiv(asNanos(v, 'ms', type), 1_000_000n));
    case 'BINARY':
      return (v) => (v instanceof Uint8Array ? v : Buffer.from(asText(v)));
  }
}

/** The sender call that writes a value `readerFor(type)` produced. */
export function writerFor(type: SendType): ColumnWriter {
  switch (type) {
    case 'SYMBOL':
      return (s, n, v) => s.symbol(n, v as string);
    case 'VARCHAR':
      return (s, n, v) => s.stringColumn(n, v as string);
    case 'UUID':
      return (s, n, v) => s.uuidColumn(n, v as string);
    case 'DECIMAL':
      return (s, n, v) => s.decimalColumnText(n, v as string);
    case 'LONG256':
      return (s, n, v) => s.long256Column(n, v as bigint | string);
    case 'IPv4':
      return (s, n, v) => s.ipv4Column(n, v as string | number);
    case 'CHAR':
      return (s, n, v) => s.charColumn(n, v as string);
    case 'BOOLEAN':
      return (s, n, v) => s.booleanColumn(n, v as boolean);
    case 'BYTE':
      return (s, n, v) => s.byteColumn(n, v as number);
    case 'SHORT':
      return (s, n, v) => s.shortColumn(n, v as number);
    case 'INT':
      return (s, n, v) => s.int32Column(n, v as number);
    case 'LONG':
      return (s, n, v) => s.longColumn(n, v as number | bigint);
    case 'FLOAT':
      return (s, n, v) => s.float32Column(n, v as number);
    case 'DOUBLE':
      return (s, n, v) => s.doubleColumn(n, v as number);
    case 'TIMESTAMP':
      return (s, n, v) => s.timestampColumn(n, v as bigint, 'us');
    case 'TIMESTAMP_NANOS':
      return (s, n, v) => s.timestampColumn(n, v as bigint, 'ns');
    case 'DATE':
      return (s, n, v) => s.dateColumn(n, v as number);
    case 'BINARY':
      return (s, n, v) => s.binaryColumn(n, v as Uint8Array);
  }
}
