import { createServer, type Server, type Socket } from 'node:net';
import { ModemEmulator, type EmulatorOptions } from './emulator';

/**
 * The emulator behind a raw TCP serial server (ser2net style): the NAC opens tcp://host:port as
 * its serial line. Each connection gets a freshly powered-on modem.
 */
export class TcpModemServer {
  current: ModemEmulator | null = null;
  private server: Server | null = null;
  private sockets = new Set<Socket>();
  port = 0;
  private waiters: ((m: ModemEmulator) => void)[] = [];

  constructor(private readonly options: EmulatorOptions = {}) {}

  async start(port = 0, host = '127.0.0.1'): Promise<void> {
    const server = createServer((socket) => {
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      this.current?.close();
      this.current = new ModemEmulator(socket, this.options);
      for (const w of this.waiters.splice(0)) w(this.current);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, host, () => resolve()));
    const a = server.address();
    this.port = typeof a === 'object' && a !== null ? a.port : port;
  }

  /** The modem once the NAC has opened the line. */
  modem(): Promise<ModemEmulator> {
    if (this.current) return Promise.resolve(this.current);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    this.current?.close();
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
