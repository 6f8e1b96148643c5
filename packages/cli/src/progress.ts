import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';

/** What a progress line is drawn from. */
export interface ProgressState {
  /** Current value and total (0 when unknown) of the bar. */
  value: number;
  total: number;
  /** Done fraction in [0, 1] (0 when the total is unknown). */
  fraction: number;
  /** Estimated seconds left, or undefined while it cannot be told. */
  etaSeconds: number | undefined;
  /** The bar itself, e.g. `=======---------`. */
  bar: string;
}

export interface ProgressOptions {
  /** Draws the line (without a newline) from the state. */
  format: (state: ProgressState) => string;
  /** Off a terminal: a plain line this often (default 2000 ms). */
  plainEveryMs?: number;
  /** Cells of the bar (default 24). */
  barSize?: number;
}

type Out = Writable & { isTTY?: boolean; columns?: number };

/**
 * One progress line, drawn by cli-progress: redrawn in place (10 times a
 * second at most) on a terminal, with `log()` lines printed above it;
 * elsewhere a plain line every `plainEveryMs`, so logs stay readable.
 */
export class Progress {
  private readonly multi: cliProgress.MultiBar | null = null;
  private readonly single: cliProgress.SingleBar | null = null;
  private bar: cliProgress.SingleBar | null = null;
  private stopped = false;

  constructor(
    private readonly out: Out,
    options: ProgressOptions,
  ) {
    const barSize = options.barSize ?? 24;
    const format = (
      opts: cliProgress.Options,
      params: cliProgress.Params,
      _payload: unknown,
    ): string => {
      const known = params.total > 0;
      const fraction = known ? params.progress : 0;
      const eta = typeof params.eta === 'number' && known && params.value > 0 ? params.eta : NaN;
      return options.format({
        value: params.value,
        total: known ? params.total : 0,
        fraction,
        etaSeconds: Number.isFinite(eta) ? eta : undefined,
        bar: cliProgress.Format.BarFormat(fraction, opts),
      });
    };
    const common: cliProgress.Options = {
      stream: out,
      format,
      barsize: barSize,
      barCompleteChar: '=',
      barIncompleteChar: '-',
      // No terminal modes to restore: Ctrl-C (which ends the process at once)
      // leaves the cursor and line wrapping as they were. Lines are cut to the
      // terminal's width instead of wrapping.
      hideCursor: false,
      linewrap: true,
      // The estimate follows the last ~10 s at 10 updates/s, not the whole run.
      etaBuffer: 100,
      etaAsynchronousUpdate: true,
    };
    if (this.isTty) {
      this.multi = new cliProgress.MultiBar({ ...common, fps: 10 });
    } else {
      this.single = new cliProgress.SingleBar({
        ...common,
        noTTYOutput: true,
        notTTYSchedule: options.plainEveryMs ?? 2000,
        // Off a terminal "clearing" only skips the blank line cli-progress adds at the end.
        clearOnComplete: true,
      });
    }
  }

  get isTty(): boolean {
    return this.out.isTTY === true;
  }

  /** Starts drawing; `total` 0 when unknown (no bar fraction, no ETA). */
  start(total: number, value = 0): void {
    if (this.multi !== null) this.bar = this.multi.create(total, value) as cliProgress.SingleBar;
    else {
      this.single!.start(total, value);
      this.bar = this.single;
    }
  }

  /** Sets the current value (drawn at the next tick). */
  update(value: number): void {
    this.bar?.update(value);
  }

  /** Changes the total (e.g. once it becomes known). */
  setTotal(total: number): void {
    this.bar?.setTotal(total);
  }

  /** Prints `text` as a line of its own, above the progress line. */
  log(text: string): void {
    if (this.multi !== null && this.bar !== null && !this.stopped) {
      this.multi.log(`${text}\n`);
      this.multi.update(); // now, not at the next tick
    } else {
      this.out.write(`${text}\n`);
    }
  }

  /** Draws the last state and stops (idempotent); the line stays on screen. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.multi !== null) {
      if (this.bar !== null) this.multi.update();
      this.multi.stop();
    } else if (this.bar !== null) {
      this.single!.stop();
    }
  }
}
