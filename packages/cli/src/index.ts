export type { Command, CommandIo } from './io.js';
export { UsageError } from './io.js';
export { main } from './main.js';
