import { selfCheck as crcSelfCheck } from '@qwp/crc32c';
import { selfCheck as filesSelfCheck } from '@qwp/files-native';
import { machineLine, toMarkdown } from './report.js';
import { suites } from './suites/index.js';

/**
 * The project's main job for now: prove the two native foundations work on
 * this machine (self-checks), then show how fast they are next to their peers.
 * Later issues replace it with the sender demo.
 */
async function main(): Promise<void> {
  console.log(`# qwp-node self-check\n\n${machineLine()}\n`);
  const crc = crcSelfCheck();
  console.log(`crc32c:       ${crc.ok ? 'ok' : 'FAILED'} (${crc.implementation}) ${crc.details}`);
  const files = filesSelfCheck();
  console.log(`files-native: ${files.ok ? 'ok' : 'FAILED'} ${files.details}\n`);
  if (!crc.ok || !files.ok) {
    process.exitCode = 1;
    return;
  }
  for (const name of ['crc32c', 'mmap']) {
    const suite = suites.find((s) => s.name === name);
    if (suite === undefined) throw new Error(`bench suite '${name}' is not registered`);
    console.log(toMarkdown(await suite.run({ quick: true })));
  }
  console.log(
    'Full runs: `npx -y pnpm@10.34.9 bench` (all suites, JSON in packages/bench/bench-results/).',
  );
}

await main();
