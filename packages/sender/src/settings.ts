/**
 * Resolves a parsed connect string (and programmatic options) into the
 * settings the sender runs with: the producer's thresholds, the store and
 * the worker's wire settings.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SenderConfig } from '@qwp/qwp-wire';
import { reasonOf, SenderOptionsError } from './errors.js';
import type { WireSettings } from './shared/messages.js';

/**
 * `sf_durability`: when published frames reach the disk. `memory`: the page
 * cache (survives a process crash); `periodic`: msync every
 * `sf_sync_interval_millis`; `flush`: msync before `flush()` resolves;
 * `append`: msync after every frame published, auto-flushes included.
 */
export type Durability = 'memory' | 'periodic' | 'flush' | 'append';

/** The frame budget before the first connect (what QuestDB advertises with its default 2 MiB buffer). */
export const DEFAULT_FRAME_BUDGET = 2 * 1024 * 1024 - 14;

/** Everything the sender runs with, resolved once at construction. */
export interface SenderSettings {
  readonly config: SenderConfig;
  /** 0: the trigger is off. */
  readonly autoFlushRows: number;
  readonly autoFlushBytes: number;
  readonly autoFlushIntervalMs: number;
  /** Cap on encoded bytes queued while the buffer is full (max_buf_size). */
  readonly maxQueuedBytes: number;
  /** sf_dir, or undefined for memory mode. */
  readonly sfDir: string | undefined;
  readonly senderId: string;
  readonly durability: Durability;
  readonly syncIntervalMs: number;
  readonly segmentSize: number;
  readonly maxTotalBytes: number;
  readonly appendDeadlineMs: number;
  readonly closeFlushTimeoutMs: number;
  readonly wire: Omit<WireSettings, 'localMaxBatchSize'>;
}

let version: string | undefined;

/** This package's version, for `X-QWP-Client-Id: nodejs/<version>`. */
export function packageVersion(): string {
  if (version === undefined) {
    // src/ and dist/ both sit one level below the package root.
    const require = createRequire(import.meta.url);
    version = (require('../package.json') as { version: string }).version;
  }
  return version;
}

function durabilityOf(config: SenderConfig): Durability {
  const value = config.sfDurability as string;
  if (value === 'memory' || value === 'periodic' || value === 'flush' || value === 'append') {
    return value;
  }
  throw new SenderOptionsError(`sf_durability=${value} is not supported by this sender`);
}

function readRoots(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new SenderOptionsError(`tls_roots=${path}: cannot read the PEM file: ${reasonOf(err)}`);
  }
}

function authorizationOf(config: SenderConfig): string | undefined {
  if (config.token !== undefined) return `Bearer ${config.token}`;
  if (config.username !== undefined) {
    const pair = `${config.username}:${config.password ?? ''}`;
    return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
  }
  return undefined;
}

/** Resolves `config` into the sender's settings; reads the `tls_roots` file, so it can fail. */
export function resolveSettings(config: SenderConfig): SenderSettings {
  const initial = config.initialConnectRetry;
  return Object.freeze({
    config,
    autoFlushRows: config.autoFlushRows,
    autoFlushBytes: config.autoFlushBytes,
    autoFlushIntervalMs: config.autoFlushIntervalMs,
    maxQueuedBytes: config.maxBufSize,
    sfDir: config.sfDir,
    senderId: config.senderId,
    durability: durabilityOf(config),
    syncIntervalMs: config.sfSyncIntervalMs,
    segmentSize: config.sfMaxBytes,
    maxTotalBytes: config.sfMaxTotalBytes,
    appendDeadlineMs: config.sfAppendDeadlineMs,
    closeFlushTimeoutMs: config.closeFlushTimeoutMs,
    wire: {
      endpoints: config.addresses.map((a) => ({ host: a.host, port: a.port })),
      tls: config.tls,
      tlsVerify: config.tlsVerify,
      tlsCa: config.tlsRoots === undefined ? undefined : readRoots(config.tlsRoots),
      authorization: authorizationOf(config),
      clientId: `nodejs/${packageVersion()}`,
      connectTimeoutMs: config.connectTimeoutMs,
      authTimeoutMs: config.authTimeoutMs,
      reconnectInitialBackoffMs: config.reconnectInitialBackoffMs,
      reconnectMaxBackoffMs: config.reconnectMaxBackoffMs,
      reconnectMaxDurationMs: config.reconnectMaxDurationMs,
      initialConnect: initial === 'on' ? ('sync' as const) : initial,
      policies: { ...config.errorPolicies },
      maxFrameRejections: config.maxFrameRejections,
      poisonWindowMs: config.poisonMinEscalationWindowMs,
      durableAck: config.requestDurableAck,
      durableKeepaliveMs: config.durableAckKeepaliveIntervalMs,
      retryRefusals:
        initial === 'async'
          ? ('always' as const)
          : config.sfDir !== undefined
            ? ('after-first-connection' as const)
            : ('never' as const),
    },
  });
}
