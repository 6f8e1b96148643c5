import type { Readable, Writable } from 'node:stream';

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
