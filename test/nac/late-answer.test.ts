import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock';
import { fromHex, toHex } from '../../src/codec/hex';
import type { FramedConnection } from '../../src/link/framed-connection';
import type { LinkServer } from '../../src/link/server';
import { nacConfigSchema } from '../../src/nac/config';
import { Relay, type TerminalSession } from '../../src/nac/relay';
import { buildHost } from '../../src/nac/wiring';
import { twoPortServer } from '../support/link-server';
import { nextEvent, until } from '../support/wait';

const HEADER = '603100310000';
/** The message: MTI, a bitmap of fields 3, 11 and 41, processing code 000000, the STAN, the terminal ID. */
const message = (mti: string, stan: string, terminalId: string) => mti + '2020000000800000' + '000000' + stan + Buffer.from(terminalId, 'latin1').toString('hex');
/** A terminal payload: TPDU to NII 0003 + header + message. */
const fromTerminal = (mti: string, stan = '000005', terminalId = '12345678') => fromHex('6000030000' + HEADER + message(mti, stan, terminalId));
/** What the platform sends back to line 0001: TPDU addresses swapped, no dial-monitor block. */
const fromPlatform = (mti: string, stan = '000005', terminalId = '12345678') => fromHex('6000010003' + HEADER + message(mti, stan, terminalId));
const mtiOf = (payload: Buffer) => toHex(payload.subarray(11, 13));
const stanOf = (payload: Buffer) => toHex(payload.subarray(24, 27));

/** A call on line 0001; what the relay sends back to it lands in `sent`. */
function lineSession(): TerminalSession & { isOpen: boolean; sent: Buffer[] } {
  const sent: Buffer[] = [];
  return { address: '0001', label: 'line1', ani: null, dnis: '61651108', isOpen: true, sent, send: (p) => sent.push(p) };
}

describe('nac/relay: responses matched by line address, MTI, STAN and terminal ID (loopback platform, injected clock)', () => {
  let clock: ManualClock;
  let server: LinkServer;
  let relay: Relay;

  beforeEach(async () => {
    clock = new ManualClock();
    server = await twoPortServer('platform', clock);
    const config = nacConfigSchema.parse({
      hosts: [{ name: 'cups', default: true, allowSingleLink: true, responseTimeoutSeconds: 5, links: server.ports.map((port) => ({ host: '127.0.0.1', port })) }],
    });
    relay = new Relay({ hosts: config.hosts.map((h) => buildHost(h, clock)), clock });
    relay.start();
    const group = relay.hosts.get('cups')?.group;
    await until(() => group?.upLinks.length === 2 && server.connections.every((c) => c !== null), 'both links up');
  });

  afterEach(async () => {
    await relay.close();
    await server.close();
  });

  /** Every drop the relay reports, as "reason: detail". */
  function collectDrops(): string[] {
    const drops: string[] = [];
    relay.on('drop', (reason, detail) => drops.push(`${reason}: ${detail}`));
    return drops;
  }

  it('R-MSG-1, R-MSG-8: a late 0210 for a sale that timed out is not taken for the answer to its reversal, which repeats its STAN (MTI)', async () => {
    const session = lineSession();
    const { sent } = session;
    const drops = collectDrops();

    const saleArrived = nextEvent<[Buffer, FramedConnection]>(server, 'frame');
    relay.request(session, fromTerminal('0200'));
    const [sale, connection] = await saleArrived;
    assert.equal(toHex(sale.subarray(0, 5)), '6000030001', 'keyed by the line address');
    clock.advance(5_000);
    assert.deepEqual(drops, ['timeout: REQUEST_TIMEOUT: no response within 5000 ms (group cups, key 0001)']);

    const reversalArrived = nextEvent<[Buffer]>(server, 'frame');
    relay.request(session, fromTerminal('0400'));
    await reversalArrived;
    // The platform answers the sale at last, then the reversal, both to line 0001.
    connection.send(fromPlatform('0210'));
    connection.send(fromPlatform('0410'));
    await until(() => sent.length === 1 && relay.counters.unmatched === 1, 'the reversal answered and the late 0210 counted');

    assert.deepEqual(sent.map(mtiOf), ['0410']);
    assert.equal(toHex(sent[0].subarray(0, 5)), '6000000003', "the terminal's own TPDU, addresses swapped");
    assert.deepEqual(drops.slice(1), ['unmatched: response for 0001 on cups-1: 0210 cannot answer the 0400 in flight']);
    const { requests, responses, dropped } = relay.counters;
    assert.deepEqual({ requests, responses, dropped }, { requests: 2, responses: 1, dropped: { timeout: 1 } });
    assert.equal(relay.inFlight, 0);
  });

  it('R-MSG-1, R-MSG-8: a late 0210 for a sale that timed out is not taken for the answer to the next sale on the line (STAN)', async () => {
    const session = lineSession();
    const { sent } = session;
    const drops = collectDrops();
    const firstArrived = nextEvent<[Buffer, FramedConnection]>(server, 'frame');
    relay.request(session, fromTerminal('0200', '000005'));
    const [, connection] = await firstArrived;
    clock.advance(5_000);
    const nextArrived = nextEvent<[Buffer]>(server, 'frame');
    relay.request(session, fromTerminal('0200', '000006'));
    await nextArrived;
    connection.send(fromPlatform('0210', '000005'));
    connection.send(fromPlatform('0210', '000006'));
    await until(() => sent.length === 1 && relay.counters.unmatched === 1, 'the second sale answered and the late 0210 counted');
    assert.deepEqual(sent.map(stanOf), ['000006']);
    assert.deepEqual(drops, [
      'timeout: REQUEST_TIMEOUT: no response within 5000 ms (group cups, key 0001)',
      'unmatched: response for 0001 on cups-1: STAN 000005 cannot answer STAN 000006 in flight',
    ]);
    assert.equal(relay.inFlight, 0);
  });

  it('a session that ends with a request in flight drops it at once (line-gone), so the next call on its line is relayed, not refused as a duplicate', async () => {
    const drops = collectDrops();
    const first = lineSession();
    const firstArrived = nextEvent<[Buffer, FramedConnection]>(server, 'frame');
    relay.request(first, fromTerminal('0200', '000005'));
    const [, connection] = await firstArrived;
    first.isOpen = false;
    relay.endSession(first);
    assert.deepEqual(drops, ['line-gone: REQUEST_ABANDONED: line1 ended with this request in flight (group cups, key 0001)']);
    assert.equal(relay.inFlight, 0);

    const next = lineSession();
    const nextArrived = nextEvent<[Buffer]>(server, 'frame');
    relay.request(next, fromTerminal('0200', '000001'));
    await nextArrived;
    connection.send(fromPlatform('0210', '000005'));
    connection.send(fromPlatform('0210', '000001'));
    await until(() => next.sent.length === 1 && relay.counters.unmatched === 1, 'the next call answered and the late 0210 counted');
    assert.deepEqual(next.sent.map(stanOf), ['000001']);
    assert.deepEqual(first.sent, []);
    const { requests, responses, dropped } = relay.counters;
    assert.deepEqual({ requests, responses, dropped }, { requests: 2, responses: 1, dropped: { 'line-gone': 1 } });
  });

  it('R-MSG-8: an answer meant for the last caller on the line, whose terminal used the same STAN, is not the new caller\'s (terminal ID)', async () => {
    const drops = collectDrops();
    const first = lineSession();
    const firstArrived = nextEvent<[Buffer, FramedConnection]>(server, 'frame');
    relay.request(first, fromTerminal('0200', '000002', '11111111'));
    const [, connection] = await firstArrived;
    first.isOpen = false;
    relay.endSession(first);
    const next = lineSession();
    const nextArrived = nextEvent<[Buffer]>(server, 'frame');
    relay.request(next, fromTerminal('0200', '000002', '22222222'));
    await nextArrived;
    connection.send(fromPlatform('0210', '000002', '11111111'));
    connection.send(fromPlatform('0210', '000002', '22222222'));
    await until(() => next.sent.length === 1 && relay.counters.unmatched === 1, 'the new caller answered and the late 0210 counted');
    assert.equal(next.sent[0].subarray(27, 35).toString('latin1'), '22222222');
    assert.equal(drops[1], 'unmatched: response for 0001 on cups-1: terminal ID 11111111 cannot answer terminal ID 22222222 in flight');
  });

  it('R-MSG-3: a response of the right class but the origin digit changed (0410 to a repeated 0401) still answers', async () => {
    const session = lineSession();
    const { sent } = session;
    const arrived = nextEvent<[Buffer, FramedConnection]>(server, 'frame');
    relay.request(session, fromTerminal('0401'));
    const [, connection] = await arrived;
    connection.send(fromPlatform('0410'));
    await until(() => sent.length === 1, 'the answer at the terminal');
    assert.deepEqual(sent.map(mtiOf), ['0410']);
    assert.equal(relay.counters.unmatched, 0);
  });
});
