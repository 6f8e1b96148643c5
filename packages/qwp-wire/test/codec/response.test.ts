import { describe, expect, it } from 'vitest';
import {
  decodeResponse,
  encodeDurableAckResponse,
  encodeErrorResponse,
  encodeLocalDurableAckResponse,
  encodeOkResponse,
  QwpDecodeError,
  QwpError,
  Status,
} from '../../src/index.js';
import { hex, toHex } from './hex.js';

describe('responses', () => {
  it('OK: status, int64 sequence, uint16 count, per table uint16 name length, name, int64 seqTxn', () => {
    const bytes = encodeOkResponse(7n, [{ name: 'ab', seqTxn: 258n }]);
    expect(toHex(bytes)).toBe(toHex(hex('00 0700000000000000 0100 0200 6162 0201000000000000')));
    expect(decodeResponse(bytes)).toEqual({
      kind: 'ok',
      status: 0,
      sequence: 7n,
      tables: [{ name: 'ab', seqTxn: 258n }],
    });
    expect(decodeResponse(encodeOkResponse(0))).toEqual({
      kind: 'ok',
      status: 0,
      sequence: 0n,
      tables: [],
    });
  });

  it('error: status, int64 sequence, uint16 message length, UTF-8 message', () => {
    const bytes = encodeErrorResponse(Status.PARSE_ERROR, 3, 'bad ż');
    expect(toHex(bytes)).toBe(toHex(hex('05 0300000000000000 0600 626164 20 c5bc')));
    expect(decodeResponse(bytes)).toEqual({
      kind: 'error',
      status: 5,
      sequence: 3n,
      message: 'bad ż',
    });
    const gap = decodeResponse(encodeErrorResponse(Status.DICTIONARY_GAP, 2n ** 40n, ''));
    expect(gap).toMatchObject({ status: Status.DICTIONARY_GAP, sequence: 2n ** 40n });
  });

  it('error messages over 65535 bytes are cut at a character boundary', () => {
    const long = 'ż'.repeat(40000);
    const r = decodeResponse(encodeErrorResponse(Status.WRITE_ERROR, 1, long));
    expect(r.kind === 'error' && r.message.length).toBe(32767);
  });

  it('DURABLE_ACK: no sequence, per-table watermarks', () => {
    const bytes = encodeDurableAckResponse([
      { name: 't1', seqTxn: 5n },
      { name: 't2', seqTxn: 9n },
    ]);
    expect(bytes[0]).toBe(Status.DURABLE_ACK);
    expect(bytes.length).toBe(1 + 2 + 2 * (2 + 2 + 8));
    expect(decodeResponse(bytes)).toEqual({
      kind: 'durable-ack',
      status: 2,
      tables: [
        { name: 't1', seqTxn: 5n },
        { name: 't2', seqTxn: 9n },
      ],
    });
  });

  it('LOCAL_DURABLE_ACK (0x0E, server extension) has the DURABLE_ACK layout', () => {
    const bytes = encodeLocalDurableAckResponse([{ name: 't', seqTxn: 3n }]);
    expect(bytes[0]).toBe(0x0e);
    expect(decodeResponse(bytes)).toEqual({
      kind: 'local-durable-ack',
      status: 0x0e,
      tables: [{ name: 't', seqTxn: 3n }],
    });
  });

  it('rejects truncated, over-long and malformed frames with QwpDecodeError', () => {
    const ok = encodeOkResponse(1, [{ name: 'abc', seqTxn: 1n }]);
    for (let cut = 0; cut < ok.length; cut++) {
      expect(() => decodeResponse(ok.subarray(0, cut))).toThrow(QwpDecodeError);
    }
    const extra = new Uint8Array(ok.length + 1);
    extra.set(ok);
    expect(() => decodeResponse(extra)).toThrow(/trailing/);
    const badUtf8 = encodeErrorResponse(Status.INTERNAL_ERROR, 1, 'ab');
    badUtf8[11] = 0xff;
    expect(() => decodeResponse(badUtf8)).toThrow(/UTF-8/);
  });

  it('tolerates bytes after the spec layout of DURABLE_ACK and LOCAL_DURABLE_ACK only', () => {
    const tables = [{ name: 't', seqTxn: 7n }];
    for (const frame of [encodeDurableAckResponse(tables), encodeLocalDurableAckResponse(tables)]) {
      // A newer server appends per-table fields; the spec part must still decode.
      const longer = new Uint8Array(frame.length + 5);
      longer.set(frame);
      longer.set([1, 0x64, 0, 0, 0], frame.length);
      expect(decodeResponse(longer)).toEqual(decodeResponse(frame));
      // Truncation inside the spec layout is still an error.
      expect(() => decodeResponse(frame.subarray(0, frame.length - 1))).toThrow(QwpDecodeError);
    }
    const err = encodeErrorResponse(Status.WRITE_ERROR, 3, 'x');
    const errLonger = new Uint8Array(err.length + 1);
    errLonger.set(err);
    expect(() => decodeResponse(errLonger)).toThrow(/1 trailing bytes/);
  });

  it('refuses to encode an error frame with status OK or DURABLE_ACK', () => {
    expect(() => encodeErrorResponse(0, 1, 'x')).toThrow(QwpError);
    expect(() => encodeErrorResponse(Status.DURABLE_ACK, 1, 'x')).toThrow(QwpError);
  });
});
