import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { startTestServer, type TestServer, type TestServerOptions } from '@qwp/test-server';
import { main } from '../src/index.js';

export interface SendResult {
  code: number;
  out: string;
  err: string;
}

/** Runs `qwp send ...args` in-process; `stdin` is written and ended first, `tty` fakes a terminal on stderr. */
export async function runSend(
  args: string[],
  options: { stdin?: string; tty?: boolean } = {},
): Promise<SendResult> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  if (options.tty === true) {
    stderr.isTTY = true;
    stderr.columns = 160;
  }
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += d;
  });
  stderr.on('data', (d) => {
    err += d;
  });
  if (options.stdin !== undefined) stdin.end(options.stdin);
  const code = await main(['send', ...args], { stdin, stdout, stderr });
  return { code, out, err };
}

/** A test server and a temporary directory, both removed by `close()`. */
export class Fixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'qwp-send-test-'));
  server!: TestServer;

  static async start(options: TestServerOptions = {}): Promise<Fixture> {
    const f = new Fixture();
    f.server = await startTestServer({ frameLogLimit: 0, ...options });
    return f;
  }

  get conf(): string {
    return `ws::addr=127.0.0.1:${this.server.port};`;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  async close(): Promise<void> {
    await this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The QWP type name of each column of `table` on the server, the designated `timestamp` included. */
export function types(server: TestServer, table: string): Record<string, string> {
  return Object.fromEntries(server.schema(table).map((c) => [c.name, c.typeName]));
}
