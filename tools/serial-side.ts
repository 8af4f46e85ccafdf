import { createServer, type Server, type Socket } from 'node:net';
import { listenTcp } from '../src/link/listen';
import { openSerialLine, type SerialLine } from '../src/serial/port';
import { createPtyPair } from './modem-sim/pty';

/**
 * Where an emulated device's serial side is served: one end of a socat pty pair (the other end is
 * the device path the NAC or driver opens) or a raw TCP serial server (opened as tcp://host:port).
 */
export type SerialSideSpec = { kind: 'tcp'; host: string; port: number } | { kind: 'pty'; dir: string; name: string };

export type ByteSide = SerialLine | Socket;

export interface ServedSerialSide {
  /** What the other side opens: a pty path or tcp://host:port. */
  path: string;
  close(): Promise<void>;
}

/**
 * Serve a device's serial side. `onSide` gets the byte side: once for a pty, and for TCP once per
 * connection (a reconnect is the cable plugged in again; the device decides what that means).
 */
export async function serveSerialSide(spec: SerialSideSpec, onSide: (side: ByteSide) => void): Promise<ServedSerialSide> {
  if (spec.kind === 'pty') {
    const pair = await createPtyPair(spec.dir, spec.name);
    const port = await openSerialLine(pair.modemPath, { controlLines: false });
    onSide(port);
    return {
      path: pair.nacPath,
      async close() {
        await port.close();
        await pair.close();
      },
    };
  }
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onSide(socket);
  });
  const port = await listenTcp(server, spec.port, spec.host, (error) =>
    process.stderr.write(`serial side on ${spec.host}:${spec.port}: accept failed (${error.message}); still listening\n`),
  );
  return {
    path: `tcp://${spec.host}:${port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
