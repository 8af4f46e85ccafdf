import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { systemClock, type Clock } from '../clock';
import { copyBytes } from '../codec/bytes';
import { buildDialMonitor, DIAL_MONITOR_LENGTH, parseDialTail } from '../codec/dial-monitor';
import { DEFAULT_MAX_FRAME_LENGTH } from '../codec/length-prefix';
import { MESSAGE_HEADER_LENGTH } from '../codec/message-header';
import { locateMessageHeader } from '../codec/terminal-envelope';
import { checkAddress, TPDU_LENGTH } from '../codec/tpdu';
import { NacbridgeError } from '../errors';
import { Link } from '../link/link';
import { LinkGroup, type PendingKeys, type RequestFailed } from '../link/link-group';
import { toHex } from '../codec/hex';
import { MessageCodec } from '../iso8583/codec';
import { answersMti } from '../iso8583/mti';
import { unionpayPos } from '../iso8583/specs/unionpay-pos';
import type { HostConfig } from './config';

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

const TPDU_DESTINATION = 1;
const TPDU_ORIGINATOR = 3;
const ANI_DIGITS = 16;

/** A session's bytes on the wire: its line address and, per host, its dial-monitor block. */
interface SessionWire {
  address: number;
  dialBlocks: Map<HostRoute, Buffer>;
}

/** A line address as the pending keys spell it (uppercase hex). */
const addressText = (address: number): string => address.toString(16).toUpperCase().padStart(4, '0');

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

/** The line address a payload is keyed by: originator of a request, destination of a response. */
function addressAt(payload: Buffer, offset: number): string | null {
  return payload.length >= TPDU_LENGTH ? toHex(payload, offset, offset + 2) : null;
}

/** Where the ISO 8583 message (its MTI) starts in a payload, or -1 when it has none. */
function messageOffset(payload: Buffer): number {
  let at: number;
  try {
    at = locateMessageHeader(payload) + MESSAGE_HEADER_LENGTH;
  } catch {
    return -1;
  }
  return payload.length >= at + MTI_BYTES ? at : -1;
}

const MTI_BYTES = 2;
const STAN_FIELD = 11;
const STAN_BYTES = 3;
/** Only for finding field 11 (the fields before it): the relay never unpacks a message. */
const posMessages = new MessageCodec(unionpayPos);

const mtiAt = (payload: Buffer, at: number): number => (payload[at] << 8) | payload[at + 1];
const mtiText = (mti: number): string => mti.toString(16).padStart(4, '0');

/** Where field 11 (STAN) is, or -1 when the message has none or does not reach it. */
function stanAt(payload: Buffer, message: number): number {
  const at = posMessages.valueOffset(payload, STAN_FIELD, message);
  return at >= 0 && at + STAN_BYTES <= payload.length ? at : -1;
}

/**
 * Why `response`, addressed to the line `request` came from, is not its answer; null when it is.
 * The line address alone cannot tell a late 0210, for a sale that timed out, from the answer to
 * the reversal the terminal sent next, nor from the answer to the next sale. So the MTI must
 * answer the request's (answersMti), and the STAN must be the request's when both carry one (a
 * reversal repeats its sale's STAN, R-MSG-8, hence the MTI).
 */
function answerMismatch(request: Buffer, response: Buffer): string | null {
  const asked = messageOffset(request);
  const answered = messageOffset(response);
  // Unreadable messages are left to the response path, which drops what it cannot rewrite.
  if (asked < 0 || answered < 0) return null;
  const askedMti = mtiAt(request, asked);
  const answeredMti = mtiAt(response, answered);
  if (!answersMti(askedMti, answeredMti)) {
    return `${mtiText(answeredMti)} cannot answer the ${mtiText(askedMti)} in flight`;
  }
  const askedStan = stanAt(request, asked);
  const answeredStan = stanAt(response, answered);
  if (askedStan < 0 || answeredStan < 0) return null;
  if (response[answeredStan] === request[askedStan] && response[answeredStan + 1] === request[askedStan + 1] && response[answeredStan + 2] === request[askedStan + 2]) {
    return null;
  }
  return `STAN ${toHex(response, answeredStan, answeredStan + STAN_BYTES)} cannot answer STAN ${toHex(request, askedStan, askedStan + STAN_BYTES)} in flight`;
}

export const nacKeys: PendingKeys = {
  request: (p) => addressAt(p, TPDU_ORIGINATOR),
  response: (p) => addressAt(p, TPDU_DESTINATION),
  mismatch: answerMismatch,
};

export interface RelayOptions {
  hosts: HostConfig[];
  clock?: Clock;
}

/**
 * The NAC relay (DESIGN.md data flow). Request path: a terminal frame's TPDU originator becomes
 * the line address, the dial-monitor block goes in when the host wants it (ANI from caller ID,
 * zeros when absent; DNIS from the line), and the frame leaves through the host's link group,
 * chosen by the NII in the TPDU destination. Response path: matched by the TPDU destination
 * (the line address) whichever link it returns on, if its MTI and STAN answer the request's
 * (a late answer is unmatched, not the next request's); an echoed dial-monitor block is stripped, and
 * the terminal gets back its own TPDU with the addresses swapped. Every request ends answered or
 * dropped with a counted reason.
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
            clock: this.clock,
          }),
      );
      const group = new LinkGroup({
        name: config.name,
        links,
        keys: nacKeys,
        allowSingleLink: config.allowSingleLink,
        responseTimeoutMs: config.responseTimeoutSeconds * 1000,
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
