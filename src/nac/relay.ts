import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { systemClock, type Clock } from '../clock';
import type { SessionSink, TerminalSession } from '../access/session';
import { copyBytes } from '../codec/bytes';
import { buildDialMonitor, DIAL_MONITOR_LENGTH, parseDialTail } from '../codec/dial-monitor';
import { DEFAULT_MAX_FRAME_LENGTH } from '../codec/length-prefix';
import { locateMessageHeader } from '../codec/terminal-envelope';
import { checkAddress, TPDU_DESTINATION, TPDU_LENGTH, writeSwappedTpdu, writeTpduFromLine } from '../codec/tpdu';
import { NacbridgeError } from '../errors';
import type { LinkGroup, RequestDone, RequestFailed } from '../link/link-group';
import { toHex } from '../codec/hex';
import type { HostConfig } from './config';
import type { BindingMismatch, NewNumber, TerminalBindings } from './bindings';
import { addressAt, addressText } from './keys';

const log = createDebug('nacbridge:nac');

export type { TerminalSession } from '../access/session';

/**
 * Why a relayed request got no response to its terminal: as the link group says (timeout, expired,
 * duplicate, cancelled, superseded, closed), line-gone (its terminal hung up), or bad-response.
 */
export type DropReason = 'duplicate' | 'expired' | 'cancelled' | 'superseded' | 'timeout' | 'closed' | 'line-gone' | 'bad-response';
/** Why a terminal's frame was never relayed. */
export type RejectReason = 'bad-frame' | 'no-route' | 'shutting-down' | 'binding-mismatch';
/** How a relayed request ended: answered, or the reason it was dropped. */
export type RequestOutcome = 'answered' | DropReason;

/**
 * The books: every relayed request ends as a response or a drop, so
 * requests = responses + sum(dropped). Frames never relayed are `rejected`; responses nobody
 * waits for (late answers to timed-out requests, strays) are `unmatched`.
 */
export interface RelayCounters {
  requests: number;
  responses: number;
  dropped: Partial<Record<DropReason, number>>;
  rejected: Partial<Record<RejectReason, number>>;
  unmatched: number;
}

/** What the relay needs of a host's link group: a LinkGroup, or a fake in the relay's unit tests. */
export interface RelayHostGroup {
  submit(payload: Buffer, done: RequestDone): void;
  abandon(key: string, why: string): boolean;
  start(): void;
  close(): Promise<void>;
  on(event: 'unmatched', listener: (payload: Buffer, link: { name: string }, why: string) => void): unknown;
}

/** A host as the composition root built it: its config and its link group. */
export interface RelayHost<G extends RelayHostGroup = LinkGroup> {
  config: HostConfig;
  group: G;
}

export interface HostRoute<G extends RelayHostGroup = LinkGroup> extends RelayHost<G> {
  counters: RelayCounters;
  dialTail: Buffer;
}

export interface RelayEvents {
  /** A request relayed to a host (payload as sent). */
  request: [session: TerminalSession, host: string, payload: Buffer];
  /** A response delivered to its terminal (payload as delivered). */
  response: [session: TerminalSession, host: string, payload: Buffer, latencyMs: number];
  drop: [reason: DropReason | RejectReason | 'unmatched', detail: string, session: TerminalSession | null];
  /** A relayed request has ended (nii: its TPDU destination; latency from relaying it to its end). */
  settled: [session: TerminalSession, host: string, nii: number, outcome: RequestOutcome, latencyMs: number];
  /** A frame from a terminal or line calling from or to a number it is not bound to (refused or flagged). */
  binding: [mismatch: BindingMismatch, session: TerminalSession];
  /** A terminal seen calling from a number it is neither bound to nor was seen from before. */
  'new-number': [seen: NewNumber, session: TerminalSession];
}

const ANI_DIGITS = 16;

/** A session's bytes on the wire: its line address and, per host, its dial-monitor block. */
interface SessionWire<G extends RelayHostGroup> {
  address: number;
  dialBlocks: Map<HostRoute<G>, Buffer>;
}

/** The drop a failed request counts as. */
function dropReasonFor(error: RequestFailed | null): DropReason {
  if (error === null) return 'closed';
  switch (error.reason) {
    case 'abandoned':
      return 'line-gone';
    case 'unkeyed': // cannot happen: every envelope has a TPDU originator to key by
      return 'closed';
    default:
      return error.reason;
  }
}

export interface RelayOptions<G extends RelayHostGroup> {
  hosts: RelayHost<G>[];
  clock?: Clock;
  /** Terminals bound to their lines; absent, nothing is checked and nothing costs. */
  bindings?: TerminalBindings | null;
}

/**
 * The NAC relay (docs/design.md, data flow). Request path: a terminal frame's TPDU originator becomes
 * the line address, the dial-monitor block goes in when the host wants it (ANI from caller ID,
 * zeros when absent; DNIS from the line), and the frame leaves through the host's link group,
 * chosen by the NII in the TPDU destination. Response path: matched by the TPDU destination
 * (the line address) whichever link it returns on, if its MTI, STAN and terminal ID answer the
 * request's (nacKeys: a late answer is unmatched, not the next request's); an echoed dial-monitor
 * block is stripped, and the terminal gets back its own TPDU with the addresses swapped. Every
 * request ends answered or dropped with a counted reason.
 */
export class Relay<G extends RelayHostGroup = LinkGroup> extends EventEmitter<RelayEvents> implements SessionSink {
  readonly hosts = new Map<string, HostRoute<G>>();
  readonly counters: RelayCounters = { requests: 0, responses: 0, dropped: {}, rejected: {}, unmatched: 0 };
  private readonly byNii = new Map<number, HostRoute<G>>();
  private readonly wires = new WeakMap<TerminalSession, SessionWire<G>>();
  private defaultHost: HostRoute<G> | null = null;
  private readonly clock: Clock;
  private inFlightCount = 0;
  private taking = true;
  readonly bindings: TerminalBindings | null;
  private readonly onNewNumber: (seen: NewNumber, session: TerminalSession) => void;

  constructor(options: RelayOptions<G>) {
    super();
    this.clock = options.clock ?? systemClock;
    this.bindings = options.bindings ?? null;
    this.onNewNumber = (seen, session) => {
      log('%s: terminal %s seen from a new number %s (known: %s)', session.label, seen.terminalId, seen.ani, seen.known.join(', '));
      this.emit('new-number', seen, session);
    };
    for (const { config, group } of options.hosts) {
      const dialTail = parseDialTail(config.dialMonitor.tail);
      const route: HostRoute<G> = { config, group, counters: { requests: 0, responses: 0, dropped: {}, rejected: {}, unmatched: 0 }, dialTail };
      group.on('unmatched', (payload, link, why) => {
        this.counters.unmatched++;
        route.counters.unmatched++;
        const detail = `response for ${addressAt(payload, TPDU_DESTINATION) ?? '?'} on ${link.name}: ${why}`;
        log('unmatched: %s', detail);
        this.emit('drop', 'unmatched', detail, null);
      });
      this.hosts.set(config.name, route);
      for (const nii of config.nii) this.byNii.set(parseInt(nii, 16), route);
      if (config.default) this.defaultHost = route;
    }
  }

  start(): void {
    for (const route of this.hosts.values()) route.group.start();
  }

  /** The host for an NII: its own, else the default host. */
  route(nii: string): HostRoute<G> | null {
    return this.routeByValue(parseInt(checkAddress(nii, 'NII'), 16));
  }

  private routeByValue(nii: number): HostRoute<G> | null {
    return this.byNii.get(nii) ?? this.defaultHost;
  }

  private drop(reason: DropReason, detail: string, session: TerminalSession, route: HostRoute<G>): void {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
    route.counters.dropped[reason] = (route.counters.dropped[reason] ?? 0) + 1;
    log('drop (%s) %s: %s', reason, session.label, detail);
    this.emit('drop', reason, detail, session);
  }

  private reject(reason: RejectReason, detail: string, session: TerminalSession): void {
    this.counters.rejected[reason] = (this.counters.rejected[reason] ?? 0) + 1;
    log('reject (%s) %s: %s', reason, session.label, detail);
    this.emit('drop', reason, detail, session);
  }

  /**
   * Shutdown: relay nothing more (each request that still comes is refused as shutting-down and
   * counted); what is in flight goes on to its answer or its deadline.
   */
  stopTaking(): void {
    this.taking = false;
  }

  /** Requests relayed and not yet answered or dropped. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /**
   * A frame (TPDU + data) from a terminal; it ends answered or dropped, counted either way. This
   * is the NAC's hot path, so it reads only offsets and copies bytes: no Promise, no decoded
   * strings, and the session's dial-monitor block is built once per call, not per frame.
   */
  request(session: TerminalSession, frame: Buffer): void {
    if (!this.taking) {
      // Shutting down: a request relayed now could be approved after the NAC has gone.
      this.reject('shutting-down', `${frame.length} bytes from ${session.label} while the NAC shuts down: not relayed`, session);
      return;
    }
    let headerOffset: number;
    try {
      headerOffset = locateMessageHeader(frame);
    } catch (e) {
      this.reject('bad-frame', e instanceof NacbridgeError ? e.describe() : String(e), session);
      return;
    }
    if (this.bindings !== null && !this.bindingAllows(session, frame)) return;
    const nii = (frame[TPDU_DESTINATION] << 8) | frame[TPDU_DESTINATION + 1];
    const route = this.routeByValue(nii);
    if (route === null) {
      this.reject('no-route', `no host for NII ${toHex(frame, TPDU_DESTINATION, TPDU_DESTINATION + 2)}`, session);
      return;
    }
    const outbound = this.rewriteRequest(frame, headerOffset, session, route);
    // Links carry at most the terminal format's maximum (R-FRAME-1); the block can push a frame over.
    if (outbound.length > DEFAULT_MAX_FRAME_LENGTH) {
      this.reject('bad-frame', `${outbound.length} bytes with the dial-monitor block exceed the link maximum of ${DEFAULT_MAX_FRAME_LENGTH}`, session);
      return;
    }
    this.counters.requests++;
    route.counters.requests++;
    this.inFlightCount++;
    const started = this.clock.now();
    // Guarded: an emit with arguments allocates even when nobody listens (traces and metrics do).
    if (this.listenerCount('request') > 0) this.emit('request', session, route.config.name, outbound);
    route.group.submit(outbound, (error, answer) => {
      this.inFlightCount--;
      let outcome: RequestOutcome;
      if (error !== null || answer === null) {
        outcome = dropReasonFor(error);
        this.drop(outcome, error !== null ? error.describe() : 'no response', session, route);
      } else {
        outcome = this.deliver(session, frame, answer, route, started);
      }
      if (this.listenerCount('settled') > 0) this.emit('settled', session, route.config.name, nii, outcome, this.clock.now() - started);
    });
  }

  /** Issue 24 item 4: false when the frame is refused for its binding (counted); a flagged mismatch goes on. */
  private bindingAllows(session: TerminalSession, frame: Buffer): boolean {
    const bindings = this.bindings;
    if (bindings === null) return true;
    const mismatch = bindings.check(session, frame, this.onNewNumber);
    if (mismatch === null) return true;
    this.emit('binding', mismatch, session);
    if (mismatch.action === 'refuse') {
      this.reject('binding-mismatch', mismatch.detail, session);
      return false;
    }
    log('flagged %s: %s (relayed)', session.label, mismatch.detail);
    return true;
  }

  /**
   * A session has ended (hang-up, closed connection): a request of its still in flight can no
   * longer be answered, so it is dropped now (line-gone) rather than holding the line address,
   * which would refuse the next call's requests on the same line as duplicates until it timed
   * out. An answer that still comes is counted unmatched.
   */
  endSession(session: TerminalSession): void {
    const wire = this.wires.get(session);
    if (wire === undefined) return;
    const key = addressText(wire.address);
    for (const route of this.hosts.values()) route.group.abandon(key, `${session.label} ended with this request in flight`);
  }

  private deliver(session: TerminalSession, request: Buffer, answer: Buffer, route: HostRoute<G>, started: number): RequestOutcome {
    let back: Buffer;
    try {
      back = rewriteResponse(answer, request);
    } catch (e) {
      this.drop('bad-response', e instanceof NacbridgeError ? e.describe() : String(e), session, route);
      return 'bad-response';
    }
    if (!session.isOpen) {
      this.drop('line-gone', `response for ${session.label}, which has hung up`, session, route);
      return 'line-gone';
    }
    try {
      session.send(back);
    } catch (e) {
      // A response that cannot be framed for the terminal (too long for its framing).
      this.drop('bad-response', e instanceof NacbridgeError ? e.describe() : String(e), session, route);
      return 'bad-response';
    }
    this.counters.responses++;
    route.counters.responses++;
    if (this.listenerCount('response') > 0) this.emit('response', session, route.config.name, back, this.clock.now() - started);
    return 'answered';
  }

  /** TPDU originator := line address; dial-monitor block in (or replaced) when the host wants it. */
  private rewriteRequest(frame: Buffer, headerOffset: number, session: TerminalSession, route: HostRoute<G>): Buffer {
    const wire = this.sessionWire(session);
    const dial = route.config.dialMonitor.enabled ? this.dialBlock(wire, session, route) : null;
    const rest = frame.length - headerOffset;
    const out = Buffer.allocUnsafe(TPDU_LENGTH + (dial === null ? 0 : DIAL_MONITOR_LENGTH) + rest);
    let o = writeTpduFromLine(frame, wire.address, out, 0);
    if (dial !== null) o = copyBytes(dial, 0, dial.length, out, o);
    copyBytes(frame, headerOffset, frame.length, out, o);
    return out;
  }

  /** What a session puts on the wire, worked out on its first frame. */
  private sessionWire(session: TerminalSession): SessionWire<G> {
    let wire = this.wires.get(session);
    if (wire === undefined) {
      wire = { address: parseInt(checkAddress(session.address, 'line address'), 16), dialBlocks: new Map() };
      this.wires.set(session, wire);
    }
    return wire;
  }

  private dialBlock(wire: SessionWire<G>, session: TerminalSession, route: HostRoute<G>): Buffer {
    let block = wire.dialBlocks.get(route);
    if (block === undefined) {
      let ani = session.ani ?? '';
      if (ani.length > ANI_DIGITS) {
        // The block holds 16 digits right-aligned: an over-long caller ID keeps its subscriber end.
        log('%s: caller ID has %d digits, the dial-monitor block keeps the last %d', session.label, ani.length, ANI_DIGITS);
        ani = ani.slice(-ANI_DIGITS);
      }
      block = buildDialMonitor({ ani, dnis: session.dnis, tail: route.dialTail });
      wire.dialBlocks.set(route, block);
    }
    return block;
  }

  async close(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((r) => r.group.close()));
  }
}

/**
 * The response as its terminal gets it: the terminal's own TPDU with the addresses swapped
 * (R-MSG-1), the ID from the host, an echoed dial-monitor block removed.
 */
function rewriteResponse(answer: Buffer, request: Buffer): Buffer {
  const headerOffset = locateMessageHeader(answer);
  const out = Buffer.allocUnsafe(TPDU_LENGTH + answer.length - headerOffset);
  const at = writeSwappedTpdu(answer[0], request, out, 0);
  copyBytes(answer, headerOffset, answer.length, out, at);
  return out;
}
