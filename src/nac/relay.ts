import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { systemClock, type Clock } from '../clock';
import { copyBytes } from '../codec/bytes';
import { buildDialMonitor, DIAL_MONITOR_LENGTH, parseDialTail } from '../codec/dial-monitor';
import { DEFAULT_MAX_FRAME_LENGTH } from '../codec/length-prefix';
import { locateMessageHeader } from '../codec/terminal-envelope';
import { checkAddress, TPDU_LENGTH } from '../codec/tpdu';
import { NacbridgeError } from '../errors';
import { Link } from '../link/link';
import { LinkGroup, type RequestFailed } from '../link/link-group';
import { toHex } from '../codec/hex';
import type { HostConfig } from './config';
import { addressAt, addressText, nacKeys, TPDU_DESTINATION, TPDU_ORIGINATOR } from './keys';

const log = createDebug('nacbridge:nac');

/**
 * Where a terminal's frames come from and go back to: a modem line's call, or a TCP terminal.
 * The address identifies it to the platform (TPDU originator, R-MSG-1).
 */
export interface TerminalSession {
  readonly address: string;
  readonly label: string;
  /** The calling number (R-DIAL-4), or null when the call had none. */
  readonly ani: string | null;
  /** The called number: the line's own (R-DIAL-4). */
  readonly dnis: string;
  readonly isOpen: boolean;
  /** Write a payload (TPDU + data) back in the session's own framing. */
  send(payload: Buffer): void;
}

/** Why a relayed request got no response to its terminal. */
export type DropReason = 'duplicate' | 'no-link' | 'timeout' | 'closed' | 'line-gone' | 'bad-response';
/** Why a terminal's frame was never relayed. */
export type RejectReason = 'bad-frame' | 'no-route';

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

export interface HostRoute {
  config: HostConfig;
  group: LinkGroup;
  counters: RelayCounters;
  dialTail: Buffer;
}

export interface RelayEvents {
  /** A request relayed to a host (payload as sent). */
  request: [session: TerminalSession, host: string, payload: Buffer];
  /** A response delivered to its terminal (payload as delivered). */
  response: [session: TerminalSession, host: string, payload: Buffer, latencyMs: number];
  drop: [reason: DropReason | RejectReason | 'unmatched', detail: string, session: TerminalSession | null];
}

const ANI_DIGITS = 16;

/** A session's bytes on the wire: its line address and, per host, its dial-monitor block. */
interface SessionWire {
  address: number;
  dialBlocks: Map<HostRoute, Buffer>;
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

export interface RelayOptions {
  hosts: HostConfig[];
  clock?: Clock;
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
export class Relay extends EventEmitter<RelayEvents> {
  readonly hosts = new Map<string, HostRoute>();
  readonly counters: RelayCounters = { requests: 0, responses: 0, dropped: {}, rejected: {}, unmatched: 0 };
  private readonly byNii = new Map<number, HostRoute>();
  private readonly wires = new WeakMap<TerminalSession, SessionWire>();
  private defaultHost: HostRoute | null = null;
  private readonly clock: Clock;
  private inFlightCount = 0;

  constructor(options: RelayOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    for (const config of options.hosts) {
      const dialTail = parseDialTail(config.dialMonitor.tail);
      const links = config.links.map(
        (l, i) =>
          new Link({
            name: `${config.name}-${i + 1}`,
            host: l.host,
            port: l.port,
            framing: config.framing,
            heartbeatMs: config.heartbeatSeconds * 1000,
            idleTimeoutMs: config.framing === 'ascii4' ? config.idleTimeoutSeconds * 1000 : 0,
            reconnectMaxMs: config.reconnectMaxSeconds * 1000,
            writeStallMs: config.writeStallSeconds * 1000,
            maxQueuedBytes: config.maxQueuedBytes,
            clock: this.clock,
          }),
      );
      const group = new LinkGroup({
        name: config.name,
        links,
        keys: nacKeys,
        allowSingleLink: config.allowSingleLink,
        responseTimeoutMs: config.responseTimeoutSeconds * 1000,
        reconnectAfterSilentTimeouts: config.reconnectAfterSilentTimeouts,
        clock: this.clock,
      });
      const route: HostRoute = { config, group, counters: { requests: 0, responses: 0, dropped: {}, rejected: {}, unmatched: 0 }, dialTail };
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
  route(nii: string): HostRoute | null {
    return this.routeByValue(parseInt(checkAddress(nii, 'NII'), 16));
  }

  private routeByValue(nii: number): HostRoute | null {
    return this.byNii.get(nii) ?? this.defaultHost;
  }

  private drop(reason: DropReason, detail: string, session: TerminalSession, route: HostRoute): void {
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
    let headerOffset: number;
    try {
      headerOffset = locateMessageHeader(frame);
    } catch (e) {
      this.reject('bad-frame', e instanceof NacbridgeError ? e.describe() : String(e), session);
      return;
    }
    const route = this.routeByValue((frame[TPDU_DESTINATION] << 8) | frame[TPDU_DESTINATION + 1]);
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
      if (error !== null || answer === null) {
        const reason = dropReasonFor(error);
        this.drop(reason, error !== null ? error.describe() : 'no response', session, route);
      } else {
        this.deliver(session, frame, answer, route, started);
      }
    });
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

  private deliver(session: TerminalSession, request: Buffer, answer: Buffer, route: HostRoute, started: number): void {
    let back: Buffer;
    try {
      back = rewriteResponse(answer, request);
    } catch (e) {
      this.drop('bad-response', e instanceof NacbridgeError ? e.describe() : String(e), session, route);
      return;
    }
    if (!session.isOpen) {
      this.drop('line-gone', `response for ${session.label}, which has hung up`, session, route);
      return;
    }
    try {
      session.send(back);
    } catch (e) {
      // A response that cannot be framed for the terminal (too long for its framing).
      this.drop('bad-response', e instanceof NacbridgeError ? e.describe() : String(e), session, route);
      return;
    }
    this.counters.responses++;
    route.counters.responses++;
    if (this.listenerCount('response') > 0) this.emit('response', session, route.config.name, back, this.clock.now() - started);
  }

  /** TPDU originator := line address; dial-monitor block in (or replaced) when the host wants it. */
  private rewriteRequest(frame: Buffer, headerOffset: number, session: TerminalSession, route: HostRoute): Buffer {
    const wire = this.sessionWire(session);
    const dial = route.config.dialMonitor.enabled ? this.dialBlock(wire, session, route) : null;
    const rest = frame.length - headerOffset;
    const out = Buffer.allocUnsafe(TPDU_LENGTH + (dial === null ? 0 : DIAL_MONITOR_LENGTH) + rest);
    out[0] = frame[0];
    out[TPDU_DESTINATION] = frame[TPDU_DESTINATION];
    out[TPDU_DESTINATION + 1] = frame[TPDU_DESTINATION + 1];
    out[TPDU_ORIGINATOR] = wire.address >> 8;
    out[TPDU_ORIGINATOR + 1] = wire.address & 0xff;
    let o = TPDU_LENGTH;
    if (dial !== null) o = copyBytes(dial, 0, dial.length, out, o);
    copyBytes(frame, headerOffset, frame.length, out, o);
    return out;
  }

  /** What a session puts on the wire, worked out on its first frame. */
  private sessionWire(session: TerminalSession): SessionWire {
    let wire = this.wires.get(session);
    if (wire === undefined) {
      wire = { address: parseInt(checkAddress(session.address, 'line address'), 16), dialBlocks: new Map() };
      this.wires.set(session, wire);
    }
    return wire;
  }

  private dialBlock(wire: SessionWire, session: TerminalSession, route: HostRoute): Buffer {
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
  out[0] = answer[0];
  out[TPDU_DESTINATION] = request[TPDU_ORIGINATOR];
  out[TPDU_DESTINATION + 1] = request[TPDU_ORIGINATOR + 1];
  out[TPDU_ORIGINATOR] = request[TPDU_DESTINATION];
  out[TPDU_ORIGINATOR + 1] = request[TPDU_DESTINATION + 1];
  copyBytes(answer, headerOffset, answer.length, out, TPDU_LENGTH);
  return out;
}
