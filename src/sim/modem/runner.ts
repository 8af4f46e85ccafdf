import { createServer, type Server, type Socket } from 'node:net';
import { callerResult, ModemEmulator, type CallerIdFormat, type EmulatorOptions } from './emulator';
import { listenTcp } from '../../link/listen';
import { serveSerialSide, type SerialSideSpec } from '../serial-side';

/**
 * nacbridge sim modem: an emulated modem whose serial side is a pty this process opens or a raw TCP
 * serial server, and whose line side is a TCP port: every connection to it is an incoming call
 * with the configured caller ID (a POS simulator, a script, or netcat).
 */
export interface ModemSimOptions {
  serial: SerialSideSpec;
  pos: { host: string; port: number };
  callerId: { number?: string; format: CallerIdFormat };
  emulator?: EmulatorOptions;
}

export interface ModemSim {
  /** What the NAC's line config names as its port. */
  linePath: string;
  posPort: number;
  /** Drop the carrier of the call in progress, as a dead line does; false when no call is connected. */
  dropCarrier(): boolean;
  close(): Promise<void>;
}

export async function startModemSim(o: ModemSimOptions): Promise<ModemSim> {
  // A fresh modem for every new serial connection, as after a power cycle.
  let current: ModemEmulator | null = null;
  const served = await serveSerialSide(o.serial, (side) => {
    current?.close();
    current = new ModemEmulator(side, o.emulator);
  });
  const modem = (): ModemEmulator | null => current;
  const linePath = served.path;
  const closers: (() => Promise<void>)[] = [
    async () => {
      (current as ModemEmulator | null)?.close();
      await served.close();
    },
  ];
  const sockets = new Set<Socket>();
  const posServer: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const m = modem();
    if (m === null) {
      socket.end(callerResult('NO ANSWER')); // no DTE attached yet: like a line nobody has plugged in
      return;
    }
    m.ring({ number: o.callerId.number, format: o.callerId.format }, socket);
  });
  let posPort: number;
  try {
    posPort = await listenTcp(posServer, o.pos.port, o.pos.host, (error) =>
      process.stderr.write(`modem sim POS port on ${o.pos.host}: accept failed (${error.message}); still listening\n`),
    );
  } catch (error) {
    // The serial side is already up: close it, or it holds the process open after the error.
    for (const close of closers) await close();
    throw error;
  }
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
    dropCarrier: () => modem()?.dropCarrier() ?? false,
    async close() {
      for (const c of closers) await c();
    },
  };
}
