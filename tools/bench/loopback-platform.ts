import { locateMessage } from '../../src/codec/terminal-envelope';
import { TPDU_LENGTH } from '../../src/codec/tpdu';
import { MTI_BYTES } from '../../src/iso8583/codec';
import type { FramedConnection } from '../../src/link/framed-connection';
import { LinkServer } from '../../src/link/server';

/**
 * A loopback platform's answer: the request itself with the TPDU addresses swapped (R-MSG-1) and
 * its MTI made the response's (0800 -> 0810), which the NAC checks.
 */
export function echoResponse(request: Buffer): Buffer {
  const response = Buffer.from(request);
  response.copy(response, 1, 3, 5);
  request.copy(response, 3, 1, 3);
  let mti = -1;
  try {
    mti = locateMessage(request);
  } catch {
    // Not a terminal message: echoed as it came.
  }
  if (mti >= 0 && response.length >= mti + MTI_BYTES) response[mti + 1] += 0x10;
  return response;
}

/**
 * The smallest platform for load tests: two ports; every request is echoed back at once with the
 * TPDU addresses swapped (the relay matches by TPDU and never unpacks the message). When the
 * connection a request came on has died, the answer goes out on a sibling, as a platform with
 * group return does (R-CONN-5).
 */
export class LoopbackPlatform {
  readonly server: LinkServer;

  constructor() {
    this.server = new LinkServer({
      name: 'loopback-platform',
      listen: [
        { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
        { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
      ],
      framing: 'binary2',
      idleTimeoutMs: 0,
    });
    this.server.on('frame', (payload, connection) => this.answer(payload, connection));
  }

  async start(): Promise<number[]> {
    await this.server.start();
    return this.server.ports;
  }

  private answer(request: Buffer, connection: FramedConnection): void {
    if (request.length < TPDU_LENGTH) return;
    const response = echoResponse(request);
    if (connection.send(response)) return;
    this.server.connections.find((c) => c !== null && c.isOpen)?.send(response);
  }

  /** Kill the connection on one port (the client reconnects by itself). */
  kill(portIndex: number): void {
    this.server.connections[portIndex]?.close();
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
