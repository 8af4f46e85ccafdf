import { ModemEmulator, type EmulatorOptions } from './emulator';
import { serveSerialSide, type ServedSerialSide } from '../serial-side';

/**
 * The emulator behind a raw TCP serial server (ser2net style): the NAC opens tcp://host:port as
 * its serial line. Each connection gets a freshly powered-on modem.
 */
export class TcpModemServer {
  current: ModemEmulator | null = null;
  private served: ServedSerialSide | null = null;
  port = 0;
  private waiters: ((m: ModemEmulator) => void)[] = [];

  constructor(private readonly options: EmulatorOptions = {}) {}

  async start(port = 0, host = '127.0.0.1'): Promise<void> {
    this.served = await serveSerialSide({ kind: 'tcp', host, port }, (side) => {
      this.current?.close();
      this.current = new ModemEmulator(side, this.options);
      for (const w of this.waiters.splice(0)) w(this.current);
    });
    this.port = Number(this.served.path.split(':').pop());
  }

  /** The modem once the NAC has opened the line. */
  modem(): Promise<ModemEmulator> {
    if (this.current) return Promise.resolve(this.current);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    this.current?.close();
    await this.served?.close();
    this.served = null;
  }
}
