import { QwpBatch, QwpEncoder } from '../../src/index.js';

/** Valid frames covering every column type, nulls, Gorilla and multi-table messages. */
export function corpus(): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (const gorilla of [true, false]) {
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols, { gorilla });
    const t = batch.table('all_types');
    for (let i = 0; i < 12; i++) {
      const skip = i % 3 === 1;
      t.booleanColumn('bool', i % 2 === 0)
        .byteColumn('byte', skip ? null : i - 6)
        .shortColumn('short', i * 100)
        .int32Column('int', skip ? null : i * -7)
        .longColumn('long', BigInt(i) << 40n)
        .float32Column('float', i / 3)
        .doubleColumn('double', skip ? null : i / 7)
        .symbol('sym', `s${i % 4}`)
        .timestampColumn('ts', skip ? null : 1_000_000 + i * 17, 'us')
        .timestampColumn('tsn', BigInt(i) * 1_000_003n, 'ns')
        .dateColumn('date', 1_700_000_000_000 + i)
        .uuidColumn('uuid', skip ? null : `123e4567-e89b-12d3-a456-4266141740${10 + i}`)
        .long256Column('l256', BigInt(i) ** 20n)
        .geohashColumn('geo', i, 13)
        .varcharColumn('vc', skip ? null : 'x'.repeat(i))
        .doubleArrayColumn(
          'da',
          i % 4 === 0
            ? []
            : [
                [i, i + 1],
                [i + 2, i + 3],
              ],
        )
        .longArrayColumn('la', skip ? null : [BigInt(i), -1n])
        .decimal64Column('d64', BigInt(i * 1234), 2)
        .decimal128Column('d128', skip ? null : `-${i}.5`)
        .decimal256Column('d256', BigInt(i) ** 30n, 3)
        .charColumn('ch', String.fromCharCode(65 + i))
        .binaryColumn('bin', new Uint8Array([i, i + 1]))
        .ipv4Column('ip', `10.0.0.${i + 1}`)
        .at(1_700_000_000_000_000_000n + BigInt(i * i * 1000), 'ns');
    }
    const other = batch.table('other');
    for (let i = 0; i < 5; i++)
      other
        .symbol('sym', `o${i}`)
        .longColumn('v', i)
        .at(i * 1000, 'ms');
    frames.push(...enc.encode(batch.tables()));
    batch.clear();
    batch.table('other').symbol('sym', 'o1').symbol('k', 'new').atNow();
    frames.push(...enc.encode(batch.tables()));
  }
  return frames;
}
