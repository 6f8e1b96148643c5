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
  /** The client's Sec-WebSocket-Key, which Sec-WebSocket-Accept is computed from. */
  key: string;
  /** Lines after Sec-WebSocket-Accept, in QuestDB's order. */
  headers: string[];
}

/**
 * The WebSocket subprotocol a browser (which cannot set X-QWP-* headers)
 * offers to request durable ACKs; QuestDB echoes it, and only it, when it
 * grants them (QwpIngressHttpProcessor.WEBSOCKET_PROTOCOL_QWP_DURABLE_ACK).
 */
export const DURABLE_ACK_SUBPROTOCOL = 'questdb.qwp.durable-ack.v1';

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

/**
 * A refusal of QuestDB's generic HTTP layer (HttpRequestValidator through its
 * reject processor): the message, then CRLF, is the body.
 */
function requestReject(status: number, message: string): HandshakeReject {
  const r = textReject(status, `${message}\r\n`);
  r.reason = message;
  return r;
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

/** QuestDB's isValidKey: exactly 24 characters of the base64 alphabet, '=' anywhere. */
const BASE64_KEY = /^[A-Za-z0-9+/=]{24}$/;

/**
 * QuestDB's isConnectionUpgrade: "upgrade", any case, as a token delimited by
 * the value's ends, a comma or a space (a tab is not a delimiter there).
 */
function hasUpgradeToken(value: string): boolean {
  const word = /upgrade/gi;
  for (let m = word.exec(value); m !== null; m = word.exec(value)) {
    const before = m.index === 0 ? ',' : value[m.index - 1];
    const after = m.index + 7 >= value.length ? ',' : value[m.index + 7];
    if ((before === ',' || before === ' ') && (after === ',' || after === ' ')) return true;
    word.lastIndex = m.index + 1;
  }
  return false;
}

/** Whether a Sec-WebSocket-Protocol value offers `name`: comma-separated, blanks around, case-sensitive. */
export function offersSubprotocol(value: string | undefined, name: string): boolean {
  if (value === undefined) return false;
  return value.split(',').some((t) => t.replace(/^[ \t]+|[ \t]+$/g, '') === name);
}

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
  if (!hasUpgradeToken(connection)) {
    return textReject(400, "Connection header must contain 'upgrade'");
  }
  const key = header(headers, 'sec-websocket-key');
  if (key === undefined) return textReject(400, 'Missing Sec-WebSocket-Key header');
  if (!BASE64_KEY.test(key.trim())) {
    return textReject(400, 'Invalid Sec-WebSocket-Key (must be 24-character base64 key)');
  }
  const version = header(headers, 'sec-websocket-version');
  if (version === undefined) return upgradeRequired('Missing Sec-WebSocket-Version header');
  // QuestDB parses the value as a non-negative integer and wants 13.
  if (!/^[0-9]+$/.test(version.trim()) || Number(version.trim()) !== 13) {
    return upgradeRequired('Unsupported WebSocket version (must be 13)');
  }
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
 * QuestDB's HttpRequestValidator.validateRequestHeader, which runs before the
 * path is looked at: a GET must carry no content, a POST or PUT must say how
 * long its content is.
 */
function validateRequest(
  method: string | undefined,
  headers: IncomingHttpHeaders,
): HandshakeReject | null {
  const te = header(headers, 'transfer-encoding');
  const chunked = te !== undefined && te.trim().toLowerCase() === 'chunked';
  const cl = header(headers, 'content-length');
  const contentLength = cl === undefined ? -1 : Number(cl);
  const type = header(headers, 'content-type')?.trim().toLowerCase() ?? '';
  const multipart = type.startsWith('multipart/form-data') || type.startsWith('multipart/mixed');
  if (method === 'GET') {
    if (chunked || multipart || contentLength > 0) {
      return requestReject(400, 'GET request method cannot have content');
    }
  } else if (method === 'POST' || method === 'PUT') {
    if (chunked && contentLength > 0) {
      return requestReject(400, 'Invalid chunked request; content-length specified');
    }
    if (!chunked && contentLength < 0) {
      return requestReject(400, 'Content-length not specified for POST/PUT request');
    }
  }
  return null;
}

/**
 * Decides one upgrade request: content rules, path, method, authentication,
 * WebSocket headers, role, then version negotiation (min of client and
 * server max).
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
  const invalid = validateRequest(method, headers);
  if (invalid !== null) return invalid;
  const path = (url ?? '/').split('?')[0] ?? '/';
  if (!QWP_PATHS.includes(path)) return textReject(404, `Not Found: ${path}`);
  // The ingress processor takes GET only (HttpRequestValidator.validateRequestType).
  if (method !== 'GET') return requestReject(405, `Method ${method ?? ''} not supported`);
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
  // Durable ACKs are asked for by header, or (browsers, which cannot set
  // X-QWP-* headers) by offering the subprotocol, which asks for what
  // `true` does: the replicated tier, confirmed with `enabled`.
  const offered = offersSubprotocol(
    header(headers, 'sec-websocket-protocol'),
    DURABLE_ACK_SUBPROTOCOL,
  );
  const request =
    parseDurableAckRequest(header(headers, 'x-qwp-request-durable-ack')) ??
    (offered ? parseDurableAckRequest('true') : null);
  const durableAck = grantDurableAck(request, config.durableTiers);
  // QuestDB's order (writeResponse); a 101 never names a zone.
  const out = [`X-QWP-Version: ${version}`];
  if (durableAck !== null) out.push(`X-QWP-Durable-Ack: ${durableAckToken(durableAck)}`);
  if (config.role !== null) out.push(`X-QuestDB-Role: ${config.role}`);
  if (config.maxBatchSize > 0) out.push(`X-QWP-Max-Batch-Size: ${config.maxBatchSize}`);
  if (durableAck !== null && offered)
    out.push(`Sec-WebSocket-Protocol: ${DURABLE_ACK_SUBPROTOCOL}`);
  return {
    ok: true,
    version,
    clientId: header(headers, 'x-qwp-client-id') ?? null,
    durableAck,
    key: header(headers, 'sec-websocket-key')?.trim() ?? '',
    headers: out,
  };
}
