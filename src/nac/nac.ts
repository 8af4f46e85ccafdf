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
import { Relay } from './relay';
import { buildHost } from './wiring';

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
  /** For tests: false reads TCP terminals with 'data' events (TerminalListenerOptions). */
  sharedReadBuffer?: boolean;
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
  private readonly clock: Clock;

  constructor(config: NacConfig, options: NacOptions = {}) {
    const clock = options.clock ?? systemClock;
    this.config = config;
    this.clock = clock;
    this.relay = new Relay({ hosts: config.hosts.map((host) => buildHost(host, clock)), clock });
    for (const line of config.lines) {
      const profile = typeof line.modem === 'object' ? line.modem : (options.profiles?.[line.modem] ?? loadModemProfile(line.modem));
      const serial = { baudRate: line.baudRate, dataBits: line.dataBits, parity: line.parity, stopBits: line.stopBits };
      const modem = new ModemLine({ name: line.name, path: line.port, ...serial, profile, clock, open: options.open });
      const { factory, sdlc } = LINE_FRAMINGS[line.framing]();
      this.lines.push(new ModemLineAccess(modem, { address: line.address, dnis: line.dnis, framing: factory, sdlc, clock }, this.relay));
    }
    if (config.terminalListener) this.listener = new TerminalListener({ ...config.terminalListener, clock, sharedReadBuffer: options.sharedReadBuffer }, this.relay);
  }

  async start(): Promise<void> {
    this.relay.start();
    for (const l of this.lines) l.line.start();
    await this.listener?.start();
    log('NAC started: %d line(s), %d host(s)%s', this.config.lines.length, this.config.hosts.length, this.listener ? `, terminals on port ${this.listener.boundPort}` : '');
  }

  /**
   * Graceful stop (SIGTERM): answer no new calls and accept no new terminal connections, let
   * relayed requests finish up to the deadline, then hang up every line and close the links.
   * Resolves with what was still in flight.
   */
  async drain(deadlineMs: number): Promise<number> {
    for (const l of this.lines) l.line.stopAnswering();
    this.listener?.stopAccepting();
    const until = this.clock.now() + deadlineMs;
    while (this.relay.inFlight > 0 && this.clock.now() < until) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, 20));
    const left = this.relay.inFlight;
    if (left > 0) log('drain: %d request(s) still in flight at the deadline', left);
    await this.close();
    return left;
  }

  async close(): Promise<void> {
    await this.listener?.close();
    await Promise.all(this.lines.map((l) => l.line.close()));
    await this.relay.close();
  }
}
