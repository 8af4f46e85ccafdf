import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock';
import { fromHex, toHex } from '../../src/codec/hex';
import { LinkServer } from '../../src/link/server';
import { nacConfigSchema } from '../../src/nac/config';
import { Relay, type TerminalSession } from '../../src/nac/relay';
import { buildHost } from '../../src/nac/wiring';
import { until } from '../support/wait';

const HEADER = '603100310000';
/** MTI, a bitmap of fields 3, 11 and 41, processing code, STAN, terminal ID. */
const fromTerminal = (mti: string, stan = '000005') => fromHex('6000030000' + HEADER + mti + '2020000000800000' + '000000' + stan + Buffer.from('12345678', 'latin1').toString('hex'));
const mtiOf = (payload: Buffer) => toHex(payload.subarray(5 + 33 + 6, 5 + 33 + 8));

/**
 * No stale money: a request carries its terminal's deadline from the moment it arrives, waiting
 * for a link counts against it, and a reversal is never refused because the request it reverses
 * still waits. The case: both links down, the POS gives up on its sale and reverses it; when the
 * links come back the platform must see the reversal and never the stale sale.
 */
describe('nac/relay: no stale money when the links are down (injected clock)', function () {
  this.timeout(10_000);
  let clock: ManualClock;
  let server: LinkServer;
  let ports: number[];
  let relay: Relay;
  /** What the platform received, in order, across its restarts. */
  const received: Buffer[] = [];

  const platform = async (on: number[]): Promise<LinkServer> => {
    const s = new LinkServer({ name: 'platform', listen: on.map((port) => ({ host: '127.0.0.1', port, allow: ['127.0.0.1'] })), framing: 'binary2', clock });
    s.on('frame', (payload) => received.push(Buffer.from(payload)));
    await s.start();
    return s;
  };

  beforeEach(async () => {
    clock = new ManualClock();
    received.length = 0;
    server = await platform([0, 0]);
    ports = server.ports;
    const config = nacConfigSchema.parse({
      hosts: [{ name: 'cups', default: true, allowSingleLink: true, responseTimeoutSeconds: 60, links: ports.map((port) => ({ host: '127.0.0.1', port })) }],
    });
    relay = new Relay({ hosts: config.hosts.map((h) => buildHost(h, clock)), clock });
    relay.start();
    await until(() => relay.hosts.get('cups')?.group.upLinks.length === 2, 'both links up');
    // The platform goes away: both links down.
    for (const c of server.connections) c?.close();
    await server.close();
    await until(() => relay.hosts.get('cups')?.group.upLinks.length === 0, 'both links down');
  });

  afterEach(async () => {
    await relay.close();
    await server.close();
  });

  const lineSession = (): TerminalSession => ({ address: '0001', label: 'line1', ani: null, dnis: '61651108', isOpen: true, send: () => undefined });

  async function platformBack(): Promise<void> {
    server = await platform(ports);
    // Second by second, as the links' reconnect backoff comes due (each try settles in real time).
    const group = relay.hosts.get('cups')?.group;
    for (let waited = 0; (group?.upLinks.length ?? 0) < 2; waited++) {
      assert.ok(waited < 40, 'both links up again within 40 s');
      clock.advance(1_000);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('a reversal of a sale still waiting for a link cancels the sale (never sent) and is itself relayed, not refused as a duplicate', async () => {
    const drops: string[] = [];
    relay.on('drop', (reason) => drops.push(reason));
    const session = lineSession();
    relay.request(session, fromTerminal('0200'));
    clock.advance(4_000); // the POS gives up at 4 s and reverses (same STAN, R-MSG-8)
    relay.request(session, fromTerminal('0400'));
    assert.deepEqual(drops, ['cancelled']);
    await platformBack();
    await until(() => received.length === 1, 'the reversal at the platform');
    assert.deepEqual(received.map(mtiOf), ['0400'], 'the platform sees the reversal and never the stale sale');
    assert.equal(relay.counters.dropped.cancelled, 1);
    assert.equal(relay.counters.dropped.duplicate, undefined);
  });

  it('a request whose deadline passed while it waited for a link is never sent late: dropped as expired and counted', async () => {
    const drops: string[] = [];
    relay.on('drop', (reason) => drops.push(reason));
    relay.request(lineSession(), fromTerminal('0200'));
    clock.advance(60_000);
    assert.deepEqual(drops, ['expired']);
    await platformBack();
    // A request the platform will see after the stale one would have been: proof nothing else went.
    relay.request(lineSession(), fromTerminal('0800', '000006'));
    await until(() => received.length === 1, 'the next request at the platform');
    assert.deepEqual(received.map(mtiOf), ['0800'], 'the expired sale never left');
    assert.equal(relay.counters.dropped.expired, 1);
  });

  it('a reversal of a sale in flight supersedes it (its late answer is nobody\'s) and is relayed', async () => {
    await platformBack();
    const drops: string[] = [];
    relay.on('drop', (reason) => drops.push(reason));
    const session = lineSession();
    relay.request(session, fromTerminal('0200'));
    await until(() => received.length === 1, 'the sale at the platform');
    relay.request(session, fromTerminal('0400'));
    await until(() => received.length === 2, 'the reversal at the platform');
    assert.deepEqual(received.map(mtiOf), ['0200', '0400']);
    assert.deepEqual(drops, ['superseded']);
  });

  it('any other second request on a line with one in flight is still refused as a duplicate', async () => {
    await platformBack();
    const drops: string[] = [];
    relay.on('drop', (reason) => drops.push(reason));
    relay.request(lineSession(), fromTerminal('0200'));
    relay.request(lineSession(), fromTerminal('0200', '000006'));
    assert.deepEqual(drops, ['duplicate']);
  });
});
