// Adds up the vitest JSON reports that `turbo run test` left in each package
// and prints one closing line, so a reader (or CI) sees the whole suite's
// count without scrolling through every package's output.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../', import.meta.url).pathname;
// Every workspace package: packages/* and the examples.
const dirs = [...readdirSync(join(root, 'packages')).map((d) => join('packages', d)), 'examples'];
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const dir of dirs) {
  const report = join(root, dir, 'test-results.json');
  if (!existsSync(report)) {
    missing.push(dir);
    continue;
  }
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
}
if (missing.length > 0) console.log(`no test report from: ${missing.join(', ')}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
