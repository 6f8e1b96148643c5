import { describe, expect, it } from 'vitest';
import * as codec from '../src/codec/index.js';
import * as config from '../src/config/index.js';
import * as failover from '../src/failover/index.js';
import * as root from '../src/index.js';

// The runtime surface of each entry point, spelled out: adding or removing an
// export is a decision to make here, not a side effect of a refactor.
const CODEC = [
  'CAP_ZONE',
  'ColumnType',
  'ENCODING_GORILLA',
  'ENCODING_UNCOMPRESSED',
  'FLAG_DEFER_COMMIT',
  'FLAG_DELTA_SYMBOL_DICT',
  'FLAG_GORILLA',
  'GlobalSymbolDictionary',
  'HEADER_SIZE',
  'Limits',
  'MAGIC',
  'MSG_KIND_SERVER_INFO',
  'QwpBatch',
  'QwpBatchSizeError',
  'QwpDecodeError',
  'QwpEncoder',
  'QwpError',
  'QwpInvalidValueError',
  'SERVER_COMPATIBLE_DECODE_OPTIONS',
  'ServerInfoError',
  'Status',
  'SymbolDictionary',
  'TableBuffer',
  'VARINT_TOO_LONG',
  'VARINT_TRUNCATED',
  'VERSION',
  'columnNameProblem',
  'columnTypeName',
  'decodeMessage',
  'decodeMessageHeader',
  'decodeResponse',
  'decodeServerInfo',
  'encodeDurableAckResponse',
  'encodeErrorResponse',
  'encodeLocalDurableAckResponse',
  'encodeOkResponse',
  'encodeServerInfo',
  'isDecodeError',
  'readVarint',
  'statusName',
  'tableNameProblem',
  'tableRows',
  'varintSize',
  'writeVarint',
];
const CONFIG = [
  'ConnectStringError',
  'DEFAULT_PORT',
  'INGRESS_KEYS',
  'QwpError',
  'SenderConfig',
  'parseConnectString',
  'tokenizeConnectString',
];
const FAILOVER = [
  'HostIndexError',
  'HostTracker',
  'INGRESS_BACKOFF',
  'QwpError',
  'ReconnectBackoff',
  'ServerRole',
  'backoffBaseMs',
  'classifyUpgradeFailure',
  'equalJitterMs',
  'fullJitterMs',
  'parseRoleHeader',
  'reconnectDelayMs',
  'roleMatchesTarget',
  'serverRoleName',
];

const names = (m: object) => Object.keys(m).sort();

describe('@qwp/qwp-wire entry points', () => {
  it('codec, config and failover export exactly their lists', () => {
    expect(names(codec)).toEqual([...CODEC].sort());
    expect(names(config)).toEqual([...CONFIG].sort());
    expect(names(failover)).toEqual([...FAILOVER].sort());
  });

  it('the root is their union, one QwpError shared by all three', () => {
    expect(names(root)).toEqual([...new Set([...CODEC, ...CONFIG, ...FAILOVER])].sort());
    expect(codec.QwpError).toBe(config.QwpError);
    expect(config.QwpError).toBe(failover.QwpError);
    expect(new config.ConnectStringError('ERR_QWP_CONFIG_SYNTAX', 'x')).toBeInstanceOf(
      codec.QwpError,
    );
  });

  it('keeps the byte-level helpers internal', () => {
    for (const internal of ['ByteReader', 'ByteWriter', 'ColumnBuffer', 'writeTableBlock']) {
      expect(Object.hasOwn(root, internal), internal).toBe(false);
    }
  });
});
