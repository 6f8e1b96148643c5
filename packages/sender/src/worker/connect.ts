import type { IncomingMessage } from 'node:http';
import { type AttemptOutcome, classifyUpgradeFailure, VERSION } from '@qwp/qwp-wire';
import WebSocket from 'ws';
import { reasonOf } from '../errors.js';
import type { Endpoint, WireSettings } from '../shared/messages.js';

/** The ingest path; QuestDB also serves `/api/v4/write`. */
export const WRITE_PATH = '/write/v4';

/** An open WebSocket and what its upgrade negotiated. */
export interface OpenConnection {
  readonly ws: WebSocket;
  readonly version: number;
  /** X-QWP-Max-Batch-Size, or undefined when the server did not send it. */
  readonly serverMaxBatchSize: number | undefined;
  readonly role: string | undefined;
}

/** A failed connect attempt, classified for the endpoint walk. */
export class ConnectAttemptError extends Error {
  readonly outcome: AttemptOutcome | 'durable-ack-refused';
  /** HTTP status of a refused upgrade, or 0 for a transport failure. */
  readonly httpStatus: number;
  readonly endpoint: Endpoint;

  constructor(
    endpoint: Endpoint,
    outcome: AttemptOutcome | 'durable-ack-refused',
    httpStatus: number,
    message: string,
    cause?: unknown,
  ) {
    super(`${endpoint.host}:${endpoint.port}: ${message}`, cause === undefined ? {} : { cause });
    this.name = 'ConnectAttemptError';
    this.outcome = outcome;
    this.httpStatus = httpStatus;
    this.endpoint = endpoint;
  }
}

function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * Opens one WebSocket to `endpoint` and performs the QWP upgrade. Resolves
 * once the 101 arrived and its QWP headers were checked; rejects with a
 * {@link ConnectAttemptError} saying how the failover walk should treat it.
 */
export function openConnection(endpoint: Endpoint, wire: WireSettings): Promise<OpenConnection> {
  const url = `${wire.tls ? 'wss' : 'ws'}://${hostForUrl(endpoint.host)}:${endpoint.port}${WRITE_PATH}`;
  const headers: Record<string, string> = {
    'X-QWP-Max-Version': String(VERSION),
    'X-QWP-Client-Id': wire.clientId,
  };
  if (wire.authorization !== undefined) headers.Authorization = wire.authorization;
  if (wire.durableAck) headers['X-QWP-Request-Durable-Ack'] = 'true';
  return new Promise((resolve, reject) => {
    let settled = false;
    let upgrade: IncomingMessage | undefined;
    const ws = new WebSocket(url, {
      headers,
      perMessageDeflate: false,
      handshakeTimeout: wire.connectTimeoutMs + wire.authTimeoutMs,
      maxPayload: 16 * 1024 * 1024,
      followRedirects: false,
      ...(wire.tls ? { rejectUnauthorized: wire.tlsVerify, ca: wire.tlsCa } : {}),
    });
    ws.binaryType = 'nodebuffer';
    const fail = (err: ConnectAttemptError) => {
      if (settled) return;
      settled = true;
      ws.removeAllListeners();
      ws.on('error', () => {}); // a late socket error after terminate() has nowhere to go
      ws.terminate();
      reject(err);
    };
    ws.once('upgrade', (res) => {
      upgrade = res;
    });
    ws.once('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      const role = header(res, 'x-questdb-role');
      res.resume();
      const outcome = classifyUpgradeFailure(status, role);
      const what = role === undefined ? `HTTP ${status}` : `HTTP ${status} (role ${role})`;
      fail(new ConnectAttemptError(endpoint, outcome, status, `upgrade refused: ${what}`));
    });
    ws.once('error', (err) => {
      fail(new ConnectAttemptError(endpoint, 'transport-error', 0, reasonOf(err), err));
    });
    ws.once('open', () => {
      if (settled) return;
      const res = upgrade;
      const versionText = res === undefined ? undefined : header(res, 'x-qwp-version');
      const version = versionText === undefined ? 1 : Number(versionText);
      if (version !== VERSION) {
        fail(
          new ConnectAttemptError(
            endpoint,
            'transport-error',
            101,
            `server selected QWP version ${versionText}; this client speaks version ${VERSION}`,
          ),
        );
        return;
      }
      const durable = res === undefined ? undefined : header(res, 'x-qwp-durable-ack');
      if (wire.durableAck && durable?.toLowerCase() !== 'enabled') {
        fail(
          new ConnectAttemptError(
            endpoint,
            'durable-ack-refused',
            101,
            'request_durable_ack=on but the server did not answer X-QWP-Durable-Ack: enabled (durable ACK needs QuestDB Enterprise with replication)',
          ),
        );
        return;
      }
      const maxText = res === undefined ? undefined : header(res, 'x-qwp-max-batch-size');
      const max = maxText === undefined ? Number.NaN : Number(maxText);
      settled = true;
      ws.removeAllListeners();
      resolve({
        ws,
        version,
        serverMaxBatchSize: Number.isSafeInteger(max) && max > 0 ? max : undefined,
        role: res === undefined ? undefined : header(res, 'x-questdb-role'),
      });
    });
  });
}
