import type { Command, CommandIo } from './io.js';
import { UsageError } from './io.js';

const USAGE = `usage: qwp <command> [options]

commands:
  demo [--rows N]                    stream rows through a store-and-forward sender while the
                                     server restarts and the producer is killed; count the loss
  decode [FILE|-] [--hex] [--json]   print one QWP message: header, symbols, tables, rows
  send FILE|- --table T [...]        stream a CSV, NDJSON or Parquet file into a table
  serve [--port 9000] [...]          run a local QWP ingest test server
  sf inspect PATH [--json]           show a store-and-forward slot, segment or dictionary
  sf drain SLOT --conf CONF          send what a slot left by a gone producer still holds
`;

// Each command loads only when named, so `qwp decode` never pays for the server.
const commands: Record<string, () => Promise<Command>> = {
  demo: async () => (await import('./commands/demo.js')).demo,
  decode: async () => (await import('./commands/decode.js')).decode,
  send: async () => (await import('./commands/send.js')).send,
  serve: async () => (await import('./commands/serve.js')).serve,
  'sf inspect': async () => (await import('./commands/sf-inspect.js')).sfInspect,
  'sf drain': async () => (await import('./commands/sf-drain.js')).sfDrain,
};

/** Runs `qwp` with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: CommandIo): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    io.stdout.write(USAGE);
    return first === undefined ? 2 : 0;
  }
  const twoWord = second !== undefined ? `${first} ${second}` : '';
  const name = twoWord in commands ? twoWord : first;
  const load = commands[name];
  if (load === undefined) {
    // A group's name alone (`qwp sf`, `qwp sf --help`): its commands, from the usage text.
    const group = USAGE.split('\n').filter((l) => l.startsWith(`  ${first} `));
    if (group.length > 0) {
      const asked = second === '-h' || second === '--help' || second === 'help';
      (asked ? io.stdout : io.stderr).write(
        `usage: qwp ${first} <command>\n\n${group.join('\n')}\n`,
      );
      return asked ? 0 : 2;
    }
    io.stderr.write(`qwp: unknown command '${first}'\n${USAGE}`);
    return 2;
  }
  const rest = argv.slice(name.split(' ').length);
  try {
    return await (await load())(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`qwp ${name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
