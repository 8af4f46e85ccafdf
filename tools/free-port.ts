import { createServer } from 'node:net';

/**
 * A port on 127.0.0.1 that nothing listens on right now: bound once, then closed. For a process
 * that cannot report a port it picked itself (socat), or a link target that must refuse.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
