import { ConnectStringError } from '@qwp/qwp-wire';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectedInfo } from '../src/index.js';
import { Sender, SenderOptionsError, SenderStateError } from '../src/index.js';
import { onCleanup, server, tempDir, writeTrades } from './helpers.js';

const saved = process.env.QDB_CLIENT_CONF;
afterEach(() => {
  if (saved === undefined) delete process.env.QDB_CLIENT_CONF;
  else process.env.QDB_CLIENT_CONF = saved;
});

describe('Sender.builder', () => {
  it('writes the connect-string keys and attaches listeners before the first connection', async () => {
    const s = await server({ auth: { basic: { user: 'u', pass: 'a;b' } } });
    const dir = tempDir();
    const connected: ConnectedInfo[] = [];
    const b = Sender.builder()
      .address('127.0.0.1', s.port)
      .basicAuth('u', 'a;b')
      .storeAndForward(dir, { senderId: 'built', durability: 'flush' })
      .autoFlush({ rows: 10, intervalMs: 0 })
      .option('close_flush_timeout_millis', 2000)
      .on('connected', (i) => connected.push(i));
    expect(b.toConnectString()).toBe(
      `ws::addr=127.0.0.1:${s.port};username=u;password=a;;b;sf_dir=${dir};sender_id=built;sf_durability=flush;auto_flush_rows=10;auto_flush_interval=0;close_flush_timeout_millis=2000;`,
    );
    const snd = await b.build();
    onCleanup(() => snd.close());
    expect(connected).toHaveLength(1);
    expect(snd.stats().mode).toBe('sf');
    writeTrades(snd, 0, 10); // the 10th row flushes
    await snd.drain(5000);
    expect(s.rows('trades')).toHaveLength(10);
  });

  it('starts from a connect string, and its errors name the key', async () => {
    await expect(
      Sender.builder('ws::addr=localhost:1;').option('auto_flush_rows', -5).build(),
    ).rejects.toBeInstanceOf(ConnectStringError);
    await expect(Sender.builder('http::addr=localhost:1;').build()).rejects.toBeInstanceOf(
      ConnectStringError,
    );
    expect(() => Sender.builder().address('h', 70000)).toThrow(SenderOptionsError);
  });
});

describe('Sender.fromEnv', () => {
  it('reads QDB_CLIENT_CONF', async () => {
    const s = await server();
    process.env.QDB_CLIENT_CONF = `ws::addr=127.0.0.1:${s.port};auto_flush=off;`;
    const snd = await Sender.fromEnv();
    onCleanup(() => snd.close());
    writeTrades(snd, 0, 2);
    await snd.drain(5000);
    expect(s.rows('trades')).toHaveLength(2);
  });

  it('rejects when it is not set', async () => {
    delete process.env.QDB_CLIENT_CONF;
    await expect(Sender.fromEnv()).rejects.toBeInstanceOf(SenderStateError);
  });
});
