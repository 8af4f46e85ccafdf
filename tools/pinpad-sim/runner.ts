import { createServer, type Server, type Socket } from 'node:net';
import { SecretKey } from '../../src/crypto/secret-key';
import { openSerialLine, type SerialLine } from '../../src/serial/port';
import { createPtyPair, type PtyPair } from '../modem-sim/pty';
import { PinPadEmulator, type PinPadFault } from './emulator';

/** nacbridge sim pinpad: the emulated pad on a pty (socat) or a TCP port (raw serial server). */
export interface PinPadSimOptions {
  serial: { kind: 'tcp'; host: string; port: number } | { kind: 'pty'; dir: string; name: string };
  masterIndex: number;
  master: SecretKey;
  typedPin?: string;
  faults?: PinPadFault[];
}

export interface PinPadSim {
  path: string;
  close(): Promise<void>;
}

export async function startPinPadSim(o: PinPadSimOptions): Promise<PinPadSim> {
  const emulators: PinPadEmulator[] = [];
  const make = (side: SerialLine | Socket): PinPadEmulator => {
    const e = new PinPadEmulator(side, { typedPin: o.typedPin });
    e.holdMasterKey(o.masterIndex, o.master);
    for (const f of o.faults ?? []) e.inject(f);
    emulators.push(e);
    return e;
  };
  let pad: PinPadEmulator | null = null;
  if (o.serial.kind === 'pty') {
    const pair: PtyPair = await createPtyPair(o.serial.dir, o.serial.name);
    const port = await openSerialLine(pair.modemPath, { controlLines: false });
    make(port);
    return {
      path: pair.nacPath,
      async close() {
        for (const e of emulators) e.close();
        await port.close();
        await pair.close();
      },
    };
  }
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    // One pad: a new connection is its cable plugged in again, and its keys stay.
    if (pad === null) pad = make(socket);
    else pad.attach(socket);
  });
  await new Promise<void>((resolve) => server.listen(o.serial.kind === 'tcp' ? o.serial.port : 0, o.serial.kind === 'tcp' ? o.serial.host : '127.0.0.1', () => resolve()));
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  return {
    path: `tcp://127.0.0.1:${port}`,
    async close() {
      for (const e of emulators) e.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
