import { ConnectStringError } from '../errors.js';

/** One `key=value` pair as written, with the value unescaped (`;;` → `;`). */
export interface ConnectStringPair {
  readonly key: string;
  readonly value: string;
  /** Character offset of the key in the input. */
  readonly position: number;
}

/** A connect string split by the grammar, before any key is interpreted. */
export interface ConnectStringTokens {
  /** The schema as written, e.g. `ws`, `wss`, `qwpws`. */
  readonly schema: string;
  readonly pairs: readonly ConnectStringPair[];
}

function isIdentifierChar(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) || // 0-9
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    code === 0x5f // _
  );
}

function isControlChar(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}

/** Printable form of a character for an error message (control chars as \uXXXX). */
function printable(ch: string): string {
  const code = ch.charCodeAt(0);
  return isControlChar(code) ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
}

function syntaxError(message: string, position: number, key?: string): ConnectStringError {
  return new ConnectStringError('ERR_QWP_CONFIG_SYNTAX', `${message} at position ${position}`, {
    position,
    ...(key === undefined ? {} : { key }),
  });
}

/**
 * Splits a connect string `schema::key=value;key=value;` by the grammar of
 * the QuestDB connect-string reference: schema and keys are ASCII letters,
 * digits and `_`; a value is any non-control character up to an unescaped `;`;
 * `;;` inside a value is a literal `;`; the final `;` is optional.
 * Keys are not interpreted here (see {@link parseConnectString}).
 * @param input the whole connect string
 */
export function tokenizeConnectString(input: string): ConnectStringTokens {
  if (input.length === 0) {
    throw syntaxError('connect string is empty; expected schema::key=value;...', 0);
  }
  const sep = input.indexOf('::');
  if (sep < 0) {
    throw syntaxError(
      "connect string has no '::' after the schema (expected e.g. ws::addr=localhost:9000;)",
      0,
    );
  }
  if (sep === 0) {
    throw syntaxError("schema before '::' is empty", 0);
  }
  for (let i = 0; i < sep; i++) {
    if (!isIdentifierChar(input.charCodeAt(i))) {
      throw syntaxError(
        `schema may contain only ASCII letters, digits and '_', not '${printable(input[i]!)}'`,
        i,
      );
    }
  }
  const schema = input.slice(0, sep);
  const pairs: ConnectStringPair[] = [];
  const n = input.length;
  let pos = sep + 2;
  while (pos < n) {
    const keyStart = pos;
    while (pos < n && input[pos] !== '=') {
      const code = input.charCodeAt(pos);
      if (input[pos] === ';') {
        const partial = input.slice(keyStart, pos);
        throw syntaxError(
          partial.length === 0
            ? "empty key-value pair (a stray ';')"
            : `key '${partial}' has no '=value'`,
          pos,
          partial.length === 0 ? undefined : partial,
        );
      }
      if (!isIdentifierChar(code)) {
        throw syntaxError(
          `key may contain only ASCII letters, digits and '_', not '${printable(input[pos]!)}'`,
          pos,
        );
      }
      pos++;
    }
    if (pos === n) {
      throw syntaxError(
        `key '${input.slice(keyStart)}' has no '=value' before the end of input`,
        pos,
        input.slice(keyStart),
      );
    }
    if (pos === keyStart) {
      throw syntaxError("empty key before '='", pos);
    }
    const key = input.slice(keyStart, pos);
    pos++; // skip '='
    let value = '';
    let runStart = pos;
    for (;;) {
      if (pos === n) {
        value += input.slice(runStart, pos);
        break;
      }
      const ch = input[pos]!;
      if (ch === ';') {
        value += input.slice(runStart, pos);
        if (pos + 1 < n && input[pos + 1] === ';') {
          // Doubled ';' is an escaped literal ';' inside the value.
          value += ';';
          pos += 2;
          runStart = pos;
          continue;
        }
        pos++;
        break;
      }
      if (isControlChar(input.charCodeAt(pos))) {
        // The value may be a secret: name the key and position, never echo it.
        throw syntaxError(
          `value of '${key}' contains control character ${printable(ch)}`,
          pos,
          key,
        );
      }
      pos++;
    }
    pairs.push({ key, value, position: keyStart });
  }
  return { schema, pairs };
}
