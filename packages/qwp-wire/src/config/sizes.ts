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
    throw new ConnectStringError(
      'ERR_QWP_CONFIG_BAD_VALUE',
      `${key}: '${value}' is not a size (expected digits with an optional k, m, g or t suffix, e.g. 64k)`,
      { key },
    );
  }
  const digits = match[1]!;
  const suffix = match[2]!;
  const multiplier = SIZE_MULTIPLIERS[suffix.toLowerCase()];
  if (multiplier === undefined) {
    throw new ConnectStringError(
      'ERR_QWP_CONFIG_BAD_VALUE',
      `${key}: unknown size suffix '${suffix}' in '${value}' (expected k, kb, m, mb, g, gb, t or tb)`,
      { key },
    );
  }
  const bytes = Number(digits) * multiplier;
  if (!Number.isSafeInteger(bytes)) {
    throw new ConnectStringError(
      'ERR_QWP_CONFIG_BAD_VALUE',
      `${key}: size '${value}' is too large (more than 2^53-1 bytes)`,
      { key },
    );
  }
  return bytes;
}
