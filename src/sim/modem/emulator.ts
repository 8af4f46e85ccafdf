import { EM, V80_RATE, v80RateCode } from '../../codec/v80';
import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { systemClock, type Clock, type TimerHandle } from '../../clock';

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
  /**
   * 'v250' (the default): a V.250 modem with extended commands (+VCID, +MS, +GMI, =? queries).
   * 'classic': the original Hayes command set only, parsed letter by letter as such modems do:
   * punctuation is skipped, so `AT+VCID=1` reads as V0 (numeric results) + C + I + a dial of
   * "=1", `AT#CID=1` as a dial and `AT:U7A,...` as an answer; `+G...` is an ERROR; ATZ leaves
   * the result form (V) as it was.
   */
  personality?: ModemPersonality;
  /** No DTR wire between the DTE and this modem: DTR changes never reach it (a 3-wire cable, a pty). */
  noDtr?: boolean;
  /** A dial (off-hook, waiting for a carrier that never comes) ends in NO CARRIER after this long. */
  dialTimeoutMs?: number;
  /**
   * V.80 synchronous access (R-MDM-7), v250 personality: 'answer' (the default) on both sides;
   * 'originate-only' as chipsets that offer it when calling only (+ES=? has no 8 in its third
   * list, +ES=...,8 is ERROR); 'none': no V.80 at all (+ES, +ESA, +ITF are ERROR).
   */
  v80?: V80Support;
}

export type ModemPersonality = 'v250' | 'classic';
export type V80Support = 'answer' | 'originate-only' | 'none';
export const V80_SUPPORT: readonly V80Support[] = ['answer', 'originate-only', 'none'];

/** ATI0..ATI7 answers by personality; a missing one is ERROR. */
const INFO: Record<ModemPersonality, Partial<Record<number, string[]>>> = {
  v250: { 0: ['56000'], 1: ['nacbridge sim modem'], 3: ['nacbridge sim modem V.250 emulator'], 4: ['V.22bis V.32bis V.34 V.90'] },
  classic: { 0: ['2400'], 3: ['nacbridge sim modem, classic Hayes command set'] },
};

/** V.250 extended commands the v250 personality knows, with what `=?` and `?` answer. */
const EXTENDED: Record<string, { test: string; read: string }> = {
  '+VCID': { test: '(0-2)', read: '0' },
  '+MS': { test: '(B103,B212,V21,V22,V22B,V32,V32B,V34),(0,1),(300-33600),(300-33600)', read: 'V34,1,300,33600' },
  '+ES': { test: '(0-4,6),(0-4),(0-4,8)', read: '3,0,2' },
  '+ESA': { test: '(0),(0),(0),(0-1),(0-1),(0),(0-255),(0-255)', read: '0,0,0,0,0,0,0,0' },
  '+ITF': { test: '(0-1023),(0-1023),(0-1023)', read: '383,128,5' },
  '+A8E': { test: '(0-6),(0-5),(0-1)', read: '1,1,0' },
  '+FCLASS': { test: '(0,1)', read: '0' },
};
function v80RateBpsCode(bps: number): number | null {
  try {
    return v80RateCode(bps);
  } catch {
    return null;
  }
}
const IDENTITY: Record<string, string> = { '+GMI': 'nacbridge', '+GMM': 'sim modem V.250', '+GMR': '1.0', '+GCAP': '+GCAP: +MS,+ES,+FCLASS' };

/** Classic result codes by their verbose form (the modem's side of the ATV0 table). */
const NUMERIC: Record<string, string> = { OK: '0', CONNECT: '1', RING: '2', 'NO CARRIER': '3', ERROR: '4', 'CONNECT 1200': '5', 'NO DIALTONE': '6', BUSY: '7', 'NO ANSWER': '8', 'CONNECT 2400': '10', 'CONNECT 9600': '12' };

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
  /** Set by AT+ES=...,8: answered calls use V.80 synchronous access (R-MDM-7). */
  private syncAccess = false;
  readonly commands: string[] = [];
  private readonly clock: Clock;
  private readonly o: Required<Omit<EmulatorOptions, 'clock'>>;
  private echo = true;
  private verbose = true;
  /** &D: 0 ignore DTR, 1 DTR low goes to command mode, 2 DTR low hangs up. */
  private dtrMode: number;
  private dialing: TimerHandle | null = null;
  /** Every number dialled (D), as the modem read it. */
  readonly dialled: string[] = [];
  /** Every DTR change that reached the modem. */
  readonly dtrChanges: boolean[] = [];
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
      personality: options.personality ?? 'v250',
      noDtr: options.noDtr ?? false,
      dialTimeoutMs: options.dialTimeoutMs ?? 3000,
      v80: options.v80 ?? 'answer',
    };
    this.dtrMode = this.o.personality === 'classic' ? 0 : 2;
    dte.on('data', (chunk) => this.fromDte(chunk));
  }

  get callState(): 'idle' | 'ringing' | 'connected' {
    return this.state;
  }

  get personality(): ModemPersonality {
    return this.o.personality;
  }

  /** Whether results are verbose (ATV1) or numeric (ATV0). */
  get verboseResults(): boolean {
    return this.verbose;
  }

  /** Off-hook dialing (a misread command dialled). */
  get isDialing(): boolean {
    return this.dialing !== null;
  }

  /** Carrier detect as the modem drives it: up during a connected call. */
  get carrier(): boolean {
    return this.state === 'connected';
  }

  /**
   * The DTE's DTR line. Low with &D2 hangs up and returns to command mode, with &D1 returns to
   * command mode keeping the call; &D0 ignores it, as does a modem with no DTR wire (noDtr).
   */
  setDtr(on: boolean): void {
    if (this.o.noDtr) return;
    this.dtrChanges.push(on);
    if (on) return;
    if (this.dtrMode === 2) {
      this.hangUp();
      this.escapeTimer?.cancel();
      this.escapeTimer = null;
    } else if (this.dtrMode === 1 && this.mode === 'data') {
      this.mode = 'command';
      this.result('OK');
    }
  }

  private setState(state: 'idle' | 'ringing' | 'connected'): void {
    this.state = state;
    this.emit('state', state);
  }

  private send(text: string): void {
    this.dte.write(Buffer.from(text, 'latin1'));
  }

  private result(code: string): void {
    if (this.verbose) this.send(`\r\n${code}\r\n`);
    else this.send(`${NUMERIC[code] ?? NUMERIC[code.replace(/ \d+$/, '')] ?? '4'}\r`);
  }

  private info(lines: string[]): void {
    for (const line of lines) this.send(this.verbose ? `\r\n${line}\r\n` : `${line}\r\n`);
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
    if (this.state !== 'idle' || this.dialing !== null) {
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
    if (this.dialing !== null) {
      // Any character from the DTE aborts a dial, as on every Hayes modem.
      this.endDial();
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
    if (!/^AT/i.test(line)) {
      this.result('ERROR');
      return;
    }
    const outcome = this.run(line.slice(2));
    if (outcome === 'ok') this.result('OK');
    else if (outcome === 'error') this.result('ERROR');
  }

  /**
   * Run a command line's body left to right, basic commands letter by letter. Returns what final
   * result to print, or 'none' when the command answers later or not at all (A, D, O).
   */
  private run(body: string): 'ok' | 'error' | 'none' {
    const classic = this.o.personality === 'classic';
    let i = 0;
    const number = (): number | null => {
      const m = /^\d+/.exec(body.slice(i));
      if (!m) return null;
      i += m[0].length;
      return Number(m[0]);
    };
    while (i < body.length) {
      const c = body[i].toUpperCase();
      if (c === ' ') {
        i++;
        continue;
      }
      if (!/[A-Z&]/.test(c)) {
        if (!classic) return this.extended(body.slice(i).toUpperCase());
        i++; // a classic parser skips what it does not know
        continue;
      }
      i++;
      switch (c) {
        case 'A':
          this.answer();
          return 'none';
        case 'D':
          return this.dial(body.slice(i));
        case 'O':
          if (this.state !== 'connected') return 'error';
          this.mode = 'data';
          this.result(`CONNECT ${this.call?.info.speed ?? 9600}`);
          return 'none';
        case 'E':
          this.echo = number() === 1;
          break;
        case 'V':
          this.verbose = number() === 1;
          break;
        case 'H':
          number();
          this.hangUp();
          break;
        case 'Z':
          number();
          this.hangUp();
          this.echo = true;
          // The stored profile of the v250 personality has V1; the classic one leaves V alone.
          if (!classic) this.verbose = true;
          this.dtrMode = classic ? 0 : 2;
          break;
        case 'I': {
          const n = number() ?? 0;
          const lines = INFO[this.o.personality][n];
          if (!lines) return 'error';
          this.info(lines);
          break;
        }
        case 'S': {
          if (number() === null) return 'error';
          if (body[i] === '=') {
            i++;
            if (number() === null) return 'error';
          } else if (body[i] === '?') {
            i++;
            this.info(['000']);
          } else return 'error';
          break;
        }
        case '&': {
          const sub = (body[i] ?? '').toUpperCase();
          i++;
          const n = number();
          if (!/[A-Z]/.test(sub)) return 'error';
          if (sub === 'D') this.dtrMode = n ?? 0;
          if (sub === 'F') this.dtrMode = classic ? 0 : 2;
          break;
        }
        case 'B':
        case 'C':
        case 'F':
        case 'L':
        case 'M':
        case 'N':
        case 'Q':
        case 'U':
        case 'W':
        case 'X':
        case 'Y':
          number();
          break;
        case 'P':
        case 'T':
          break;
        default:
          return 'error';
      }
    }
    return 'ok';
  }

  /** A V.250 extended command (v250 personality): known ones answer their test and read forms. */
  private extended(command: string): 'ok' | 'error' | 'none' {
    const identity = IDENTITY[command];
    if (identity !== undefined) {
      this.info([identity]);
      return 'ok';
    }
    const m = /^([+#%$:][A-Z0-9]+)(=\?|\?|=.*)?$/.exec(command);
    if (!m) return 'error';
    const form = m[2] ?? '';
    if (this.o.v80 === 'none' && /^\+(ES|ESA|ITF)$/.test(m[1])) return 'error';
    if (this.o.v80 === 'originate-only' && m[1] === '+ES') {
      if (form === '=?') {
        this.info(['+ES: (0-4,6),(0-4),(0-4)']);
        return 'ok';
      }
      if (form.startsWith('=') && form.slice(1).split(',')[2]?.trim() === '8') return 'error';
    }
    const known = EXTENDED[m[1]];
    if (form === '=?') {
      if (!known) return 'error';
      this.info([`${m[1]}: ${known.test}`]);
      return 'ok';
    }
    if (form === '?') {
      if (!known) return 'error';
      this.info([`${m[1]}: ${known.read}`]);
      return 'ok';
    }
    // V.80 synchronous access on answer (+ES=<orig>,<orig_fbk>,8): calls carry V.80 frames (R-MDM-7).
    if (m[1] === '+ES' && form.startsWith('=')) this.syncAccess = form.slice(1).split(',')[2]?.trim() === '8';
    // Setting a parameter: known or not, accepted (as the emulator always has).
    return 'ok';
  }

  /**
   * D: the v250 personality has no line and says NO DIALTONE; the classic one goes off-hook and
   * waits for a carrier (a call coming in meanwhile hears busy) until the dial times out or a
   * character from the DTE aborts it.
   */
  private dial(number: string): 'error' | 'none' {
    log('dialling %s', number);
    this.dialled.push(number);
    if (this.o.personality !== 'classic') {
      this.result('NO DIALTONE');
      return 'none';
    }
    this.dialing = this.clock.setTimeout(() => this.endDial(), this.o.dialTimeoutMs);
    return 'none';
  }

  private endDial(): void {
    this.dialing?.cancel();
    this.dialing = null;
    this.text = '';
    this.result('NO CARRIER');
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
      // In V.80 synchronous access the modem reports the rates in band; the call then carries
      // V.80-framed SDLC both ways (the far modem is a V.80 one too), passed through unchanged.
      const rate = v80RateBpsCode(call.info.speed ?? 9600);
      if (this.syncAccess && rate !== null) this.dte.write(Buffer.from([EM, V80_RATE, rate, rate]));
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
    this.dialing?.cancel();
    this.dialing = null;
  }
}
