/**
 * bench:relay's responders, in a process of their own (so their CPU is not the NAC's or the load
 * generator's): three echo servers, two for the NAC's platform links and one for the direct path
 * and socat. Every frame is answered at once with the TPDU addresses swapped and the MTI made
 * the response's (loopback-platform.ts: echoResponse), so the STAN comes back as sent.
 *
 * Usage: node relay-responder.js; prints "ports <platform 1> <platform 2> <direct>".
 */
import { createServer, type Server, type Socket } from 'node:net';
import { binary2, encodeLengthPrefixed, LengthPrefixedDecoder } from '../../src/codec/length-prefix';
import { echoResponse } from './loopback-platform';

function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket: Socket) => {
    socket.setNoDelay(true);
    const decoder = new LengthPrefixedDecoder(binary2);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) =>
      decoder.push(chunk, (e) => {
        if (e.type === 'frame') socket.write(encodeLengthPrefixed(binary2, echoResponse(e.frame)));
      }),
    );
  });
  return new Promise((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, () => resolve({ server, port: (server.address() as { port: number }).port })));
}

async function main(): Promise<void> {
  const servers = [await echoServer(), await echoServer(), await echoServer()];
  process.stdout.write(`ports ${servers.map((s) => s.port).join(' ')}\n`);
  process.on('SIGTERM', () => process.exit(0));
}

void main();
