import type { Readable, Writable } from 'node:stream';
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Where a command reads and writes, so tests can run one without spawning a process. */
export interface CommandIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

/** A command takes its own argv (after the command's name) and resolves to the exit code. */
export type Command = (argv: string[], io: CommandIo) => Promise<number>;

/** Thrown for a bad command line; the dispatcher prints the message and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'ERR_QWP_CLI_USAGE';
}

/** node:util's parseArgs, with its errors (unknown option, missing value, ...) as UsageError. */
export function parseCommandLine<T extends ParseArgsConfig>(
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), { cause: err });
  }
}
