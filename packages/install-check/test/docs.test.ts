import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// `pnpm docs` (TypeDoc over every published package's entry points, from
// the built declarations of their dependencies): every exported symbol,
// method and accessor carries a doc comment.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'qwp-api-docs-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the API docs', () => {
  it('build with no exported symbol left undocumented', { timeout: 120_000 }, () => {
    const typedoc = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out, '--logLevel', 'Warn'],
      { cwd: ROOT, encoding: 'utf8', timeout: 110_000, env: { ...process.env, NO_COLOR: '1' } },
    );
    const log = `${typedoc.stdout}${typedoc.stderr}`;
    expect(typedoc.status, log).toBe(0);
    expect(log.split('\n').filter((l) => l.includes('does not have any documentation'))).toEqual(
      [],
    );
    expect(log).not.toMatch(/\[error\]/);
    // One module page per entry point, subpaths included.
    const modules = readdirSync(join(out, 'modules'));
    for (const page of ['_qwp_qwp-wire.codec.html', '_qwp_segment-log.inspect.html']) {
      expect(modules).toContain(page);
    }
  });
});
