import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import {
  ColumnType,
  columnTypeName,
  type DecodedColumn,
  type DecodedMessage,
  type DecodedValue,
  decodeMessage,
  ENCODING_GORILLA,
  FLAG_DEFER_COMMIT,
  FLAG_DELTA_SYMBOL_DICT,
  FLAG_GORILLA,
  HEADER_SIZE,
  Limits,
  QwpDecodeError,
  readVarint,
  SymbolDictionary,
} from '@qwp/qwp-wire/codec';
import type { Command } from '../io.js';
import { UsageError } from '../io.js';

const HELP = `usage: qwp decode [FILE|-] [--hex] [--json]

Decodes one QWP ingress message (from FILE, or stdin when FILE is - or absent)
and prints its header, symbol delta, and every table's schema and rows.

  --hex    the input is hex text (whitespace ignored) instead of binary
  --json   print JSON; 64-bit integers as decimal strings, the designated
           timestamp under the column name ""
`;

/** `qwp decode`: prints one QWP message; exits 1 with the offset and reason if it is malformed. */
export const decode: Command = async (argv, io) => {
  let parsed: ReturnType<typeof parseDecodeArgs>;
  try {
    parsed = parseDecodeArgs(argv);
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${HELP}`, { cause: err });
  }
  if (parsed.help) {
    io.stdout.write(HELP);
    return 0;
  }
  let raw: Buffer;
  try {
    raw = parsed.file === '-' ? await readAll(io.stdin) : await readFile(parsed.file);
  } catch (err) {
    io.stderr.write(`qwp decode: cannot read ${parsed.file}: ${(err as Error).message}\n`);
    return 1;
  }
  let bytes: Uint8Array;
  if (parsed.hex) {
    const text = raw.toString('latin1').replace(/\s+/g, '');
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) {
      io.stderr.write('qwp decode: input is not hex text (pairs of 0-9a-f, whitespace ignored)\n');
      return 1;
    }
    bytes = Buffer.from(text, 'hex');
  } else {
    bytes = raw;
  }
  let message: DecodedMessage;
  try {
    message = decodeMessage(bytes, connectionStandIn(bytes));
  } catch (err) {
    if (err instanceof QwpDecodeError) {
      io.stderr.write(`qwp decode: malformed message at byte ${err.offset}: ${err.reason}\n`);
      return 1;
    }
    throw err;
  }
  io.stdout.write(parsed.json ? `${JSON.stringify(toJson(message), null, 2)}\n` : toText(message));
  return 0;
};

function parseDecodeArgs(argv: string[]): {
  file: string;
  hex: boolean;
  json: boolean;
  help: boolean;
} {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      hex: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (positionals.length > 1)
    throw new Error(`expected at most one FILE, got ${positionals.length}`);
  return {
    file: positionals[0] ?? '-',
    hex: values.hex === true,
    json: values.json === true,
    help: values.help === true,
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/**
 * A message captured mid-connection has a delta that starts past 0: stand in
 * for the earlier connection state with placeholder entries ("<symbol N>"),
 * so the message decodes on its own.
 */
function connectionStandIn(bytes: Uint8Array): SymbolDictionary {
  const dict = new SymbolDictionary();
  if (bytes.length <= HEADER_SIZE || ((bytes[5] ?? 0) & FLAG_DELTA_SYMBOL_DICT) === 0) return dict;
  const start = { value: 0 };
  // A bad varint is left to decodeMessage, which reports it with its offset.
  if (readVarint(bytes, HEADER_SIZE, bytes.length, start) < 0) return dict;
  const placeholders: string[] = [];
  const count = Math.min(start.value, Limits.MAX_SYMBOL_DICTIONARY_SIZE);
  for (let id = 0; id < count; id++) placeholders.push(`<symbol ${id}>`);
  dict.apply(0, placeholders);
  return dict;
}

function flagNames(flags: number): string {
  const names: string[] = [];
  if (flags & FLAG_DEFER_COMMIT) names.push('DEFER_COMMIT');
  if (flags & FLAG_GORILLA) names.push('GORILLA');
  if (flags & FLAG_DELTA_SYMBOL_DICT) names.push('DELTA_SYMBOL_DICT');
  return names.length === 0 ? 'none' : names.join('|');
}

function toText(m: DecodedMessage): string {
  const h = m.header;
  const out: string[] = [
    `header: version ${h.version}, flags 0x${h.flags.toString(16).padStart(2, '0')} (${flagNames(h.flags)}), ` +
      `${h.tableCount} table(s), payload ${h.payloadLength} bytes`,
  ];
  if (m.symbolDelta === null) {
    out.push('symbol delta: none');
  } else {
    const d = m.symbolDelta;
    out.push(
      `symbol delta: start ${d.start}, ${d.entries.length} new entr${d.entries.length === 1 ? 'y' : 'ies'}`,
    );
    d.entries.forEach((s, i) => {
      out.push(`  ${d.start + i}: ${JSON.stringify(s)}`);
    });
  }
  for (const t of m.tables) {
    out.push(
      `table ${JSON.stringify(t.name)}: ${t.rowCount} row(s), ${t.columns.length} column(s)`,
    );
    for (const c of t.columns) out.push(`  ${describeColumn(c)}`);
    for (let r = 0; r < t.rowCount; r++) {
      const cells = t.columns.map(
        (c) => `${c.name === '' ? '(ts)' : c.name}=${textValue(c, c.values[r] ?? null)}`,
      );
      out.push(`  [${r}] ${cells.join(' ')}`);
    }
  }
  return `${out.join('\n')}\n`;
}

function describeColumn(c: DecodedColumn): string {
  let s = `${c.name === '' ? '"" (designated timestamp)' : JSON.stringify(c.name)} ${columnTypeName(c.type)}`;
  if (c.geohashBits !== undefined) s += `(${c.geohashBits} bits)`;
  if (c.scale !== undefined) s += `(scale ${c.scale})`;
  if (c.encoding !== undefined) s += c.encoding === ENCODING_GORILLA ? ' gorilla' : ' uncompressed';
  if (c.nullFlag !== 0) s += ' nulls:bitmap';
  return s;
}

function textValue(c: DecodedColumn, v: DecodedValue | null): string {
  const j = jsonValue(c, v);
  return typeof j === 'string' && c.type !== ColumnType.VARCHAR && c.type !== ColumnType.SYMBOL
    ? j
    : JSON.stringify(j);
}

type Json = null | boolean | number | string | Json[];

/** A cell as JSON: 64-bit integers and decimals as strings, bytes as hex, arrays nested. */
function jsonValue(c: DecodedColumn, v: DecodedValue | null): Json {
  if (v === null) return null;
  if (typeof v === 'bigint')
    return c.scale !== undefined ? formatDecimal(v, c.scale) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return nest(v.shape, 0, { i: 0 }, v.values);
}

function nest(
  shape: number[],
  depth: number,
  pos: { i: number },
  values: Float64Array | BigInt64Array,
): Json[] {
  const out: Json[] = [];
  const len = shape[depth]!;
  for (let k = 0; k < len; k++) {
    if (depth === shape.length - 1) {
      const e = values[pos.i++]!;
      out.push(typeof e === 'bigint' ? e.toString() : Number.isFinite(e) ? e : String(e));
    } else {
      out.push(nest(shape, depth + 1, pos, values));
    }
  }
  return out;
}

function formatDecimal(unscaled: bigint, scale: number): string {
  if (scale === 0) return unscaled.toString();
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function toJson(m: DecodedMessage): unknown {
  return {
    version: m.header.version,
    flags: m.header.flags,
    symbolDelta:
      m.symbolDelta === null
        ? null
        : { start: m.symbolDelta.start, entries: m.symbolDelta.entries },
    tables: m.tables.map((t) => ({
      name: t.name,
      columns: t.columns.map((c) => ({ name: c.name, type: columnTypeName(c.type) })),
      rows: Array.from({ length: t.rowCount }, (_, r) =>
        t.columns.map((c) => jsonValue(c, c.values[r] ?? null)),
      ),
    })),
  };
}
