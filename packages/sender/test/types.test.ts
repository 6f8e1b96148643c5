import { describe, expect, it } from 'vitest';
import { confFor, sender, server } from './helpers.js';

describe('every QWP type end to end', () => {
  it('arrives in a strict server with its value and column type', async () => {
    const s = await server({ longArrays: 'accept' });
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    snd
      .table('all')
      .symbol('sym', 'A')
      .stringColumn('str', 'héllo')
      .booleanColumn('bool', true)
      .intColumn('long', 9007199254740993n)
      .int32Column('int', -5)
      .shortColumn('short', 300)
      .byteColumn('byte', -7)
      .floatColumn('dbl', 1.5)
      .float32Column('flt', 0.25)
      .charColumn('ch', 'Z')
      .timestampColumn('tsu', 1_700_000_000_000_000n, 'us')
      .timestampColumn('tsn', 1_700_000_000_000_000_001n, 'ns')
      .dateColumn('dt', new Date(1_700_000_000_000))
      .uuidColumn('uuid', '123e4567-e89b-12d3-a456-426614174000')
      .long256Column('l256', 0x1234n)
      .geohashColumn('geo', 0b10110, 5)
      .ipv4Column('ip', '10.0.0.1')
      .binaryColumn('bin', new Uint8Array([1, 2, 3]))
      .arrayColumn('arr', [
        [1, 2],
        [3, 4],
      ])
      .longArrayColumn('larr', [1n, 2n])
      .decimalColumn('dec', 12345n, 2)
      .decimalColumnText('dect', '-1.5')
      .decimal64Column('d64', 99n, 1)
      .decimal128Column('d128', '3.14159')
      .at(1_700_000_000_000, 'ms');
    snd.table('all').symbol('sym', null).stringColumn('str', null).atNow();
    await snd.drain(5000);

    const [row, nulls] = s.rows('all');
    expect(row).toMatchObject({
      sym: 'A',
      str: 'héllo',
      bool: true,
      long: 9007199254740993n,
      int: -5,
      short: 300,
      byte: -7,
      dbl: 1.5,
      flt: 0.25,
      ch: 'Z',
      tsu: 1_700_000_000_000_000n,
      tsn: 1_700_000_000_000_000_001n,
      dt: 1_700_000_000_000n,
      uuid: '123e4567-e89b-12d3-a456-426614174000',
      l256: 0x1234n,
      geo: 0b10110n,
      ip: '10.0.0.1',
      dec: 12345n,
      dect: -15n,
      d64: 99n,
      d128: 314159n,
      timestamp: 1_700_000_000_000_000n,
    });
    expect([...(row!.bin as Uint8Array)]).toEqual([1, 2, 3]);
    expect(row!.arr).toMatchObject({ shape: [2, 2] });
    expect([...(row!.arr as { values: Float64Array }).values]).toEqual([1, 2, 3, 4]);
    expect([...(row!.larr as { values: BigInt64Array }).values]).toEqual([1n, 2n]);
    // Nullable types read null; BOOLEAN, SHORT, BYTE and CHAR have no null on the wire.
    expect(nulls).toMatchObject({
      sym: null,
      str: null,
      long: null,
      dbl: null,
      bool: false,
      short: 0,
    });
    const types = Object.fromEntries(s.schema('all').map((c) => [c.name, c.typeName]));
    expect(types).toEqual({
      sym: 'SYMBOL',
      str: 'VARCHAR',
      bool: 'BOOLEAN',
      long: 'LONG',
      int: 'INT',
      short: 'SHORT',
      byte: 'BYTE',
      dbl: 'DOUBLE',
      flt: 'FLOAT',
      ch: 'CHAR',
      tsu: 'TIMESTAMP',
      tsn: 'TIMESTAMP_NANOS',
      dt: 'DATE',
      uuid: 'UUID',
      l256: 'LONG256',
      geo: 'GEOHASH',
      ip: 'IPv4',
      bin: 'BINARY',
      arr: 'DOUBLE_ARRAY',
      larr: 'LONG_ARRAY',
      dec: 'DECIMAL256',
      dect: 'DECIMAL256',
      d64: 'DECIMAL64',
      d128: 'DECIMAL128',
      timestamp: 'TIMESTAMP',
    });
  });

  it('at() with ns makes the designated timestamp TIMESTAMP_NANOS', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    snd.table('ns').intColumn('v', 1).at(1_700_000_000_000_000_123n, 'ns');
    await snd.drain(5000);
    expect(s.rows('ns')[0]!.timestamp).toBe(1_700_000_000_000_000_123n);
    expect(s.schema('ns').find((c) => c.name === 'timestamp')!.typeName).toBe('TIMESTAMP_NANOS');
  });
});
