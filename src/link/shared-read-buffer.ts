import { Socket } from 'node:net';

/**
 * Accepted sockets that read into one shared buffer, as client sockets can with `onread`.
 *
 * Node reads an accepted socket through its stream machinery: a new Buffer per read, a 'data'
 * event, and a scheduled read-ahead per chunk. On the NAC's terminal listener that was the
 * largest cost left per transaction (bench:relay at 1 terminal, against the build before: 5-7 us
 * less CPU and 8-15 us less added p99 per round trip). `onread` skips all of it, but Node offers
 * it only to sockets it connects, not to those a server accepts. So the accepted socket's handle
 * is moved to a new Socket made with `onread`, the way Node's own server makes the first one:
 * through the undocumented `handle` option, from the socket's `_handle`, with `_server` (which
 * counts the connection for server.close()) moved along. Each is checked; where one is missing
 * (another Node version), the socket is left as it is and its owner reads it with 'data'. The
 * test of this module fails on a Node where the move stops working.
 */

/** What Node itself reads into per read: a read buffer of this size is one read at most. */
export const READ_BUFFER_BYTES = 64 * 1024;

/** The native stream handle underneath a net.Socket, as far as the move relies on it. */
interface StreamHandle {
  readStart(): number;
  readStop(): number;
  useUserBuffer(buffer: Uint8Array): void;
}

/** What Node keeps on an accepted socket, as far as the move relies on it. */
interface AcceptedInternals {
  _handle: unknown;
  _server: unknown;
}

function isStreamHandle(handle: unknown): handle is StreamHandle {
  if (typeof handle !== 'object' || handle === null) return false;
  const h = handle as Partial<Record<keyof StreamHandle, unknown>>;
  return typeof h.readStart === 'function' && typeof h.readStop === 'function' && typeof h.useUserBuffer === 'function';
}

/**
 * `accepted` (from a server made with pauseOnConnect, not yet read from) as a socket whose bytes
 * go to `onBytes`, read into `buffer`; null when this Node does not allow it, and `accepted` is
 * then untouched. `onBytes` gets a view of `buffer`, valid only until it returns: the next read
 * of any socket sharing the buffer overwrites it, so whatever must outlive the call is copied.
 */
export function readIntoSharedBuffer(accepted: Socket, buffer: Buffer, onBytes: (bytes: Buffer) => void): Socket | null {
  const internals = accepted as unknown as AcceptedInternals;
  const handle = internals._handle;
  if (!isStreamHandle(handle) || !('_server' in accepted) || accepted.readableFlowing !== false) return null;
  const options = {
    handle,
    allowHalfOpen: accepted.allowHalfOpen,
    onread: {
      buffer,
      callback: (bytes: number) => {
        onBytes(buffer.subarray(0, bytes));
        return true;
      },
    },
  };
  let socket: Socket;
  try {
    socket = new Socket(options as ConstructorParameters<typeof Socket>[0]);
  } catch {
    return null; // options this Node refuses: read the socket as accepted rather than crash
  }
  const moved = socket as unknown as AcceptedInternals;
  if (moved._handle !== handle) return null;
  // The server counts its connections down as their sockets are destroyed: the new socket is the
  // one that will be, and the old one must never touch the handle again.
  moved._server = internals._server;
  internals._server = null;
  internals._handle = null;
  return socket;
}
