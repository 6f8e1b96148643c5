import { QwpError } from '../errors.js';
import { INGRESS_KEYS } from './keys.js';
import type { KeyValue } from './values.js';

/**
 * The values read from one connect string, keyed by canonical key name, with
 * the key table's default for every key not written. Internal to the parser.
 */
export class ResolvedKeys {
  private readonly values = new Map<string, KeyValue>();
  readonly addr: string[] = [];

  set(key: string, value: KeyValue): void {
    this.values.set(key, value);
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  private get(key: string): KeyValue {
    const v = this.values.get(key);
    if (v !== undefined) {
      return v;
    }
    const spec = INGRESS_KEYS[key];
    if (spec === undefined || spec.kind === 'addr' || spec.default === undefined) {
      throw new QwpError('ERR_QWP_INTERNAL', `config key ${key} has no value and no default`);
    }
    return spec.default;
  }

  num(key: string): number {
    return this.get(key) as number;
  }

  bool(key: string): boolean {
    return this.get(key) as boolean;
  }

  str(key: string): string {
    return this.get(key) as string;
  }

  opt(key: string): string | undefined {
    return this.values.get(key) as string | undefined;
  }
}
