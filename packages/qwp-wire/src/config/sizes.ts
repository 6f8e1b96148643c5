import { ConnectStringError } from '../errors.js';

/** 1024-based multipliers of the JVM-style suffixes the connect string accepts. */
const SIZE_MULTIPLIERS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
};

const SIZE_PATTERN = /^(\d+)([a-zA-Z]*)$/;

/**
 * Parses a size value such as `65536`, `64k`, `4mb` or `10G` into bytes.
 * Suffixes are case-insensitive and 1024-based (k/kb, m/mb, g/gb, t/tb).
 * @param key the connect-string key the value belongs to (named in errors)
 * @param value the raw value
 * @returns the size in bytes, a safe integer
 */
export function parseSize(key: string, value: string): number {
  const match = SIZE_PATTERN.exec(value);
  if (match === null) {
    throw ConnectStringError.badValue(
      key,
      `'${value}' is not a size (expected digits with an optional k, m, g or t suffix, e.g. 64k)`,
    );
  }
  const digits = match[1]!;
  const suffix = match[2]!;
  const lower = suffix.toLowerCase();
  // hasOwn: a suffix such as 'constructor' must not find an inherited member.
  const multiplier = Object.hasOwn(SIZE_MULTIPLIERS, lower) ? SIZE_MULTIPLIERS[lower] : undefined;
  if (multiplier === undefined) {
    throw ConnectStringError.badValue(
      key,
      `unknown size suffix '${suffix}' in '${value}' (expected k, kb, m, mb, g, gb, t or tb)`,
    );
  }
  const bytes = Number(digits) * multiplier;
  if (!Number.isSafeInteger(bytes)) {
    throw ConnectStringError.badValue(key, `size '${value}' is too large (more than 2^53-1 bytes)`);
  }
  return bytes;
}
