import { ConnectStringError } from '../errors.js';
import type { KeySpec } from './keys.js';
import { parseSize } from './sizes.js';

/** A value read from the connect string by its key's {@link KeySpec}. */
export type KeyValue = string | number | boolean;

const badValue = ConnectStringError.badValue;

function checkMin(key: string, value: number, min: number): number {
  if (value < min) {
    throw badValue(key, `${value} is below the minimum ${min}`);
  }
  return value;
}

function quoted(spec: KeySpec, raw: string): string {
  return spec.kind === 'string' && spec.secret === true ? '(value hidden)' : `'${raw}'`;
}

/**
 * Reads one raw value by its spec: integers are plain decimal (optionally
 * `off` → 0), sizes take k/m/g/t suffixes, booleans are on/off/true/false,
 * enums map each accepted spelling to its canonical value.
 * @param key canonical key name (named in errors)
 * @param spec the key's spec; `addr` is parsed elsewhere
 * @param raw the unescaped value
 */
export function readValue(key: string, spec: KeySpec, raw: string): KeyValue {
  if (raw.length === 0) {
    throw badValue(key, 'value is empty');
  }
  switch (spec.kind) {
    case 'addr':
      return raw;
    case 'string':
      if (spec.pattern !== undefined && !spec.pattern.test(raw)) {
        throw badValue(key, `${quoted(spec, raw)} is invalid: ${spec.patternText ?? 'bad format'}`);
      }
      return raw;
    case 'int': {
      if (spec.off === true && raw === 'off') {
        return 0;
      }
      if (!/^-?\d+$/.test(raw)) {
        throw badValue(key, `'${raw}' is not an integer${spec.off === true ? " or 'off'" : ''}`);
      }
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) {
        throw badValue(key, `'${raw}' is out of the safe integer range`);
      }
      return checkMin(key, n, spec.min);
    }
    case 'size': {
      if (spec.off === true && raw === 'off') {
        return 0;
      }
      return checkMin(key, parseSize(key, raw), spec.min);
    }
    case 'bool':
      if (raw === 'on' || raw === 'true') {
        return true;
      }
      if (raw === 'off' || raw === 'false') {
        return false;
      }
      throw badValue(key, `'${raw}' is not one of on, off, true, false`);
    case 'enum': {
      const canonical = spec.values[raw];
      if (spec.refused !== undefined && Object.hasOwn(spec.refused, raw)) {
        throw badValue(key, `'${raw}': ${spec.refused[raw]}`);
      }
      if (canonical === undefined || !Object.hasOwn(spec.values, raw)) {
        throw badValue(key, `'${raw}' is not one of ${Object.keys(spec.values).join(', ')}`);
      }
      return canonical;
    }
  }
}
