import { ConnectStringError } from '../errors.js';

/** One endpoint of the `addr` list. IPv6 hosts are kept without brackets. */
export interface HostAddress {
  readonly host: string;
  readonly port: number;
}

function addrError(message: string): ConnectStringError {
  return ConnectStringError.badValue('addr', message);
}

function parsePort(text: string, entry: string): number {
  if (!/^\d{1,5}$/.test(text)) {
    throw addrError(`port '${text}' in entry '${entry}' is not a number`);
  }
  const port = Number(text);
  if (port < 1 || port > 65535) {
    throw addrError(`port ${port} in entry '${entry}' is outside 1-65535`);
  }
  return port;
}

function parseEntry(entry: string, defaultPort: number): HostAddress {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0) {
      throw addrError(`IPv6 entry '${entry}' has no closing ']'`);
    }
    const host = entry.slice(1, close);
    if (host.length === 0) {
      throw addrError(`entry '${entry}' has an empty host`);
    }
    if (close === entry.length - 1) {
      return { host, port: defaultPort };
    }
    if (entry[close + 1] !== ':') {
      throw addrError(`expected ':' after ']' in IPv6 entry '${entry}'`);
    }
    return { host, port: parsePort(entry.slice(close + 2), entry) };
  }
  const first = entry.indexOf(':');
  if (first < 0) {
    return { host: entry, port: defaultPort };
  }
  if (entry.indexOf(':', first + 1) >= 0) {
    // Several colons and no brackets: a bare IPv6 literal on the default
    // port. A custom port on IPv6 needs the [host]:port form.
    return { host: entry, port: defaultPort };
  }
  const host = entry.slice(0, first);
  if (host.length === 0) {
    throw addrError(`entry '${entry}' has an empty host`);
  }
  return { host, port: parsePort(entry.slice(first + 1), entry) };
}

/**
 * Parses every `addr` value (the key may repeat; each value is a comma list)
 * into endpoints in the order written. Empty entries and duplicate
 * host:port pairs are rejected.
 * @param values the raw `addr` values in order of appearance
 * @param defaultPort port for entries without `:port`
 */
export function parseAddresses(values: readonly string[], defaultPort: number): HostAddress[] {
  const out: HostAddress[] = [];
  const seen = new Set<string>();
  for (const value of values) {
    const entries = value.split(',');
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!.trim();
      if (entry.length === 0) {
        throw addrError(
          `empty entry at position ${i + 1} of '${value}' (leading, trailing or doubled ',')`,
        );
      }
      if (/\s/.test(entry)) {
        throw addrError(`entry '${entry}' contains whitespace`);
      }
      const address = parseEntry(entry, defaultPort);
      const id = `${address.host.toLowerCase()}/${address.port}`;
      if (seen.has(id)) {
        throw addrError(`duplicate entry '${entry}'`);
      }
      seen.add(id);
      out.push(Object.freeze(address));
    }
  }
  return out;
}
