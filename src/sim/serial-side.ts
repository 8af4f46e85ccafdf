import { createServer, type Server, type Socket } from 'node:net';
import { listenTcp } from '../link/listen';
import { openPty, type PtyDevice } from '../serial/pty';

/**
 * Where an emulated device's serial side is served: the master side of a pty this process opens
 * (the NAC or driver opens its path, DIR/NAME) or a raw TCP serial server (tcp://host:port).
 */
export type SerialSideSpec = { kind: 'tcp'; host: string; port: number } | { kind: 'pty'; dir: string; name: string };

export type ByteSide = Socket | PtyDevice;

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
    const pty = await openPty({ link: { dir: spec.dir, name: spec.name } });
    onSide(pty.device);
    return { path: pty.path, close: () => pty.close() };
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
