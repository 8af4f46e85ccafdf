import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { SerialPort as DevicePort } from 'serialport';
import { NacbridgeError } from '../errors';

/**
 * A serial line by path: a device (`/dev/ttyUSB0`, `/dev/serial/by-id/...`, a pty) through
 * serialport, or `tcp://host:port` for a raw serial server (ser2net style, modem banks behind
 * terminal servers). Both give the same duplex byte stream. Control lines (DTR, DCD) exist only
 * where the hardware has them; elsewhere they are a clear CONTROL_LINES_UNAVAILABLE.
 */
export class SerialError extends NacbridgeError {}

export interface SerialLineEvents {
  data: [chunk: Buffer];
  /** The port went away (unplugged, server closed, error); the owner decides to reopen. */
  close: [reason: string];
}

export interface SerialLine extends EventEmitter<SerialLineEvents> {
  readonly path: string;
  readonly hasControlLines: boolean;
  readonly isOpen: boolean;
  write(data: Uint8Array): void;
  setDtr(on: boolean): Promise<void>;
  getDcd(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenOptions {
  baudRate?: number;
  /** Whether the device's control lines may be used (a modem profile says; ptys have none). */
  controlLines?: boolean;
}

function unavailable(path: string): SerialError {
  return new SerialError('CONTROL_LINES_UNAVAILABLE', `${path} has no control lines (DTR/DCD)`, { port: path });
}

class TcpLine extends EventEmitter<SerialLineEvents> implements SerialLine {
  readonly hasControlLines = false;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly socket: Socket,
  ) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.emit('data', chunk));
    socket.on('error', () => undefined); // 'close' follows and reports it
    socket.on('close', (hadError) => {
      if (!this.closed) this.emit('close', hadError ? 'serial server connection failed' : 'serial server closed the connection');
      this.closed = true;
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  write(data: Uint8Array): void {
    if (!this.closed) this.socket.write(data);
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

const TCP_PATH = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)$/;

/** Open a serial line by path; rejects with a SerialError naming the path. */
export async function openSerialLine(path: string, options: OpenOptions = {}): Promise<SerialLine> {
  const tcp = TCP_PATH.exec(path);
  if (tcp) {
    const host = tcp[1].replace(/^\[|\]$/g, '');
    const port = Number(tcp[2]);
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port });
      const failed = (e: Error) => reject(new SerialError('SERIAL_OPEN', `${path}: ${e.message}`, { port: path }));
      s.once('connect', () => {
        s.off('error', failed);
        resolve(s);
      });
      s.once('error', failed);
    });
    return new TcpLine(path, socket);
  }
  const port = new DevicePort({ path, baudRate: options.baudRate ?? 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    // The bindings' messages start "Error: " (a stringified Error): drop it once.
    port.open((e) => (e ? reject(new SerialError('SERIAL_OPEN', `${path}: ${e.message.replace(/^Error: /, '')}`, { port: path })) : resolve())),
  );
  return new DeviceLine(path, port, options.controlLines ?? true);
}
