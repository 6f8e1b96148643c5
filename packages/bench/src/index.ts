import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineLine, toMarkdown } from './report.js';
import { suites } from './suites/index.js';

/**
 * `node dist/index.js [suite ...] [--quick] [--out DIR]`: runs the named
 * suites (all when none is named), prints markdown, writes JSON per suite.
 */
async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench-results' },
    },
  });
  const chosen =
    positionals.length === 0 ? suites : suites.filter((s) => positionals.includes(s.name));
  const unknown = positionals.filter((p) => !suites.some((s) => s.name === p));
  if (unknown.length > 0) {
    throw new Error(
      `unknown suite(s) ${unknown.join(', ')}; known: ${suites.map((s) => s.name).join(', ')}`,
    );
  }
  mkdirSync(values.out, { recursive: true });
  const machine = machineLine();
  console.log(`## Benchmarks\n\n${machine}\n`);
  for (const suite of chosen) {
    const result = await suite.run({ quick: values.quick });
    console.log(toMarkdown(result));
    const file = join(values.out, `${suite.name}.json`);
    writeFileSync(file, `${JSON.stringify({ machine, ...result }, null, 2)}\n`);
  }
}

await main();
