import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { tokenizeConnectString } from '../../src/config/connect-string.js';
import { ConnectStringError } from '../../src/errors.js';
import { LONG, SEED } from '../seed.js';

const RUNS = LONG ? 20_000 : 500;

function syntaxErrorOf(input: string): ConnectStringError {
  try {
    tokenizeConnectString(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ConnectStringError);
    const err = e as ConnectStringError;
    expect(err.code).toBe('ERR_QWP_CONFIG_SYNTAX');
    return err;
  }
  throw new Error(`expected '${input}' to be rejected`);
}

describe('tokenizeConnectString', () => {
  test('splits schema and pairs, trailing semicolon optional', () => {
    for (const input of ['ws::addr=h:1;username=u;', 'ws::addr=h:1;username=u']) {
      const t = tokenizeConnectString(input);
      expect(t.schema).toBe('ws');
      expect(t.pairs.map((p) => [p.key, p.value])).toEqual([
        ['addr', 'h:1'],
        ['username', 'u'],
      ]);
    }
  });

  test('records the position of each key', () => {
    const t = tokenizeConnectString('wss::a=1;bb=22;');
    expect(t.pairs.map((p) => p.position)).toEqual([5, 9]);
  });

  test('unescapes doubled semicolons inside a value', () => {
    const t = tokenizeConnectString('ws::addr=localhost:9000;username=admin;password=p;;ssw;;rd;');
    expect(t.pairs[2]).toMatchObject({ key: 'password', value: 'p;ssw;rd' });
  });

  test('a value may end in an escaped semicolon', () => {
    expect(tokenizeConnectString('ws::a=x;;;b=y;').pairs.map((p) => p.value)).toEqual(['x;', 'y']);
  });

  test('keeps an empty value and non-ASCII characters verbatim', () => {
    const t = tokenizeConnectString('ws::a=;b=zoné €=x;');
    expect(t.pairs.map((p) => p.value)).toEqual(['', 'zoné €=x']);
  });

  test('schema only is a string with no pairs', () => {
    expect(tokenizeConnectString('ws::').pairs).toEqual([]);
  });

  test.each([
    ['', 0, /empty/],
    ['ws:addr=h;', 0, /no '::'/],
    ['::addr=h;', 0, /schema before '::' is empty/],
    ['w-s::addr=h;', 1, /schema may contain only/],
    ['ws::addr=h;;', undefined, undefined],
    ['ws::=h;', 4, /empty key/],
    ['ws::addr;', 8, /key 'addr' has no '=value'/],
    ['ws::addr=h;;;x', 14, /key 'x' has no '=value' before the end/],
    ['ws::;', 4, /stray ';'/],
    ['ws::ad dr=h;', 6, /key may contain only/],
    ['ws::addr=h;pass\u00e9=x;', 15, /key may contain only/],
  ])('grammar error in %j at %s', (input, position, message) => {
    if (message === undefined) {
      // `addr=h;;` is the value "h;" with no terminator: valid by the grammar.
      expect(tokenizeConnectString(input).pairs[0]?.value).toBe('h;');
      return;
    }
    const err = syntaxErrorOf(input);
    expect(err.position).toBe(position);
    expect(err.message).toMatch(message);
  });

  test.each([['\u0000'], ['\u0009'], ['\u001f'], ['\u007f'], ['\u009f']])(
    'rejects control character %j in a value without echoing the value',
    (ch) => {
      const err = syntaxErrorOf(`ws::addr=h;password=sec${ch}ret;`);
      expect(err.key).toBe('password');
      expect(err.position).toBe(23);
      expect(err.message).not.toContain('sec');
    },
  );

  test('round-trips arbitrary values through ;; escaping (property)', () => {
    const valueArb = fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) =>
      [...s]
        .filter((ch) => {
          const code = ch.codePointAt(0)!;
          return code > 0x1f && (code < 0x7f || code > 0x9f);
        })
        .join(''),
    );
    const keyArb = fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(keyArb, valueArb), { maxLength: 6 }),
        fc.boolean(),
        (pairs, trailing) => {
          const body = pairs.map(([k, v]) => `${k}=${v.replaceAll(';', ';;')}`).join(';');
          const input = `ws::${body}${trailing && pairs.length > 0 ? ';' : ''}`;
          const out = tokenizeConnectString(input);
          expect(out.pairs.map((p) => [p.key, p.value])).toEqual(pairs);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
