import { basename, dirname, resolve } from 'node:path';
import { parseConnectString, tokenizeConnectString } from '@qwp/qwp-wire/config';
import { readSlotFailure } from '@qwp/segment-log/inspect';
import { type DrainResult, Sender } from '@qwp/sender';
import type { Command } from '../io.js';
import { parseCommandLine, UsageError } from '../io.js';
import { Progress } from '../progress.js';

const HELP = `usage: qwp sf drain SLOT --conf 'ws::addr=HOST:PORT;...'

Sends what a store-and-forward slot holds and the server never acknowledged
(a slot left by a producer that is gone), on its own connection, until every
frame is acknowledged; then cleans the slot up as a fully drained close does
(only .lock and .lock.pid stay). SLOT is the slot directory
(<sf_dir>/<sender_id>); --conf names the server and credentials (its sf_dir
and sender_id, if any, are replaced by SLOT's). A slot another process holds
is left alone. Transport failures are retried until Ctrl-C; only when the
slot can never be delivered (a frame the server refuses, credentials
refused, a capability the server lacks) is .failed written into it.

A slot marked .failed is refused: remove .failed once its cause is fixed.

Exit codes: 0 drained, 1 failed (reason printed), 3 held by another process.
`;

/** `qwp sf drain SLOT --conf ...`: an operator's orphan drain, with progress. */
export const sfDrain: Command = async (argv, io) => {
  const parsed = parse(argv);
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('expects one SLOT directory');
  if (values.conf === undefined)
    throw new UsageError("--conf 'ws::addr=HOST:PORT;...' is required");
  const slot = resolve(positionals[0]!);
  const sfDir = dirname(slot);
  const senderId = basename(slot);
  let conf: string;
  try {
    const { schema, pairs } = tokenizeConnectString(values.conf);
    const kept = pairs.filter((p) => p.key !== 'sf_dir' && p.key !== 'sender_id');
    conf = `${schema}::${kept.map((p) => `${p.key}=${p.value.replaceAll(';', ';;')};`).join('')}sf_dir=${sfDir};`;
    parseConnectString(conf);
  } catch (err) {
    throw new UsageError(`--conf: ${(err as Error).message}`, { cause: err });
  }
  const failed = readSlotFailure(slot);
  if (failed !== null) {
    io.stderr.write(
      `qwp sf drain: ${slot} is marked failed (${failed}); fix the cause, remove ${slot}/.failed, then drain it\n`,
    );
    return 1;
  }
  io.stderr.write(`qwp sf drain: ${slot}\n`);
  const progress = new Progress(io.stderr, {
    format: (s) => `${s.bar} acknowledged ${s.value}/${s.total} frames`,
  });
  const ac = new AbortController();
  const onInt = () => ac.abort();
  process.once('SIGINT', onInt);
  let started = false;
  let result: DrainResult;
  try {
    result = await Sender.drainSlot(conf, senderId, {
      signal: ac.signal,
      progressEveryMs: 200,
      onError: (err) => progress.log(`  ${err.message}`),
      onProgress: (p) => {
        const total = p.publishedFsn + 1;
        if (!started) {
          started = true;
          progress.start(total, p.ackedFsn + 1);
        } else {
          progress.setTotal(total);
          progress.update(p.ackedFsn + 1);
        }
      },
    });
  } finally {
    process.off('SIGINT', onInt);
    progress.stop();
  }
  switch (result.state) {
    case 'drained':
      io.stdout.write(`drained: every frame of ${slot} is acknowledged; the slot is cleaned up\n`);
      return 0;
    case 'skipped':
      io.stderr.write(`qwp sf drain: ${slot} is held by another process: ${result.reason}\n`);
      return 3;
    case 'stopped':
      io.stderr.write(`qwp sf drain: stopped; what was not acknowledged stays in ${slot}\n`);
      return 1;
    default:
      io.stderr.write(
        `qwp sf drain: failed: ${result.reason}${result.markedFailed === true ? ` (.failed written in ${slot})` : ''}\n`,
      );
      return 1;
  }
};

function parse(argv: string[]) {
  return parseCommandLine({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      conf: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
