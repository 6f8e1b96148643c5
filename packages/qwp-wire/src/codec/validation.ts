import { Limits } from './constants.js';

const utf8 = new TextEncoder();

/** UTF-8 byte length of `s` (s must be well-formed). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** True when `s` has no lone UTF-16 surrogate (so it has an exact UTF-8 form). */
export function isWellFormed(s: string): boolean {
  // String.prototype.isWellFormed exists from Node 20; typed for ES2024 only.
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** UTF-8 bytes of a well-formed string. */
export function encodeUtf8(s: string): Uint8Array {
  return utf8.encode(s);
}

// Characters QuestDB refuses in table names (TableUtils.isValidTableName).
const TABLE_FORBIDDEN = new Set([...'?,\'"\\/:)(+*%~', '\u007f', '\ufeff']);
// Column names additionally refuse '.' and '-' (TableUtils.isValidColumnName).
const COLUMN_FORBIDDEN = new Set([...TABLE_FORBIDDEN, '.', '-']);
// TableUtils refuses the control characters U+0000-U+000F only: U+0010-U+001F
// are legal in QuestDB names, so refusing them would reject rows the server takes.
const LAST_FORBIDDEN_CONTROL = 0x0f;

function forbiddenChar(name: string, forbidden: Set<string>): string | null {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i]!;
    if (name.charCodeAt(i) <= LAST_FORBIDDEN_CONTROL || forbidden.has(ch)) return ch;
  }
  return null;
}

/**
 * Why `name` is not a valid QuestDB table name, or null if it is.
 * @param maxBytes the longest name in UTF-8 bytes (QuestDB's default 127;
 *   a sender's `max_name_len`)
 */
export function tableNameProblem(
  name: unknown,
  maxBytes: number = Limits.MAX_TABLE_NAME_LENGTH,
): string | null {
  if (typeof name !== 'string') return 'table name must be a string';
  if (name.length === 0) return 'table name is empty';
  if (!isWellFormed(name)) return 'table name has a lone UTF-16 surrogate';
  const bytes = utf8Length(name);
  if (bytes > maxBytes) return `table name is ${bytes} UTF-8 bytes, over ${maxBytes}`;
  const ch = forbiddenChar(name, TABLE_FORBIDDEN);
  if (ch !== null) return `table name contains the forbidden character ${JSON.stringify(ch)}`;
  if (name.startsWith('.') || name.endsWith('.')) return 'table name starts or ends with "."';
  if (name.includes('..')) return 'table name contains ".."';
  if (name.startsWith(' ') || name.endsWith(' ')) return 'table name starts or ends with a space';
  return null;
}

/**
 * Why `name` is not a valid QuestDB column name, or null ("" is the designated timestamp).
 * @param maxBytes the longest name in UTF-8 bytes (QuestDB's default 127;
 *   a sender's `max_name_len`)
 */
export function columnNameProblem(
  name: unknown,
  maxBytes: number = Limits.MAX_COLUMN_NAME_LENGTH,
): string | null {
  if (typeof name !== 'string') return 'column name must be a string';
  if (name.length === 0) return 'column name is empty (reserved for the designated timestamp)';
  if (!isWellFormed(name)) return 'column name has a lone UTF-16 surrogate';
  const bytes = utf8Length(name);
  if (bytes > maxBytes) return `column name is ${bytes} UTF-8 bytes, over ${maxBytes}`;
  const ch = forbiddenChar(name, COLUMN_FORBIDDEN);
  if (ch !== null) return `column name contains the forbidden character ${JSON.stringify(ch)}`;
  return null;
}
