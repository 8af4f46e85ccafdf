import type { Clock } from '../../src/clock';
import { LinkServer } from '../../src/link/server';

/**
 * A started platform side with two loopback ports (binary2, allow-listed to 127.0.0.1): what a
 * link group or a NAC host connects its two links to in a test.
 */
export async function twoPortServer(name: string, clock?: Clock): Promise<LinkServer> {
  const server = new LinkServer({
    name,
    listen: [
      { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
      { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
    ],
    framing: 'binary2',
    clock,
  });
  await server.start();
  return server;
}
