import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { headlineSvg } from './chart.js';
import { machineLine, toMarkdown } from './report.js';
import { failures, runSmoke, smokeTable } from './smoke.js';
import { suites } from './suites/index.js';
import { loadNow } from './suites/sender-peers.js';
import { comparisons, loadResults, quotable, summaryMarkdown } from './summary.js';

/** The committed chart the READMEs embed. */
const CHART = fileURLToPath(new URL('../charts/headline.svg', import.meta.url));

/**
 * Rewrites `<out>/summary.md` and `<out>/headline.svg` from the JSON results
 * in `out`, and copies the chart to charts/headline.svg when every result
 * it draws comes from a full run (a --quick run never replaces it).
 */
function writeReport(out: string): void {
  const results = loadResults(out);
  const list = comparisons(results);
  writeFileSync(join(out, 'summary.md'), summaryMarkdown(list));
  const svg = join(out, 'headline.svg');
  writeFileSync(svg, headlineSvg(list));
  const full = quotable(results);
  if (full) {
    mkdirSync(join(CHART, '..'), { recursive: true });
    copyFileSync(svg, CHART);
  }
  console.log(
    `wrote ${join(out, 'summary.md')} and ${svg}${full ? `; chart copied to ${CHART}` : ' (a quick or older result among them: charts/headline.svg left as it was)'}`,
  );
}

/**
 * `node dist/index.js [suite ...] [--quick] [--out DIR]`: runs the named
 * suites (all when none is named), prints markdown, writes JSON per suite,
 * then the summary and the chart from every result in DIR.
 * `--report`: only the summary and the chart. `--smoke`: the smoke guard
 * (exit code 1 when a ratio is under its floor; a last line `SMOKE {json}`).
 */
async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench-results' },
      report: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
    },
  });
  if (values.smoke) {
    const result = await runSmoke();
    console.log(smokeTable(result));
    const failed = failures(result);
    for (const f of failed) console.log(`FLOOR BROKEN: ${f}`);
    console.log(`SMOKE ${JSON.stringify(result)}`);
    if (failed.length > 0) process.exitCode = 1;
    return;
  }
  mkdirSync(values.out, { recursive: true });
  if (values.report) {
    writeReport(values.out);
    return;
  }
  const chosen =
    positionals.length === 0 ? suites : suites.filter((s) => positionals.includes(s.name));
  const unknown = positionals.filter((p) => !suites.some((s) => s.name === p));
  if (unknown.length > 0) {
    throw new Error(
      `unknown suite(s) ${unknown.join(', ')}; known: ${suites.map((s) => s.name).join(', ')}`,
    );
  }
  const machine = machineLine();
  console.log(`## Benchmarks\n\n${machine}\n`);
  for (const suite of chosen) {
    const before = loadNow();
    const result = await suite.run({ quick: values.quick });
    console.log(toMarkdown(result));
    const file = join(values.out, `${suite.name}.json`);
    const stored = {
      machine,
      measuredAt: new Date().toISOString(),
      quick: values.quick,
      load: { before, after: loadNow() },
      ...result,
    };
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`);
  }
  writeReport(values.out);
}

await main();
