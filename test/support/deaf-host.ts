import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Link } from '../../src/link/link';

/**
 * A host on 127.0.0.1 that accepts connections and reads nothing until told to: what a platform
 * whose application has hung looks like from the NAC (its TCP stack still accepts and acks).
 */
export class DeafHost {
  readonly sockets: Socket[] = [];
  private readonly chunks: Buffer[] = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer({ pauseOnConnect: true }, (socket) => {
      this.sockets.push(socket);
      socket.on('error', () => undefined); // a reset by the NAC's close is expected here
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** Start reading on every connection, as a host that recovers. */
  listen(): void {
    for (const socket of this.sockets) {
      socket.on('data', (chunk: Buffer) => this.chunks.push(chunk));
      socket.resume();
    }
  }

  /**
   * Read on the first connection until `enough()` holds after a chunk, then stop reading again:
   * a host that is slow, not deaf.
   */
  async readUntil(enough: () => boolean): Promise<void> {
    const socket = this.sockets[0];
    await new Promise<void>((resolve) => {
      const onData = (data: Buffer): void => {
        this.chunks.push(data);
        if (!enough()) return;
        socket.pause();
        socket.off('data', onData);
        resolve();
      };
      socket.on('data', onData);
      socket.resume();
    });
  }

  /** Every byte read since `listen()`, in order. */
  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const FILLER = Buffer.alloc(2000, 0x5a);

/**
 * Send 2000-byte frames on `link` until at least `bytes` wait in its queue (the deaf host's
 * kernel buffers are full by then); fails rather than looping forever.
 */
export function fillBacklog(link: Link, bytes: number): void {
  for (let sent = 0; link.queuedBytes < bytes; sent++) {
    if (sent > 50_000) throw new Error(`no backlog of ${bytes} bytes after ${sent} frames`);
    if (!link.send(FILLER)) throw new Error(`${link.name} is not up`);
  }
}
