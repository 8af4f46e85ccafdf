import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { systemClock, type Clock, type TimerHandle } from '../../src/clock';

const log = createDebug('nacbridge:sim-modem');

/** The modem's serial (DTE) side: what the NAC's serial port talks to. */
export interface ByteSide {
  write(data: Uint8Array): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
}

/** The telephone side of a call: the POS terminal's bytes. */
export interface CallSide extends ByteSide {
  end(): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

export type CallerIdFormat = 'formatted' | 'mdmf' | 'sdmf' | 'dtmf' | 'private' | 'unavailable' | 'none';

export interface IncomingCall {
  /** Calling number (with area code where the network gives it). */
  number?: string;
  format?: CallerIdFormat;
  name?: string;
  /** Speed shown after CONNECT. */
  speed?: number;
  /** Print on-hook NO CARRIER / CIDM around the caller-ID burst (chipsets that do, R-MDM-3). */
  onHookNoise?: boolean;
}

export interface EmulatorOptions {
  clock?: Clock;
  /** Time between RINGs (China: 1 s on, 4 s off). */
  ringIntervalMs?: number;
  /** Caller ID comes this long after the first RING (R-MDM-1: between the first and second). */
  callerIdDelayMs?: number;
  /** Rings before the caller gives up when nobody answers. */
  maxRings?: number;
  /** Escape guard time (S12). */
  guardMs?: number;
  /** Delay between ATA and CONNECT (training). */
  connectDelayMs?: number;
  /**
   * Drop the carrier this long after every CONNECT, as a line that dies mid-call does, for
   * unattended carrier-loss runs; 0 (the default) never drops.
   */
  dropAfterMs?: number;
}

function stamp(now: number): { date: string; time: string } {
  const d = new Date(now);
  const two = (n: number) => String(n).padStart(2, '0');
  return { date: two(d.getUTCMonth() + 1) + two(d.getUTCDate()), time: two(d.getUTCHours()) + two(d.getUTCMinutes()) };
}

/** SDMF/MDMF packet with checksum, as hex (the +VCID=2 form). */
export function callerIdPacket(kind: 'sdmf' | 'mdmf', number: string | null, when: { date: string; time: string }, name?: string): string {
  let body: Buffer;
  if (kind === 'sdmf') {
    body = Buffer.from(when.date + when.time + (number ?? 'P'), 'latin1');
  } else {
    const params: Buffer[] = [Buffer.from([0x01, 8]), Buffer.from(when.date + when.time, 'latin1')];
    if (number) params.push(Buffer.from([0x02, number.length]), Buffer.from(number, 'latin1'));
    else params.push(Buffer.from([0x04, 1, 0x50]));
    if (name) params.push(Buffer.from([0x07, name.length]), Buffer.from(name, 'latin1'));
    body = Buffer.concat(params);
  }
  const packet = Buffer.concat([Buffer.from([kind === 'sdmf' ? 0x04 : 0x80, body.length]), body]);
  const sum = packet.reduce((s, b) => (s + b) & 0xff, 0);
  return Buffer.concat([packet, Buffer.from([(256 - sum) & 0xff])]).toString('hex').toUpperCase();
}

export interface EmulatorEvents {
  state: [state: 'idle' | 'ringing' | 'connected'];
  command: [command: string];
}

/**
 * What the calling terminal's own modem would report to it, sent to the caller's side as verbose
 * result codes: CONNECT when the call is answered; NO ANSWER, BUSY or NO CARRIER before the call
 * ends. A caller can tell a call nobody answered from one that was cut off.
 */
export function callerResult(code: 'NO ANSWER' | 'BUSY' | 'NO CARRIER' | `CONNECT ${number}`): Buffer {
  return Buffer.from(`\r\n${code}\r\n`, 'latin1');
}

/**
 * A Hayes modem for benches and tests, in the manner of tcpser: it answers AT commands on its
 * serial side, plays incoming calls (ring cadence, caller ID in the chosen form, optional on-hook
 * noise), connects the call's bytes through on ATA, returns to command mode on guard + +++ + guard,
 * hangs up on ATH, and reports NO CARRIER when the far end drops. The caller hears the call's
 * progress as its own modem's result codes (callerResult).
 */
export class ModemEmulator extends EventEmitter<EmulatorEvents> {
  readonly commands: string[] = [];
  private readonly clock: Clock;
  private readonly o: Required<Omit<EmulatorOptions, 'clock'>>;
  private echo = true;
  private mode: 'command' | 'data' = 'command';
  private state: 'idle' | 'ringing' | 'connected' = 'idle';
  private text = '';
  private call: { info: IncomingCall; side: CallSide; rings: number; early: Buffer[] } | null = null;
  private timers: TimerHandle[] = [];
  private lastDataAt = 0;
  private escapeTimer: TimerHandle | null = null;

  constructor(
    private readonly dte: ByteSide,
    options: EmulatorOptions = {},
  ) {
    super();
    this.clock = options.clock ?? systemClock;
    this.o = {
      ringIntervalMs: options.ringIntervalMs ?? 5000,
      callerIdDelayMs: options.callerIdDelayMs ?? 1500,
      maxRings: options.maxRings ?? 8,
      guardMs: options.guardMs ?? 1000,
      connectDelayMs: options.connectDelayMs ?? 50,
      dropAfterMs: options.dropAfterMs ?? 0,
    };
    dte.on('data', (chunk) => this.fromDte(chunk));
  }

  get callState(): 'idle' | 'ringing' | 'connected' {
    return this.state;
  }

  private setState(state: 'idle' | 'ringing' | 'connected'): void {
    this.state = state;
    this.emit('state', state);
  }

  private send(text: string): void {
    this.dte.write(Buffer.from(text, 'latin1'));
  }

  private result(code: string): void {
    this.send(`\r\n${code}\r\n`);
  }

  private later(ms: number, fn: () => void): void {
    const t = this.clock.setTimeout(() => {
      this.timers = this.timers.filter((x) => x !== t);
      fn();
    }, ms);
    this.timers.push(t);
  }

  private clearTimers(): void {
    for (const t of this.timers) t.cancel();
    this.timers = [];
  }

  /** A call comes in from `side` (a POS terminal's connection). */
  ring(info: IncomingCall, side: CallSide): void {
    if (this.state !== 'idle') {
      side.write(callerResult('BUSY'));
      side.end();
      return;
    }
    const call = { info, side, rings: 0, early: [] as Buffer[] };
    this.call = call;
    side.on('close', () => {
      if (this.call?.side === side) this.farEndGone();
    });
    // A POS modem sends only once carrier is up: bytes it sends before the answer wait for it.
    side.on('data', (chunk) => {
      if (this.call !== call) return;
      if (this.state === 'connected' && this.mode === 'data') this.dte.write(chunk);
      else if (this.state === 'ringing') call.early.push(Buffer.from(chunk));
    });
    this.setState('ringing');
    this.nextRing();
    this.later(this.o.callerIdDelayMs, () => this.sendCallerId());
  }

  private nextRing(): void {
    const call = this.call;
    if (!call || this.state !== 'ringing') return;
    if (call.rings >= this.o.maxRings) {
      // The caller gives up: its modem reports that nobody answered.
      call.side.write(callerResult('NO ANSWER'));
      this.farEndGone();
      return;
    }
    call.rings++;
    this.result('RING');
    this.later(this.o.ringIntervalMs, () => this.nextRing());
  }

  private sendCallerId(): void {
    const call = this.call;
    if (!call || this.state !== 'ringing') return;
    const { info } = call;
    const when = stamp(this.clock.now());
    const noise = info.onHookNoise ? '\r\nCIDM\r\n' : '';
    const format = info.format ?? 'formatted';
    let block: string;
    switch (format) {
      case 'none':
        return;
      case 'formatted':
        block = `\r\nDATE = ${when.date}\r\nTIME = ${when.time}\r\nNMBR = ${info.number ?? 'O'}\r\n${info.name ? `NAME = ${info.name}\r\n` : ''}`;
        break;
      case 'private':
        block = `\r\nDATE = ${when.date}\r\nTIME = ${when.time}\r\nNMBR = P\r\n`;
        break;
      case 'unavailable':
        block = `\r\nDATE = ${when.date}\r\nTIME = ${when.time}\r\nNMBR = O\r\n`;
        break;
      case 'sdmf':
      case 'mdmf':
        block = `\r\n${callerIdPacket(format, info.number ?? null, when, info.name)}\r\n`;
        break;
      case 'dtmf':
        block = `\r\n${info.number ? `A${info.number}#` : 'D1#'}\r\n`;
        break;
    }
    this.send(noise + block + (info.onHookNoise ? '\r\nNO CARRIER\r\n' : ''));
  }

  private farEndGone(): void {
    const call = this.call;
    this.call = null;
    this.clearTimers();
    if (this.state === 'connected') {
      this.mode = 'command';
      this.result('NO CARRIER');
    }
    call?.side.end();
    this.setState('idle');
  }

  /** Drop the carrier of the current call (as if the line went dead); false when no call is connected. */
  dropCarrier(): boolean {
    if (this.state !== 'connected') return false;
    this.call?.side.write(callerResult('NO CARRIER'));
    this.farEndGone();
    return true;
  }

  private fromDte(chunk: Buffer): void {
    if (this.mode === 'data') {
      this.dataFromDte(chunk);
      return;
    }
    const text = chunk.toString('latin1');
    if (this.echo) this.send(text);
    this.text += text;
    for (;;) {
      const end = this.text.indexOf('\r');
      if (end < 0) break;
      const command = this.text.slice(0, end).replace(/\n/g, '').trim();
      this.text = this.text.slice(end + 1);
      if (command.length > 0) this.execute(command);
    }
  }

  private dataFromDte(chunk: Buffer): void {
    const now = this.clock.now();
    if (chunk.toString('latin1') === '+++' && now - this.lastDataAt >= this.o.guardMs) {
      this.escapeTimer?.cancel();
      this.escapeTimer = this.clock.setTimeout(() => {
        this.escapeTimer = null;
        this.mode = 'command';
        this.result('OK');
      }, this.o.guardMs);
      return;
    }
    if (this.escapeTimer) {
      // Data within the guard time: the +++ was data after all.
      this.escapeTimer.cancel();
      this.escapeTimer = null;
      this.call?.side.write(Buffer.from('+++', 'latin1'));
    }
    this.lastDataAt = now;
    this.call?.side.write(chunk);
  }

  private execute(line: string): void {
    this.commands.push(line);
    this.emit('command', line);
    log('<< %s', line);
    const upper = line.toUpperCase();
    if (!upper.startsWith('AT')) {
      this.result('ERROR');
      return;
    }
    const body = upper.slice(2);
    if (body === 'A') {
      this.answer();
      return;
    }
    if (/^H0?$/.test(body)) {
      this.hangUp();
      this.result('OK');
      return;
    }
    if (body.startsWith('D')) {
      this.result('NO DIALTONE');
      return;
    }
    if (body === 'Z' || body.startsWith('Z')) {
      this.hangUp();
      this.echo = true;
    }
    if (/E0/.test(body)) this.echo = false;
    if (/E1/.test(body)) this.echo = true;
    if (body === 'O' && this.state === 'connected') {
      this.mode = 'data';
      this.result(`CONNECT ${this.call?.info.speed ?? 9600}`);
      return;
    }
    this.result('OK');
  }

  private answer(): void {
    const call = this.call;
    if (!call || this.state !== 'ringing') {
      this.result('NO CARRIER');
      return;
    }
    this.clearTimers();
    this.later(this.o.connectDelayMs, () => {
      if (this.call !== call) return;
      this.setState('connected');
      this.mode = 'data';
      this.lastDataAt = this.clock.now();
      this.result(`CONNECT ${call.info.speed ?? 9600}`);
      call.side.write(callerResult(`CONNECT ${call.info.speed ?? 9600}`));
      for (const chunk of call.early.splice(0)) this.dte.write(chunk);
      // A call timer: the call's end (hang-up, far end gone) clears it with the others.
      if (this.o.dropAfterMs > 0) this.later(this.o.dropAfterMs, () => this.dropCarrier());
    });
  }

  private hangUp(): void {
    const call = this.call;
    this.call = null;
    this.clearTimers();
    this.mode = 'command';
    if (call) {
      call.side.write(callerResult('NO CARRIER'));
      call.side.end();
    }
    if (this.state !== 'idle') this.setState('idle');
  }

  close(): void {
    this.hangUp();
    this.escapeTimer?.cancel();
  }
}
