import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { systemClock, type Clock } from '../clock';
import { NacbridgeError, type ErrorCode } from '../errors';
import { DeadlineQueue, type DeadlineLinks } from '../lazy-timers';
import { PendingTable } from './pending-table';
import type { GroupLink, LinkState } from './group-link';

const log = createDebug('nacbridge:link-group');

/**
 * How a request ended, when it did not get its answer: timeout (sent, no answer by its deadline);
 * expired (its deadline passed before a link could take it: never sent); duplicate (another
 * request with its key in flight); cancelled (waiting for a link when a reversal of it came:
 * never sent); superseded (in flight when a reversal of it came); closed; unkeyed; abandoned
 * (whoever sent it can no longer take the answer).
 */
export type FailureReason = 'timeout' | 'expired' | 'duplicate' | 'cancelled' | 'superseded' | 'closed' | 'unkeyed' | 'abandoned';

const REQUEST_CODES: Record<FailureReason, ErrorCode> = {
  timeout: 'REQUEST_TIMEOUT',
  expired: 'REQUEST_EXPIRED',
  duplicate: 'REQUEST_DUPLICATE',
  cancelled: 'REQUEST_CANCELLED',
  superseded: 'REQUEST_SUPERSEDED',
  closed: 'REQUEST_CLOSED',
  unkeyed: 'REQUEST_UNKEYED',
  abandoned: 'REQUEST_ABANDONED',
};

export class RequestFailed extends NacbridgeError {
  readonly reason: FailureReason;
  constructor(reason: FailureReason, message: string, context: Record<string, string | number> = {}) {
    super(REQUEST_CODES[reason], message, context);
    this.reason = reason;
  }
}

/**
 * Matching a response to its request. The NAC keys by the line address (TPDU originator of the
 * request, destination of the response); the terminal role by MTI class + terminal id + STAN.
 * A null key means "not a message this group can match".
 */
export interface PendingKeys {
  request(payload: Buffer): string | null;
  response(payload: Buffer): string | null;
  /**
   * Why `response`, keyed like the request in flight, cannot be that request's answer (a late
   * answer to an earlier request with the same key), or null when it can. Keys that already tell
   * requests apart need not say.
   */
  mismatch?(request: Buffer, response: Buffer): string | null;
  /**
   * Whether `request`, keyed like `held` (waiting or in flight), replaces it rather than being a
   * duplicate: a reversal from a terminal that gave up on `held`. Without it, same key = duplicate.
   */
  supersedes?(request: Buffer, held: Buffer): boolean;
}

export interface LinkGroupOptions {
  name: string;
  links: GroupLink[];
  keys: PendingKeys;
  /** R-CONN-1 opt-out for benches: fewer than two links, or two to one host, with a warning. */
  allowSingleLink?: boolean;
  /**
   * A request's deadline, counted from when it is submitted (default 60 s): waiting for a link
   * counts against it, and a request whose deadline passes before it could be sent never is.
   */
  responseTimeoutMs?: number;
  /**
   * Drop and reconnect a link after this many of its requests in a row timed out with nothing at
   * all received on it since they left (default 3; 0 = never).
   */
  reconnectAfterSilentTimeouts?: number;
  clock?: Clock;
}

export interface LinkGroupCounters {
  /** Requests that left on a link: each ends answered, timed out, or closed with the group. */
  sent: number;
  answered: number;
  /**
   * Requests that ended without an answer, by reason: timeout and closed after sending;
   * duplicate, unkeyed, expired and cancelled before anything was sent; superseded by a
   * reversal; abandoned by whoever sent it.
   */
  failed: Record<FailureReason, number>;
  /** Responses that matched no pending request. */
  unmatched: number;
}

/** How a request submitted with a callback ends: exactly one call, with an error or the response. */
export type RequestDone = (error: RequestFailed | null, response: Buffer | null) => void;

interface Pending extends DeadlineLinks {
  key: string;
  request: Buffer;
  link: GroupLink | null;
  /** Once sent: the link's connection and the frames received on it at that moment. */
  connectionAtSend: number;
  receivedAtSend: number;
  done: RequestDone;
}

/** Timeouts in a row on one connection of a link with nothing received between them. */
interface SilentStreak {
  connection: number;
  received: number;
  count: number;
}

interface Waiting {
  payload: Buffer;
  pending: Pending;
}

export interface LinkGroupEvents {
  /** A frame no pending request claimed, and why: counted, logged, handed to whoever listens. */
  unmatched: [payload: Buffer, link: GroupLink, why: string];
  /** Every frame from any link, before matching (for traces). */
  inbound: [payload: Buffer, link: GroupLink];
  /** With the reason for 'down': how the connection ended or why the connect failed. */
  'link-state': [link: GroupLink, state: LinkState, reason?: string];
}

/**
 * Two or more links to different hosts acting as one (R-CONN-1, R-CONN-5). Frames from every
 * link form one inbound stream; the pending table belongs to the group, so a response is matched
 * whichever link it returns on, and a request survives the loss of the link it left on. Every
 * request ends answered, timed out or failed with a reason, each counted.
 */
export class LinkGroup extends EventEmitter<LinkGroupEvents> {
  readonly name: string;
  readonly links: readonly GroupLink[];
  /** Set when the group runs against R-CONN-1 because allowSingleLink said so. */
  readonly warning: string | null;
  readonly counters: LinkGroupCounters = {
    sent: 0,
    answered: 0,
    failed: { timeout: 0, expired: 0, duplicate: 0, cancelled: 0, superseded: 0, closed: 0, unkeyed: 0, abandoned: 0 },
    unmatched: 0,
  };
  private readonly keys: PendingKeys;
  private readonly clock: Clock;
  private readonly responseTimeoutMs: number;
  private readonly pending = new PendingTable<Pending>();
  private readonly deadlines: DeadlineQueue<Pending>;
  /** Requests in flight per link, kept as counts: picking a link must not walk the pending table. */
  private readonly load = new Map<GroupLink, number>();
  private readonly silentLimit: number;
  private readonly silent = new Map<GroupLink, SilentStreak>();
  private waiting: Waiting[] = [];
  private nextIndex = 0;
  private closed = false;

  constructor(options: LinkGroupOptions) {
    super();
    this.name = options.name;
    this.links = options.links;
    this.warning = checkLinkHosts(options.links.map((l) => l.host), options.allowSingleLink ?? false);
    if (this.warning) log('%s: warning: %s', this.name, this.warning);
    this.keys = options.keys;
    this.clock = options.clock ?? systemClock;
    this.responseTimeoutMs = options.responseTimeoutMs ?? 60_000;
    this.silentLimit = options.reconnectAfterSilentTimeouts ?? 3;
    this.deadlines = new DeadlineQueue(this.clock, this.responseTimeoutMs, (entry) => {
      if (entry.link === null) {
        // Never sent, and never will be: its terminal has stopped waiting for the answer.
        this.settle(entry, this.fail('expired', `its ${this.responseTimeoutMs} ms deadline passed before a link of ${this.name} could take it: never sent`, { key: entry.key }));
        return;
      }
      this.settle(entry, this.fail('timeout', `no response within ${this.responseTimeoutMs} ms`, { key: entry.key }));
      this.noteTimeout(entry);
    });
    for (const link of this.links) {
      link.on('frame', (payload) => this.onFrame(payload, link));
      link.on('state', (state, reason) => {
        this.emit('link-state', link, state, reason);
        if (state === 'up') this.flushWaiting();
      });
      link.on('drain', () => this.flushWaiting());
    }
  }

  start(): void {
    for (const link of this.links) link.start();
  }

  get upLinks(): GroupLink[] {
    return this.links.filter((l) => l.isUp);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  private outstanding(link: GroupLink): number {
    return this.load.get(link) ?? 0;
  }

  /**
   * An up link that is not backlogged (Link.isReady): fewest outstanding requests first, round
   * robin among equals.
   */
  pickLink(): GroupLink | null {
    let best: GroupLink | null = null;
    let bestLoad = Infinity;
    for (let i = 0; i < this.links.length; i++) {
      const link = this.links[(this.nextIndex + i) % this.links.length];
      if (!link.isReady) continue;
      const load = this.outstanding(link);
      if (load < bestLoad) {
        best = link;
        bestLoad = load;
      }
    }
    if (best === null) return null;
    this.nextIndex = (this.links.indexOf(best) + 1) % this.links.length;
    return best;
  }

  /** Send a frame that expects no answer (responses, advices) on any up link. */
  send(payload: Buffer): boolean {
    const link = this.pickLink();
    return link !== null && link.send(payload);
  }

  /** Send a request and resolve with its response, from whichever link it comes back on. */
  request(payload: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.submit(payload, (error, response) => (error ? reject(error) : resolve(response as Buffer)));
    });
  }

  /**
   * request() without a Promise, for the relay's hot path: `done` is called exactly once, maybe
   * before submit returns (a request that fails at once).
   */
  submit(payload: Buffer, done: RequestDone): void {
    if (this.closed) return done(this.fail('closed', `link group ${this.name} is closed`), null);
    const key = this.keys.request(payload);
    if (key === null) return done(this.fail('unkeyed', 'request has no key to match its response by'), null);
    const held = this.pending.get(key);
    if (held !== undefined) {
      if (!this.keys.supersedes?.(payload, held.request)) {
        return done(this.fail('duplicate', `a request with key ${key} is already in flight`, { key }), null);
      }
      // A reversal from a terminal that gave up on the request it holds: that one is never sent
      // if it has not been, and its answer is no longer anyone's if it has (unmatched if it comes).
      if (held.link === null) this.settle(held, this.fail('cancelled', `a reversal came while it waited for a link: never sent`, { key }));
      else this.settle(held, this.fail('superseded', `a reversal came while it was in flight`, { key }));
    }
    const entry: Pending = {
      key,
      request: payload,
      link: null,
      connectionAtSend: 0,
      receivedAtSend: 0,
      done,
      expiresAt: 0,
      older: null,
      newer: null,
      queued: false,
    };
    const link = this.pickLink();
    // Sent before it is recorded: a send that throws (a frame over the maximum) leaves nothing behind.
    const sentNow = link !== null && link.send(payload);
    this.pending.set(key, entry);
    // The deadline runs from now, sent or not: waiting for a link counts against it.
    this.deadlines.add(entry);
    if (sentNow) return this.sent(entry, link);
    // No link up, or every up link backlogged: wait for one, up to the deadline.
    this.waiting.push({ payload, pending: entry });
  }

  private sent(entry: Pending, link: GroupLink): void {
    entry.link = link;
    entry.connectionAtSend = link.connectionNumber;
    entry.receivedAtSend = link.framesReceived;
    this.load.set(link, this.outstanding(link) + 1);
    this.counters.sent++;
  }

  /**
   * End the request in flight with `key` now, as failed with reason abandoned, when whoever sent
   * it can no longer take its answer (the terminal hung up): its key is free for the next request
   * at once, and an answer that still comes is unmatched. False when no request has that key.
   */
  abandon(key: string, why: string): boolean {
    const entry = this.pending.get(key);
    if (entry === undefined) return false;
    this.settle(entry, this.fail('abandoned', why, { key }));
    return true;
  }

  private flushWaiting(): void {
    if (this.waiting.length === 0) return;
    const queue = this.waiting;
    this.waiting = [];
    for (const w of queue) {
      const link = this.pickLink();
      if (link !== null && link.send(w.payload)) this.sent(w.pending, link);
      else this.waiting.push(w);
    }
  }

  /**
   * A connection can be dead with its socket open: a firewall that dropped its state black-holes
   * what is sent (TCP retries for many minutes before it gives up), and a host whose application
   * hung leaves its TCP stack accepting. The only sign is requests that time out while nothing at
   * all comes back on that connection, so after `reconnectAfterSilentTimeouts` of those in a row
   * the link is dropped and reconnects. Any frame or keep-alive received ends a streak.
   */
  private noteTimeout(entry: Pending): void {
    const link = entry.link;
    if (this.silentLimit <= 0 || link === null || !link.isUp) return;
    const connection = link.connectionNumber;
    const received = link.framesReceived;
    if (connection !== entry.connectionAtSend || received !== entry.receivedAtSend) return;
    const streak = this.silent.get(link);
    const count = streak !== undefined && streak.connection === connection && streak.received === received ? streak.count + 1 : 1;
    if (count < this.silentLimit) {
      this.silent.set(link, { connection, received, count });
      return;
    }
    this.silent.delete(link);
    log('%s: %d requests in a row timed out on %s with nothing received on it: reconnecting', this.name, count, link.name);
    link.drop('unanswered');
  }

  private onFrame(payload: Buffer, link: GroupLink): void {
    // Guarded: an emit with arguments allocates even when nobody listens (only traces do).
    if (this.listenerCount('inbound') > 0) this.emit('inbound', payload, link);
    const key = this.keys.response(payload);
    const entry = key === null ? undefined : this.pending.get(key);
    if (entry === undefined || entry.link === null) {
      this.unmatched(payload, link, key === null ? 'not a response' : `no request with key ${key} in flight`);
      return;
    }
    const mismatch = this.keys.mismatch?.(entry.request, payload) ?? null;
    if (mismatch !== null) {
      // The request stays in flight: its own answer may still come, else its deadline ends it.
      this.unmatched(payload, link, mismatch);
      return;
    }
    this.counters.answered++;
    this.forget(entry);
    entry.done(null, payload);
  }

  private unmatched(payload: Buffer, link: GroupLink, why: string): void {
    this.counters.unmatched++;
    log('%s: unmatched frame on %s: %s', this.name, link.name, why);
    this.emit('unmatched', payload, link, why);
  }

  private fail(reason: FailureReason, message: string, context: Record<string, string | number> = {}): RequestFailed {
    this.counters.failed[reason]++;
    return new RequestFailed(reason, message, { group: this.name, ...context });
  }

  private settle(entry: Pending, error: RequestFailed): void {
    if (this.pending.get(entry.key) !== entry) return;
    this.forget(entry);
    entry.done(error, null);
  }

  private forget(entry: Pending): void {
    this.pending.delete(entry.key);
    this.deadlines.remove(entry);
    // Never sent: it is still on the list of requests waiting for a link.
    if (entry.link === null) this.waiting = this.waiting.filter((w) => w.pending !== entry);
    else this.load.set(entry.link, this.outstanding(entry.link) - 1);
  }

  /** Fail what is pending, close every link. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const entry of [...this.pending.values()]) this.settle(entry, this.fail('closed', `link group ${this.name} closed`, { key: entry.key }));
    this.deadlines.clear();
    await Promise.all(this.links.map((l) => l.close()));
  }
}

/**
 * R-CONN-1: at least two links, each to a different host; a bench may opt out, and gets back the
 * text of a warning (without the word "warning": whoever prints it says that).
 */
export function checkLinkHosts(hosts: string[], allowSingleLink: boolean): string | null {
  const distinct = new Set(hosts.map((h) => h.toLowerCase()));
  if (hosts.length >= 2 && distinct.size === hosts.length) return null;
  const problem =
    hosts.length < 2
      ? `${hosts.length} link(s); the platform spec wants at least two (R-CONN-1)`
      : 'two links go to the same host; the platform spec wants different hosts (R-CONN-1)';
  if (allowSingleLink) return `${problem}; allowed by allowSingleLink`;
  throw new NacbridgeError('LINK_HOSTS', `${problem}; set allowSingleLink for a bench`);
}
