import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import type { Clock, TimerHandle } from '../clock';
import { NacbridgeError } from '../errors';
import type { SerialLine } from '../serial/port';

const log = createDebug('nacbridge:modem');

export class ModemError extends NacbridgeError {}

/** V.250 final result codes (verbose form). */
const FINAL = /^(OK|ERROR|CONNECT\b.*|NO CARRIER|BUSY|NO ANSWER|NO DIALTONE|\+CM[ES] ERROR.*)$/;
/** Lines a modem volunteers: rings, caller ID, carrier messages (R-MDM-2, R-MDM-3). */
const UNSOLICITED = /^(RING\b.*|CIDM\b.*|NO CARRIER|DATE\s*[=:].*|TIME\s*[=:].*|NMBR\s*[=:].*|DDN_NMBR\s*[=:].*|NAME\s*[=:].*|MESG\s*[=:].*|CALLER\s+(NUMBER|NAME)\s*[=:].*|(04|80)([0-9A-Fa-f]{2})+|[AD][0-9]*[#C])$/i;
const NO_CARRIER = Buffer.from('\r\nNO CARRIER\r\n', 'latin1');

/**
 * Numeric result codes (ATV0) of the classic Hayes set and the common CONNECT speeds, as their
 * verbose form. A modem left in V0 (by a stored profile, or by a command it misread) answers
 * "0" for OK: understood here, and the line puts it back to verbose results (ATV1). Codes above
 * 10 differ between makes; those listed are the widely shared ones.
 */
export const NUMERIC_RESULTS: Readonly<Record<string, string>> = {
  '0': 'OK',
  '1': 'CONNECT',
  '2': 'RING',
  '3': 'NO CARRIER',
  '4': 'ERROR',
  '5': 'CONNECT 1200',
  '6': 'NO DIALTONE',
  '7': 'BUSY',
  '8': 'NO ANSWER',
  '10': 'CONNECT 2400',
  '11': 'CONNECT 4800',
  '12': 'CONNECT 9600',
  '13': 'CONNECT 7200',
  '14': 'CONNECT 12000',
  '15': 'CONNECT 14400',
  '16': 'CONNECT 19200',
};

export interface AtResult {
  /** The final result code line ("OK", "CONNECT 9600", "NO CARRIER", ...), numeric codes in their verbose form. */
  final: string;
  /** The modem answered with a numeric result code (ATV0). */
  numeric: boolean;
  /** Lines between the command and its result (answers such as "+VCID: 1"). */
  lines: string[];
}

export type ChannelMode = 'command' | 'data';

export interface ModemChannelEvents {
  unsolicited: [line: string];
  /** Bytes of a connected call. */
  data: [chunk: Buffer];
  /** NO CARRIER arrived in data mode: the modem is back in command mode. */
  'carrier-lost': [];
}

interface PendingCommand {
  command: string;
  lines: string[];
  resolve(result: AtResult): void;
  reject(error: Error): void;
  timer: TimerHandle;
}

/**
 * The AT side of a modem on a serial line: one command at a time, each collected up to its final
 * result code (echo on or off), with a timeout; rings and caller ID go to 'unsolicited'. After
 * CONNECT the channel is in data mode and passes bytes through, watching for NO CARRIER.
 */
export class ModemChannel extends EventEmitter<ModemChannelEvents> {
  private currentMode: ChannelMode = 'command';
  private text = '';
  private pending: PendingCommand | null = null;
  private queue: (() => void)[] = [];
  private tail = Buffer.alloc(0);
  /** Whether the last result code seen was numeric (the modem is in V0). */
  private lastNumeric = false;

  constructor(
    private readonly line: SerialLine,
    private readonly clock: Clock,
    private readonly label: string,
  ) {
    super();
    line.on('data', this.listener);
  }

  private readonly listener = (chunk: Buffer): void => this.onData(chunk);

  /** Stop reading the port (before it is closed and opened again by its owner). */
  detach(): void {
    this.line.off('data', this.listener);
  }

  get mode(): ChannelMode {
    return this.currentMode;
  }

  /** The last result code the modem sent was numeric (ATV0): it should be put back to ATV1. */
  get numericResults(): boolean {
    return this.lastNumeric;
  }

  /** Back to command mode (after a hang-up the caller completed by other means). */
  commandMode(): void {
    this.currentMode = 'command';
    this.text = '';
    this.tail = Buffer.alloc(0);
  }

  /**
   * Send a command and wait for its final result code. Commands run one at a time. The escape
   * sequence is sent with `terminator: ''` (no carriage return), and answers OK like a command.
   */
  command(command: string, timeoutMs: number, terminator = '\r'): Promise<AtResult> {
    return new Promise<AtResult>((resolve, reject) => {
      const run = (): void => {
        const timer = this.clock.setTimeout(() => {
          if (this.pending?.timer !== timer) return;
          this.pending = null;
          reject(new ModemError('AT_TIMEOUT', `${this.label}: no answer to ${command} within ${timeoutMs} ms`, { command }));
          this.next();
        }, timeoutMs);
        this.pending = { command, lines: [], resolve, reject, timer };
        log('%s >> %s', this.label, command);
        this.line.write(Buffer.from(command + terminator, 'latin1'));
      };
      if (this.pending === null && this.queue.length === 0) run();
      else this.queue.push(run);
    });
  }

  /** Write raw bytes (data mode, or the escape sequence). */
  write(data: Uint8Array): void {
    this.line.write(data);
  }

  private next(): void {
    const run = this.queue.shift();
    if (run) run();
  }

  private onData(chunk: Buffer): void {
    if (this.currentMode === 'data') {
      this.onCallData(chunk);
      return;
    }
    this.text += chunk.toString('latin1');
    for (;;) {
      const end = this.text.search(/[\r\n]/);
      if (end < 0) break;
      const line = this.text.slice(0, end).trim();
      this.text = this.text.slice(end + 1);
      if (line.length === 0) continue;
      if (this.onLine(line)) {
        // CONNECT: what follows in this chunk already belongs to the call (after the LF of a
        // verbose result's CR LF; a numeric result ends with CR alone).
        const rest = Buffer.from(this.lastNumeric ? this.text : this.text.replace(/^\n/, ''), 'latin1');
        this.text = '';
        if (rest.length > 0) this.onCallData(rest);
        return;
      }
    }
    if (this.text.length > 4096) this.text = this.text.slice(-1024); // garbage without line ends
  }

  /** True when the line switched the channel to data mode. */
  private onLine(raw: string): boolean {
    log('%s << %s', this.label, raw);
    const pending = this.pending;
    if (pending && raw.toUpperCase() === pending.command.toUpperCase()) return false; // echo
    const verbose = NUMERIC_RESULTS[raw];
    const line = verbose ?? raw;
    if (verbose !== undefined || FINAL.test(raw) || /^RING\b/i.test(raw)) this.lastNumeric = verbose !== undefined;
    // NO CARRIER ends only a command that can make or resume a call (A, D, O); after any other
    // it is the modem's own word (on-hook noise, R-MDM-3, or a call it dropped): unsolicited.
    const callCommand = pending !== null && /^AT\s*[ADO]/i.test(pending.command);
    if (pending && FINAL.test(line) && (line !== 'NO CARRIER' || callCommand)) {
      pending.timer.cancel();
      this.pending = null;
      const connected = /^CONNECT\b/.test(line);
      if (connected) this.currentMode = 'data';
      pending.resolve({ final: line, numeric: verbose !== undefined, lines: pending.lines });
      this.next();
      return connected;
    }
    if (UNSOLICITED.test(line) || !pending) {
      this.emit('unsolicited', line);
      return false;
    }
    pending.lines.push(raw);
    return false;
  }

  private onCallData(chunk: Buffer): void {
    this.emit('data', chunk);
    // NO CARRIER may straddle chunks: look in what is kept of the last ones plus this chunk.
    const window = Buffer.concat([this.tail, chunk]);
    if (window.includes(NO_CARRIER)) {
      this.tail = Buffer.alloc(0);
      this.currentMode = 'command';
      this.emit('carrier-lost');
      return;
    }
    this.tail = window.subarray(Math.max(0, window.length - NO_CARRIER.length + 1));
  }

  /** Fail a pending command (the port went away). */
  abort(reason: string): void {
    const pending = this.pending;
    this.pending = null;
    const queued = this.queue.length;
    this.queue = [];
    if (pending) {
      pending.timer.cancel();
      pending.reject(new ModemError('AT_ABORTED', `${this.label}: ${pending.command} aborted: ${reason}`));
    }
    if (queued > 0) log('%s: %d queued commands dropped: %s', this.label, queued, reason);
  }
}
