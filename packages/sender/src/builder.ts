import { tokenizeConnectString } from '@qwp/qwp-wire';
import { SenderOptionsError } from './errors.js';
import type { Durability } from './settings.js';

/** The events a builder can attach before the first connection. */
export type Listeners<Events> = Partial<{
  [E in keyof Events]: Events[E] extends unknown[] ? (...args: Events[E]) => void : never;
}>;

/**
 * Builds a connect string with typed setters, then a sender from it. Every
 * setter writes the connect-string key of the same meaning, so `build()`
 * validates exactly as `Sender.fromConfig` does and its errors name the key.
 *
 * ```ts
 * const sender = await Sender.builder()
 *   .address('db-a', 9000).address('db-b', 9000)
 *   .storeAndForward('/var/lib/app/qwp', { senderId: 'ingest-1', durability: 'flush' })
 *   .autoFlush({ rows: 5000, intervalMs: 50 })
 *   .on('error', (err) => log.error(err))
 *   .build();
 * ```
 */
export class SenderBuilder<S, Events> {
  private scheme = 'ws';
  private readonly addresses: string[] = [];
  private readonly keys = new Map<string, string>();
  private readonly listeners: Listeners<Events> = {};

  /** @internal Use `Sender.builder()`. */
  constructor(
    private readonly create: (conf: string, listeners: Listeners<Events>) => Promise<S>,
    conf?: string,
  ) {
    if (conf === undefined) return;
    const parsed = tokenizeConnectString(conf);
    this.scheme = parsed.schema;
    for (const { key, value } of parsed.pairs) {
      if (key === 'addr') this.addresses.push(value);
      else this.keys.set(key, value);
    }
  }

  /** Adds an endpoint (several make a failover list, tried in order). */
  address(host: string, port = 9000): this {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new SenderOptionsError(
        `address(${host}, ${port}): port must be an integer in 1..65535`,
      );
    }
    this.addresses.push(`${host.includes(':') ? `[${host}]` : host}:${port}`);
    return this;
  }

  /** TLS (`wss::`); `roots` a PEM file of CAs to trust, `verify: false` for tls_verify=unsafe_off. */
  tls(options: { roots?: string; verify?: boolean } = {}): this {
    this.scheme = 'wss';
    if (options.roots !== undefined) this.keys.set('tls_roots', options.roots);
    if (options.verify === false) this.keys.set('tls_verify', 'unsafe_off');
    return this;
  }

  /** HTTP basic authentication. */
  basicAuth(username: string, password: string): this {
    this.keys.set('username', username);
    this.keys.set('password', password);
    return this;
  }

  /** Bearer token authentication. */
  tokenAuth(token: string): this {
    this.keys.set('token', token);
    return this;
  }

  /** Store-and-forward in `<dir>/<senderId>/`. */
  storeAndForward(
    dir: string,
    options: {
      senderId?: string;
      durability?: Durability;
      maxTotalBytes?: number;
      segmentBytes?: number;
    } = {},
  ): this {
    this.keys.set('sf_dir', dir);
    if (options.senderId !== undefined) this.keys.set('sender_id', options.senderId);
    if (options.durability !== undefined) this.keys.set('sf_durability', options.durability);
    if (options.maxTotalBytes !== undefined) {
      this.keys.set('sf_max_total_bytes', String(options.maxTotalBytes));
    }
    if (options.segmentBytes !== undefined)
      this.keys.set('sf_max_bytes', String(options.segmentBytes));
    return this;
  }

  /** Auto-flush triggers (0 turns one off); `false` turns auto-flush off altogether. */
  autoFlush(options: { rows?: number; bytes?: number; intervalMs?: number } | false): this {
    if (options === false) {
      this.keys.set('auto_flush', 'off');
      return this;
    }
    if (options.rows !== undefined) this.keys.set('auto_flush_rows', String(options.rows));
    if (options.bytes !== undefined) this.keys.set('auto_flush_bytes', String(options.bytes));
    if (options.intervalMs !== undefined) {
      this.keys.set('auto_flush_interval', String(options.intervalMs));
    }
    return this;
  }

  /** Any other connect-string key, e.g. `option('close_flush_timeout_millis', 10_000)`. */
  option(key: string, value: string | number | boolean): this {
    if (key === 'addr') {
      this.addresses.push(String(value));
      return this;
    }
    this.keys.set(key, typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value));
    return this;
  }

  /** A listener attached before the first connection (so its `connected` event is seen). */
  on<E extends keyof Events>(event: E, listener: NonNullable<Listeners<Events>[E]>): this {
    this.listeners[event] = listener;
    return this;
  }

  /** The connect string this builder stands for (secrets included: do not log it). */
  toConnectString(): string {
    const parts = [`${this.scheme}::`];
    if (this.addresses.length > 0) parts.push(`addr=${this.addresses.join(',')};`);
    for (const [k, v] of this.keys) parts.push(`${k}=${v.replaceAll(';', ';;')};`);
    return parts.join('');
  }

  /** Creates the sender (see `Sender.fromConfig`). */
  build(): Promise<S> {
    return this.create(this.toConnectString(), this.listeners);
  }
}
