import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock';
import { fromHex, toHex } from '../../src/codec/hex';
import type { FramedConnection } from '../../src/link/framed-connection';
import { Link } from '../../src/link/link';
import { LinkGroup, RequestFailed, type PendingKeys } from '../../src/link/link-group';
import { LinkServer } from '../../src/link/server';
import { DeafHost, fillBacklog } from '../support/deaf-host';
import { twoPortServer } from '../support/link-server';
import { nextEvent, until } from '../support/wait';

/** Test frames: byte 0 = key, byte 1 = 0x01 request / 0x02 response. */
const keys: PendingKeys = {
  request: (p) => (p[1] === 1 ? String(p[0]) : null),
  response: (p) => (p[1] === 2 ? String(p[0]) : null),
};
const request = (key: number) => Buffer.from([key, 1]);
const response = (key: number) => Buffer.from([key, 2]);

describe('link group: two links acting as one', () => {
  let clock: ManualClock;
  let server: LinkServer;
  let group: LinkGroup;

  /** Two ports of one simulated platform; each connection by port. */
  async function setUp(responseTimeoutMs = 60_000): Promise<void> {
    clock = new ManualClock();
    server = await twoPortServer('platform', clock);
    const links = server.ports.map(
      (port, i) => new Link({ name: `link${i + 1}`, host: '127.0.0.1', port, framing: 'binary2', clock, random: () => 0.5 }),
    );
    // Both links go to 127.0.0.1: a loopback bench is the allowSingleLink case of R-CONN-1.
    group = new LinkGroup({ name: 'cups', links, keys, clock, responseTimeoutMs, allowSingleLink: true });
    group.start();
    await until(() => group.upLinks.length === 2 && server.connections.every((c) => c !== null), 'both links up');
  }

  afterEach(async () => {
    await group.close();
    await server.close();
  });

  const connectionOf = (port: number): FramedConnection => server.connections[server.ports.indexOf(port)] as FramedConnection;

  it('R-CONN-5: a response returning on the other link answers its request', async () => {
    await setUp();
    const arrived = nextEvent<[Buffer, FramedConnection, number]>(server, 'frame');
    const answer = group.request(request(7));
    const [, , port] = await arrived;
    const other = server.ports.find((p) => p !== port) as number;
    connectionOf(other).send(response(7));
    assert.equal(toHex(await answer), '0702');
    assert.equal(group.counters.answered, 1);
  });

  it('R-CONN-5: a request whose link is killed after sending is still answered through the sibling', async () => {
    await setUp();
    const arrived = nextEvent<[Buffer, FramedConnection, number]>(server, 'frame');
    const answer = group.request(request(9));
    const [, connection, port] = await arrived;
    connection.close(); // the link the request left on dies
    await until(() => group.upLinks.length === 1, 'one link left');
    const other = server.ports.find((p) => p !== port) as number;
    connectionOf(other).send(response(9));
    assert.equal(toHex(await answer), '0902');
    assert.equal(group.pendingCount, 0);
  });

  it('requests spread over the up links: fewest outstanding first, then round robin', async () => {
    await setUp();
    const seen: number[] = [];
    server.on('frame', (_p, _c, port) => seen.push(port));
    const answers = [1, 2, 3, 4].map((k) => group.request(request(k)).catch(() => null));
    await until(() => seen.length === 4, 'four requests');
    assert.deepEqual(
      server.ports.map((p) => seen.filter((s) => s === p).length),
      [2, 2],
    );
    for (const k of [1, 2, 3, 4]) connectionOf(server.ports[0]).send(response(k));
    await Promise.all(answers);
  });

  it('a duplicate in-flight key is refused and counted', async () => {
    await setUp();
    const first = group.request(request(5));
    await assert.rejects(group.request(request(5)), (e: RequestFailed) => e.reason === 'duplicate');
    assert.equal(group.counters.failed.duplicate, 1);
    connectionOf(server.ports[1]).send(response(5));
    await first;
  });

  it('a request nobody answers times out with its reason and a count', async () => {
    await setUp(30_000);
    const answer = group.request(request(3));
    await nextEvent(server, 'frame');
    clock.advance(30_000);
    await assert.rejects(answer, (e: RequestFailed) => e.reason === 'timeout' && e.code === 'REQUEST_TIMEOUT');
    assert.equal(group.counters.failed.timeout, 1);
    assert.equal(group.pendingCount, 0);
  });

  it('a response nobody waits for goes to the unmatched handler and a counter', async () => {
    await setUp();
    const unmatched = nextEvent<[Buffer]>(group, 'unmatched');
    connectionOf(server.ports[0]).send(response(42));
    assert.equal(toHex((await unmatched)[0]), '2A02');
    assert.equal(group.counters.unmatched, 1);
  });

  it('with no link up a request waits for one up to its own deadline, then expires, never sent', async () => {
    await setUp(5_000);
    for (const c of server.connections) c?.close();
    await until(() => group.upLinks.length === 0, 'links down');
    await server.close();
    const waitsInVain = group.request(request(1));
    clock.advance(4_999);
    assert.equal(group.counters.failed.expired, 0, 'still waiting within its deadline');
    clock.advance(1);
    await assert.rejects(waitsInVain, (e: RequestFailed) => e.reason === 'expired' && /never sent/.test(e.message));
    assert.equal(group.counters.failed.expired, 1);
    assert.equal(group.counters.sent, 0);
  });

  it('a request waiting for a link is sent as soon as one comes up', async () => {
    await setUp(60_000);
    const ports = server.ports;
    for (const c of server.connections) c?.close();
    await until(() => group.upLinks.length === 0, 'links down');
    await server.close();
    const waiting = group.request(request(2));
    server = new LinkServer({ name: 'platform', listen: ports.map((port) => ({ host: '127.0.0.1', port, allow: ['127.0.0.1'] })), framing: 'binary2', clock });
    server.on('frame', (payload, connection) => connection.send(response(payload[0])));
    await server.start();
    clock.advance(1_000);
    assert.equal(toHex(await waiting), '0202');
  });

  it('a link whose requests time out 3 times in a row with nothing received on it is dropped (unanswered) and reconnects; anything received breaks the streak', async () => {
    await setUp();
    const [link1, link2] = group.links;
    const timedOut = (answer: Promise<Buffer>) => assert.rejects(answer, (e: RequestFailed) => e.reason === 'timeout');
    const first = [1, 2, 3, 4].map((k) => group.request(request(k))); // two on each link
    clock.advance(60_000);
    await Promise.all(first.map(timedOut));
    const unmatched = nextEvent(group, 'unmatched');
    connectionOf(server.ports[0]).send(response(99)); // something arrives on link1 only
    await unmatched;
    const second = [5, 6].map((k) => group.request(request(k))); // one on each link
    const down = nextEvent<[Link, string, string]>(group, 'link-state', (_l, state) => state === 'down');
    clock.advance(60_000);
    await Promise.all(second.map(timedOut));
    const [gone, , reason] = await down;
    assert.equal(gone, link2, 'the third silent timeout in a row on link2');
    assert.equal(reason, 'unanswered');
    assert.deepEqual(link2.counters.disconnectsBy, { unanswered: 1 });
    assert.equal(link1.counters.disconnects, 0, 'link1 heard something: its streak started again');
    clock.advance(1_000);
    await until(() => link2.isUp, 'link2 back up');
  });

  it('close() fails what is pending with reason closed', async () => {
    await setUp();
    const answer = group.request(request(8));
    await nextEvent(server, 'frame');
    await group.close();
    await assert.rejects(answer, (e: RequestFailed) => e.reason === 'closed');
  });

  it('R-CONN-1: the group refuses links to one host unless allowSingleLink, which leaves a warning', async () => {
    await setUp();
    assert.match(group.warning ?? '', /same host/);
    const sameHost = [new Link({ name: 'a', host: '10.0.0.1', port: 1, framing: 'binary2' }), new Link({ name: 'b', host: '10.0.0.1', port: 2, framing: 'binary2' })];
    assert.throws(() => new LinkGroup({ name: 'x', links: sameHost, keys }), /R-CONN-1/);
    assert.throws(() => new LinkGroup({ name: 'x', links: sameHost.slice(0, 1), keys }), /at least two/);
    const twoHosts = [new Link({ name: 'a', host: '10.0.0.1', port: 1, framing: 'binary2' }), new Link({ name: 'b', host: '10.0.0.2', port: 1, framing: 'binary2' })];
    assert.equal(new LinkGroup({ name: 'x', links: twoHosts, keys }).warning, null);
  });

  it('a frame that is neither keyed request nor response is unmatched, not lost', async () => {
    await setUp();
    const unmatched = nextEvent<[Buffer]>(group, 'unmatched');
    connectionOf(server.ports[1]).send(fromHex('FFFF'));
    await unmatched;
    assert.equal(group.counters.unmatched, 1);
  });
});

describe('link group: a host that stops reading', () => {
  const BACKLOG = 32 * 1024;
  let clock: ManualClock;
  let hosts: DeafHost[];
  let links: Link[];
  let group: LinkGroup;

  beforeEach(async () => {
    clock = new ManualClock();
    hosts = [new DeafHost(), new DeafHost()];
    const ports = await Promise.all(hosts.map((h) => h.start()));
    links = ports.map(
      (port, i) => new Link({ name: `link${i + 1}`, host: '127.0.0.1', port, framing: 'binary2', clock, random: () => 0.5, heartbeatMs: 0, writeStallMs: 0, maxQueuedBytes: BACKLOG }),
    );
    group = new LinkGroup({ name: 'cups', links, keys, clock, allowSingleLink: true });
    group.start();
    await until(() => group.upLinks.length === 2, 'both links up');
  });

  afterEach(async () => {
    await group.close();
    await Promise.all(hosts.map((h) => h.close()));
  });

  it('new requests go around a backlogged link to its sibling', async () => {
    fillBacklog(links[0], BACKLOG);
    const before = links[0].counters.framesOut;
    const answers = [1, 2, 3].map((k) => group.request(request(k)));
    assert.equal(links[0].counters.framesOut, before, 'nothing more on the backlogged link');
    assert.equal(links[1].counters.framesOut, 3);
    await group.close();
    for (const answer of answers) await assert.rejects(answer, (e: RequestFailed) => e.reason === 'closed');
  });

  it('with every link backlogged a request waits, and leaves on the first link to drain', async () => {
    for (const link of links) fillBacklog(link, BACKLOG);
    const answer = group.request(request(5));
    assert.equal(group.counters.sent, 0, 'held back, not queued behind the backlog');
    hosts[1].listen();
    await until(() => group.counters.sent === 1, 'sent after the drain');
    await until(() => toHex(hosts[1].received.subarray(-4)) === '00020501', 'the request read by the host');
    await group.close();
    await assert.rejects(answer, (e: RequestFailed) => e.reason === 'closed');
  });

  it('with every link backlogged until its deadline, the request expires, never sent', async () => {
    for (const link of links) fillBacklog(link, BACKLOG);
    const answer = group.request(request(6));
    clock.advance(60_000);
    await assert.rejects(answer, (e: RequestFailed) => e.reason === 'expired' && /never sent/.test(e.message));
    assert.equal(group.counters.failed.expired, 1);
    assert.equal(group.counters.sent, 0);
  });

  it('time spent waiting for a link counts against the deadline: sent 40 s into its 60 s, it times out 20 s later', async () => {
    for (const link of links) fillBacklog(link, BACKLOG);
    const answer = group.request(request(7));
    clock.advance(40_000);
    hosts[1].listen();
    await until(() => group.counters.sent === 1, 'sent once a link drained');
    let settled = false;
    void answer.catch(() => undefined).finally(() => (settled = true));
    clock.advance(19_999);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'still within the deadline it has had since it was submitted');
    clock.advance(1);
    await assert.rejects(answer, (e: RequestFailed) => e.reason === 'timeout');
  });

  it('requests that time out with nothing received on either link drop both (unanswered), each after its third', async () => {
    const answers = [1, 2, 3, 4, 5, 6].map((k) => group.request(request(k)));
    assert.deepEqual(links.map((l) => l.counters.framesOut), [3, 3]);
    clock.advance(60_000);
    for (const answer of answers) await assert.rejects(answer, (e: RequestFailed) => e.reason === 'timeout');
    await until(() => links.every((l) => !l.isUp), 'both links dropped');
    assert.deepEqual(links.map((l) => l.counters.disconnectsBy), [{ unanswered: 1 }, { unanswered: 1 }]);
    clock.advance(1_000);
    await until(() => links.every((l) => l.isUp), 'both links back');
  });

  it('timeouts of requests sent before a reconnect do not count against the new connection', async () => {
    const [link] = links;
    const single = new LinkGroup({ name: 'one', links: [link], keys, clock, allowSingleLink: true });
    try {
      const old = [1, 2].map((k) => single.request(request(k)));
      link.drop();
      await until(() => !link.isUp, 'link down');
      clock.advance(1_000);
      await until(() => link.isUp, 'link back up');
      const current = single.request(request(3));
      clock.advance(60_000);
      for (const answer of [...old, current]) await assert.rejects(answer, (e: RequestFailed) => e.reason === 'timeout');
      assert.equal(link.isUp, true, 'only one silent timeout on this connection');
      assert.deepEqual(link.counters.disconnectsBy, { 'closed-by-us': 1 });
    } finally {
      await single.close();
    }
  });

  it('a request that times out after a keep-alive was received on its link is not a silent timeout: it starts no streak', async () => {
    const [link] = links;
    const single = new LinkGroup({ name: 'one', links: [link], keys, clock, allowSingleLink: true });
    try {
      const heard = single.request(request(1));
      hosts[0].sockets[0].write(Buffer.from('0000', 'hex')); // a keep-alive from the host
      await until(() => link.counters.keepalivesIn === 1, 'the keep-alive received');
      const silent = [2, 3].map((k) => single.request(request(k)));
      clock.advance(60_000);
      for (const answer of [heard, ...silent]) await assert.rejects(answer, (e: RequestFailed) => e.reason === 'timeout');
      assert.equal(link.isUp, true, 'two silent timeouts, not three');
      assert.equal(link.counters.disconnects, 0);
    } finally {
      await single.close();
    }
  });
});
