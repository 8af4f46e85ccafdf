import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { ManualClock } from '../../src/clock';
import { fromHex, toHex } from '../../src/codec/hex';
import { Backoff } from '../../src/link/backoff';
import type { FramedConnection } from '../../src/link/framed-connection';
import { Link, type LinkOptions } from '../../src/link/link';
import { checkLinkHosts } from '../../src/link/link-group';
import { LinkServer, type LinkServerOptions } from '../../src/link/server';
import { freePort } from '../../tools/free-port';
import { failOneAccept } from '../support/accept-failure';
import { DeafHost, fillBacklog } from '../support/deaf-host';
import { nextEvent, until } from '../support/wait';

const SECOND = 1000;

describe('link: one duplex long connection', () => {
  let clock: ManualClock;
  let server: LinkServer;
  let links: Link[];
  let sockets: Socket[];

  async function startServer(options: Partial<LinkServerOptions> = {}): Promise<LinkServer> {
    server = new LinkServer({ name: 'platform', listen: [{ host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] }], framing: 'binary2', clock, ...options });
    await server.start();
    return server;
  }

  function link(options: Partial<LinkOptions> = {}): Link {
    const l = new Link({ name: `l${links.length}`, host: '127.0.0.1', port: server.ports[0], framing: 'binary2', clock, random: () => 0.5, ...options });
    links.push(l);
    return l;
  }

  async function up(l: Link): Promise<FramedConnection> {
    const accepted = nextEvent<[FramedConnection, number]>(server, 'connection');
    l.start();
    await nextEvent(l, 'state', (s) => s === 'up');
    return (await accepted)[0];
  }

  beforeEach(() => {
    clock = new ManualClock();
    links = [];
    sockets = [];
  });
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(links.map((l) => l.close()));
    await server.close();
  });

  it('R-CONN-2, R-CONN-4, R-FRAME-1: one connection carries frames both ways, accepted at once', async () => {
    await startServer();
    const l = link();
    const peer = await up(l);
    const atServer = nextEvent<[Buffer]>(peer, 'frame');
    assert.equal(l.send(fromHex('600003000160310031000008')), true);
    assert.equal(toHex((await atServer)[0]), '600003000160310031000008');
    const atClient = nextEvent<[Buffer]>(l, 'frame');
    peer.send(fromHex('6000010003'));
    assert.equal(toHex((await atClient)[0]), '6000010003');
    assert.equal(l.counters.framesOut, 1);
    assert.equal(l.counters.framesIn, 1);
  });

  it('R-IDLE-1: the client sends a two-zero-byte keep-alive after 120 s of silence; the server never answers it', async () => {
    await startServer();
    const l = link();
    const peer = await up(l);
    const keepalive = nextEvent(peer, 'keepalive');
    clock.advance(120 * SECOND - 1);
    assert.equal(l.counters.keepalivesOut, 0);
    clock.advance(1);
    await keepalive;
    assert.equal(l.counters.keepalivesOut, 1);
    assert.equal(peer.counters.keepalivesIn, 1);
    assert.equal(peer.counters.keepalivesOut, 0, 'a keep-alive is never answered with one');
    assert.equal(peer.counters.bytesIn, 2);
  });

  it('R-IDLE-1: the server drops a client it has not heard from for 180 s; the client reconnects (R-CONN-3)', async () => {
    await startServer();
    const l = link({ heartbeatMs: 0 });
    const peer = await up(l);
    const down = nextEvent(l, 'state', (s) => s === 'down');
    clock.advance(180 * SECOND);
    await down;
    assert.equal(server.counters.closed['idle-timeout'], 1);
    assert.equal(peer.isOpen, false);
    const again = nextEvent(server, 'connection');
    clock.advance(1 * SECOND); // first retry within 1 s
    await again;
    await until(() => l.isUp, 'link back up');
    assert.equal(l.counters.connects, 2);
  });

  it('R-IDLE-1, R-IDLE-4: any frame sent resets the keep-alive timer; any frame received resets the idle timer', async () => {
    await startServer();
    const l = link();
    const peer = await up(l);
    clock.advance(100 * SECOND);
    const atServer = nextEvent(peer, 'frame');
    l.send(fromHex('00'));
    await atServer;
    clock.advance(100 * SECOND); // 200 s since connect, 100 s since the frame
    assert.equal(l.counters.keepalivesOut, 0);
    assert.equal(peer.isOpen, true, 'the frame reset the server idle timer too');
    const keepalive = nextEvent(peer, 'keepalive');
    clock.advance(20 * SECOND);
    await keepalive;
    clock.advance(170 * SECOND); // keep-alives every 120 s keep the server from dropping us
    await until(() => peer.counters.keepalivesIn === 2, 'second keep-alive');
    assert.equal(peer.isOpen, true);
  });

  it('R-IDLE-2, R-IDLE-4: channel format: both sides send "0000" after their own silence; configurable intervals', async () => {
    await startServer({ framing: 'ascii4', heartbeatMs: 50 * SECOND, idleTimeoutMs: 90 * SECOND });
    const l = link({ framing: 'ascii4', heartbeatMs: 30 * SECOND, idleTimeoutMs: 90 * SECOND });
    const peer = await up(l);
    const fromClient = nextEvent(peer, 'keepalive');
    clock.advance(30 * SECOND);
    await fromClient;
    clock.advance(20 * SECOND);
    await until(() => l.counters.keepalivesIn === 1, 'server keep-alive at 50 s');
    assert.equal(peer.counters.bytesIn, 4, 'ascii4 keep-alive is the 4 characters 0000');
    assert.equal(l.counters.keepalivesOut, 1);
    assert.equal(peer.counters.keepalivesOut, 1, 'each side on its own timer, never an echo');
  });

  it('R-IDLE-2: a channel-format client drops a silent server after 180 s and reconnects', async () => {
    await startServer({ framing: 'ascii4', heartbeatMs: 0 });
    const l = link({ framing: 'ascii4' });
    await up(l);
    const down = nextEvent(l, 'state', (s, reason) => s === 'down' && reason === 'idle-timeout');
    clock.advance(180 * SECOND);
    await down;
    clock.advance(2 * SECOND); // the first retry, after 1-2 s
    await until(() => l.isUp, 'link back up');
    assert.equal(l.counters.connects, 2);
  });

  it('R-IDLE-3: merchant format: the merchant\'s ascii4 server sends "0000" after 120 s and drops a platform client silent for 180 s, which reconnects', async () => {
    await startServer({ framing: 'ascii4' }); // the merchant, with the format's defaults
    const l = link({ framing: 'ascii4', heartbeatMs: 0 }); // the platform as client, gone quiet
    const merchant = await up(l);
    clock.advance(120 * SECOND);
    await until(() => l.counters.keepalivesIn === 1, 'the merchant\'s keep-alive at 120 s');
    assert.equal(merchant.counters.keepalivesOut, 1);
    const down = nextEvent(l, 'state', (s) => s === 'down');
    clock.advance(60 * SECOND);
    await down;
    assert.equal(server.counters.closed['idle-timeout'], 1, 'dropped by the merchant for silence');
    clock.advance(2 * SECOND); // the first retry, after 1-2 s
    await until(() => l.isUp, 'platform client back up');
    assert.equal(l.counters.connects, 2);
  });

  it('R-CONN-3: after the server goes away the link retries with backoff and comes back when it returns', async () => {
    await startServer();
    const port = server.ports[0];
    const l = link();
    await up(l);
    await server.close();
    await until(() => l.state === 'down', 'link down');
    clock.advance(1 * SECOND); // retry 1: refused
    await until(() => l.counters.connectFailures === 1 && l.state === 'down', 'first retry refused');
    server = new LinkServer({ name: 'platform', listen: [{ host: '127.0.0.1', port, allow: ['127.0.0.1'] }], framing: 'binary2', clock });
    await server.start();
    clock.advance(2 * SECOND); // retry 2 after 1-2 s
    await until(() => l.isUp, 'link back up');
  });

  it('R-CONN-3: a connect not completed within the connect timeout is abandoned (counted) and retried', async () => {
    await startServer();
    const l = link({ connectTimeoutMs: 5 * SECOND });
    const states: [string, string | undefined][] = [];
    l.on('state', (state, reason) => states.push([state, reason]));
    l.start();
    // Synchronously after start(): the connect needs a turn of the event loop, so it is still pending.
    clock.advance(5 * SECOND);
    assert.deepEqual(states, [
      ['connecting', undefined],
      ['down', 'connect-timeout'],
    ]);
    assert.equal(l.counters.connectFailures, 1);
    clock.advance(1 * SECOND); // the first retry comes within 1 s
    await until(() => l.isUp, 'link up on the retry');
    assert.equal(l.counters.connects, 1);
  });

  it('R-FRAME-1: frames split across reads and coalesced in one come out whole, and stay intact after later reads', async () => {
    await startServer(); // for afterEach; this test's peer is a raw socket
    const frames = Array.from({ length: 40 }, (_, i) => Buffer.alloc(20 + i * 37, i + 1));
    const wire = Buffer.concat(frames.map((f) => Buffer.concat([Buffer.from([f.length >> 8, f.length & 0xff]), f])));
    const raw = createServer((socket) => {
      // cut the stream at awkward places: inside prefixes, inside bodies, several frames at once
      let at = 0;
      const cuts = [1, 3, 50, 51, 400, 401, 402, 2000, 7000, wire.length];
      const next = (): void => {
        const end = cuts.shift();
        if (end === undefined) return;
        socket.write(wire.subarray(at, end));
        at = end;
        setTimeout(next, 2);
      };
      next();
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', () => resolve()));
    const l = link({ port: (raw.address() as { port: number }).port });
    const received: Buffer[] = [];
    l.on('frame', (payload) => received.push(payload));
    l.start();
    try {
      await until(() => received.length === frames.length, 'every frame');
      received.forEach((payload, i) => assert.ok(payload.equals(frames[i]), `frame ${i} intact`));
      assert.equal(l.counters.bytesIn, wire.length);
    } finally {
      await l.close();
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
  });

  it('R-FRAME-1, R-CONN-3: an oversized length from the host drops the link (counted) and it reconnects', async () => {
    await startServer(); // for afterEach; this test's peer is a raw socket
    let connections = 0;
    const raw = createServer((socket) => {
      connections++;
      socket.on('error', () => undefined);
      socket.write(Buffer.from([0xff, 0xff, 1, 2, 3]));
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', () => resolve()));
    const l = link({ port: (raw.address() as { port: number }).port });
    try {
      const down = nextEvent(l, 'state', (s, reason) => s === 'down' && reason === 'framing-error');
      l.start();
      await down;
      assert.equal(l.counters.framingErrors, 1);
      clock.advance(1 * SECOND);
      await until(() => connections === 2, 'reconnected');
    } finally {
      await l.close();
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
  });

  it('R-CONN-3: backoff: first retry within 1 s, doubling, capped (default 30 s), jittered into [d/2, d]', () => {
    const high = new Backoff({ random: () => 0.999999 });
    const delays = Array.from({ length: 8 }, () => high.next());
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    const low = new Backoff({ random: () => 0, maxMs: 5000 });
    assert.deepEqual(Array.from({ length: 5 }, () => low.next()), [500, 1000, 2000, 2500, 2500]);
    low.reset();
    assert.equal(low.next(), 500);
  });

  it('R-CONN-1: two links to different hosts are required unless a bench opts out (with a warning)', () => {
    assert.equal(checkLinkHosts(['10.0.0.1', '10.0.0.2'], false), null);
    assert.throws(() => checkLinkHosts(['10.0.0.1'], false), /R-CONN-1/);
    assert.throws(() => checkLinkHosts(['10.0.0.1', '10.0.0.1'], false), /same host/);
    assert.equal(checkLinkHosts(['127.0.0.1'], true), '1 link(s); the platform spec wants at least two (R-CONN-1); allowed by allowSingleLink');
  });

  describe('R-CONN-6: allow-list and one socket per port', () => {
    function rawConnect(port: number, localAddress?: string): Promise<Socket> {
      return new Promise((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
        s.on('error', reject);
        sockets.push(s);
      });
    }

    it('a port already taken fails start() with EADDRINUSE, and the ports bound before it are released', async () => {
      const listenOn = async (port: number) => {
        const s = createServer();
        await new Promise<void>((resolve, reject) => s.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
        return s;
      };
      const firstPort = await freePort();
      const holder = await listenOn(0);
      const takenPort = (holder.address() as { port: number }).port;
      try {
        server = new LinkServer({
          name: 'platform',
          listen: [
            { host: '127.0.0.1', port: firstPort, allow: ['127.0.0.1'] },
            { host: '127.0.0.1', port: takenPort, allow: ['127.0.0.1'] },
          ],
          framing: 'binary2',
          clock,
        });
        await assert.rejects(server.start(), /EADDRINUSE/);
        assert.deepEqual(server.ports, []);
        // The first port is free again: nothing is left listening to hold the process open.
        const again = await listenOn(firstPort);
        await new Promise<void>((resolve) => again.close(() => resolve()));
      } finally {
        await new Promise<void>((resolve) => holder.close(() => resolve()));
      }
    });

    it('refuses 127.0.0.2 while allowing 127.0.0.1, before reading a byte; counted', async () => {
      await startServer();
      const refused = nextEvent<[string, number, string]>(server, 'refused');
      const stranger = await rawConnect(server.ports[0], '127.0.0.2');
      stranger.write(fromHex('0002AABB'));
      const [address, , reason] = await refused;
      assert.equal(address, '127.0.0.2');
      assert.equal(reason, 'not-allowed');
      await nextEvent(stranger, 'close');
      const accepted = nextEvent(server, 'connection');
      await rawConnect(server.ports[0], '127.0.0.1');
      await accepted;
      assert.deepEqual(server.counters.refused, { 'not-allowed': 1, 'port-busy': 0 });
      assert.equal(server.counters.accepted, 1);
    });

    it('an accept that fails at the system is counted and the port goes on accepting', async () => {
      await startServer();
      failOneAccept(server.ports[0]);
      assert.equal(server.counters.acceptErrors, 1);
      const accepted = nextEvent(server, 'connection');
      await rawConnect(server.ports[0], '127.0.0.1');
      await accepted;
      assert.equal(server.counters.accepted, 1);
    });

    it('CIDR blocks allow a range', async () => {
      await startServer({ listen: [{ host: '127.0.0.1', port: 0, allow: ['127.0.0.0/30'] }] });
      const accepted = nextEvent<[FramedConnection]>(server, 'connection');
      await rawConnect(server.ports[0], '127.0.0.3');
      assert.equal((await accepted)[0].remoteAddress, '127.0.0.3');
      const refused = nextEvent<[string, number, string]>(server, 'refused');
      await rawConnect(server.ports[0], '127.0.0.4');
      assert.deepEqual(await refused, ['127.0.0.4', server.ports[0], 'not-allowed']);
      assert.equal(server.counters.refused['not-allowed'], 1);
    });

    it('policy replace (default): an allowed newcomer replaces the open socket once it sends a message, not before (nothing, or a keep-alive, does not count)', async () => {
      await startServer();
      const first = nextEvent<[FramedConnection]>(server, 'connection');
      const old = await rawConnect(server.ports[0]);
      const oldConnection = (await first)[0];
      const second = nextEvent<[FramedConnection]>(server, 'connection');
      const newcomer = await rawConnect(server.ports[0]);
      const newConnection = (await second)[0];
      newcomer.write(Buffer.from([0, 0]));
      await until(() => newConnection.counters.keepalivesIn === 1, 'the keep-alive read');
      assert.equal(oldConnection.isOpen, true, 'a silent or keep-alive-only newcomer leaves the open socket alone');
      assert.equal(server.connections[0], oldConnection);
      const frame = nextEvent<[Buffer, FramedConnection]>(server, 'frame');
      newcomer.write(Buffer.from([0, 2, 0x60, 0x00]));
      assert.equal((await frame)[1], newConnection, 'the newcomer\'s frame is delivered with its connection');
      await nextEvent(old, 'close');
      assert.equal(server.connections[0], newConnection);
      assert.equal(oldConnection.isOpen, false);
      assert.equal(server.counters.replaced, 1);
      assert.equal(server.counters.closed.replaced, 1);
    });

    it('policy refuse: the open socket stays and the newcomer is refused', async () => {
      await startServer({ onSecondConnection: 'refuse' });
      const first = nextEvent<[FramedConnection]>(server, 'connection');
      await rawConnect(server.ports[0]);
      const kept = (await first)[0];
      const refused = nextEvent<[string, number, string]>(server, 'refused');
      const late = await rawConnect(server.ports[0]);
      assert.equal((await refused)[2], 'port-busy');
      await nextEvent(late, 'close');
      assert.equal(kept.isOpen, true);
    });
  });

  describe('bad input ends in a counted drop or a closed socket, never a crash', () => {
    async function rawClient(): Promise<[Socket, FramedConnection]> {
      const accepted = nextEvent<[FramedConnection]>(server, 'connection');
      const s = connect({ host: '127.0.0.1', port: server.ports[0] });
      sockets.push(s);
      await nextEvent(s, 'connect');
      return [s, (await accepted)[0]];
    }

    it('R-FRAME-1: an oversized length closes the socket, counted as a framing error', async () => {
      await startServer();
      const [s, peer] = await rawClient();
      s.write(fromHex('0801'));
      await nextEvent(s, 'close');
      assert.equal(peer.counters.framingErrors, 1);
      assert.equal(server.counters.closed['framing-error'], 1);
    });

    it('R-FRAME-2: garbage on an ascii4 port closes the socket, counted', async () => {
      await startServer({ framing: 'ascii4' });
      const [s, peer] = await rawClient();
      s.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
      await nextEvent(s, 'close');
      assert.equal(peer.counters.framingErrors, 1);
    });

    it('R-IDLE-1: half a frame then silence is closed by the idle timeout', async () => {
      await startServer();
      const [s, peer] = await rawClient();
      s.write(fromHex('0010AABB'));
      await until(() => peer.counters.bytesIn === 4, 'half frame arrived');
      clock.advance(180 * SECOND);
      await nextEvent(s, 'close');
      assert.equal(server.counters.closed['idle-timeout'], 1);
      assert.equal(peer.counters.framesIn, 0);
    });
  });
});

describe('link: a host that accepts but stops reading', () => {
  let clock: ManualClock;
  let host: DeafHost;
  let l: Link;

  async function deafLink(options: Partial<LinkOptions> = {}): Promise<void> {
    clock = new ManualClock();
    host = new DeafHost();
    const port = await host.start();
    l = new Link({ name: 'deaf', host: '127.0.0.1', port, framing: 'binary2', clock, random: () => 0.5, heartbeatMs: 0, ...options });
    l.start();
    await nextEvent(l, 'state', (s) => s === 'up');
  }

  afterEach(async () => {
    await l.close();
    await host.close();
  });

  it('R-CONN-3: a host that takes none of the backlog for writeStallMs has its connection dropped as write-stalled (counted); the link reconnects', async () => {
    await deafLink({ writeStallMs: 30 * SECOND });
    fillBacklog(l, 64 * 1024);
    clock.advance(30 * SECOND - 1);
    assert.equal(l.isUp, true, 'not before the stall time');
    const down = nextEvent<[string, string]>(l, 'state', (s) => s === 'down');
    clock.advance(1);
    assert.equal((await down)[1], 'write-stalled');
    assert.deepEqual(l.counters.disconnectsBy, { 'write-stalled': 1 });
    assert.equal(l.queuedBytes, 0, 'the backlog went with its connection');
    clock.advance(1 * SECOND); // first retry within 1 s
    await until(() => l.isUp, 'link back up');
    assert.equal(l.counters.connects, 2);
  });

  it('a backlog that drains in time cancels the stall: the connection stays and carries the next frame', async () => {
    await deafLink({ writeStallMs: 30 * SECOND });
    fillBacklog(l, 64 * 1024);
    clock.advance(20 * SECOND);
    const drained = nextEvent(l, 'drain');
    host.listen();
    await drained;
    clock.advance(20 * SECOND); // 40 s after the first backlog began
    assert.equal(l.isUp, true);
    assert.equal(l.counters.disconnects, 0);
    assert.equal(l.send(Buffer.from('6000030001', 'hex')), true);
    await until(() => host.received.subarray(-7).toString('hex') === '00056000030001', 'the next frame read by the host');
  });

  it('a host that takes some of the backlog in a stall period, if slowly, gets another period; then none taken drops it', async () => {
    await deafLink({ writeStallMs: 30 * SECOND });
    fillBacklog(l, 16 * 1024 * 1024); // far more than the kernel buffers take when the host reads
    clock.advance(20 * SECOND);
    const queued = l.queuedBytes;
    await host.readUntil(() => l.queuedBytes < queued); // some of the backlog taken by the system
    clock.advance(10 * SECOND); // the first period ends with progress
    assert.equal(l.isUp, true, 'the host read something: not stalled');
    assert.ok(l.queuedBytes > 0, 'still a backlog: no drain came to cancel the watch');
    const down = nextEvent<[string, string]>(l, 'state', (s) => s === 'down');
    clock.advance(30 * SECOND); // a whole period with nothing taken
    assert.equal((await down)[1], 'write-stalled');
  });

  it('a maxQueuedBytes below the socket\'s drain threshold counts as that threshold, so the drain that ends a backlog always comes', async () => {
    await deafLink({ maxQueuedBytes: 1, writeStallMs: 0 });
    fillBacklog(l, 1);
    assert.equal(l.isReady, true, 'a byte queued is not yet a backlog');
    fillBacklog(l, 16 * 1024);
    assert.equal(l.isReady, false);
    const drained = nextEvent(l, 'drain');
    host.listen();
    await drained;
    assert.equal(l.isReady, true);
  });

  it('more than maxQueuedBytes queued makes the link not ready for new requests until it drains', async () => {
    await deafLink({ maxQueuedBytes: 32 * 1024, writeStallMs: 0 });
    assert.equal(l.isReady, true);
    fillBacklog(l, 32 * 1024);
    assert.equal(l.isUp, true);
    assert.equal(l.isReady, false);
    clock.advance(10 * 60 * SECOND);
    assert.equal(l.isUp, true, 'writeStallMs 0: never dropped for a stall');
    const drained = nextEvent(l, 'drain');
    host.listen();
    await drained;
    assert.equal(l.isReady, true);
  });
});
