import { describe, expect, it } from 'vitest';
import { startTestServer, type TestServerOptions, TestServerOptionsError } from '../src/index.js';

describe('startTestServer options', () => {
  it.each<[TestServerOptions, RegExp]>([
    [{ port: 70_000 }, /port must be an integer in \[0, 65535\], got 70000/],
    [{ maxBatchSize: 12 }, /maxBatchSize must be an integer in \[13, 16777216\], got 12/],
    // QuestDB never advertises more than the 16 MiB QWP ceiling.
    [{ maxBatchSize: 16 * 1024 * 1024 + 1 }, /maxBatchSize must be an integer in \[13, 16777216\]/],
    [{ serverMaxVersion: 0 }, /serverMaxVersion must be an integer in \[1, 255\], got 0/],
    [{ sampleRate: 1.5 }, /sampleRate must be in \[0, 1\], got 1.5/],
    [{ mode: 'fast' as never }, /mode must be 'strict' or 'throughput', got fast/],
    [{ ackMode: 'sometimes' as never }, /ackMode must be 'per-frame' or 'cumulative'/],
    // A cap of at least one row: QuestDB documents no meaning for 0.
    [{ maxUncommittedRows: 0 }, /maxUncommittedRows must be an integer in \[1, \d+\], got 0/],
    [
      { maxTablesPerConnection: 1.5 },
      /maxTablesPerConnection must be an integer in \[1, \d+\], got 1.5/,
    ],
    [{ autoCreateTables: 'no' as never }, /autoCreateTables must be true or false, got no/],
    [{ closeDrainMs: -1 }, /closeDrainMs must be an integer in \[0, 2147483647\], got -1/],
  ])('refuses %o with a TestServerOptionsError naming it', async (options, message) => {
    const err = await startTestServer(options).then(
      (s) => s.close().then(() => null),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TestServerOptionsError);
    expect(err).toMatchObject({
      code: 'ERR_QWP_TEST_SERVER_OPTIONS',
      message: expect.stringMatching(message),
    });
  });

  it('takes the 16 MiB ceiling itself', async () => {
    const s = await startTestServer({ maxBatchSize: 16 * 1024 * 1024 });
    await s.close();
  });
});
