/**
 * The plainest relay Node can run, for bench:relay's reference row: each accepted connection gets
 * its own upstream connection and bytes are copied both ways as they come, with no framing and no
 * logic. What it adds over socat is what ordinary Node sockets ('data' events, one write each) cost.
 *
 * Usage: node node-pipe.js <upstream port>; prints "listening <port>".
 */
import { connect, createServer, type Socket } from 'node:net';

const upstreamPort = Number(process.argv[2]);

const server = createServer((downstream: Socket) => {
  const upstream = connect({ host: '127.0.0.1', port: upstreamPort });
  for (const socket of [downstream, upstream]) {
    socket.setNoDelay(true);
    socket.on('error', () => {
      downstream.destroy();
      upstream.destroy();
    });
    socket.on('close', () => {
      downstream.destroy();
      upstream.destroy();
    });
  }
  downstream.on('data', (chunk) => upstream.write(chunk));
  upstream.on('data', (chunk) => downstream.write(chunk));
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
