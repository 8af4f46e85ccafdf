import type { Server } from 'node:net';

/**
 * Listen on host:port and resolve with the port bound (the system's pick for port 0). A listen
 * error, such as a port already taken, rejects; on success no error listener is left behind, so
 * what happens to a later server error is the owner's choice.
 */
export function listenTcp(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
