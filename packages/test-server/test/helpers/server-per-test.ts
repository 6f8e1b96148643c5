import { afterEach } from 'vitest';
import { startTestServer, type TestServer, type TestServerOptions } from '../../src/index.js';
import { connect, type TestClient } from './client.js';

/** Starts servers and opens clients that are closed after the test that made them. */
export interface ServerPerTest {
  /** Starts a server, closed after this test. */
  start(options?: TestServerOptions): Promise<TestServer>;
  /** Connects to `target` (a server's primary URL, or a ws:// URL), closed after this test. */
  open(target: TestServer | string, headers?: Record<string, string>): Promise<TestClient>;
}

/**
 * The harness most test files share: call once at the top level, it
 * registers an afterEach that closes the test's clients, then its server.
 */
export function serverPerTest(): ServerPerTest {
  let server: TestServer | null = null;
  const clients: TestClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    // close() is idempotent, so a test may close its server itself.
    await server?.close();
    server = null;
  });
  return {
    start: async (options = {}) => {
      server = await startTestServer(options);
      return server;
    },
    open: async (target, headers) => {
      const c = await connect(typeof target === 'string' ? target : target.url, headers);
      clients.push(c);
      return c;
    },
  };
}
