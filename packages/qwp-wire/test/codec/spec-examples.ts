import { hex } from './hex.js';

/** Fills in the header's payload length (the spec writes XX XX XX XX). */
function withLength(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer).setUint32(8, bytes.length - 12, true);
  return bytes;
}

/** Spec example "Single table with three columns". */
export const SENSORS_PLAIN = withLength(
  hex(`
51 57 50 31  01  00  01 00  00 00 00 00
07 73 65 6E 73 6F 72 73  02  03
02 69 64 05
05 76 61 6C 75 65 07
00 0A
00 01 00 00 00 00 00 00 00  02 00 00 00 00 00 00 00
00 CD CC CC CC CC CC F4 3F  9A 99 99 99 99 99 01 40
00 00 E4 0B 54 02 00 00 00  80 1A 06 00 00 00 00 00
`),
);

/** Spec example "Nullable VARCHAR column": the column data section only. */
export const NULLABLE_VARCHAR_COLUMN = hex(`
01 02
00 00 00 00  03 00 00 00  06 00 00 00  09 00 00 00
66 6F 6F 62 61 72 62 61 7A
`);

/**
 * Spec example "Gorilla timestamps with delta symbol dictionary"; the spec
 * leaves the two timestamps open, we use 1000000 and 2000000 µs.
 */
export const SENSORS_GORILLA = withLength(
  hex(`
51 57 50 31  01  0C  01 00  00 00 00 00
00 02  07 73 65 72 76 65 72 31  07 73 65 72 76 65 72 32
07 73 65 6E 73 6F 72 73  02  03
04 68 6F 73 74 09
04 74 65 6D 70 07
00 0A
00 00 01
00 66 66 66 66 66 E6 56 40  9A 99 99 99 99 19 57 40
00 01  40 42 0F 00 00 00 00 00  80 84 1E 00 00 00 00 00
`),
);
