import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { SerialPort as DevicePort } from 'serialport';
import type { Clock } from '../clock';
import { NacbridgeError } from '../errors';
import { Rfc2217Line } from './rfc2217';
import { opensWithNegotiation } from './telnet';

/**
 * A serial line by path: a device (`/dev/ttyUSB0`, `/dev/serial/by-id/...`, a pty) through
 * serialport, `tcp://host:port` for a raw serial server (ser2net style, modem banks behind
 * terminal servers), or `rfc2217://host:port` for a serial server in telnet COM-PORT mode
 * (src/serial/rfc2217.ts: DTR, RTS and the character format through the server, DCD from its
 * notifications). All give the same duplex byte stream. Control lines (DTR, DCD) exist only
 * where the hardware has them; elsewhere they are a clear CONTROL_LINES_UNAVAILABLE.
 */
export class SerialError extends NacbridgeError {}

export interface SerialLineEvents {
  data: [chunk: Buffer];
  /**
   * The port went away (unplugged, server closed, error); the owner decides to reopen, unless
   * `fatal`: the port cannot work as configured (a tcp:// line on a telnet-mode server).
   */
  close: [reason: string, fatal?: boolean];
  /** Carrier detect changed, on lines that are told (rfc2217:// modem-state notifications). */
  dcd: [on: boolean];
}

export interface SerialLine extends EventEmitter<SerialLineEvents> {
  readonly path: string;
  readonly hasControlLines: boolean;
  readonly isOpen: boolean;
  write(data: Uint8Array): void;
  /**
   * Resolves once what was written has left: the UART's output queue is empty (tcdrain) on a
   * device, the bytes are handed to the network on a serial server connection.
   */
  drain(): Promise<void>;
  setDtr(on: boolean): Promise<void>;
  getDcd(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenOptions {
  baudRate?: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: 'none' | 'odd' | 'even' | 'mark' | 'space';
  stopBits?: 1 | 1.5 | 2;
  /** Timers of rfc2217:// negotiation and confirmations. */
  clock?: Clock;
  /** How long an rfc2217:// server has to confirm a setting (default 3000 ms). */
  replyTimeoutMs?: number;
  /** Whether the device's control lines may be used (a modem profile says; ptys have none). */
  controlLines?: boolean;
}

function unavailable(path: string): SerialError {
  return new SerialError('CONTROL_LINES_UNAVAILABLE', `${path} has no control lines (DTR/DCD)`, { port: path });
}

/** Why a tcp:// line stops when its server turns out to speak telnet. */
export function telnetModeMessage(path: string): string {
  const rfc2217 = path.replace(/^tcp:/, 'rfc2217:');
  return (
    `${path}: the serial server is in telnet mode (its first bytes were telnet negotiation, IAC DO/WILL/WONT/DONT): ` +
    `it would double every 0xFF byte and corrupt frames. Use ${rfc2217} for a telnet (RFC 2217) server, or set the server's port to raw TCP`
  );
}

class TcpLine extends EventEmitter<SerialLineEvents> implements SerialLine {
  readonly hasControlLines = false;
  private closed = false;
  private unflushed = 0;
  private drainWaiters: (() => void)[] = [];
  /** Bytes seen so far, while the first ones are checked for telnet negotiation. */
  private opening: Buffer | null = Buffer.alloc(0);

  constructor(
    readonly path: string,
    private readonly socket: Socket,
  ) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined); // 'close' follows and reports it
    socket.on('close', (hadError) => {
      if (!this.closed) this.emit('close', hadError ? 'serial server connection failed' : 'serial server closed the connection');
      this.closed = true;
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    });
  }

  private onData(chunk: Buffer): void {
    if (this.opening !== null) {
      // A raw port says nothing until the modem does; a telnet-mode server negotiates at once.
      const first = Buffer.concat([this.opening, chunk]);
      if (first.length < 2 && first[0] === 0xff) {
        this.opening = first;
        return;
      }
      this.opening = null;
      if (opensWithNegotiation(first)) {
        this.closed = true;
        this.emit('close', telnetModeMessage(this.path), true);
        this.socket.destroy();
        return;
      }
      chunk = first;
    }
    this.emit('data', chunk);
  }

  drain(): Promise<void> {
    if (this.unflushed === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  write(data: Uint8Array): void {
    if (this.closed) return;
    this.unflushed++;
    this.socket.write(data, () => {
      this.unflushed--;
      if (this.unflushed === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
    });
  }

  async setDtr(): Promise<void> {
    throw unavailable(this.path);
  }

  async getDcd(): Promise<boolean> {
    throw unavailable(this.path);
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

class DeviceLine extends EventEmitter<SerialLineEvents> implements SerialLine {
  private closed = false;

  constructor(
    readonly path: string,
    private readonly port: DevicePort,
    readonly hasControlLines: boolean,
  ) {
    super();
    port.on('data', (chunk: Buffer) => this.emit('data', chunk));
    port.on('error', () => undefined);
    port.on('close', () => {
      if (!this.closed) this.emit('close', 'device closed (unplugged?)');
      this.closed = true;
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  write(data: Uint8Array): void {
    if (!this.closed) this.port.write(Buffer.from(data));
  }

  drain(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => this.port.drain((e) => (e ? reject(new SerialError('SERIAL_IO', `${this.path}: ${e.message}`)) : resolve())));
  }

  async setDtr(on: boolean): Promise<void> {
    if (!this.hasControlLines) throw unavailable(this.path);
    await new Promise<void>((resolve, reject) => this.port.set({ dtr: on }, (e) => (e ? reject(new SerialError('SERIAL_IO', `${this.path}: ${e.message}`)) : resolve())));
  }

  async getDcd(): Promise<boolean> {
    if (!this.hasControlLines) throw unavailable(this.path);
    return new Promise((resolve, reject) =>
      this.port.get((e, status) => (e || !status ? reject(new SerialError('SERIAL_IO', `${this.path}: ${e?.message ?? 'no status'}`)) : resolve(status.dcd))),
    );
  }

  async close(): Promise<void> {
    if (this.closed && !this.port.isOpen) return;
    this.closed = true;
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

const TCP_PATH = /^(tcp|rfc2217):\/\/(\[[^\]]+\]|[^:/]+):(\d+)$/;

/** Open a serial line by path; rejects with a SerialError naming the path. */
export async function openSerialLine(path: string, options: OpenOptions = {}): Promise<SerialLine> {
  const tcp = TCP_PATH.exec(path);
  if (tcp) {
    const host = tcp[2].replace(/^\[|\]$/g, '');
    const port = Number(tcp[3]);
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port });
      const failed = (e: Error) => reject(new SerialError('SERIAL_OPEN', `${path}: ${e.message}`, { port: path }));
      s.once('connect', () => {
        s.off('error', failed);
        resolve(s);
      });
      s.once('error', failed);
    });
    if (tcp[1] === 'tcp') return new TcpLine(path, socket);
    const line = new Rfc2217Line(path, socket, options);
    try {
      await line.start();
    } catch (e) {
      await line.close();
      throw e;
    }
    return line;
  }
  const port = new DevicePort({
    path,
    baudRate: options.baudRate ?? 9600,
    dataBits: options.dataBits ?? 8,
    parity: options.parity ?? 'none',
    stopBits: options.stopBits === 1.5 ? 1.5 : (options.stopBits ?? 1),
    autoOpen: false,
  });
  await new Promise<void>((resolve, reject) =>
    // The bindings' messages start "Error: " (a stringified Error): drop it once.
    port.open((e) => (e ? reject(new SerialError('SERIAL_OPEN', `${path}: ${e.message.replace(/^Error: /, '')}`, { port: path })) : resolve())),
  );
  return new DeviceLine(path, port, options.controlLines ?? true);
}
