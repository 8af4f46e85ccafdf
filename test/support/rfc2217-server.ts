import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A small, strict RFC 2217 serial server for tests, written here from the RFCs (854/855, 1143,
 * 2217) and independent of src/serial/telnet.ts, so the client is checked against a second
 * reading of the protocol. It carries one device (an emulated modem's DTE side): data crosses
 * with IAC doubled on the wire, COM-PORT settings are answered with the value set, SET-CONTROL
 * DTR reaches the device, and DCD changes are notified. Anything off the protocol is recorded
 * in `violations` (a test asserts it stays empty).
 */
const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const SE = 240;
const COM_PORT = 44;
const BINARY = 0;
const SGA = 3;

export type DtrBehaviour = 'works' | 'silent' | 'refuses';

export interface Rfc2217ServerOptions {
  /** works: DTR is set and confirmed; silent: no answer (ser2net with a pty); refuses: answers with DTR unchanged. */
  dtr?: DtrBehaviour;
  /** Refuse the COM-PORT option (a plain telnet server). */
  refuseComPort?: boolean;
}

export interface DeviceSide {
  write(data: Uint8Array): void;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
}

export interface Rfc2217ServerEvents {
  connection: [device: DeviceSide];
  dtr: [on: boolean];
}

export class StrictRfc2217Server extends EventEmitter<Rfc2217ServerEvents> {
  readonly violations: string[] = [];
  /** Settings by name as the client set them. */
  readonly settings: { baud?: number; dataSize?: number; parity?: number; stopSize?: number; modemStateMask?: number } = {};
  readonly controls: number[] = [];
  /** 0xFF bytes the client sent doubled, as data. */
  doubledIacs = 0;
  port = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private comPort = false;
  private dtr = true;
  private client: Socket | null = null;

  constructor(private readonly options: Rfc2217ServerOptions = {}) {
    super();
  }

  async start(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  get url(): string {
    return `rfc2217://127.0.0.1:${this.port}`;
  }

  get dtrState(): boolean {
    return this.dtr;
  }

  /** Tell the client the modem state: carrier detect on or off (with its delta bit). */
  notifyDcd(on: boolean): void {
    this.sub(Buffer.from([107, (on ? 0x80 : 0) | 0x08]));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    this.client = socket;
    this.comPort = false;
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const device = new EventEmitter();
    const side: DeviceSide = {
      write: (data) => this.toClient(data),
      on: (event, listener) => device.on(event, listener),
    };
    let state: 'data' | 'iac' | 'verb' | 'sb' | 'sb-iac' = 'data';
    let verb = 0;
    let sb: number[] = [];
    socket.on('data', (chunk: Buffer) => {
      const data: number[] = [];
      for (const b of chunk) {
        if (state === 'data') {
          if (b === IAC) state = 'iac';
          else data.push(b);
        } else if (state === 'iac') {
          if (b === IAC) {
            data.push(IAC);
            this.doubledIacs++;
            state = 'data';
          } else if (b >= WILL && b <= DONT) {
            verb = b;
            state = 'verb';
          } else if (b === SB) {
            sb = [];
            state = 'sb';
          } else {
            this.violations.push(`IAC ${b} in the data stream (an undoubled 0xFF?)`);
            state = 'data';
          }
        } else if (state === 'verb') {
          this.negotiate(verb, b);
          state = 'data';
        } else if (state === 'sb') {
          if (b === IAC) state = 'sb-iac';
          else sb.push(b);
        } else {
          if (b === IAC) {
            sb.push(IAC);
            state = 'sb';
          } else if (b === SE) {
            this.subnegotiation(Buffer.from(sb));
            state = 'data';
          } else {
            this.violations.push(`IAC ${b} inside a subnegotiation (an undoubled 0xFF in a value?)`);
            state = 'data';
          }
        }
      }
      if (data.length > 0) device.emit('data', Buffer.from(data));
    });
    // As ser2net does: offer what it serves at once.
    socket.write(Buffer.from([IAC, WILL, SGA, IAC, DO, SGA, IAC, WILL, BINARY, IAC, DO, BINARY]));
    this.emit('connection', side);
  }

  private negotiate(verb: number, option: number): void {
    const socket = this.client;
    if (!socket) return;
    if (verb === WILL && option === COM_PORT) {
      if (this.options.refuseComPort) {
        socket.write(Buffer.from([IAC, DONT, COM_PORT]));
        return;
      }
      if (!this.comPort) socket.write(Buffer.from([IAC, DO, COM_PORT]));
      this.comPort = true;
      return;
    }
    // BINARY and SGA are offered already: a yes needs no answer; anything else is refused.
    if (option === BINARY || option === SGA) return;
    if (verb === WILL) socket.write(Buffer.from([IAC, DONT, option]));
    if (verb === DO) socket.write(Buffer.from([IAC, WONT, option]));
  }

  private subnegotiation(bytes: Buffer): void {
    if (bytes[0] !== COM_PORT) {
      this.violations.push(`subnegotiation of option ${bytes[0]}`);
      return;
    }
    if (!this.comPort) {
      this.violations.push('COM-PORT command before the option was agreed');
      return;
    }
    const command = bytes[1];
    const value = bytes.subarray(2);
    const expect = (n: number): boolean => {
      if (value.length === n) return true;
      this.violations.push(`COM-PORT command ${command} with ${value.length} value bytes, not ${n}`);
      return false;
    };
    switch (command) {
      case 1:
        if (!expect(4)) return;
        this.settings.baud = value.readUInt32BE(0);
        break;
      case 2:
        if (!expect(1)) return;
        if (value[0] < 5 || value[0] > 8) this.violations.push(`data size ${value[0]}`);
        this.settings.dataSize = value[0];
        break;
      case 3:
        if (!expect(1)) return;
        if (value[0] < 1 || value[0] > 5) this.violations.push(`parity ${value[0]}`);
        this.settings.parity = value[0];
        break;
      case 4:
        if (!expect(1)) return;
        if (value[0] < 1 || value[0] > 3) this.violations.push(`stop size ${value[0]}`);
        this.settings.stopSize = value[0];
        break;
      case 5: {
        if (!expect(1)) return;
        const control = value[0];
        this.controls.push(control);
        if (control === 8 || control === 9) {
          const behaviour = this.options.dtr ?? 'works';
          if (behaviour === 'silent') return;
          if (behaviour === 'works') {
            this.dtr = control === 8;
            this.emit('dtr', this.dtr);
          }
          this.sub(Buffer.from([105, this.dtr ? 8 : 9]));
          return;
        }
        break;
      }
      case 11:
        if (!expect(1)) return;
        this.settings.modemStateMask = value[0];
        break;
      default:
        this.violations.push(`COM-PORT command ${command} not expected from this client`);
        return;
    }
    this.sub(Buffer.concat([Buffer.from([command + 100]), value]));
  }

  private sub(body: Buffer): void {
    const escaped: number[] = [];
    for (const b of body) {
      escaped.push(b);
      if (b === IAC) escaped.push(IAC);
    }
    this.client?.write(Buffer.from([IAC, SB, COM_PORT, ...escaped, IAC, SE]));
  }

  private toClient(data: Uint8Array): void {
    const out: number[] = [];
    for (const b of data) {
      out.push(b);
      if (b === IAC) out.push(IAC);
    }
    this.client?.write(Buffer.from(out));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A raw TCP server that speaks telnet at once, as a serial server port left in telnet mode. */
export async function telnetModeServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.write(Buffer.from([IAC, WILL, SGA, IAC, WILL, 1, IAC, DO, BINARY]));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
