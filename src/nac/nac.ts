import createDebug from 'debug';
import { systemClock, type Clock } from '../clock';
import { ModemLine } from '../modem/line';
import { loadModemProfile, type ModemProfile } from '../modem/profile';
import type { OpenOptions, SerialLine } from '../serial/port';
import { asyncFraming } from '../access/async-framing';
import type { LineFramingFactory } from '../access/line-framing';
import { sdlcFraming, type SdlcCounters } from '../access/sdlc-framing';
import { ModemLineAccess } from '../access/modem-line-access';
import { TerminalListener } from '../access/tcp-terminals';
import type { NacConfig } from './config';
import { ListeningLink } from '../link/listening-link';
import { Relay, type RelayCounters } from './relay';
import { buildHost } from './wiring';
import { TerminalBindings } from './bindings';

const log = createDebug('nacbridge:nac');

/** A line's `framing` in the config, and what frames its calls. */
const LINE_FRAMINGS: Record<NacConfig['lines'][number]['framing'], () => { factory: LineFramingFactory; sdlc?: SdlcCounters }> = {
  async: () => ({ factory: asyncFraming }),
  // One SDLC primary per call; the line's counters outlive the calls.
  sdlc: () => {
    const factory = sdlcFraming();
    return { factory, sdlc: factory.counters };
  },
};

export interface NacOptions {
  clock?: Clock;
  /** For tests: profiles by name instead of hardware/modems, and a port opener. */
  profiles?: Record<string, ModemProfile>;
  open?: (path: string, options: OpenOptions) => Promise<SerialLine>;
}

/** What became of the requests a drain saw (DrainSummary from Nac.drain). */
export interface DrainSummary {
  /** Requests in flight when the drain began. */
  inFlightAtStart: number;
  /** Answers delivered to terminals during the drain. */
  answered: number;
  /** Requests that came during the drain and were not relayed (shutting-down). */
  refused: number;
  /** Requests that ended without an answer during the drain: timed out, or dropped at the close. */
  dropped: number;
  /** Requests still in flight at the deadline (dropped by the close, part of `dropped`). */
  leftAtDeadline: number;
}

function snapshot(c: RelayCounters): { responses: number; refused: number; dropped: number } {
  const dropped = Object.values(c.dropped).reduce((sum: number, n) => sum + (n ?? 0), 0);
  return { responses: c.responses, refused: c.rejected['shutting-down'] ?? 0, dropped };
}

/**
 * The whole NAC, and the one place its config becomes objects: the hosts' link groups, the relay,
 * the modem lines with their framing, and the optional TCP terminal listener.
 */
export class Nac {
  readonly relay: Relay;
  readonly lines: ModemLineAccess[] = [];
  readonly listener: TerminalListener | null = null;
  private readonly config: NacConfig;
  readonly clock: Clock;

  constructor(config: NacConfig, options: NacOptions = {}) {
    const clock = options.clock ?? systemClock;
    this.config = config;
    this.clock = clock;
    const bindings = config.bindings ? new TerminalBindings(config.bindings, new Map(config.lines.map((l) => [l.name, l.address])), () => clock.now()) : null;
    this.relay = new Relay({ hosts: config.hosts.map((host) => buildHost(host, clock)), clock, bindings });
    for (const line of config.lines) {
      const profile = typeof line.modem === 'object' ? line.modem : (options.profiles?.[line.modem] ?? loadModemProfile(line.modem));
      const serial = { baudRate: line.baudRate, dataBits: line.dataBits, parity: line.parity, stopBits: line.stopBits };
      const modem = new ModemLine({ name: line.name, path: line.port, ...serial, profile, clock, open: options.open, requireAnswerSync: line.framing === 'sdlc' });
      const { factory, sdlc } = LINE_FRAMINGS[line.framing]();
      this.lines.push(new ModemLineAccess(modem, { address: line.address, dnis: line.dnis, framing: factory, sdlc, clock }, this.relay));
    }
    if (config.terminalListener) this.listener = new TerminalListener({ ...config.terminalListener, clock }, this.relay);
  }

  async start(): Promise<void> {
    this.relay.start();
    // A host that dials the NAC (R-CONN-7): its ports must be bound, or the NAC does not start.
    await Promise.all([...this.relay.hosts.values()].flatMap((h) => h.group.links.filter((l): l is ListeningLink => l instanceof ListeningLink).map((l) => l.listen())));
    for (const l of this.lines) l.line.start();
    await this.listener?.start();
    log('NAC started: %d line(s), %d host(s)%s', this.config.lines.length, this.config.hosts.length, this.listener ? `, terminals on port ${this.listener.boundPort}` : '');
  }

  /**
   * Graceful stop (SIGTERM): answer no new calls, accept no new terminal connections and relay
   * no new request (each refused and counted), let what is in flight get its answer up to the
   * deadline, then hang up every line, close the terminals and the links. Says what became of
   * every request that came in during the drain and of those in flight when it began.
   */
  async drain(deadlineMs: number): Promise<DrainSummary> {
    const start = snapshot(this.relay.counters);
    const inFlightAtStart = this.relay.inFlight;
    this.relay.stopTaking();
    for (const l of this.lines) l.line.stopAnswering();
    this.listener?.stopAccepting();
    const until = this.clock.now() + deadlineMs;
    while (this.relay.inFlight > 0 && this.clock.now() < until) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, 20));
    const leftAtDeadline = this.relay.inFlight;
    if (leftAtDeadline > 0) log('drain: %d request(s) still in flight at the deadline', leftAtDeadline);
    await this.close();
    const end = snapshot(this.relay.counters);
    return {
      inFlightAtStart,
      answered: end.responses - start.responses,
      refused: end.refused - start.refused,
      dropped: end.dropped - start.dropped,
      leftAtDeadline,
    };
  }

  async close(): Promise<void> {
    await this.listener?.close();
    await Promise.all(this.lines.map((l) => l.line.close()));
    await this.relay.close();
  }
}
