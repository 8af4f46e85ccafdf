import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { systemClock, type Clock, type TimerHandle } from '../clock';
import { Backoff } from '../link/backoff';
import { openSerialLine, type OpenOptions, type SerialLine } from '../serial/port';
import { ModemChannel } from './at-channel';
import { CallerIdCollector, type CallerId } from './caller-id';
import type { ModemProfile } from './profile';

const log = createDebug('nacbridge:line');

export type LineState = 'opening' | 'init' | 'idle' | 'ringing' | 'answering' | 'connected' | 'hanging-up' | 'closed';
export type HangupReason = 'inactivity' | 'carrier-lost' | 'requested' | 'port-lost' | 'shutdown';

export interface Call {
  callerId: CallerId | null;
  rings: number;
  connect: string;
  startedAt: number;
}

export interface LineCounters {
  callsOffered: number;
  callsAnswered: number;
  callsAbandoned: number;
  answerFailures: number;
  callerIdPresent: number;
  callerIdAbsent: number;
  hangups: Partial<Record<HangupReason, number>>;
  reinits: number;
  reopens: number;
  bytesIn: number;
  bytesOut: number;
}

export interface ModemLineEvents {
  state: [state: LineState, detail?: string];
  /** A failed open or init, and when the line tries again: the operator's only sign of a wrong port or a modem that refuses its init. */
  retry: [why: string, delayMs: number];
  connected: [call: Call];
  data: [chunk: Buffer];
  hangup: [reason: HangupReason, call: Call];
}

export interface ModemLineOptions {
  name: string;
  path: string;
  baudRate?: number;
  profile: ModemProfile;
  clock?: Clock;
  /** Injectable for tests; defaults to openSerialLine. */
  open?: (path: string, options: OpenOptions) => Promise<SerialLine>;
  reopenInitialMs?: number;
  reopenMaxMs?: number;
}

/**
 * One modem on one serial port, from power-on to hang-up (docs/design.md, data flow):
 * init (every command's OK checked, R-MDM-5) -> idle (periodic AT probe) -> ringing (rings
 * counted, caller ID collected; on-hook NO CARRIER / CIDM ignored, R-MDM-3) -> ATA after caller ID
 * or on the configured ring (R-MDM-1) -> connected (bytes out as 'data'; carrier loss by DCD poll
 * and/or NO CARRIER; hang up after the inactivity time) -> hang-up (DTR drop, else guard + +++ +
 * ATH, R-MDM-4) -> idle. A line never gives up: it re-initialises and reopens with backoff.
 */
export class ModemLine extends EventEmitter<ModemLineEvents> {
  readonly name: string;
  readonly counters: LineCounters = {
    callsOffered: 0,
    callsAnswered: 0,
    callsAbandoned: 0,
    answerFailures: 0,
    callerIdPresent: 0,
    callerIdAbsent: 0,
    hangups: {},
    reinits: 0,
    reopens: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
  private readonly o: ModemLineOptions;
  private readonly clock: Clock;
  private readonly profile: ModemProfile;
  private readonly backoff: Backoff;
  private currentState: LineState = 'opening';
  private port: SerialLine | null = null;
  private channel: ModemChannel | null = null;
  private readonly callerId = new CallerIdCollector();
  private rings = 0;
  private call: Call | null = null;
  /** Bytes that followed CONNECT in the same read, before the ATA promise settled. */
  private early: Buffer[] = [];
  private timers: Partial<Record<'retry' | 'probe' | 'ring' | 'answer' | 'inactivity' | 'dcd', TimerHandle>> = {};
  private closing = false;
  private answering = true;

  constructor(options: ModemLineOptions) {
    super();
    this.name = options.name;
    this.o = options;
    this.profile = options.profile;
    this.clock = options.clock ?? systemClock;
    this.backoff = new Backoff({ initialMs: options.reopenInitialMs ?? 1000, maxMs: options.reopenMaxMs ?? 30_000 });
  }

  get state(): LineState {
    return this.currentState;
  }

  get currentCall(): Call | null {
    return this.call;
  }

  start(): void {
    void this.openPort();
  }

  /** Stop answering new calls (shutdown): rings are counted and left to ring out. */
  stopAnswering(): void {
    this.answering = false;
  }

  private setState(state: LineState, detail?: string): void {
    if (this.currentState === state) return;
    this.currentState = state;
    log('%s %s%s', this.name, state, detail ? `: ${detail}` : '');
    this.emit('state', state, detail);
  }

  private timer(name: keyof ModemLine['timers'], ms: number, fn: () => void): void {
    this.timers[name]?.cancel();
    this.timers[name] = this.clock.setTimeout(() => {
      delete this.timers[name];
      fn();
    }, ms);
  }

  private cancel(name: keyof ModemLine['timers']): void {
    this.timers[name]?.cancel();
    delete this.timers[name];
  }

  private async openPort(): Promise<void> {
    if (this.closing) return;
    this.setState('opening');
    try {
      const open = this.o.open ?? openSerialLine;
      const port = await open(this.o.path, { baudRate: this.o.baudRate, controlLines: this.profile.controlLines });
      if (this.closing) {
        await port.close();
        return;
      }
      this.port = port;
      const channel = new ModemChannel(port, this.clock, this.name);
      this.channel = channel;
      channel.on('unsolicited', (line) => this.onUnsolicited(line));
      channel.on('data', (chunk) => this.onCallData(chunk));
      channel.on('carrier-lost', () => this.endCall('carrier-lost', false));
      port.on('close', (reason) => this.onPortLost(reason));
      await this.init();
    } catch (e) {
      // The serial layer's message names the port already.
      this.retry(() => this.openPort(), 'reopens', `open failed: ${(e as Error).message}`);
    }
  }

  private retry(action: () => Promise<void>, counter: 'reopens' | 'reinits', why: string): void {
    if (this.closing) return;
    this.counters[counter]++;
    const delay = this.backoff.next();
    log('%s %s; next try in %d ms', this.name, why, delay);
    this.emit('retry', why, delay);
    this.timer('retry', delay, () => void action());
  }

  private onPortLost(reason: string): void {
    if (this.closing) return;
    log('%s port lost: %s', this.name, reason);
    this.channel?.abort(reason);
    this.channel = null;
    this.port = null;
    for (const name of ['probe', 'ring', 'inactivity', 'dcd'] as const) this.cancel(name);
    if (this.call) this.finishCall('port-lost');
    this.setState('opening', reason);
    this.retry(() => this.openPort(), 'reopens', `port lost: ${reason}`);
  }

  /** `why` says what sent an initialised line back to init, for the state event. */
  private async init(why?: string): Promise<void> {
    const channel = this.channel;
    if (channel === null) return;
    this.setState('init', why);
    channel.commandMode();
    try {
      for (const command of this.profile.init) {
        const result = await channel.command(command, this.profile.commandTimeoutSeconds * 1000);
        if (result.final !== 'OK') throw new Error(`${command} answered ${result.final}`);
      }
    } catch (e) {
      if (this.channel !== channel) return;
      this.retry(() => this.init(), 'reinits', `init failed: ${(e as Error).message}`);
      return;
    }
    this.backoff.reset();
    this.toIdle();
  }

  private toIdle(): void {
    this.rings = 0;
    this.callerId.take();
    this.setState('idle');
    this.timer('probe', this.profile.healthProbeSeconds * 1000, () => void this.probe());
  }

  /** Idle health check: a modem that stops answering AT is re-initialised. */
  private async probe(): Promise<void> {
    const channel = this.channel;
    if (this.currentState !== 'idle' || channel === null) return;
    try {
      const result = await channel.command('AT', this.profile.commandTimeoutSeconds * 1000);
      if (result.final !== 'OK') throw new Error(`AT answered ${result.final}`);
      if (this.currentState === 'idle') this.timer('probe', this.profile.healthProbeSeconds * 1000, () => void this.probe());
    } catch (e) {
      if (this.channel !== channel || this.currentState !== 'idle') return;
      this.counters.reinits++;
      void this.init(`health probe failed: ${(e as Error).message}`);
    }
  }

  private onUnsolicited(line: string): void {
    const state = this.currentState;
    if (/^RING\b/i.test(line)) {
      if (state !== 'idle' && state !== 'ringing') return;
      if (state === 'idle') {
        this.counters.callsOffered++;
        this.cancel('probe');
        this.setState('ringing');
      }
      this.rings++;
      this.timer('ring', this.profile.ringTimeoutSeconds * 1000, () => this.abandoned());
      if (this.rings >= this.profile.answerOnRing) void this.answer();
      return;
    }
    if (this.callerId.feed(line)) {
      if (state === 'ringing' && this.profile.answerAfterCallerId && this.callerId.hasNumberOrAbsence) {
        this.timer('answer', this.profile.answerDelayMs, () => void this.answer());
      }
      return;
    }
    // R-MDM-3: NO CARRIER / CIDM around the caller-ID burst while on-hook is not a call ending.
    log('%s ignored while %s: %s', this.name, state, line);
  }

  private abandoned(): void {
    if (this.currentState !== 'ringing') return;
    this.counters.callsAbandoned++;
    log('%s caller gave up after %d ring(s)', this.name, this.rings);
    this.toIdle();
  }

  private async answer(): Promise<void> {
    const channel = this.channel;
    if (this.currentState !== 'ringing' || channel === null || !this.answering) return;
    this.cancel('ring');
    this.cancel('answer');
    this.setState('answering');
    const callerId = this.callerId.take();
    if (callerId?.number) this.counters.callerIdPresent++;
    else {
      this.counters.callerIdAbsent++;
      log('%s call without caller ID (%s)', this.name, callerId?.absent ?? 'none received');
    }
    try {
      const result = await channel.command(this.profile.answer, this.profile.answerTimeoutSeconds * 1000);
      if (!new RegExp(this.profile.connectPattern).test(result.final)) throw new Error(`${this.profile.answer} answered ${result.final}`);
      if (this.channel !== channel) return;
      this.counters.callsAnswered++;
      this.call = { callerId, rings: this.rings, connect: result.final, startedAt: this.clock.now() };
      this.setState('connected', result.final);
      this.armInactivity();
      if (this.profile.controlLines) this.pollDcd();
      this.emit('connected', this.call);
      for (const chunk of this.early.splice(0)) this.onCallData(chunk);
    } catch (e) {
      if (this.channel !== channel) return;
      this.counters.answerFailures++;
      this.early = [];
      log('%s answer failed: %s', this.name, (e as Error).message);
      channel.commandMode();
      this.toIdle();
    }
  }

  private armInactivity(): void {
    this.timer('inactivity', this.profile.inactivitySeconds * 1000, () => void this.hangup('inactivity'));
  }

  private pollDcd(): void {
    this.timer('dcd', this.profile.dcdPollMs, async () => {
      const port = this.port;
      if (this.currentState !== 'connected' || port === null) return;
      try {
        if (!(await port.getDcd())) {
          this.endCall('carrier-lost', false);
          return;
        }
      } catch (e) {
        log('%s DCD poll failed: %s', this.name, (e as Error).message);
      }
      this.pollDcd();
    });
  }

  private onCallData(chunk: Buffer): void {
    if (this.currentState === 'answering') {
      this.early.push(chunk);
      return;
    }
    if (this.currentState !== 'connected') return;
    this.counters.bytesIn += chunk.length;
    this.armInactivity();
    this.emit('data', chunk);
  }

  /** Write to the connected call; false when there is none. */
  write(data: Uint8Array): boolean {
    if (this.currentState !== 'connected' || this.channel === null) return false;
    this.counters.bytesOut += data.length;
    this.armInactivity();
    this.channel.write(data);
    return true;
  }

  /** Hang up the current call (R-MDM-4). */
  async hangup(reason: HangupReason = 'requested'): Promise<void> {
    if (this.currentState !== 'connected') return;
    await this.endCall(reason, true);
  }

  private finishCall(reason: HangupReason): void {
    const call = this.call;
    this.call = null;
    this.cancel('inactivity');
    this.cancel('dcd');
    this.counters.hangups[reason] = (this.counters.hangups[reason] ?? 0) + 1;
    if (call) this.emit('hangup', reason, call);
  }

  private async endCall(reason: HangupReason, active: boolean): Promise<void> {
    if (this.currentState !== 'connected') return;
    const channel = this.channel;
    const port = this.port;
    this.setState('hanging-up', reason);
    this.finishCall(reason);
    if (!active || channel === null || port === null) {
      channel?.commandMode();
      if (!this.closing) this.toIdle();
      return;
    }
    try {
      if (this.profile.hangup === 'dtr' && port.hasControlLines) {
        await port.setDtr(false);
        await this.sleep(500);
        await port.setDtr(true);
        channel.commandMode();
      } else {
        // R-MDM-4: the escape needs silence on both sides of +++, so no data is mid-flight:
        // wait the guard time, send +++, and send nothing more until the modem's OK says it
        // has left data mode (its own guard time has passed).
        await this.sleep(this.profile.escapeGuardMs);
        channel.commandMode();
        const timeout = this.profile.commandTimeoutSeconds * 1000;
        const escaped = await channel.command('+++', this.profile.escapeGuardMs + timeout, '');
        if (escaped.final !== 'OK') throw new Error(`+++ answered ${escaped.final}`);
        await channel.command('ATH', timeout);
      }
      if (!this.closing && this.channel === channel) this.toIdle();
    } catch (e) {
      if (this.closing || this.channel !== channel) return;
      this.counters.reinits++;
      void this.init(`hang-up failed: ${(e as Error).message}`);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    if (this.currentState === 'connected') await this.endCall('shutdown', true).catch(() => undefined);
    this.closing = true;
    for (const name of Object.keys(this.timers) as (keyof ModemLine['timers'])[]) this.cancel(name);
    this.channel?.abort('line closed');
    const port = this.port;
    this.port = null;
    this.channel = null;
    await port?.close();
    this.setState('closed');
  }
}
