import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { systemClock, type Clock } from '../clock';
import { copyBytes } from '../codec/bytes';
import { DIAL_MONITOR_LENGTH, parseDialTail, writeDialMonitor } from '../codec/dial-monitor';
import { readTerminalEnvelope, type TerminalEnvelope } from '../codec/terminal-envelope';
import { TPDU_LENGTH, writeTpdu, type Tpdu } from '../codec/tpdu';
import { NacbridgeError } from '../errors';
import { Link } from '../link/link';
import { LinkGroup, RequestFailed, type PendingKeys } from '../link/link-group';
import { toHex } from '../codec/hex';
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

/** The line address a payload is keyed by: originator of a request, destination of a response. */
function addressAt(payload: Buffer, offset: number): string | null {
  return payload.length >= TPDU_LENGTH ? toHex(payload, offset, offset + 2) : null;
}

export const nacKeys: PendingKeys = {
  request: (p) => addressAt(p, TPDU_ORIGINATOR),
  response: (p) => addressAt(p, TPDU_DESTINATION),
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
 * (the line address) whichever link it returns on; an echoed dial-monitor block is stripped, and
 * the terminal gets back its own TPDU with the addresses swapped. Every request ends answered or
 * dropped with a counted reason.
 */
export class Relay extends EventEmitter<RelayEvents> {
  readonly hosts = new Map<string, HostRoute>();
  readonly counters: RelayCounters = { requests: 0, responses: 0, dropped: {}, rejected: {}, unmatched: 0 };
  private readonly byNii = new Map<string, HostRoute>();
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
      group.on('unmatched', (payload, link) => {
        this.counters.unmatched++;
        route.counters.unmatched++;
        const detail = `response for ${addressAt(payload, TPDU_DESTINATION) ?? '?'} on ${link.name} matches no request in flight`;
        log('unmatched: %s', detail);
        this.emit('drop', 'unmatched', detail, null);
      });
      this.hosts.set(config.name, route);
      for (const nii of config.nii) this.byNii.set(nii, route);
      if (config.default) this.defaultHost = route;
    }
  }

  start(): void {
    for (const route of this.hosts.values()) route.group.start();
  }

  /** The host for an NII: its own, else the default host. */
  route(nii: string): HostRoute | null {
    return this.byNii.get(nii.toUpperCase()) ?? this.defaultHost;
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

  /** A frame (TPDU + data) from a terminal. Resolves when it has been answered or dropped. */
  async request(session: TerminalSession, frame: Buffer): Promise<void> {
    this.inFlightCount++;
    try {
      await this.relay(session, frame);
    } finally {
      this.inFlightCount--;
    }
  }

  private async relay(session: TerminalSession, frame: Buffer): Promise<void> {
    let envelope: TerminalEnvelope;
    try {
      envelope = readTerminalEnvelope(frame);
    } catch (e) {
      this.reject('bad-frame', e instanceof NacbridgeError ? e.describe() : String(e), session);
      return;
    }
    const route = this.route(envelope.tpdu.destination);
    if (route === null) {
      this.reject('no-route', `no host for NII ${envelope.tpdu.destination}`, session);
      return;
    }
    this.counters.requests++;
    route.counters.requests++;
    const outbound = this.rewriteRequest(frame, envelope, session, route);
    const started = this.clock.now();
    this.emit('request', session, route.config.name, outbound);
    let answer: Buffer;
    try {
      answer = await route.group.request(outbound);
    } catch (e) {
      // 'unkeyed' cannot happen here: every envelope has a TPDU originator to key by.
      const reason: DropReason = e instanceof RequestFailed && e.reason !== 'unkeyed' ? e.reason : 'closed';
      this.drop(reason, e instanceof NacbridgeError ? e.describe() : String(e), session, route);
      return;
    }
    let back: Buffer;
    try {
      back = this.rewriteResponse(answer, envelope.tpdu);
    } catch (e) {
      this.drop('bad-response', e instanceof NacbridgeError ? e.describe() : String(e), session, route);
      return;
    }
    if (!session.isOpen) {
      this.drop('line-gone', `response for ${session.label}, which has hung up`, session, route);
      return;
    }
    this.counters.responses++;
    route.counters.responses++;
    session.send(back);
    this.emit('response', session, route.config.name, back, this.clock.now() - started);
  }

  /** TPDU originator := line address; dial-monitor block in (or replaced) when the host wants it. */
  private rewriteRequest(frame: Buffer, envelope: TerminalEnvelope, session: TerminalSession, host: HostRoute): Buffer {
    const rest = frame.length - envelope.headerOffset;
    const dial = host.config.dialMonitor.enabled;
    const out = Buffer.allocUnsafe(TPDU_LENGTH + (dial ? DIAL_MONITOR_LENGTH : 0) + rest);
    let o = writeTpdu(out, 0, { id: envelope.tpdu.id, destination: envelope.tpdu.destination, originator: session.address });
    if (dial) {
      o = writeDialMonitor(out, o, { ani: session.ani ?? '', dnis: session.dnis, tail: host.dialTail });
    }
    copyBytes(frame, envelope.headerOffset, frame.length, out, o);
    return out;
  }

  /** The terminal's own TPDU, addresses swapped (R-MSG-1); an echoed dial-monitor block removed. */
  private rewriteResponse(answer: Buffer, terminalTpdu: Tpdu): Buffer {
    const envelope = readTerminalEnvelope(answer);
    const rest = answer.length - envelope.headerOffset;
    const out = Buffer.allocUnsafe(TPDU_LENGTH + rest);
    writeTpdu(out, 0, { id: envelope.tpdu.id, destination: terminalTpdu.originator, originator: terminalTpdu.destination });
    copyBytes(answer, envelope.headerOffset, answer.length, out, TPDU_LENGTH);
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((r) => r.group.close()));
  }
}
