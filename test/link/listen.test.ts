import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { listenTcp } from '../../src/link/listen';
import { failOneAccept } from '../support/accept-failure';
import { until } from '../support/wait';

describe('listenTcp: a listening server and its later errors', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
  });

  it("an accept that fails after listening goes to the owner's handler, and the server goes on accepting", async () => {
    let accepted = 0;
    const server = createServer((socket) => {
      accepted++;
      socket.destroy();
    });
    servers.push(server);
    const errors: NodeJS.ErrnoException[] = [];
    const port = await listenTcp(server, 0, '127.0.0.1', (e) => errors.push(e));
    failOneAccept(port, 'ENOBUFS');
    failOneAccept(port, 'EPERM');
    assert.deepEqual(errors.map((e) => [e.code, e.syscall]), [['ENOBUFS', 'accept'], ['EPERM', 'accept']]);
    const client = connect({ host: '127.0.0.1', port });
    client.on('error', () => undefined);
    await until(() => accepted === 1, 'a connection accepted after the failures');
    client.destroy();
  });

  it('a port already taken rejects, and no error listener is left on the server', async () => {
    const holder = createServer();
    servers.push(holder);
    const port = await listenTcp(holder, 0, '127.0.0.1', () => assert.fail('no later error expected'));
    const second = createServer();
    servers.push(second);
    await assert.rejects(listenTcp(second, port, '127.0.0.1', () => undefined), /EADDRINUSE/);
    assert.equal(second.listenerCount('error'), 0);
  });
});
