import { Status } from '@qwp/qwp-wire';
import { describe, expect, it } from 'vitest';
import { ErrorInbox } from '../src/error-inbox.js';
import { DurableAckTracker } from '../src/worker/durable-acks.js';
import { categoryOf, defaultPolicy, policyFor } from '../src/worker/error-policy.js';
import { PoisonDetector } from '../src/worker/poison.js';

describe('error policies', () => {
  it('maps each status to its category and the spec default', () => {
    const table = [
      [Status.SCHEMA_MISMATCH, 'schema', 'terminal'],
      [Status.PARSE_ERROR, 'parse', 'terminal'],
      [Status.SECURITY_ERROR, 'security', 'terminal'],
      [Status.INTERNAL_ERROR, 'internal', 'retriable'],
      [Status.WRITE_ERROR, 'write', 'retriable'],
      [Status.NOT_WRITABLE, 'not-writable', 'retriable-other'],
      [Status.DICTIONARY_GAP, 'dictionary-gap', 'retriable'],
      [0x7f, 'unknown', 'retriable'],
    ] as const;
    for (const [status, category, policy] of table) {
      expect(categoryOf(status)).toBe(category);
      expect(defaultPolicy(category)).toBe(policy);
      expect(policyFor(category, {})).toBe(policy);
    }
  });

  it('on_<category>_error beats on_server_error beats the default; some categories are fixed', () => {
    expect(policyFor('schema', { schema: 'retry' })).toBe('retriable');
    expect(policyFor('schema', { server: 'retriable_other' })).toBe('retriable-other');
    expect(policyFor('schema', { schema: 'halt', server: 'retry' })).toBe('terminal');
    expect(policyFor('write', { write: 'auto', server: 'halt' })).toBe('terminal');
    expect(policyFor('write', { write: 'auto' })).toBe('retriable');
    expect(policyFor('unknown', { server: 'halt' })).toBe('retriable');
    expect(policyFor('dictionary-gap', { server: 'halt' })).toBe('retriable');
    expect(policyFor('protocol-violation', { server: 'retry' })).toBe('terminal');
  });
});

describe('PoisonDetector', () => {
  it('needs both the strike count and the time window', () => {
    let now = 1000;
    const p = new PoisonDetector(3, 500, () => now);
    expect(p.strike(7)).toBe(false);
    expect(p.strike(7)).toBe(false);
    expect(p.strike(7)).toBe(false); // 3 strikes, but within 0 ms
    now += 499;
    expect(p.strike(7)).toBe(false);
    now += 1;
    expect(p.strike(7)).toBe(true);
  });

  it('a new head frame, or an ACK reaching the suspect, starts over', () => {
    let now = 0;
    const p = new PoisonDetector(2, 0, () => now);
    expect(p.strike(1)).toBe(false);
    expect(p.strike(2)).toBe(false); // another frame: count restarts
    p.accept(1);
    expect(p.suspectFsn).toBe(2); // an ACK below the suspect clears nothing
    p.accept(2);
    expect(p.suspectFsn).toBe(-1);
    now = 5;
    expect(p.strike(3)).toBe(false);
    expect(p.strike(3)).toBe(true);
  });
});

describe('DurableAckTracker', () => {
  it('advances only when every table of an OK is durable at its seqTxn, in order', () => {
    const d = new DurableAckTracker();
    expect(d.onOk(3, [{ name: 'a', seqTxn: 5n }])).toBe(-1);
    expect(
      d.onOk(5, [
        { name: 'a', seqTxn: 6n },
        { name: 'b', seqTxn: 2n },
      ]),
    ).toBe(-1);
    expect(d.onDurableAck([{ name: 'b', seqTxn: 2n }])).toBe(-1); // head still waits for a@5
    expect(d.onDurableAck([{ name: 'a', seqTxn: 5n }])).toBe(3);
    expect(d.onDurableAck([{ name: 'a', seqTxn: 6n }])).toBe(5);
    expect(d.pendingCount).toBe(0);
  });

  it('an OK with no table is durable once everything before it is', () => {
    const d = new DurableAckTracker();
    d.onOk(1, [{ name: 'a', seqTxn: 1n }]);
    expect(d.onOk(2, [])).toBe(-1);
    expect(d.onDurableAck([{ name: 'a', seqTxn: 9n }])).toBe(2);
    expect(d.onOk(3, [])).toBe(3);
  });

  it('a DURABLE_ACK for a table no OK named advances nothing', () => {
    const d = new DurableAckTracker();
    d.onOk(0, [{ name: 'a', seqTxn: 1n }]);
    expect(d.onDurableAck([{ name: 'unknown', seqTxn: 99n }])).toBe(-1);
    expect(d.pendingCount).toBe(1);
  });

  it('watermarks never move back, and reset forgets them', () => {
    const d = new DurableAckTracker();
    d.onDurableAck([{ name: 'a', seqTxn: 10n }]);
    d.onDurableAck([{ name: 'a', seqTxn: 4n }]);
    expect(d.onOk(0, [{ name: 'a', seqTxn: 10n }])).toBe(0);
    d.reset();
    expect(d.onOk(1, [{ name: 'a', seqTxn: 10n }])).toBe(-1);
  });
});

describe('ErrorInbox', () => {
  it('delivers on the next turn, drops the oldest beyond its capacity and counts them', async () => {
    const got: string[] = [];
    const inbox = new ErrorInbox(3, (e) => {
      got.push(e.message);
      return true;
    });
    for (let i = 0; i < 5; i++) inbox.push(new Error(`e${i}`));
    expect(got).toEqual([]); // not synchronously
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual(['e2', 'e3', 'e4']);
    expect(inbox.dropped).toBe(2);
  });

  it('with no listener an error becomes a process warning, never silence', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const inbox = new ErrorInbox(4, () => false);
      inbox.push(new Error('nobody listens'));
      await new Promise((r) => setTimeout(r, 20));
      expect(warnings.map((w) => w.message)).toContain('nobody listens');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
