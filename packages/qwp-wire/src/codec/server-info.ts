import { ServerInfoError } from '../errors.js';
import { type ServerRoleName, serverRoleName } from '../failover/roles.js';
import { HEADER_SIZE, MAGIC } from './constants.js';

/** `msg_kind` of the egress SERVER_INFO frame. */
export const MSG_KIND_SERVER_INFO = 0x18;

/** SERVER_INFO capability bit: a `zone_id` trailer follows `node_id`. */
export const CAP_ZONE = 0x01;

// The QWP header (laid out as an ingress message's), msg_kind, role, epoch u64,
// capabilities u32, server_wall_ns i64.
const FIXED_SIZE = HEADER_SIZE + 1 + 1 + 8 + 4 + 8;

/** A decoded SERVER_INFO frame: the server's role, identity and zone. */
export interface ServerInfo {
  /** The header's version byte (the negotiated QWP version, ≥ 2 in practice). */
  readonly version: number;
  /** The role byte as sent. */
  readonly role: number;
  /** The role's name, or undefined for a value this client does not know. */
  readonly roleName: ServerRoleName | undefined;
  /** Monotonic role epoch (0 where fencing is not wired up). */
  readonly epoch: bigint;
  /** Capability bits; unknown bits are kept and otherwise ignored. */
  readonly capabilities: number;
  /** Server wall clock, ns since the Unix epoch. */
  readonly serverWallNs: bigint;
  readonly clusterId: string;
  readonly nodeId: string;
  /** Present only when {@link CAP_ZONE} is set. */
  readonly zoneId: string | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

function truncated(field: string, offset: number, detail: string): ServerInfoError {
  return new ServerInfoError(
    'ERR_QWP_SERVER_INFO_TRUNCATED',
    `SERVER_INFO truncated: ${detail}`,
    field,
    offset,
  );
}

/** Reads a u16-length-prefixed UTF-8 string at `offset`, never past `end`. */
function readString(
  view: DataView,
  bytes: Uint8Array,
  offset: number,
  end: number,
  field: string,
): string {
  if (offset + 2 > end) {
    throw truncated(field, offset, `frame ends before the ${field} length (offset ${offset})`);
  }
  const len = view.getUint16(offset, true);
  const start = offset + 2;
  if (start + len > end) {
    throw truncated(
      field,
      offset,
      `${field} length ${len} exceeds the ${end - start} bytes left in the frame`,
    );
  }
  try {
    return utf8.decode(bytes.subarray(start, start + len));
  } catch (cause) {
    throw new ServerInfoError(
      'ERR_QWP_SERVER_INFO_UTF8',
      `SERVER_INFO ${field} is not valid UTF-8`,
      field,
      offset,
      { cause },
    );
  }
}

/**
 * Decodes one SERVER_INFO frame as received (12-byte QWP header, then
 * msg_kind 0x18 and the body). Every length is checked against the frame:
 * a short header, a payload_length past the end, a cluster_id / node_id /
 * zone_id length past the end, or a CAP_ZONE frame without its zone_id
 * trailer is rejected with {@link ServerInfoError}. Bytes after the known
 * fields (trailers of capability bits this client does not know) are ignored.
 * @param frame the whole WebSocket binary message
 */
export function decodeServerInfo(frame: Uint8Array): ServerInfo {
  if (frame.length < HEADER_SIZE) {
    throw truncated(
      'header',
      0,
      `${frame.length} bytes is shorter than the ${HEADER_SIZE}-byte QWP header`,
    );
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0, true) !== MAGIC) {
    throw new ServerInfoError(
      'ERR_QWP_SERVER_INFO_MAGIC',
      `SERVER_INFO header magic is 0x${view.getUint32(0, false).toString(16).padStart(8, '0')}, expected "QWP1"`,
      'magic',
      0,
    );
  }
  const version = view.getUint8(4);
  const payloadLength = view.getUint32(8, true);
  const end = HEADER_SIZE + payloadLength;
  if (end > frame.length) {
    throw truncated(
      'payload_length',
      8,
      `payload_length ${payloadLength} exceeds the ${frame.length - HEADER_SIZE} bytes after the header`,
    );
  }
  if (end < HEADER_SIZE + 1) {
    throw truncated('msg_kind', HEADER_SIZE, 'payload is empty (no msg_kind)');
  }
  const kind = view.getUint8(HEADER_SIZE);
  if (kind !== MSG_KIND_SERVER_INFO) {
    throw new ServerInfoError(
      'ERR_QWP_SERVER_INFO_KIND',
      `expected SERVER_INFO msg_kind 0x18, got 0x${kind.toString(16).padStart(2, '0')}`,
      'msg_kind',
      HEADER_SIZE,
    );
  }
  if (end < FIXED_SIZE) {
    throw truncated(
      'fixed fields',
      HEADER_SIZE + 1,
      `payload of ${payloadLength} bytes is shorter than the ${FIXED_SIZE - HEADER_SIZE} bytes of fixed fields`,
    );
  }
  let p = HEADER_SIZE + 1;
  const role = view.getUint8(p);
  p += 1;
  const epoch = view.getBigUint64(p, true);
  p += 8;
  const capabilities = view.getUint32(p, true);
  p += 4;
  const serverWallNs = view.getBigInt64(p, true);
  p += 8;
  const clusterId = readString(view, frame, p, end, 'cluster_id');
  p += 2 + view.getUint16(p, true);
  const nodeId = readString(view, frame, p, end, 'node_id');
  p += 2 + view.getUint16(p, true);
  let zoneId: string | undefined;
  // The zone_id trailer exists only when CAP_ZONE is set; then it is mandatory.
  if ((capabilities & CAP_ZONE) !== 0) {
    zoneId = readString(view, frame, p, end, 'zone_id');
  }
  return Object.freeze({
    version,
    role,
    roleName: serverRoleName(role),
    epoch,
    capabilities,
    serverWallNs,
    clusterId,
    nodeId,
    zoneId,
  });
}

/** Fields of a SERVER_INFO frame to encode; see {@link encodeServerInfo}. */
export interface ServerInfoFields {
  readonly version?: number;
  readonly role: number;
  readonly epoch?: bigint;
  /** CAP_ZONE is added when zoneId is given. */
  readonly capabilities?: number;
  readonly serverWallNs?: bigint;
  readonly clusterId: string;
  readonly nodeId: string;
  readonly zoneId?: string | undefined;
}

function stringBytes(field: string, value: string): Uint8Array {
  const bytes = utf8Encoder.encode(value);
  if (bytes.length > 0xffff) {
    throw new ServerInfoError(
      'ERR_QWP_SERVER_INFO_FIELD_TOO_LONG',
      `SERVER_INFO ${field} is ${bytes.length} UTF-8 bytes, more than a u16 length can carry`,
      field,
      0,
    );
  }
  return bytes;
}

/**
 * Encodes a SERVER_INFO frame (header + payload) as a server sends it, for
 * test servers and tests.
 * @param fields role, identity and optional zone; version defaults to 2
 */
export function encodeServerInfo(fields: ServerInfoFields): Uint8Array {
  const cluster = stringBytes('cluster_id', fields.clusterId);
  const node = stringBytes('node_id', fields.nodeId);
  const zone = fields.zoneId === undefined ? undefined : stringBytes('zone_id', fields.zoneId);
  let capabilities = (fields.capabilities ?? 0) >>> 0;
  if (zone !== undefined) {
    capabilities = (capabilities | CAP_ZONE) >>> 0;
  }
  const size =
    FIXED_SIZE + 2 + cluster.length + 2 + node.length + (zone === undefined ? 0 : 2 + zone.length);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint8(4, fields.version ?? 2);
  view.setUint8(5, 0);
  view.setUint16(6, 0, true);
  view.setUint32(8, size - HEADER_SIZE, true);
  let p = HEADER_SIZE;
  view.setUint8(p++, MSG_KIND_SERVER_INFO);
  view.setUint8(p++, fields.role);
  view.setBigUint64(p, fields.epoch ?? 0n, true);
  p += 8;
  view.setUint32(p, capabilities, true);
  p += 4;
  view.setBigInt64(p, fields.serverWallNs ?? 0n, true);
  p += 8;
  for (const bytes of zone === undefined ? [cluster, node] : [cluster, node, zone]) {
    view.setUint16(p, bytes.length, true);
    out.set(bytes, p + 2);
    p += 2 + bytes.length;
  }
  return out;
}
