import type { Clock, TimerHandle } from './clock';

/**
 * Timers for the relay's hot path. Setting and clearing a Node timer per frame costs more than
 * the rest of the frame's JavaScript (Node drops and rebuilds its per-duration timer lists as
 * they empty and fill), so these keep one timer each and move it only when it fires.
 */

/**
 * Fires `onIdle` after `ms` without a touch(), then starts over; touch() only reads the clock
 * (and not even that once stopped: an `ms` of 0 or less never fires, so it starts stopped).
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
    if (!this.stopped) this.last = this.clock.now();
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
 * What a DeadlineQueue keeps on each of its items, so that queueing allocates nothing: when the
 * item expires and its neighbours while it is queued. A new item starts with 0, null, null, false.
 */
export interface DeadlineLinks {
  expiresAt: number;
  older: DeadlineLinks | null;
  newer: DeadlineLinks | null;
  queued: boolean;
}

/**
 * Items that each expire `timeoutMs` after they were added, unless removed first. Every item has
 * the same timeout, so the order of adding is the order of expiring: a linked list through the
 * items themselves keeps it (add and remove are O(1) and allocate nothing), and one timer waits
 * for the oldest item.
 */
export class DeadlineQueue<T extends DeadlineLinks> {
  private oldest: T | null = null;
  private newest: T | null = null;
  private count = 0;
  private timer: TimerHandle | null = null;
  /** While expiring: an item added by `expire` is armed for when the sweep ends, not twice. */
  private sweeping = false;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly expire: (item: T) => void,
  ) {}

  get size(): number {
    return this.count;
  }

  add(item: T): void {
    if (item.queued) this.remove(item);
    item.expiresAt = this.clock.now() + this.timeoutMs;
    item.older = this.newest;
    item.newer = null;
    item.queued = true;
    if (this.newest === null) this.oldest = item;
    else this.newest.newer = item;
    this.newest = item;
    this.count++;
    if (this.timer === null && !this.sweeping) this.arm(item.expiresAt);
  }

  remove(item: T): void {
    if (!item.queued) return;
    if (item.older === null) this.oldest = item.newer as T | null;
    else item.older.newer = item.newer;
    if (item.newer === null) this.newest = item.older as T | null;
    else item.newer.older = item.older;
    item.older = null;
    item.newer = null;
    item.queued = false;
    this.count--;
  }

  clear(): void {
    while (this.oldest !== null) this.remove(this.oldest);
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
      for (let item = this.oldest; item !== null; item = this.oldest) {
        if (item.expiresAt > now) return this.arm(item.expiresAt);
        this.remove(item);
        this.expire(item);
      }
    } finally {
      this.sweeping = false;
    }
  }
}
