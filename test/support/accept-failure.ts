import { Server } from 'node:net';
import { constants } from 'node:os';

/**
 * Make the server listening on `port` in this process fail one accept, as Node reports a real one:
 * its handle's connection callback called with a libuv error. A failed accept (ENOBUFS, ENOMEM, or
 * EPERM from a firewall) cannot be provoked from outside a test, and libuv absorbs EMFILE itself.
 * Reaches into two Node internals, so the product code needs no test hook.
 */
export function failOneAccept(port: number, code: 'ENOBUFS' | 'ENOMEM' | 'EPERM' = 'ENOBUFS'): void {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const server = handles.find((h): h is Server => h instanceof Server && (h.address() as { port?: number } | null)?.port === port);
  if (!server) throw new Error(`no server listening on port ${port} in this process`);
  const handle = (server as unknown as { _handle: { onconnection(this: unknown, status: number): void } })._handle;
  handle.onconnection.call(handle, -constants.errno[code]);
}
