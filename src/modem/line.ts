import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { systemClock, type Clock, type TimerHandle } from '../clock';
import { Backoff } from '../link/backoff';
import { openSerialLine, type OpenOptions, type SerialLine } from '../serial/port';
import { ModemChannel, ModemError } from './at-channel';
import { CallerIdCollector, type CallerId } from './caller-id';
import { answerSyncVerdict, SYNC_QUERIES, type QueryAnswer } from './capability';
import { initStep, type ModemProfile } from './profile';

const log = createDebug('nacbridge:line');

/**
 * `recovering`: a hang-up failed, the port was closed and opened again, and no AT command is sent
 * until the modem shows it is in command mode. `failed`: the port cannot work as configured (a
 * tcp:// line on a telnet-mode server) and the line is not retried.
 */
export type LineState = 'opening' | 'init' | 'idle' | 'ringing' | 'answering' | 'connected' | 'hanging-up' | 'recovering' | 'failed' | 'closed';
/** How a line left its last call at shutdown. */
export type ShutdownOutcome = 'no-call' | 'hung-up' | 'not-hung-up';
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
  /** Optional init commands the modem refused with ERROR (each time), and by command. */
  optionalRefused: number;
  optionalRefusedBy: Record<string, number>;
  /** Modems found answering numerically (ATV0) and put back to verbose results with ATV1. */
  verboseRestored: number;
  /** DTR hang-ups that could not set DTR and fell back to the escape sequence and ATH. */
  hangupFallbacks: number;
  /** Hang-ups that failed altogether: the call dropped on our side, the port closed and reopened. */
  hangupFailures: number;
  /** Re-inits after a call, and the time they took in total and the last one (ms). */
  postCallReinits: number;
  postCallReinitMs: number;
  lastPostCallReinitMs: number | null;
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
  dataBits?: OpenOptions['dataBits'];
  parity?: OpenOptions['parity'];
  stopBits?: OpenOptions['stopBits'];
  profile: ModemProfile;
  clock?: Clock;
  /** Injectable for tests; defaults to openSerialLine. */
  open?: (path: string, options: OpenOptions) => Promise<SerialLine>;
  reopenInitialMs?: number;
  reopenMaxMs?: number;
  /**
   * R-MDM-7: the line answers synchronous (SDLC) terminals. The first init asks the modem
   * AT+ES=? and AT+ESA=? (before its first +ES command) and a modem that cannot answer in V.80
   * synchronous access sends the line to 'failed', naming the modem's answer: no retry helps.
   */
  requireAnswerSync?: boolean;
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
    optionalRefused: 0,
    optionalRefusedBy: {},
    verboseRestored: 0,
    hangupFallbacks: 0,
    hangupFailures: 0,
    postCallReinits: 0,
    postCallReinitMs: 0,
    lastPostCallReinitMs: null,
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
  private timers: Partial<Record<'retry' | 'probe' | 'ring' | 'answer' | 'inactivity' | 'dcd' | 'recover', TimerHandle>> = {};
  private closing = false;
  /** Shutdown has begun: a hang-up in progress does not go on to re-init or recovery. */
  private stopping = false;
  private answering = true;
  /** Optional init commands already logged as refused (each is logged once). */
  private readonly refusedLogged = new Set<string>();
  /** DTR hang-up is usable: no refused optional command was the one that sets &D2. */
  private dtrArmed = true;
  /** DCD was seen high during this call: only a fall from high is a carrier loss. */
  private dcdSeenHigh = false;
  private portClosed: ((reason: string, fatal?: boolean) => void) | null = null;
  private portDcd: ((on: boolean) => void) | null = null;
  private hangingUp: Promise<boolean> | null = null;
  private lastHangupError: string | null = null;
  private outcome: ShutdownOutcome = 'no-call';
  /** The answer-side synchronous access check has passed once (R-MDM-7): re-inits skip it. */
  private syncChecked = false;
  private failure: string | null = null;

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

  /** How the line left its call at close(): none, hung up, or not hung up (the modem may still be off-hook). */
  get shutdownOutcome(): ShutdownOutcome {
    return this.outcome;
  }

  /** Why the line is 'failed' (a modem that cannot do what the line needs), if it is. */
  get failedBecause(): string | null {
    return this.failure;
  }

  /** Why the last hang-up failed, if it did. */
  get hangupError(): string | null {
    return this.lastHangupError;
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

  /** Open the port and attach a channel; null when closing meanwhile. Throws what the open throws. */
  private async attach(): Promise<ModemChannel | null> {
    const open = this.o.open ?? openSerialLine;
    const port = await open(this.o.path, {
      baudRate: this.o.baudRate,
      dataBits: this.o.dataBits,
      parity: this.o.parity,
      stopBits: this.o.stopBits,
      controlLines: this.profile.controlLines,
      clock: this.clock,
    });
    if (this.closing) {
      await port.close();
      return null;
    }
    this.port = port;
    const channel = new ModemChannel(port, this.clock, this.name);
    this.channel = channel;
    channel.on('unsolicited', (line) => this.onUnsolicited(line));
    channel.on('data', (chunk) => this.onCallData(chunk));
    channel.on('carrier-lost', () => void this.endCall('carrier-lost', false));
    this.portClosed = (reason, fatal) => this.onPortLost(reason, fatal === true);
    this.portDcd = (on) => this.onDcd(on);
    port.on('close', this.portClosed);
    port.on('dcd', this.portDcd);
    return channel;
  }

  /** Let go of the port (its listeners and the channel), without closing it. */
  private detach(): SerialLine | null {
    const port = this.port;
    this.channel?.abort('port closed by the line');
    this.channel?.detach();
    this.channel?.removeAllListeners();
    if (port && this.portClosed) port.off('close', this.portClosed);
    if (port && this.portDcd) port.off('dcd', this.portDcd);
    this.portClosed = null;
    this.portDcd = null;
    this.channel = null;
    this.port = null;
    return port;
  }

  private async openPort(): Promise<void> {
    if (this.closing) return;
    this.setState('opening');
    try {
      if ((await this.attach()) === null) return;
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

  private onPortLost(reason: string, fatal: boolean): void {
    if (this.closing) return;
    log('%s port lost: %s', this.name, reason);
    this.detach();
    for (const name of ['probe', 'ring', 'inactivity', 'dcd', 'recover'] as const) this.cancel(name);
    if (this.call) this.finishCall('port-lost');
    if (fatal) {
      // Retrying cannot help: the configuration has to change (e.g. tcp:// on a telnet server).
      this.setState('failed', reason);
      return;
    }
    this.setState('opening', reason);
    this.retry(() => this.openPort(), 'reopens', `port lost: ${reason}`);
  }

  /**
   * Send the profile's init commands, every OK checked (R-MDM-5); an optional command may be
   * refused with ERROR (logged once, counted). A modem that answered numerically is put back to
   * verbose results. `why` says what sent the line to init, for the state event; `afterCall`
   * counts it as a post-call re-init, with its time.
   */
  private async init(why?: string, afterCall = false): Promise<void> {
    const channel = this.channel;
    if (channel === null) return;
    this.setState('init', why);
    channel.commandMode();
    const started = this.clock.now();
    const timeout = this.profile.commandTimeoutSeconds * 1000;
    let dtrArmed = true;
    let syncVerdict: string | null = null;
    /** The reason the modem fails the check, or null when it passes (or needs none). */
    const checkSync = async (): Promise<string | null> => {
      if (!this.o.requireAnswerSync || this.syncChecked) return null;
      const answers: QueryAnswer[] = [];
      for (const query of SYNC_QUERIES) {
        const r = await channel.command(query, timeout);
        answers.push({ final: r.final, answer: r.lines.join(' | ') });
      }
      const verdict = answerSyncVerdict(answers[0], answers[1]);
      if (!verdict.ok) return verdict.why;
      log('%s: %s', this.name, verdict.why);
      this.syncChecked = true;
      return null;
    };
    try {
      for (const entry of this.profile.init) {
        const { command, optional } = initStep(entry);
        if (/\+ES/i.test(command)) {
          syncVerdict = await checkSync();
          if (syncVerdict !== null) break;
        }
        const result = await channel.command(command, timeout);
        if (result.final === 'OK') continue;
        if (optional && result.final === 'ERROR') {
          this.refused(command);
          if (/&D2/i.test(command)) dtrArmed = false;
          continue;
        }
        throw new ModemError('AT_REFUSED', `${command} answered ${result.final}`, { line: this.name });
      }
      if (syncVerdict === null) syncVerdict = await checkSync();
      if (channel.numericResults) {
        const result = await channel.command('ATV1', timeout);
        if (result.final !== 'OK') throw new ModemError('AT_REFUSED', `ATV1 answered ${result.final}`, { line: this.name });
        this.counters.verboseRestored++;
        log('%s: the modem answered with numeric result codes; ATV1 put it back to verbose', this.name);
      }
    } catch (e) {
      if (this.channel !== channel) return;
      this.retry(() => this.init(why, afterCall), 'reinits', `init failed: ${(e as Error).message}`);
      return;
    }
    if (this.channel !== channel) return;
    if (syncVerdict !== null) {
      this.fail(`the modem cannot answer synchronous terminals (framing sdlc): ${syncVerdict}`);
      return;
    }
    this.dtrArmed = dtrArmed;
    if (afterCall) {
      const ms = this.clock.now() - started;
      this.counters.postCallReinits++;
      this.counters.postCallReinitMs += ms;
      this.counters.lastPostCallReinitMs = ms;
    }
    this.backoff.reset();
    this.toIdle();
  }

  /** No retry can help (the modem has to change): the port is let go and the line stays 'failed'. */
  private fail(why: string): void {
    this.failure = why;
    const port = this.detach();
    void port?.close().catch(() => undefined);
    log('%s failed: %s', this.name, why);
    this.setState('failed', why);
  }

  private refused(command: string): void {
    this.counters.optionalRefused++;
    this.counters.optionalRefusedBy[command] = (this.counters.optionalRefusedBy[command] ?? 0) + 1;
    if (this.refusedLogged.has(command)) return;
    this.refusedLogged.add(command);
    log('%s: optional init command %s answered ERROR: the modem does not support it; going on without it', this.name, command);
    this.emit('state', this.currentState, `optional ${command} refused (ERROR); going on without it`);
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
      if (result.final !== 'OK') throw new ModemError('AT_REFUSED', `AT answered ${result.final}`, { line: this.name });
      if (this.currentState === 'idle') this.timer('probe', this.profile.healthProbeSeconds * 1000, () => void this.probe());
    } catch (e) {
      if (this.channel !== channel || this.currentState !== 'idle') return;
      this.counters.reinits++;
      void this.init(`health probe failed: ${(e as Error).message}`);
    }
  }

  private onUnsolicited(line: string): void {
    const state = this.currentState;
    if (state === 'recovering') {
      // The modem speaking on its own in command mode: the call is gone.
      if (/^(RING\b|NO CARRIER$|OK$)/i.test(line)) void this.recovered(`the modem said ${line}`);
      return;
    }
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
      if (!new RegExp(this.profile.connectPattern).test(result.final)) throw new ModemError('AT_REFUSED', `${this.profile.answer} answered ${result.final}`, { line: this.name });
      if (this.channel !== channel) return;
      this.counters.callsAnswered++;
      this.call = { callerId, rings: this.rings, connect: result.final, startedAt: this.clock.now() };
      this.dcdSeenHigh = false;
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

  /** DCD as a serial server notifies it (rfc2217://): a fall from high ends the call. */
  private onDcd(on: boolean): void {
    if (this.currentState !== 'connected' || !this.profile.controlLines) return;
    if (on) this.dcdSeenHigh = true;
    else if (this.dcdSeenHigh) void this.endCall('carrier-lost', false);
  }

  private pollDcd(): void {
    this.timer('dcd', this.profile.dcdPollMs, async () => {
      const port = this.port;
      if (this.currentState !== 'connected' || port === null) return;
      try {
        if (await port.getDcd()) this.dcdSeenHigh = true;
        else if (this.dcdSeenHigh) {
          // Only a fall from high: a port whose DCD never rises (no wire, a pty) drops no call.
          void this.endCall('carrier-lost', false);
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

  /**
   * End the connected call. `active`: we hang up (R-MDM-4); otherwise the carrier is already gone
   * and the modem is back in command mode. Either way the modem is re-initialised before the line
   * answers again; a hang-up that fails leads to recovery, never to AT commands into the call.
   * Resolves true when the modem is known on-hook.
   */
  private endCall(reason: HangupReason, active: boolean): Promise<boolean> {
    if (this.currentState !== 'connected') return this.hangingUp ?? Promise.resolve(true);
    const channel = this.channel;
    const port = this.port;
    this.setState('hanging-up', reason);
    this.finishCall(reason);
    const done = (async (): Promise<boolean> => {
      if (!active || channel === null || port === null) {
        channel?.commandMode();
        if (!this.stopping && channel !== null) void this.init('after the call', true);
        return true;
      }
      const hungUp = await this.hangUpModem(channel, port);
      if (this.stopping || this.channel !== channel) return hungUp;
      if (hungUp) void this.init('after the call', true);
      else void this.recover(`hang-up failed: ${this.lastHangupError ?? 'unknown'}`);
      return hungUp;
    })();
    this.hangingUp = done;
    void done.finally(() => {
      if (this.hangingUp === done) this.hangingUp = null;
    });
    return done;
  }

  /**
   * R-MDM-4: DTR low where the port can set it (and &D2 was accepted); when setting DTR fails,
   * at once the escape: the guard time of silence counted from when the port has drained, `+++`,
   * nothing until the modem's OK, then ATH. True when the modem is on-hook in command mode.
   */
  private async hangUpModem(channel: ModemChannel, port: SerialLine): Promise<boolean> {
    if (this.profile.hangup === 'dtr' && port.hasControlLines && this.dtrArmed) {
      try {
        await port.setDtr(false);
        await this.sleep(this.profile.dtrDropMs);
        await port.setDtr(true);
        channel.commandMode();
        return true;
      } catch (e) {
        this.counters.hangupFallbacks++;
        log('%s: DTR hang-up failed (%s): escape sequence and ATH instead', this.name, (e as Error).message);
        port.setDtr(true).catch(() => undefined); // if it went low, do not leave it there
      }
    }
    const timeout = this.profile.commandTimeoutSeconds * 1000;
    try {
      await this.escape(channel, port);
      const hung = await channel.command('ATH', timeout);
      if (hung.final !== 'OK') throw new ModemError('AT_REFUSED', `ATH answered ${hung.final}`, { line: this.name });
      return true;
    } catch (e) {
      this.lastHangupError = (e as Error).message;
      log('%s: hang-up failed: %s', this.name, this.lastHangupError);
      return false;
    }
  }

  /** Guard (from when the port has drained), `+++`, and the modem's OK within guard + timeout. */
  private async escape(channel: ModemChannel, port: SerialLine): Promise<void> {
    await port.drain();
    await this.sleep(this.profile.escapeGuardMs);
    channel.commandMode();
    const escaped = await channel.command('+++', this.profile.escapeGuardMs + this.profile.commandTimeoutSeconds * 1000, '');
    if (escaped.final !== 'OK') throw new ModemError('AT_REFUSED', `+++ answered ${escaped.final}`, { line: this.name });
  }

  /**
   * After a failed hang-up: the call is dropped on our side already; close the port and open it
   * again (a device's close drops DTR), then wait for the modem to show command mode before any
   * AT command: its own NO CARRIER, RING or OK, DCD low, or an escape it answers with OK.
   */
  private async recover(why: string): Promise<void> {
    this.counters.hangupFailures++;
    this.setState('recovering', why);
    const port = this.detach();
    await port?.close().catch(() => undefined);
    if (this.closing) return;
    this.retry(() => this.reattach(), 'reopens', why);
  }

  private async reattach(): Promise<void> {
    if (this.closing) return;
    let channel: ModemChannel | null;
    try {
      channel = await this.attach();
    } catch (e) {
      this.retry(() => this.reattach(), 'reopens', `reopen failed: ${(e as Error).message}`);
      return;
    }
    if (channel === null) return;
    void this.tryEscapeAgain(channel);
  }

  /** One recovery attempt on the reopened port; another follows with backoff until one shows command mode. */
  private async tryEscapeAgain(channel: ModemChannel): Promise<void> {
    const port = this.port;
    if (this.currentState !== 'recovering' || this.channel !== channel || port === null) return;
    if (port.hasControlLines) {
      try {
        if (!(await port.getDcd())) {
          await this.recovered('DCD is low');
          return;
        }
      } catch {
        // no DCD on this port: the escape decides
      }
    }
    try {
      await this.escape(channel, port);
    } catch (e) {
      if (this.currentState !== 'recovering' || this.channel !== channel) return;
      const delay = this.backoff.next();
      log('%s: still no sign of command mode (%s); next escape in %d ms', this.name, (e as Error).message, delay);
      this.timer('recover', delay, () => void this.tryEscapeAgain(channel));
      return;
    }
    if (this.currentState !== 'recovering' || this.channel !== channel) return;
    try {
      const hung = await channel.command('ATH', this.profile.commandTimeoutSeconds * 1000);
      if (hung.final !== 'OK') throw new ModemError('AT_REFUSED', `ATH answered ${hung.final}`, { line: this.name });
    } catch (e) {
      this.timer('recover', this.backoff.next(), () => void this.tryEscapeAgain(channel));
      return;
    }
    await this.recovered('the escape was answered OK and ATH hung up');
  }

  private async recovered(how: string): Promise<void> {
    const channel = this.channel;
    if (this.currentState !== 'recovering' || channel === null) return;
    this.cancel('recover');
    channel.abort('the modem is in command mode');
    log('%s: the modem is back in command mode (%s)', this.name, how);
    await this.init(`recovered: ${how}`, true);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }

  /**
   * Close the line. A connected call is hung up first; shutdownOutcome then says whether it was
   * (or whether a call may be left up: a failed hang-up, or a line still recovering from one).
   */
  async close(): Promise<ShutdownOutcome> {
    if (this.closing) return this.outcome;
    this.stopping = true;
    if (this.currentState === 'connected') {
      this.outcome = (await this.endCall('shutdown', true)) ? 'hung-up' : 'not-hung-up';
    } else if (this.hangingUp) {
      this.outcome = (await this.hangingUp) ? 'hung-up' : 'not-hung-up';
    } else if (this.currentState === 'recovering') {
      this.outcome = 'not-hung-up';
    }
    this.closing = true;
    for (const name of Object.keys(this.timers) as (keyof ModemLine['timers'])[]) this.cancel(name);
    const port = this.detach();
    await port?.close();
    this.setState('closed');
    return this.outcome;
  }
}
