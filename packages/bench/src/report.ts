import { cpus, totalmem } from 'node:os';
import type { SuiteResult } from './suite.js';

/** One line that says what machine produced the figures; every figure needs it beside it. */
export function machineLine(): string {
  const cpu = cpus();
  const model = cpu[0]?.model.trim() ?? 'unknown CPU';
  const gib = (totalmem() / 2 ** 30).toFixed(0);
  return `${model}, ${cpu.length} cores, ${gib} GiB, Node ${process.version} (${process.platform}-${process.arch}); producer and any server share these cores`;
}

/** Renders a suite as a markdown table with its notes underneath. */
export function toMarkdown(result: SuiteResult): string {
  const header = `| ${result.columns.join(' | ')} |`;
  const rule = `|${result.columns.map(() => '---').join('|')}|`;
  const body = result.rows.map((row) => `| ${row.map(String).join(' | ')} |`);
  const notes = result.notes.map((n) => `- ${n}`);
  return [`### ${result.suite}`, '', header, rule, ...body, '', ...notes, ''].join('\n');
}

/** Formats a number with a fixed number of significant decimals for tables. */
export function fmt(value: number, decimals = 2): string {
  return Number.isFinite(value) ? value.toFixed(decimals) : String(value);
}
