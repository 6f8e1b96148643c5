import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import {
  type DurableAckRequest,
  type DurableTier,
  durableAckToken,
  grantDurableAck,
  parseDurableAckRequest,
} from './durable-watermarks.js';

/** The two ingest paths QuestDB serves QWP on. */
export const QWP_PATHS: readonly string[] = ['/write/v4', '/api/v4/write'];

/** Roles a node can report in X-QuestDB-Role. REPLICA and PRIMARY_CATCHUP refuse ingest with 421. */
export type ServerRole = 'STANDALONE' | 'PRIMARY' | 'REPLICA' | 'PRIMARY_CATCHUP' | (string & {});

/** How the server authenticates upgrades. Absent: no authentication. */
export interface AuthOptions {
  /** HTTP basic credentials, `{ user, pass }`. */
  basic?: { user: string; pass: string };
  /** A bearer token accepted in `Authorization: Bearer <token>`. */
  token?: string;
  /** Authenticated callers are refused with 403 (a user without ingest permission). */
  forbid?: boolean;
}

/** What the handshake needs to know about the server. */
export interface HandshakeConfig {
  auth: AuthOptions | null;
  role: ServerRole | null;
  zone: string | null;
  serverMaxVersion: number;
  /** Advertised in X-QWP-Max-Batch-Size; 0 omits the header. */
  maxBatchSize: number;
  /** The durable-ack tiers X-QWP-Request-Durable-Ack may ask for (none: the header is ignored). */
  durableTiers: readonly DurableTier[];
}

/** A handshake that succeeds: the headers to add to the 101 and what was negotiated. */
export interface HandshakeAccept {
  ok: true;
  version: number;
  clientId: string | null;
  /** The durable-ack tiers granted, or null. */
  durableAck: DurableAckRequest | null;
  headers: string[];
}

/** A handshake that is refused with an HTTP response (the connection is then closed). */
export interface HandshakeReject {
  ok: false;
  status: number;
  reason: string;
  headers: Record<string, string>;
  body: string;
}

/** The outcome of checking one upgrade request. */
export type HandshakeResult = HandshakeAccept | HandshakeReject;

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  421: 'Misdirected Request',
  426: 'Upgrade Required',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The reason phrase for an HTTP status this server sends. */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A refusal with a plain-text body that is also its logged reason. */
export function textReject(status: number, body: string): HandshakeReject {
  return {
    ok: false,
    status,
    reason: body,
    headers: { 'Content-Type': 'text/plain', 'Content-Length': String(Buffer.byteLength(body)) },
    body,
  };
}

/** A 401 asking for basic credentials, as QuestDB answers a missing or wrong login. */
function unauthorized(body: string): HandshakeReject {
  const r = textReject(401, body);
  r.headers['WWW-Authenticate'] = 'Basic realm="questdb"';
  return r;
}

/** The 426 QuestDB sends for a missing or unsupported Sec-WebSocket-Version. */
function upgradeRequired(reason: string): HandshakeReject {
  return {
    ok: false,
    status: 426,
    reason,
    headers: {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Version': '13',
      'Content-Length': '0',
    },
    body: '',
  };
}

/**
 * The 421 a replica (or a primary still catching up) answers an ingest
 * upgrade with, naming its role so the client can move on.
 */
export function roleReject(role: string, zone: string | null): HandshakeReject {
  const headers: Record<string, string> = {
    Connection: 'close',
    'Content-Length': '0',
    'X-QuestDB-Role': role,
  };
  if (zone !== null) headers['X-QuestDB-Zone'] = zone;
  return { ok: false, status: 421, reason: `ingest refused by role ${role}`, headers, body: '' };
}

/** A canned rejection with `status` (used by the upgrade-status fault). */
export function cannedReject(status: number, config: HandshakeConfig): HandshakeReject {
  if (status === 421) return roleReject(config.role ?? 'REPLICA', config.zone);
  if (status === 426) return upgradeRequired('fault injection: 426');
  const body = `fault injection: ${status} ${statusText(status)}`;
  return status === 401 ? unauthorized(body) : textReject(status, body);
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function checkAuth(auth: AuthOptions, headers: IncomingHttpHeaders): HandshakeReject | null {
  const value = header(headers, 'authorization');
  let authenticated = false;
  if (value !== undefined) {
    const space = value.indexOf(' ');
    const scheme = (space < 0 ? value : value.slice(0, space)).toLowerCase();
    const credentials = space < 0 ? '' : value.slice(space + 1).trim();
    if (scheme === 'basic' && auth.basic !== undefined) {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      authenticated = safeEqual(decoded, `${auth.basic.user}:${auth.basic.pass}`);
    } else if (scheme === 'bearer' && auth.token !== undefined) {
      authenticated = safeEqual(credentials, auth.token);
    }
  }
  if (!authenticated) return unauthorized('Unauthorized');
  if (auth.forbid === true) return textReject(403, 'Forbidden');
  return null;
}

const BASE64_KEY = /^[A-Za-z0-9+/=]{24}$/;

/**
 * Checks the WebSocket upgrade headers the way QuestDB's ingress processor
 * does (QwpIngressHttpProcessor.validateHandshake), in its order, so a
 * request with several faults gets the same answer: any Origin header, then
 * a missing or bad Upgrade, Connection and Sec-WebSocket-Key header (400
 * with a plain-text reason), then a missing or unsupported
 * Sec-WebSocket-Version (426).
 * @returns the rejection, or null when the headers are fine
 */
export function validateWebSocketHeaders(headers: IncomingHttpHeaders): HandshakeReject | null {
  // QWP is machine to machine: browsers always send Origin, so QuestDB
  // refuses it first (cross-site WebSocket hijacking).
  if (header(headers, 'origin') !== undefined) {
    return textReject(400, 'Origin header not allowed on QWP WebSocket');
  }
  const upgrade = header(headers, 'upgrade');
  if (upgrade === undefined) return textReject(400, 'Missing Upgrade header');
  if (upgrade.trim().toLowerCase() !== 'websocket') {
    return textReject(400, 'Invalid Upgrade header value');
  }
  const connection = header(headers, 'connection');
  if (connection === undefined) return textReject(400, 'Missing Connection header');
  if (!connection.split(',').some((t) => t.trim().toLowerCase() === 'upgrade')) {
    return textReject(400, "Connection header must contain 'upgrade'");
  }
  const key = header(headers, 'sec-websocket-key');
  if (key === undefined) return textReject(400, 'Missing Sec-WebSocket-Key header');
  if (!BASE64_KEY.test(key.trim())) {
    return textReject(400, 'Invalid Sec-WebSocket-Key (must be 24-character base64 key)');
  }
  const version = header(headers, 'sec-websocket-version');
  if (version === undefined) return upgradeRequired('Missing Sec-WebSocket-Version header');
  if (version.trim() !== '13') return upgradeRequired('Unsupported WebSocket version (must be 13)');
  return null;
}

/**
 * Parses X-QWP-Max-Version. Absent means 1 (spec). A value that is not a
 * positive integer is also read as 1: the spec does not say how the server
 * treats it, and falling back to the only version keeps the client working.
 */
export function parseClientMaxVersion(value: string | undefined): number {
  if (value === undefined) return 1;
  const n = Number(value.trim());
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/**
 * Decides one upgrade request: path, method, authentication, WebSocket
 * headers, role, then version negotiation (min of client and server max).
 * @param method the HTTP method
 * @param url the request target (path and query)
 * @param headers the request headers (lower-case names, as node gives them)
 */
export function decideHandshake(
  method: string | undefined,
  url: string | undefined,
  headers: IncomingHttpHeaders,
  config: HandshakeConfig,
): HandshakeResult {
  const path = (url ?? '/').split('?')[0] ?? '/';
  if (!QWP_PATHS.includes(path)) return textReject(404, `Not Found: ${path}`);
  if (method !== 'GET') return textReject(405, `Method Not Allowed: ${method ?? ''}`);
  if (config.auth !== null) {
    const refused = checkAuth(config.auth, headers);
    if (refused !== null) return refused;
  }
  const bad = validateWebSocketHeaders(headers);
  if (bad !== null) return bad;
  if (config.role === 'REPLICA' || config.role === 'PRIMARY_CATCHUP') {
    return roleReject(config.role, config.zone);
  }
  const clientMax = parseClientMaxVersion(header(headers, 'x-qwp-max-version'));
  const version = Math.min(clientMax, config.serverMaxVersion);
  const durableAck = grantDurableAck(
    parseDurableAckRequest(header(headers, 'x-qwp-request-durable-ack')),
    config.durableTiers,
  );
  const out = [`X-QWP-Version: ${version}`];
  if (config.maxBatchSize > 0) out.push(`X-QWP-Max-Batch-Size: ${config.maxBatchSize}`);
  if (durableAck !== null) out.push(`X-QWP-Durable-Ack: ${durableAckToken(durableAck)}`);
  if (config.role !== null) out.push(`X-QuestDB-Role: ${config.role}`);
  if (config.zone !== null) out.push(`X-QuestDB-Zone: ${config.zone}`);
  return {
    ok: true,
    version,
    clientId: header(headers, 'x-qwp-client-id') ?? null,
    durableAck,
    headers: out,
  };
}
