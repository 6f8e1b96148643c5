import fc from 'fast-check';
import { expect, test } from 'vitest';
import { INGRESS_KEYS, parseConnectString, SenderConfig } from '../../src/config/index.js';
import { ConnectStringError } from '../../src/errors.js';
import { LONG, SEED } from '../seed.js';

const RUNS = LONG ? 50_000 : 1000;

const KEYS = [...Object.keys(INGRESS_KEYS), 'user', 'pass', 'zone', 'target', 'bogus'];
const VALUES = [
  'h',
  'h:1',
  'a,b',
  '[::1]:9',
  '0',
  '1',
  '-1',
  '16',
  'off',
  'on',
  'async',
  'periodic',
  '4k',
  '10g',
  '1q',
  'x;;y',
  '',
  'default',
  'a/b',
];

test('any mix of keys and values either parses or throws ConnectStringError (property)', () => {
  const pair = fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES));
  fc.assert(
    fc.property(
      fc.constantFrom('ws', 'wss', 'qwpws', 'http'),
      fc.array(pair, { maxLength: 8 }),
      fc.string({ maxLength: 4 }),
      (schema, pairs, junk) => {
        const input = `${schema}::${pairs.map(([k, v]) => `${k}=${v};`).join('')}${junk}`;
        try {
          const config = parseConnectString(input);
          expect(config).toBeInstanceOf(SenderConfig);
          expect(Object.isFrozen(config)).toBe(true);
          expect(config.addresses.length).toBeGreaterThan(0);
        } catch (e) {
          if (!(e instanceof ConnectStringError)) {
            throw e;
          }
          expect(e.code).toMatch(/^ERR_QWP_CONFIG_/);
        }
      },
    ),
    { seed: SEED, numRuns: RUNS },
  );
});
