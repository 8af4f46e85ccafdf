import type { Server } from 'node:net';

/**
 * Listen on host:port and resolve with the port bound (the system's pick for port 0). A listen
 * error, such as a port already taken, rejects. Once listening, every later server error goes to
 * `onLaterError`: Node reports a failed accept (ENOBUFS, ENOMEM, EPERM from a firewall; libuv
 * absorbs EMFILE itself) as an 'error' on the server, which keeps listening, and an error with
 * no listener would end the process. So each owner must say what such an error means to it.
 */
export function listenTcp(server: Server, port: number, host: string, onLaterError: (error: Error) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', onLaterError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
