import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import createDebug from 'debug';
import { systemClock, type Clock, type TimerHandle } from '../clock';
import { SerialError, type OpenOptions, type SerialLine, type SerialLineEvents } from './port';
import { DO, DONT, escapeIac, negotiation, OPTION, subnegotiation, TelnetParser, WILL, WONT, type Negotiation } from './telnet';

const log = createDebug('nacbridge:rfc2217');

/**
 * RFC 2217 (telnet COM-PORT option 44): a serial port through a network serial server such as
 * ser2net in telnet(rfc2217) mode. Client-to-server commands are numbered 0..12, the server's
 * answers and notifications the same plus 100.
 */
export const COM_PORT = {
  SIGNATURE: 0,
  SET_BAUDRATE: 1,
  SET_DATASIZE: 2,
  SET_PARITY: 3,
  SET_STOPSIZE: 4,
  SET_CONTROL: 5,
  NOTIFY_LINESTATE: 6,
  NOTIFY_MODEMSTATE: 7,
  FLOWCONTROL_SUSPEND: 8,
  FLOWCONTROL_RESUME: 9,
  SET_LINESTATE_MASK: 10,
  SET_MODEMSTATE_MASK: 11,
  PURGE_DATA: 12,
} as const;
export const SERVER_OFFSET = 100;
/** SET-CONTROL values used here. */
export const CONTROL = { NO_FLOW: 1, DTR_ON: 8, DTR_OFF: 9, RTS_ON: 11, RTS_OFF: 12 } as const;
export const PARITY = { none: 1, odd: 2, even: 3, mark: 4, space: 5 } as const;
export const STOP_BITS: Readonly<Record<number, number>> = { 1: 1, 2: 2, 1.5: 3 };
/** NOTIFY-MODEMSTATE bit: carrier detect (receive line signal detect). */
export const MODEMSTATE_DCD = 0x80;

type OptionState = 'no' | 'yes' | 'wantyes';

interface Waiter {
  command: number;
  accepts(value: Buffer): boolean;
  resolve(value: Buffer): void;
  reject(error: Error): void;
  timer: TimerHandle;
}

/** Options this client wants enabled on its side (WILL) and on the server's (DO). */
const WANT_LOCAL = new Set<number>([OPTION.BINARY, OPTION.SGA, OPTION.COM_PORT]);
const WANT_REMOTE = new Set<number>([OPTION.BINARY, OPTION.SGA]);

/** `rfc2217://host:port`: a serial line through a telnet COM-PORT serial server. */
export class Rfc2217Line extends EventEmitter<SerialLineEvents> implements SerialLine {
  readonly hasControlLines: boolean;
  private closed = false;
  private readonly parser = new TelnetParser();
  private readonly us = new Map<number, OptionState>();
  private readonly him = new Map<number, OptionState>();
  private waiters: Waiter[] = [];
  private unflushed = 0;
  private drainWaiters: (() => void)[] = [];
  private dcd: boolean | null = null;
  private comPortSettled: ((agreed: boolean) => void) | null = null;
  private readonly clock: Clock;
  private readonly replyTimeoutMs: number;

  constructor(
    readonly path: string,
    private readonly socket: Socket,
    private readonly options: OpenOptions,
  ) {
    super();
    this.hasControlLines = options.controlLines ?? true;
    this.clock = options.clock ?? systemClock;
    this.replyTimeoutMs = options.replyTimeoutMs ?? 3000;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onBytes(chunk));
    socket.on('error', () => undefined); // 'close' follows and reports it
    socket.on('close', (hadError) => {
      const was = this.closed;
      this.closed = true;
      this.failWaiters(new SerialError('SERIAL_IO', `${this.path}: serial server connection closed`));
      this.comPortSettled?.(false);
      this.flushDrain();
      if (!was) this.emit('close', hadError ? 'serial server connection failed' : 'serial server closed the connection');
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Carrier detect from the server's last modem-state notification, null before the first one. */
  get carrier(): boolean | null {
    return this.dcd;
  }

  /**
   * Negotiate binary mode and the COM-PORT option, then set the line's character format; resolves
   * when the server has confirmed each setting.
   */
  async start(): Promise<void> {
    const agreed = new Promise<boolean>((resolve) => (this.comPortSettled = resolve));
    for (const option of WANT_LOCAL) this.ask(WILL, option);
    for (const option of WANT_REMOTE) this.ask(DO, option);
    const timeout = this.clock.setTimeout(() => this.comPortSettled?.(false), this.replyTimeoutMs);
    const ok = await agreed;
    timeout.cancel();
    this.comPortSettled = null;
    if (!ok) {
      if (this.closed) throw new SerialError('SERIAL_OPEN', `${this.path}: the serial server closed the connection during telnet negotiation`, { port: this.path });
      throw new SerialError('SERIAL_OPEN', `${this.path}: the serial server does not speak RFC 2217 (it did not accept the telnet COM-PORT option); use tcp:// for a raw port`, { port: this.path });
    }
    const baud = this.options.baudRate ?? 9600;
    const dataBits = this.options.dataBits ?? 8;
    const parity = PARITY[this.options.parity ?? 'none'];
    const stop = STOP_BITS[this.options.stopBits ?? 1];
    const baudBytes = Buffer.alloc(4);
    baudBytes.writeUInt32BE(baud);
    await this.set(COM_PORT.SET_BAUDRATE, baudBytes, 'baud rate');
    await this.set(COM_PORT.SET_DATASIZE, Buffer.from([dataBits]), 'data bits');
    await this.set(COM_PORT.SET_PARITY, Buffer.from([parity]), 'parity');
    await this.set(COM_PORT.SET_STOPSIZE, Buffer.from([stop]), 'stop bits');
    // Every modem-state change is wanted (DCD above all); DTR and RTS up, as a local port opens.
    this.sendCommand(COM_PORT.SET_MODEMSTATE_MASK, Buffer.from([0xff]));
    if (this.hasControlLines) {
      this.sendCommand(COM_PORT.SET_CONTROL, Buffer.from([CONTROL.DTR_ON]));
      this.sendCommand(COM_PORT.SET_CONTROL, Buffer.from([CONTROL.RTS_ON]));
    }
  }

  /** Send a setting and wait for the server to confirm the same value. */
  private async set(command: number, value: Buffer, what: string): Promise<void> {
    this.sendCommand(command, value);
    const answer = await this.reply(command, () => true, `${what} ${value.toString('hex')}`);
    if (!answer.equals(value)) {
      throw new SerialError('SERIAL_OPEN', `${this.path}: the serial server set ${what} ${answer.toString('hex')} when asked for ${value.toString('hex')}`, { port: this.path });
    }
  }

  private reply(command: number, accepts: (value: Buffer) => boolean, what: string): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      if (this.closed) {
        reject(new SerialError('SERIAL_IO', `${this.path}: serial server connection closed`));
        return;
      }
      const waiter: Waiter = {
        command,
        accepts,
        resolve,
        reject,
        timer: this.clock.setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new SerialError('SERIAL_IO', `${this.path}: the serial server did not confirm ${what} within ${this.replyTimeoutMs} ms`, { port: this.path }));
        }, this.replyTimeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  private sendCommand(command: number, value: Uint8Array): void {
    this.raw(subnegotiation(OPTION.COM_PORT, Buffer.concat([Buffer.from([command]), value])));
  }

  private ask(verb: typeof WILL | typeof DO, option: number): void {
    const table = verb === WILL ? this.us : this.him;
    if ((table.get(option) ?? 'no') !== 'no') return;
    table.set(option, 'wantyes');
    this.raw(negotiation(verb, option));
  }

  private onBytes(chunk: Buffer): void {
    this.parser.feed(chunk, {
      data: (bytes) => this.emit('data', bytes),
      negotiation: (verb, option) => this.onNegotiation(verb, option),
      subnegotiation: (option, bytes) => this.onSubnegotiation(option, bytes),
    });
  }

  /** RFC 1143 in short: answer only what changes a state, so no negotiation loops. */
  private onNegotiation(verb: Negotiation, option: number): void {
    const local = verb === DO || verb === DONT;
    const table = local ? this.us : this.him;
    const wanted = (local ? WANT_LOCAL : WANT_REMOTE).has(option);
    const state = table.get(option) ?? 'no';
    const positive = verb === DO || verb === WILL;
    if (positive) {
      if (!wanted) {
        this.raw(negotiation(local ? WONT : DONT, option));
      } else if (state !== 'yes') {
        if (state === 'no') this.raw(negotiation(local ? WILL : DO, option));
        table.set(option, 'yes');
      }
    } else if (state !== 'no') {
      if (state === 'yes') this.raw(negotiation(local ? WONT : DONT, option));
      table.set(option, 'no');
    }
    this.parser.binary = this.him.get(OPTION.BINARY) === 'yes';
    if (option === OPTION.COM_PORT && local && this.comPortSettled) this.comPortSettled(positive);
    log('%s: %s %d', this.path, ['WILL', 'WONT', 'DO', 'DONT'][verb - WILL], option);
  }

  private onSubnegotiation(option: number, bytes: Buffer): void {
    if (option !== OPTION.COM_PORT || bytes.length === 0) return;
    const command = bytes[0] - SERVER_OFFSET;
    const value = bytes.subarray(1);
    if (command === COM_PORT.NOTIFY_MODEMSTATE && value.length >= 1) {
      const dcd = (value[0] & MODEMSTATE_DCD) !== 0;
      const changed = dcd !== this.dcd;
      this.dcd = dcd;
      log('%s: modem state %s (DCD %s)', this.path, value[0].toString(16), dcd ? 'on' : 'off');
      if (changed) this.emit('dcd', dcd);
      return;
    }
    const waiter = this.waiters.find((w) => w.command === command && w.accepts(value));
    if (waiter) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.timer.cancel();
      waiter.resolve(Buffer.from(value));
    }
  }

  private raw(bytes: Buffer): void {
    if (this.closed) return;
    this.unflushed++;
    this.socket.write(bytes, () => {
      this.unflushed--;
      if (this.unflushed === 0) this.flushDrain();
    });
  }

  private flushDrain(): void {
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  write(data: Uint8Array): void {
    if (this.closed) return;
    let bytes = escapeIac(data);
    // In NVT (not BINARY) mode a CR alone is sent as CR NUL.
    if (this.us.get(OPTION.BINARY) !== 'yes' && bytes.includes(0x0d)) {
      const out: number[] = [];
      for (const b of bytes) {
        out.push(b);
        if (b === 0x0d) out.push(0);
      }
      bytes = Buffer.from(out);
    }
    this.raw(bytes);
  }

  /** Resolves once every byte written so far has been handed to the network (the socket's write callback). */
  drain(): Promise<void> {
    if (this.unflushed === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * DTR through the server (SET-CONTROL 8/9). The server answers with the state it set; one
   * that does not answer, or answers otherwise (its port has no DTR: a pty behind ser2net),
   * rejects with CONTROL_LINES_UNAVAILABLE, so a hang-up falls back to the escape sequence.
   */
  async setDtr(on: boolean): Promise<void> {
    if (!this.hasControlLines) throw new SerialError('CONTROL_LINES_UNAVAILABLE', `${this.path} has no control lines (DTR/DCD)`, { port: this.path });
    const wanted = on ? CONTROL.DTR_ON : CONTROL.DTR_OFF;
    this.sendCommand(COM_PORT.SET_CONTROL, Buffer.from([wanted]));
    let answer: Buffer;
    try {
      // Only the state asked for confirms it: an answer with the other state may be a late reply
      // to an earlier command, or the server's port keeping DTR where it was; then time runs out.
      answer = await this.reply(COM_PORT.SET_CONTROL, (v) => v[0] === wanted, `DTR ${on ? 'on' : 'off'}`);
    } catch (e) {
      throw new SerialError('CONTROL_LINES_UNAVAILABLE', (e as Error).message, { port: this.path });
    }
    log('%s: DTR %s confirmed (%d)', this.path, on ? 'on' : 'off', answer[0]);
  }

  /** Carrier detect as the server last notified it. */
  async getDcd(): Promise<boolean> {
    if (this.dcd === null) throw new SerialError('CONTROL_LINES_UNAVAILABLE', `${this.path}: the serial server has not reported the modem state (DCD)`, { port: this.path });
    return this.dcd;
  }

  private failWaiters(error: Error): void {
    for (const w of this.waiters.splice(0)) {
      w.timer.cancel();
      w.reject(error);
    }
  }

  async close(): Promise<void> {
    if (this.closed && this.socket.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      if (this.socket.closed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }
}
