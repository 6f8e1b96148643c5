/**
 * How the server turns values into text and text into timestamps when it
 * coerces between VARCHAR and other types (QuestDB's own formats).
 */

/** Java-like text of a double: whole numbers keep a ".0". */
export function floatText(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.0`;
  return String(v);
}

/** ISO-8601 UTC text of an epoch count with `digits` fractional digits (3: millis, 6: micros, 9: nanos). */
export function isoText(epoch: bigint, digits: 3 | 6 | 9): string {
  const per = 10n ** BigInt(digits);
  let secs = epoch / per;
  let frac = epoch % per;
  if (frac < 0n) {
    frac += per;
    secs -= 1n;
  }
  const base = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  return `${base}.${frac.toString().padStart(digits, '0')}Z`;
}

/** Text of an unscaled decimal at `scale`, e.g. (12345n, 2) is "123.45". */
export function decimalText(unscaled: bigint, scale: number): string {
  if (scale === 0) return unscaled.toString();
  const neg = unscaled < 0n;
  const s = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${s.slice(0, -scale)}.${s.slice(-scale)}`;
}

const GEO_BASE32 = '0123456789bcdefghjkmnpqrstuvwxyz';

/** Base-32 characters of a geohash whose precision is whole characters, else its bits in binary. */
export function geohashText(v: bigint, bits: number): string {
  if (bits % 5 !== 0) return v.toString(2).padStart(bits, '0');
  let out = '';
  for (let i = bits / 5 - 1; i >= 0; i--) out += GEO_BASE32[Number((v >> BigInt(i * 5)) & 31n)];
  return out;
}

/**
 * Parses a timestamp sent as text: an integer (already in the column's
 * unit) or ISO-8601 UTC `YYYY-MM-DDTHH:MM:SS[.fraction][Z]`.
 */
export function timestampFromText(text: string, nanos: boolean): bigint | null {
  const t = text.trim();
  if (/^-?\d+$/.test(t)) return BigInt(t);
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z?$/.exec(t);
  if (m === null) return null;
  const ms = Date.parse(`${m[1]}T${m[2]}Z`);
  if (Number.isNaN(ms)) return null;
  const digits = nanos ? 9 : 6;
  const frac = BigInt((m[3] ?? '').padEnd(9, '0').slice(0, digits));
  return BigInt(ms / 1000) * 10n ** BigInt(digits) + frac;
}
