import type { Writable } from 'node:stream';

/**
 * One line of progress: redrawn in place on a terminal, printed as plain
 * lines (at most one per `plainEveryMs`) elsewhere, so logs stay readable.
 */
export class StatusLine {
  private lastPlain = 0;
  private drawn = false;

  constructor(
    private readonly out: Writable & { isTTY?: boolean; columns?: number },
    private readonly plainEveryMs = 2000,
  ) {}

  get isTty(): boolean {
    return this.out.isTTY === true;
  }

  /** Shows `text` (redraws on a TTY; a plain line now and then otherwise). */
  update(text: string): void {
    if (this.isTty) {
      const width = Math.max(20, (this.out.columns ?? 100) - 1);
      this.out.write(`\r\x1b[2K${text.length > width ? text.slice(0, width) : text}`);
      this.drawn = true;
      return;
    }
    const now = Date.now();
    if (now - this.lastPlain < this.plainEveryMs) return;
    this.lastPlain = now;
    this.out.write(`${text}\n`);
  }

  /** Prints `text` as a line of its own, below the status line. */
  log(text: string): void {
    if (this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
    this.out.write(`${text}\n`);
  }

  /** Leaves the last status on its own line. */
  done(text: string): void {
    this.log(text);
  }
}

/** `1234567` -> `1,234,567`. */
export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Bytes as KiB / MiB / GiB with one decimal. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** A bar of `width` cells filled to `fraction`. */
export function bar(fraction: number, width = 24): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}
