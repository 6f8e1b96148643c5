import { describe, expect, it } from 'vitest';
import {
  ConnectError,
  ConnectStringError,
  DataLossError,
  QwpInvalidValueError,
  Sender,
  SenderClosedError,
  SenderStateError,
  SenderTimeoutError,
} from '../src/index.js';
import { confFor, sender, server, until, writeTrades } from './helpers.js';

describe('flush, drain, acknowledged, close', () => {
  it('flush() publishes and resolves with the last FSN; acknowledged() waits for that FSN', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    writeTrades(snd, 0, 5);
    const first = await snd.flush();
    expect(first).toBe(0);
    writeTrades(snd, 5, 5);
    const second = await snd.flush();
    expect(second).toBe(1);
    await snd.acknowledged(second, 5000);
    expect(snd.stats().ackedFsn).toBeGreaterThanOrEqual(1);
    expect(s.rows('trades')).toHaveLength(10);
    // Nothing new: flush() still names the last frame published.
    expect(await snd.flush()).toBe(1);
  });

  it('drain() resolves once everything published is acknowledged', async () => {
    const s = await server({ faults: { ackDelayMs: 100 } });
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    writeTrades(snd, 0, 100);
    await snd.drain(5000);
    expect(s.rows('trades')).toHaveLength(100);
    expect(snd.stats().ackedFsn).toBe(snd.stats().publishedFsn);
  });

  it('drain() against a server that never acknowledges times out, and nothing is lost', async () => {
    const s = await server({ faults: { neverAck: true } });
    const snd = await sender(confFor(s, 'auto_flush=off;close_flush_timeout_millis=0;'));
    writeTrades(snd, 0, 3);
    const t0 = Date.now();
    await expect(snd.drain(200)).rejects.toBeInstanceOf(SenderTimeoutError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(snd.stats().publishedFsn).toBe(0);
    expect(snd.stats().ackedFsn).toBe(-1);
    s.resetFaults();
    // The server commits on receipt; an OK comes with the next frame it answers.
    writeTrades(snd, 3, 1);
    await snd.drain(5000);
    expect(snd.stats().ackedFsn).toBe(1);
  });

  it('close() against a silent server waits close_flush_timeout_millis, then reports the loss (memory mode)', async () => {
    const s = await server({ faults: { neverAck: true } });
    const snd = await Sender.fromConfig(
      confFor(s, 'auto_flush=off;close_flush_timeout_millis=300;'),
      { on: { error: () => {} } },
    );
    writeTrades(snd, 0, 3);
    const t0 = Date.now();
    const err = await snd.close().catch((e: unknown) => e);
    const took = Date.now() - t0;
    expect(err).toBeInstanceOf(DataLossError);
    expect((err as DataLossError).unacknowledgedFrames).toBe(1);
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(3000);
  });

  it('close({ timeoutMs }) overrides close_flush_timeout_millis', async () => {
    const s = await server({ faults: { neverAck: true } });
    const snd = await Sender.fromConfig(
      confFor(s, 'auto_flush=off;close_flush_timeout_millis=60000;'),
    );
    writeTrades(snd, 0, 1);
    const t0 = Date.now();
    await expect(snd.close({ timeoutMs: 100 })).rejects.toBeInstanceOf(DataLossError);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('close() with close_flush_timeout_millis=0 does not wait', async () => {
    const s = await server({ faults: { neverAck: true } });
    const snd = await Sender.fromConfig(confFor(s, 'auto_flush=off;close_flush_timeout_millis=0;'));
    writeTrades(snd, 0, 3);
    const t0 = Date.now();
    await expect(snd.close()).rejects.toBeInstanceOf(DataLossError);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('close() flushes, drains and resolves when everything is acknowledged; twice is fine', async () => {
    const s = await server();
    const snd = await Sender.fromConfig(confFor(s, 'auto_flush=off;'));
    writeTrades(snd, 0, 50);
    await snd.close();
    await snd.close();
    expect(s.rows('trades')).toHaveLength(50);
    expect(() => snd.table('trades')).toThrow(SenderClosedError);
    await expect(snd.flush()).rejects.toBeInstanceOf(SenderClosedError);
  });

  it('await using closes the sender', async () => {
    const s = await server();
    {
      await using snd = await Sender.fromConfig(confFor(s, 'auto_flush=off;'));
      writeTrades(snd, 0, 7);
    }
    expect(s.rows('trades')).toHaveLength(7);
  });
});

describe('auto-flush', () => {
  it('by rows: every auto_flush_rows rows go out without flush()', async () => {
    const s = await server();
    const snd = await sender(
      confFor(s, 'auto_flush_rows=10;auto_flush_interval=off;auto_flush_bytes=off;'),
    );
    writeTrades(snd, 0, 25);
    await until(() => s.rows('trades').length === 20, 5000, '20 rows');
    expect(snd.stats().publishedFsn).toBe(1);
    expect(snd.stats().bufferedRows).toBe(5);
  });

  it('by bytes: a batch past auto_flush_bytes goes out', async () => {
    const s = await server();
    const snd = await sender(
      confFor(s, 'auto_flush_rows=off;auto_flush_interval=off;auto_flush_bytes=4096;'),
    );
    const text = 'x'.repeat(200);
    for (let i = 0; i < 30; i++)
      snd
        .table('notes')
        .stringColumn('text', text)
        .at(1000 + i, 'us');
    await until(() => s.rows('notes').length > 0, 5000, 'rows flushed by size');
    expect(s.rows('notes').length).toBeLessThan(30);
    // The byte trigger fires within twice the threshold.
    expect(s.rows('notes').length * 200).toBeLessThan(2 * 4096);
  });

  it('by interval: rows older than auto_flush_interval go out on a timer', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush_rows=off;auto_flush_interval=50;'));
    writeTrades(snd, 0, 3);
    const t0 = Date.now();
    await until(() => s.rows('trades').length === 3, 5000, 'rows flushed by the timer');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
  });

  it('by interval, again after a flush by row count and after flush()', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush_rows=10;auto_flush_interval=30;'));
    writeTrades(snd, 0, 15); // 10 go by count, 5 wait for the timer
    await until(() => s.rows('trades').length === 15, 5000, 'the 5 rows after a count flush');
    await snd.flush();
    writeTrades(snd, 15, 3);
    await until(() => s.rows('trades').length === 18, 5000, 'the 3 rows after flush()');
  });

  it('the interval timer does not flush a half-written row', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush_rows=off;auto_flush_interval=20;'));
    writeTrades(snd, 0, 1);
    snd.table('trades').symbol('sym', 'A');
    await new Promise((r) => setTimeout(r, 100));
    expect(s.rows('trades')).toHaveLength(0);
    snd.floatColumn('px', 1).intColumn('qty', 1).at(5, 'us');
    await until(() => s.rows('trades').length === 2, 5000, 'both rows');
  });

  it('auto_flush=off leaves everything to flush()', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    writeTrades(snd, 0, 2000);
    await new Promise((r) => setTimeout(r, 150));
    expect(s.stats().frames).toBe(0);
    await snd.flush();
    await until(() => s.rows('trades').length === 2000);
  });
});

describe('rows and tables', () => {
  it('several tables go into one frame', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    snd.table('a').intColumn('x', 1).at(1, 'us');
    snd.table('b').stringColumn('y', 'two').at(2, 'us');
    snd.table('a').intColumn('x', 3).at(3, 'us');
    expect(await snd.flush()).toBe(0);
    await snd.drain(5000);
    expect(s.rows('a').map((r) => r.x)).toEqual([1n, 3n]);
    expect(s.rows('b').map((r) => r.y)).toEqual(['two']);
    expect(s.stats().frames).toBe(1);
  });

  it('a bad value discards only its row, with an error naming table, column and value', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    writeTrades(snd, 0, 2);
    let err: unknown;
    try {
      snd.table('trades').symbol('sym', 'NEW-ONE').intColumn('qty', 1.5).at(3, 'us');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QwpInvalidValueError);
    expect((err as QwpInvalidValueError).message).toMatch(/trades/);
    expect((err as QwpInvalidValueError).message).toMatch(/qty/);
    writeTrades(snd, 2, 1);
    await snd.drain(5000);
    expect(s.rows('trades').map((r) => r.qty)).toEqual([0n, 1n, 2n]);
  });

  it('a row whose values fit one by one but never together is refused alone at at()', async () => {
    const s = await server({ maxBatchSize: 65_536 });
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    writeTrades(snd, 0, 3);
    // Each 40,000-byte value fits the budget; the two together never can.
    const big = 'x'.repeat(40_000);
    let err: unknown;
    try {
      snd
        .table('trades')
        .stringColumn('a', big)
        .binaryColumn('b', new Uint8Array(40_000))
        .at(9, 'us');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QwpInvalidValueError);
    expect((err as Error).message).toMatch(/at least 80000 bytes and can never fit a frame/);
    expect(snd.rowInProgress).toBe(false);
    // The rows before it were not dropped with it, and the sender goes on.
    snd.table('trades').stringColumn('a', big).intColumn('qty', 3).at(10, 'us');
    await snd.drain(5000);
    expect(s.rows('trades').map((r) => r.qty)).toEqual([0n, 1n, 2n, 3n]);
  });

  it('max_name_len bounds table and column names (UTF-8 bytes); the rows before stay', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush=off;max_name_len=8;'));
    snd.table('t').intColumn('v', 1).at(1, 'us');
    expect(() => snd.table('table_nine')).toThrow(/table name is 10 UTF-8 bytes, over 8/);
    expect(() => snd.table('t').intColumn('col_nine1', 2)).toThrow(QwpInvalidValueError);
    snd.table('t').intColumn('v', 3).at(3, 'us');
    await snd.drain(5000);
    expect(s.rows('t').map((r) => r.v)).toEqual([1n, 3n]);
    // The default is QuestDB's 127 bytes.
    const dflt = await sender(confFor(s, 'auto_flush=off;'));
    expect(() => dflt.table('x'.repeat(128))).toThrow(/over 127/);
    expect(dflt.table('x'.repeat(127))).toBeDefined();
  });

  it('a value too large for any frame is refused with its row; the rows before it are kept', async () => {
    const s = await server({ maxBatchSize: 65_536 });
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    writeTrades(snd, 0, 3);
    expect(() =>
      snd.table('trades').intColumn('qty', 99).stringColumn('note', 'x'.repeat(100_000)),
    ).toThrow(/can never fit a frame/);
    expect(() => snd.table('blobs').binaryColumn('b', new Uint8Array(70_000))).toThrow(
      QwpInvalidValueError,
    );
    snd.table('trades').stringColumn('note', 'fits').intColumn('qty', 3).at(5, 'us');
    await snd.drain(5000);
    expect(s.rows('trades').map((r) => r.qty)).toEqual([0n, 1n, 2n, 3n]);
    await snd.transaction((tx) => {
      expect(() => tx.table('t').stringColumn('s', 'y'.repeat(100_000))).toThrow(/can never fit/);
    });
  });

  it('refuses a column before table(), a second table() mid-row, and flush() mid-row', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    expect(() => snd.intColumn('x', 1)).toThrow(SenderStateError);
    expect(() => snd.atNow()).toThrow(/table/);
    expect(() => snd.table('t').atNow()).toThrow(/no columns/);
    snd.table('t').intColumn('x', 1);
    expect(() => snd.table('u')).toThrow(/unfinished/);
    await expect(snd.flush()).rejects.toThrow(/unfinished/);
    snd.atNow();
    await snd.drain(5000);
    expect(s.rows('t')).toHaveLength(1);
  });

  it('discardRow() drops only the unfinished row', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    writeTrades(snd, 0, 2);
    snd.table('trades').symbol('sym', 'HALF').intColumn('qty', 99);
    snd.discardRow();
    expect(snd.rowInProgress).toBe(false);
    writeTrades(snd, 2, 1);
    await snd.drain(5000);
    expect(s.rows('trades').map((r) => r.qty)).toEqual([0n, 1n, 2n]);
  });

  it('reset() drops rows not yet flushed', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    writeTrades(snd, 0, 3);
    snd.reset();
    writeTrades(snd, 10, 1);
    await snd.drain(5000);
    expect(s.rows('trades').map((r) => r.qty)).toEqual([10n]);
  });
});

describe('bad configuration and connect failures', () => {
  it('a bad connect string fails before any I/O', async () => {
    const s = await server();
    await expect(
      Sender.fromConfig(`ws::addr=127.0.0.1:${s.port};auto_flush_rows=-1;`),
    ).rejects.toBeInstanceOf(ConnectStringError);
    await expect(Sender.fromConfig(`http::addr=127.0.0.1:${s.port};`)).rejects.toBeInstanceOf(
      ConnectStringError,
    );
    await expect(
      Sender.fromConfig(`ws::addr=127.0.0.1:${s.port};tls_roots=/x;`),
    ).rejects.toBeInstanceOf(ConnectStringError);
    expect(s.stats().connectionsOpened).toBe(0);
  });

  it('initial_connect_retry=off: an unreachable server fails fromConfig with ConnectError', async () => {
    const s = await server();
    const port = s.port;
    await s.close();
    const err = await Sender.fromConfig(`ws::addr=127.0.0.1:${port};`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
  });

  it('initial_connect_retry=async: fromConfig returns at once and rows wait for the server', async () => {
    const s = await server();
    const port = s.port;
    await s.stop();
    const snd = await sender(
      `ws::addr=127.0.0.1:${port};initial_connect_retry=async;auto_flush=off;reconnect_initial_backoff_millis=20;reconnect_max_backoff_millis=50;`,
    );
    writeTrades(snd, 0, 4);
    await snd.flush();
    expect(snd.stats().connected).toBe(false);
    await s.start();
    await snd.drain(5000);
    expect(s.rows('trades')).toHaveLength(4);
  });
});
