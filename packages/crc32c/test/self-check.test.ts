import { describe, expect, it } from 'vitest';
import {
  type Crc32cImplementation,
  implementation,
  implementations,
  portable,
  selfCheck,
} from '../src/index.js';
import { runSelfCheck } from '../src/self-check.js';

describe('selfCheck', () => {
  it('passes on every kernel of this CPU and names the active one', () => {
    const r = selfCheck();
    expect(r.details).not.toMatch(/gave|disagree/);
    expect(r.ok).toBe(true);
    expect(r.implementation).toBe(implementation());
    for (const impl of implementations()) expect(r.details).toContain(`${impl.name}: ok`);
  });

  it('reports a kernel that computes wrong values', () => {
    const good = portable;
    const broken: Crc32cImplementation = {
      name: 'broken',
      crc32c: (d, i) => (good.crc32c(d, i) ^ 1) >>> 0,
      crc32cRange: (d, o, l, i) => (good.crc32cRange(d, o, l, i) ^ (l > 1000 ? 2 : 0)) >>> 0,
    };
    const r = runSelfCheck([good, broken], broken);
    expect(r.ok).toBe(false);
    expect(r.details).toMatch(/broken: "123456789" gave/);
    expect(r.details).toMatch(/disagree with portable/);
  });
});
