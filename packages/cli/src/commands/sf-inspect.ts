import type { Command } from '../io.js';

// Placeholder until its issue lands: says so instead of pretending to work.
export const sfInspect: Command = async (_argv, io) => {
  io.stderr.write('qwp: this command is not implemented yet\n');
  return 1;
};
