import { createServer, type Server, type Socket } from 'node:net';
import { openSerialLine, type SerialLine } from '../../src/serial/port';
import { ModemEmulator, type CallerIdFormat, type EmulatorOptions } from './emulator';
import { createPtyPair, type PtyPair } from './pty';
import { TcpModemServer } from './tcp-serial-server';

/**
 * nacbridge sim modem: an emulated modem whose serial side is a pty (from socat) or a raw TCP
 * serial server, and whose line side is a TCP port: every connection to it is an incoming call
 * with the configured caller ID (a POS simulator, a script, or netcat).
 */
export interface ModemSimOptions {
  serial: { kind: 'tcp'; host: string; port: number } | { kind: 'pty'; dir: string; name: string };
  pos: { host: string; port: number };
  callerId: { number?: string; format: CallerIdFormat };
  emulator?: EmulatorOptions;
}

export interface ModemSim {
  /** What the NAC's line config names as its port. */
  linePath: string;
  posPort: number;
  close(): Promise<void>;
}

export async function startModemSim(o: ModemSimOptions): Promise<ModemSim> {
  let modem: () => ModemEmulator | null;
  let linePath: string;
  const closers: (() => Promise<void>)[] = [];
  if (o.serial.kind === 'tcp') {
    const server = new TcpModemServer(o.emulator);
    await server.start(o.serial.port, o.serial.host);
    linePath = `tcp://${o.serial.host}:${server.port}`;
    modem = () => server.current;
    closers.push(() => server.close());
  } else {
    const pair: PtyPair = await createPtyPair(o.serial.dir, o.serial.name);
    const port: SerialLine = await openSerialLine(pair.modemPath, { controlLines: false });
    const emulator = new ModemEmulator(port, o.emulator);
    linePath = pair.nacPath;
    modem = () => emulator;
    closers.push(async () => {
      emulator.close();
      await port.close();
      await pair.close();
    });
  }
  const sockets = new Set<Socket>();
  const posServer: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const m = modem();
    if (m === null) {
      socket.end(); // no DTE attached yet: like a line nobody has plugged in
      return;
    }
    m.ring({ number: o.callerId.number, format: o.callerId.format }, socket);
  });
  await new Promise<void>((resolve) => posServer.listen(o.pos.port, o.pos.host, () => resolve()));
  const a = posServer.address();
  const posPort = typeof a === 'object' && a !== null ? a.port : o.pos.port;
  closers.unshift(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        posServer.close(() => resolve());
      }),
  );
  return {
    linePath,
    posPort,
    async close() {
      for (const c of closers) await c();
    },
  };
}
