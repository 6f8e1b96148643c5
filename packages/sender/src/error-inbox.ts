/**
 * Errors on their way to the application's `error` listeners: a bounded
 * queue drained on the next turn of the event loop, so a burst of
 * incidents (a flapping server) never grows without bound. When full, the
 * oldest entry goes (the newest says most about the current state) and is
 * counted. With no listener an error becomes a process warning: never
 * silence, since a quiet failure looks like a healthy sender.
 */
export class ErrorInbox {
  private readonly queue: Error[] = [];
  private scheduled = false;
  /** Errors dropped because the inbox was full. */
  dropped = 0;

  constructor(
    private readonly capacity: number,
    private readonly deliver: (err: Error) => boolean,
  ) {}

  push(err: Error): void {
    if (this.queue.length >= this.capacity) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(err);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Delivers everything queued now (also called when the sender stops). */
  drain(): void {
    this.scheduled = false;
    for (let err = this.queue.shift(); err !== undefined; err = this.queue.shift()) {
      if (!this.deliver(err)) process.emitWarning(err);
    }
  }
}
