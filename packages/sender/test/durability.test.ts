import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import { describe, expect, it } from 'vitest';
import { Sender } from '../src/index.js';
import { confFor, onCleanup, server, tempDir, until, writeTrades } from './helpers.js';

/** defaultFiles, counting msync calls. */
function countingMsync(): { files: FilesFacade; msyncs: () => number } {
  let n = 0;
  const files = new Proxy(defaultFiles, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop === 'msync') {
        return (...args: Parameters<FilesFacade['msync']>) => {
          n++;
          return target.msync(...args);
        };
      }
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { files, msyncs: () => n };
}

async function sfSender(extra: string) {
  const s = await server();
  const dir = tempDir();
  const counting = countingMsync();
  const snd = await Sender.fromConfig(confFor(s, `sf_dir=${dir};sender_id=d;${extra}`), {
    files: counting.files,
    on: { error: () => {} },
  });
  onCleanup(() => snd.close());
  return { snd, msyncs: counting.msyncs };
}

describe('sf_durability', () => {
  it('memory: flush() makes no msync', async () => {
    const { snd, msyncs } = await sfSender('auto_flush=off;');
    const before = msyncs();
    writeTrades(snd, 0, 10);
    await snd.flush();
    expect(msyncs()).toBe(before);
  });

  it('flush: flush() resolves after an msync of what it published', async () => {
    const { snd, msyncs } = await sfSender('auto_flush=off;sf_durability=flush;');
    const before = msyncs();
    writeTrades(snd, 0, 10);
    await snd.flush();
    expect(msyncs()).toBeGreaterThan(before);
  });

  it('append: every frame published is msynced, auto-flushes included', async () => {
    const { snd, msyncs } = await sfSender(
      'auto_flush_rows=5;auto_flush_interval=off;sf_durability=append;',
    );
    const before = msyncs();
    writeTrades(snd, 0, 15); // three auto-flushes, no flush() call
    expect(msyncs() - before).toBeGreaterThanOrEqual(3);
  });

  it('periodic: msync every sf_sync_interval_millis without any flush()', async () => {
    const { snd, msyncs } = await sfSender(
      'auto_flush_rows=5;auto_flush_interval=off;sf_durability=periodic;sf_sync_interval_millis=30;',
    );
    // Each batch published (no flush() call) is msynced by the timer within the interval.
    for (let batch = 0; batch < 3; batch++) {
      const before = msyncs();
      writeTrades(snd, batch * 5, 5);
      await until(() => msyncs() > before, 2000, `the periodic msync of batch ${batch}`);
    }
  });
});
