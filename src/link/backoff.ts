/**
 * Reconnect delays (R-CONN-3): capped exponential backoff with jitter. The first retry comes
 * within `initialMs` (default 1 s); each later one doubles up to `maxMs` (default 30 s). Jitter
 * takes the delay from [d/2, d], so a bank of boxes restarted together does not reconnect in step.
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** A source of [0, 1) numbers; injectable for tests. */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 1000;
    this.maxMs = Math.max(options.maxMs ?? 30_000, this.initialMs);
    this.random = options.random ?? Math.random;
  }

  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}
