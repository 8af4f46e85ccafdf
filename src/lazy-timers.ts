import type { Clock, TimerHandle } from './clock';

/**
 * Timers for the relay's hot path. Setting and clearing a Node timer per frame costs more than
 * the rest of the frame's JavaScript (Node drops and rebuilds its per-duration timer lists as
 * they empty and fill), so these keep one timer each and move it only when it fires.
 */

/**
 * Fires `onIdle` after `ms` without a touch(), then starts over; touch() only reads the clock.
 * An `ms` of 0 or less never fires.
 */
export class IdleTimer {
  private last: number;
  private timer: TimerHandle | null = null;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly ms: number,
    private readonly onIdle: () => void,
  ) {
    this.last = clock.now();
    if (ms > 0) this.schedule(ms);
    else this.stopped = true;
  }

  touch(): void {
    this.last = this.clock.now();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  private schedule(delay: number): void {
    this.timer = this.clock.setTimeout(() => this.check(), delay);
  }

  private check(): void {
    this.timer = null;
    const quiet = this.clock.now() - this.last;
    if (quiet < this.ms) return this.schedule(this.ms - quiet);
    this.onIdle();
    if (this.stopped) return;
    this.last = this.clock.now();
    this.schedule(this.ms);
  }
}

/**
 * Items that each expire `timeoutMs` after they were added, unless removed first. Every item has
 * the same timeout, so insertion order is deadline order: a Map keeps both, add and remove are
 * O(1), and one timer waits for the oldest item. Add an item once; remove it before adding it again.
 */
export class DeadlineQueue<T> {
  private readonly deadlines = new Map<T, number>();
  private timer: TimerHandle | null = null;
  /** While expiring: an item added by `expire` is armed for when the sweep ends, not twice. */
  private sweeping = false;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly expire: (item: T) => void,
  ) {}

  get size(): number {
    return this.deadlines.size;
  }

  add(item: T): void {
    const at = this.clock.now() + this.timeoutMs;
    this.deadlines.set(item, at);
    if (this.timer === null && !this.sweeping) this.arm(at);
  }

  remove(item: T): void {
    this.deadlines.delete(item);
  }

  clear(): void {
    this.deadlines.clear();
    this.timer?.cancel();
    this.timer = null;
  }

  private arm(at: number): void {
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, at - this.clock.now()));
  }

  private fire(): void {
    this.timer = null;
    const now = this.clock.now();
    this.sweeping = true;
    try {
      for (const [item, at] of this.deadlines) {
        if (at > now) return this.arm(at);
        this.deadlines.delete(item);
        this.expire(item);
      }
    } finally {
      this.sweeping = false;
    }
  }
}
