import assert from 'node:assert/strict';
import { connect, createServer, Socket, type Server } from 'node:net';
import { listenTcp } from '../../src/link/listen';
import { readIntoSharedBuffer } from '../../src/link/shared-read-buffer';
import { until } from '../support/wait';

/** A server paused on connect whose accepted sockets all read into one small buffer. */
async function sharedBufferServer(buffer: Buffer): Promise<{ server: Server; port: number; moved: Socket[]; received: Map<Socket, Buffer[]> }> {
  const moved: Socket[] = [];
  const received = new Map<Socket, Buffer[]>();
  const server = createServer({ pauseOnConnect: true }, (accepted) => {
    const chunks: Buffer[] = [];
    // A copy per call: the view is only valid until the callback returns.
    const socket = readIntoSharedBuffer(accepted, buffer, (bytes) => chunks.push(Buffer.from(bytes)));
    assert.ok(socket, 'this Node lets an accepted socket read into a shared buffer');
    socket.on('error', () => undefined);
    received.set(socket, chunks);
    moved.push(socket);
  });
  const port = await listenTcp(server, 0, '127.0.0.1', () => undefined);
  return { server, port, moved, received };
}

function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.on('error', reject);
  });
}

describe('readIntoSharedBuffer: accepted sockets reading into one buffer', () => {
  const opened: Socket[] = [];
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) s.destroy();
    for (const server of servers.splice(0)) {
      if (!server.listening) continue;
      let closed = false;
      server.close(() => (closed = true));
      await until(() => closed, 'server.close() once the connections are gone');
    }
  });

  it('two connections share the buffer and each gets its own bytes, all of them, in order; writes reach the peer', async () => {
    const { server, port, moved, received } = await sharedBufferServer(Buffer.alloc(16));
    servers.push(server);
    const a = await client(port);
    const b = await client(port);
    opened.push(a, b);
    await until(() => moved.length === 2, 'both connections accepted');
    // More than the buffer holds, so each arrives in several reads of the one buffer.
    const fromA = Buffer.from('A'.repeat(40) + '-end of a');
    const fromB = Buffer.from('b'.repeat(37) + '-end of b');
    a.write(fromA);
    b.write(fromB);
    const total = (s: Socket) => Buffer.concat(received.get(s) ?? []);
    await until(() => moved.every((s) => total(s).length > 0) && total(moved[0]).length + total(moved[1]).length === fromA.length + fromB.length, 'every byte read');
    const got = moved.map(total).sort((x, y) => x.length - y.length);
    assert.deepEqual(got, [fromA, fromB].sort((x, y) => x.length - y.length));
    assert.ok((received.get(moved[0]) ?? []).length > 1, 'read through the 16-byte buffer more than once');

    const answers: Buffer[] = [];
    a.on('data', (chunk: Buffer) => answers.push(chunk));
    const toA = moved.find((s) => total(s).equals(fromA)) as Socket;
    toA.write('answer');
    await until(() => Buffer.concat(answers).toString() === 'answer', 'the answer at the peer');
  });

  it("a peer's end is seen ('end', then 'close'), and server.close() completes once the moved sockets are gone", async () => {
    const { server, port, moved } = await sharedBufferServer(Buffer.alloc(64));
    servers.push(server);
    const a = await client(port);
    const b = await client(port);
    opened.push(a, b);
    await until(() => moved.length === 2, 'both connections accepted');
    const events: string[] = [];
    moved[0].on('end', () => events.push('end'));
    moved[0].on('close', () => events.push('close'));
    a.end();
    await until(() => events.includes('close'), "the moved socket's close after the peer ended");
    assert.deepEqual(events, ['end', 'close']);

    // The server counts the moved sockets as its connections: close() waits for the one left.
    let serverClosed = false;
    server.close(() => (serverClosed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(serverClosed, false, 'server.close() waits for the connection still open');
    moved[1].destroy();
    await until(() => serverClosed, 'server.close() once every moved socket is destroyed');
  });

  it('a socket already reading, or one with no handle, is left as it is', async () => {
    let result: Socket | null | undefined;
    const server = createServer((accepted) => {
      // Not paused on connect: Node may have read from it already, so it must not be moved.
      result = readIntoSharedBuffer(accepted, Buffer.alloc(64), () => assert.fail('no bytes expected'));
      accepted.destroy();
    });
    servers.push(server);
    const port = await listenTcp(server, 0, '127.0.0.1', () => undefined);
    const a = connect({ host: '127.0.0.1', port });
    a.on('error', () => undefined);
    opened.push(a);
    await until(() => result !== undefined, 'the connection accepted');
    assert.equal(result, null);
    assert.equal(readIntoSharedBuffer(new Socket(), Buffer.alloc(64), () => undefined), null);
  });
});
