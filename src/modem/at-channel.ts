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

export interface AtResult {
  /** The final result code line ("OK", "CONNECT 9600", "NO CARRIER", ...). */
  final: string;
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

  constructor(
    private readonly line: SerialLine,
    private readonly clock: Clock,
    private readonly label: string,
  ) {
    super();
    line.on('data', (chunk) => this.onData(chunk));
  }

  get mode(): ChannelMode {
    return this.currentMode;
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
        // CONNECT: what follows in this chunk already belongs to the call.
        const rest = Buffer.from(this.text.replace(/^\r?\n/, ''), 'latin1');
        this.text = '';
        if (rest.length > 0) this.onCallData(rest);
        return;
      }
    }
    if (this.text.length > 4096) this.text = this.text.slice(-1024); // garbage without line ends
  }

  /** True when the line switched the channel to data mode. */
  private onLine(line: string): boolean {
    log('%s << %s', this.label, line);
    const pending = this.pending;
    if (pending && line.toUpperCase() === pending.command.toUpperCase()) return false; // echo
    if (pending && FINAL.test(line)) {
      pending.timer.cancel();
      this.pending = null;
      const connected = /^CONNECT\b/.test(line);
      if (connected) this.currentMode = 'data';
      pending.resolve({ final: line, lines: pending.lines });
      this.next();
      return connected;
    }
    if (UNSOLICITED.test(line) || !pending) {
      this.emit('unsolicited', line);
      return false;
    }
    pending.lines.push(line);
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
