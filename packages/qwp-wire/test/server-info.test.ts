import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  CAP_ZONE,
  decodeServerInfo,
  encodeServerInfo,
  MSG_KIND_SERVER_INFO,
} from '../src/codec/index.js';
import { ServerInfoError, type ServerInfoErrorCode } from '../src/errors.js';
import { hex } from './codec/hex.js';
import { LONG, SEED } from './seed.js';

const RUNS = LONG ? 20_000 : 500;

/** A frame written byte by byte from the spec's layout, with a zone trailer. */
const ZONED = hex(`
  51 57 50 31   # magic "QWP1"
  02            # version 2
  00            # flags
  00 00         # table_count
  2F 00 00 00   # payload_length = 47
  18            # msg_kind SERVER_INFO
  01            # role PRIMARY
  07 00 00 00 00 00 00 00   # epoch 7
  01 00 00 00               # capabilities CAP_ZONE
  00 10 A5 D4 E8 00 00 00   # server_wall_ns 1_000_000_000_000
  03 00 63 6C 31            # cluster_id "cl1"
  06 00 6E 6F 64 65 2D 61   # node_id "node-a"
  0A 00 65 75 2D 77 65 73 74 2D 31 61  # zone_id "eu-west-1a"
`);

function errorOf(frame: Uint8Array): ServerInfoError {
  try {
    decodeServerInfo(frame);
  } catch (e) {
    expect(e).toBeInstanceOf(ServerInfoError);
    return e as ServerInfoError;
  }
  throw new Error('expected the frame to be rejected');
}

/** Sets payload_length so the header agrees with a (shortened) frame. */
function withPayloadLength(frame: Uint8Array, length = frame.length - 12): Uint8Array {
  const copy = frame.slice();
  new DataView(copy.buffer).setUint32(8, length, true);
  return copy;
}

describe('decodeServerInfo', () => {
  test('decodes the spec layout with a CAP_ZONE trailer', () => {
    expect(decodeServerInfo(ZONED)).toEqual({
      version: 2,
      role: 1,
      roleName: 'PRIMARY',
      epoch: 7n,
      capabilities: CAP_ZONE,
      serverWallNs: 1_000_000_000_000n,
      clusterId: 'cl1',
      nodeId: 'node-a',
      zoneId: 'eu-west-1a',
    });
  });

  test('without CAP_ZONE there is no zone_id and trailing bytes are not read as one', () => {
    const frame = encodeServerInfo({ role: 2, clusterId: 'c', nodeId: 'n' });
    const info = decodeServerInfo(frame);
    expect(info).toMatchObject({ roleName: 'REPLICA', capabilities: 0, zoneId: undefined });
  });

  test('unknown capability bits are kept and their trailers ignored', () => {
    const base = encodeServerInfo({
      role: 0,
      clusterId: 'c',
      nodeId: 'n',
      zoneId: 'z',
      capabilities: 0x80,
    });
    const extended = new Uint8Array(base.length + 5);
    extended.set(base);
    extended.set([1, 2, 3, 4, 5], base.length);
    const info = decodeServerInfo(withPayloadLength(extended));
    expect(info.capabilities).toBe(0x81);
    expect(info.zoneId).toBe('z');
  });

  test('an unknown role byte is carried with no name', () => {
    expect(
      decodeServerInfo(encodeServerInfo({ role: 9, clusterId: '', nodeId: '' })),
    ).toMatchObject({
      role: 9,
      roleName: undefined,
      clusterId: '',
      nodeId: '',
    });
  });

  test('epoch and wall clock use the full 64-bit range', () => {
    const info = decodeServerInfo(
      encodeServerInfo({
        role: 1,
        clusterId: 'c',
        nodeId: 'n',
        epoch: 0xffff_ffff_ffff_ffffn,
        serverWallNs: -1n,
      }),
    );
    expect(info.epoch).toBe(0xffff_ffff_ffff_ffffn);
    expect(info.serverWallNs).toBe(-1n);
  });

  test('decodes from a view into a larger buffer', () => {
    const big = new Uint8Array(ZONED.length + 16);
    big.set(ZONED, 7);
    expect(decodeServerInfo(big.subarray(7, 7 + ZONED.length)).zoneId).toBe('eu-west-1a');
  });

  test('encode → decode round-trips (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          role: fc.integer({ min: 0, max: 255 }),
          epoch: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          capabilities: fc.integer({ min: 0, max: 0xffffffff }).map((c) => (c & ~CAP_ZONE) >>> 0),
          serverWallNs: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
          clusterId: fc.string({ unit: 'grapheme', maxLength: 30 }),
          nodeId: fc.string({ unit: 'grapheme', maxLength: 30 }),
          zoneId: fc.option(fc.string({ unit: 'grapheme', maxLength: 30 }), { nil: undefined }),
        }),
        (fields) => {
          const info = decodeServerInfo(encodeServerInfo(fields));
          expect(info).toMatchObject({
            ...fields,
            capabilities:
              fields.zoneId === undefined
                ? fields.capabilities
                : (fields.capabilities | CAP_ZONE) >>> 0,
          });
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

describe('decodeServerInfo rejections', () => {
  test.each<[string, (f: Uint8Array) => Uint8Array, ServerInfoErrorCode, string, RegExp]>([
    [
      'empty frame',
      () => new Uint8Array(0),
      'ERR_QWP_SERVER_INFO_TRUNCATED',
      'header',
      /shorter than the 12-byte/,
    ],
    ['short header', (f) => f.slice(0, 11), 'ERR_QWP_SERVER_INFO_TRUNCATED', 'header', /11 bytes/],
    [
      'bad magic',
      (f) => {
        const c = f.slice();
        c[3] = 0x32;
        return c;
      },
      'ERR_QWP_SERVER_INFO_MAGIC',
      'magic',
      /QWP1/,
    ],
    [
      'payload_length past the end',
      (f) => f.slice(0, f.length - 1),
      'ERR_QWP_SERVER_INFO_TRUNCATED',
      'payload_length',
      /payload_length 47 exceeds the 46/,
    ],
    [
      'empty payload',
      (f) => withPayloadLength(f.slice(0, 12)),
      'ERR_QWP_SERVER_INFO_TRUNCATED',
      'msg_kind',
      /no msg_kind/,
    ],
    [
      'wrong msg_kind',
      (f) => {
        const c = f.slice();
        c[12] = 0x11;
        return c;
      },
      'ERR_QWP_SERVER_INFO_KIND',
      'msg_kind',
      /got 0x11/,
    ],
    [
      'fixed fields cut',
      (f) => withPayloadLength(f.slice(0, 30)),
      'ERR_QWP_SERVER_INFO_TRUNCATED',
      'fixed fields',
      /fixed fields/,
    ],
    [
      'no cluster_id length',
      (f) => withPayloadLength(f.slice(0, 35)),
      'ERR_QWP_SERVER_INFO_TRUNCATED',
      'cluster_id',
      /before the cluster_id length/,
    ],
    [
      'cluster_id cut',
      (f) => withPayloadLength(f.slice(0, 38)),
      'ERR_QWP_SERVER_INFO_TRUNCATED',
      'cluster_id',
      /cluster_id length 3 exceeds the 2 bytes/,
    ],
    [
      'no node_id length',
      (f) => withPayloadLength(f.slice(0, 39)),
      'ERR_QWP_SERVER_INFO_TRUNCATED',
      'node_id',
      /before the node_id length/,
    ],
    [
      'node_id cut',
      (f) => withPayloadLength(f.slice(0, 45)),
      'ERR_QWP_SERVER_INFO_TRUNCATED',
      'node_id',
      /node_id length 6 exceeds/,
    ],
    [
      'CAP_ZONE without zone_id length',
      (f) => withPayloadLength(f.slice(0, 47)),
      'ERR_QWP_SERVER_INFO_TRUNCATED',
      'zone_id',
      /before the zone_id length/,
    ],
    [
      'CAP_ZONE with zone_id length only',
      (f) => withPayloadLength(f.slice(0, 49)),
      'ERR_QWP_SERVER_INFO_TRUNCATED',
      'zone_id',
      /zone_id length 10 exceeds the 0 bytes/,
    ],
    [
      'zone_id cut',
      (f) => withPayloadLength(f.slice(0, 53)),
      'ERR_QWP_SERVER_INFO_TRUNCATED',
      'zone_id',
      /zone_id length 10 exceeds the 4 bytes/,
    ],
    [
      'payload_length shorter than the fields',
      (f) => withPayloadLength(f, 40),
      'ERR_QWP_SERVER_INFO_TRUNCATED',
      'zone_id',
      /zone_id length 10 exceeds/,
    ],
    [
      'invalid UTF-8 in node_id',
      (f) => {
        const c = f.slice();
        c[41] = 0xff;
        return c;
      },
      'ERR_QWP_SERVER_INFO_UTF8',
      'node_id',
      /node_id is not valid UTF-8/,
    ],
  ])('%s', (_case, mutate, code, field, message) => {
    const err = errorOf(mutate(ZONED));
    expect(err.code).toBe(code);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });

  test('every strict prefix of a zoned frame is rejected, never misread', () => {
    for (let len = 0; len < ZONED.length; len++) {
      const frame = len < 12 ? ZONED.slice(0, len) : withPayloadLength(ZONED.slice(0, len));
      expect(() => decodeServerInfo(frame)).toThrow(ServerInfoError);
    }
  });

  test('random bytes after a valid header never escape as anything but ServerInfoError (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (body) => {
        const frame = new Uint8Array(13 + body.length);
        frame.set(ZONED.subarray(0, 12));
        frame[12] = MSG_KIND_SERVER_INFO;
        frame.set(body, 13);
        const framed = withPayloadLength(frame);
        try {
          const info = decodeServerInfo(framed);
          expect(typeof info.nodeId).toBe('string');
        } catch (e) {
          expect(e).toBeInstanceOf(ServerInfoError);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('the encoder refuses a string longer than a u16 length', () => {
    expect(() => encodeServerInfo({ role: 1, clusterId: 'x'.repeat(70_000), nodeId: 'n' })).toThrow(
      ServerInfoError,
    );
  });
});
