/**
 * Tells a frame the server keeps refusing (a poison frame) from a passing
 * fault. A strike is a retriable rejection of, or a connection dying on,
 * the same head-of-line frame with no acknowledgement in between. It takes
 * `maxStrikes` strikes AND at least `minWindowMs` since the first before the
 * frame counts as poison: with fast reconnects a short outage alone can
 * pile up strikes in under a second.
 */
export class PoisonDetector {
  private suspect = -1;
  private strikes = 0;
  private firstStrikeAt = 0;

  constructor(
    private readonly maxStrikes: number,
    private readonly minWindowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The frame under suspicion, -1 for none. */
  get suspectFsn(): number {
    return this.suspect;
  }

  get strikeCount(): number {
    return this.strikes;
  }

  /** One strike against `fsn`; true when it is now poison. */
  strike(fsn: number): boolean {
    if (fsn !== this.suspect) {
      this.suspect = fsn;
      this.strikes = 0;
      this.firstStrikeAt = this.now();
    }
    this.strikes++;
    return this.strikes >= this.maxStrikes && this.now() - this.firstStrikeAt >= this.minWindowMs;
  }

  /** Acknowledged through `ackedFsn`: a suspect at or below it was fine after all. */
  accept(ackedFsn: number): void {
    if (this.suspect >= 0 && ackedFsn >= this.suspect) {
      this.suspect = -1;
      this.strikes = 0;
    }
  }
}
