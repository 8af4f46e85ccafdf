import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ManualClock } from '../../src/clock';
import { fromHex, toHex } from '../../src/codec/hex';
import { RequestFailed, type RequestDone } from '../../src/link/link-group';
import { nacConfigSchema } from '../../src/nac/config';
import { Relay, type RelayHostGroup, type TerminalSession } from '../../src/nac/relay';

/** A link group with no links: it records what the relay submits and answers when told. */
class FakeGroup extends EventEmitter implements RelayHostGroup {
  readonly submitted: { payload: Buffer; done: RequestDone }[] = [];
  readonly abandoned: string[] = [];
  started = false;
  submit(payload: Buffer, done: RequestDone): void {
    this.submitted.push({ payload, done });
  }
  abandon(key: string): boolean {
    this.abandoned.push(key);
    return true;
  }
  start(): void {
    this.started = true;
  }
  async close(): Promise<void> {}
}

const session = (address = '0001'): TerminalSession & { sent: Buffer[]; isOpen: boolean } => {
  const sent: Buffer[] = [];
  return { address, label: `line ${address}`, ani: '50582613', dnis: '61651108', isOpen: true, sent, send: (p: Buffer) => sent.push(p) };
};

const HEADER = '603100310000';
const DIAL_BLOCK = '4C5249001C' + '0000000050582613' + '0000000061651108' + '580009490006000000220030';

describe('nac/relay with fake link groups (no sockets)', () => {
  const config = nacConfigSchema.parse({
    hosts: [
      { name: 'cups', nii: ['0003'], links: [{ host: '10.0.0.1', port: 1 }, { host: '10.0.0.2', port: 1 }] },
      { name: 'other', nii: ['0005'], default: true, dialMonitor: { enabled: false }, links: [{ host: '10.0.0.3', port: 1 }, { host: '10.0.0.4', port: 1 }] },
    ],
  });
  let cups: FakeGroup;
  let other: FakeGroup;
  let relay: Relay<FakeGroup>;
  beforeEach(() => {
    cups = new FakeGroup();
    other = new FakeGroup();
    relay = new Relay({ hosts: [{ config: config.hosts[0], group: cups }, { config: config.hosts[1], group: other }], clock: new ManualClock() });
  });
  afterEach(() => relay.close());

  it('start() starts every host group', () => {
    relay.start();
    assert.deepEqual([cups.started, other.started], [true, true]);
  });

  it('R-MSG-1: routes by the NII in the TPDU destination, else to the default host', () => {
    assert.equal(relay.route('0003')?.config.name, 'cups');
    assert.equal(relay.route('0005')?.config.name, 'other');
    assert.equal(relay.route('0009')?.config.name, 'other');
    relay.request(session(), fromHex('6000090000' + HEADER + '0800'));
    assert.equal(other.submitted.length, 1, 'an unknown NII goes to the default host');
    assert.equal(cups.submitted.length, 0);
  });

  it('R-MSG-1, R-DIAL-1: the request leaves with the line address as originator and the dial-monitor block; a host without the block gets none', () => {
    relay.request(session('0001'), fromHex('6000030000' + HEADER + '0800'));
    relay.request(session('0002'), fromHex('6000050000' + HEADER + '0800'));
    assert.equal(toHex(cups.submitted[0].payload), '6000030001' + DIAL_BLOCK + HEADER + '0800');
    assert.equal(toHex(other.submitted[0].payload), '6000050002' + HEADER + '0800');
    assert.equal(relay.inFlight, 2);
  });

  it('R-MSG-1: the answer reaches the terminal with its own TPDU swapped and an echoed dial-monitor block stripped; counted as a response', () => {
    const s = session('0001');
    relay.request(s, fromHex('6000030000' + HEADER + '0800'));
    cups.submitted[0].done(null, fromHex('6000010003' + DIAL_BLOCK + HEADER + '0810'));
    assert.deepEqual(s.sent.map((p) => toHex(p)), ['6000000003' + HEADER + '0810']);
    assert.equal(relay.counters.responses, 1);
    assert.equal(relay.hosts.get('cups')?.counters.responses, 1);
    assert.equal(relay.inFlight, 0);
  });

  it('a request the group fails ends as a counted drop with its reason, and nothing reaches the terminal', () => {
    const s = session();
    const drops: string[] = [];
    relay.on('drop', (reason) => drops.push(reason));
    relay.request(s, fromHex('6000030000' + HEADER + '0800'));
    cups.submitted[0].done(new RequestFailed('timeout', 'no answer within 60 s'), null);
    assert.deepEqual(drops, ['timeout']);
    assert.equal(relay.counters.dropped.timeout, 1);
    assert.equal(relay.counters.requests, relay.counters.responses + 1, 'the books: every request answered or dropped');
    assert.deepEqual(s.sent, []);
  });

  it('a session that ends abandons its request in every host group (keyed by its line address); a late answer counts as line-gone', () => {
    const s = session('0007');
    relay.request(s, fromHex('6000030000' + HEADER + '0800'));
    s.isOpen = false;
    relay.endSession(s);
    assert.deepEqual(cups.abandoned, ['0007']);
    assert.deepEqual(other.abandoned, ['0007']);
    cups.submitted[0].done(null, fromHex('6000070003' + HEADER + '0810'));
    assert.equal(relay.counters.dropped['line-gone'], 1);
    assert.deepEqual(s.sent, []);
  });

  it('an unmatched answer from a group is counted for its host', () => {
    cups.emit('unmatched', fromHex('6000010003' + HEADER + '0810'), { name: 'cups-1' }, 'no request waits for it');
    assert.equal(relay.counters.unmatched, 1);
    assert.equal(relay.hosts.get('cups')?.counters.unmatched, 1);
  });

  it('a frame too short for a TPDU and header is rejected (bad-frame) and counted, nothing is sent', () => {
    const drops: string[] = [];
    relay.on('drop', (r) => drops.push(r));
    const s = session();
    relay.request(s, fromHex('600003'));
    relay.request(s, fromHex('6000030000'));
    assert.deepEqual(drops, ['bad-frame', 'bad-frame']);
    assert.equal(relay.counters.rejected['bad-frame'], 2);
    assert.equal(relay.counters.requests, 0, 'never relayed, so not a request');
    assert.equal(cups.submitted.length, 0);
  });

  it('R-FRAME-1: a frame that the dial-monitor block would push over 2048 bytes is rejected (bad-frame), not sent', () => {
    const drops: string[] = [];
    relay.on('drop', (r, detail) => drops.push(`${r}: ${detail}`));
    relay.request(session(), Buffer.concat([fromHex('6000030000' + HEADER), Buffer.alloc(2048 - 11)]));
    assert.deepEqual(drops, ['bad-frame: 2081 bytes with the dial-monitor block exceed the link maximum of 2048']);
    assert.equal(relay.inFlight, 0);
    assert.equal(cups.submitted.length, 0);
  });

  it('R-DIAL-1/R-DIAL-4: the block carries the caller ID right-aligned; an over-long one keeps its last 16 digits', () => {
    const long = { ...session('0002'), ani: '8610' + '12345678901234567' };
    relay.request(session(), fromHex('6000030000' + HEADER + '0800'));
    relay.request(long, fromHex('6000030000' + HEADER + '0800'));
    assert.deepEqual(
      cups.submitted.map((s) => toHex(s.payload.subarray(0, 5 + 21))),
      ['6000030001' + '4C5249001C' + '0000000050582613' + '0000000061651108', '6000030002' + '4C5249001C' + '2345678901234567' + '0000000061651108'],
    );
  });

  it('no route (no matching NII and no default host) is logged and counted', async () => {
    const noDefault = new Relay({ hosts: [{ config: { ...config.hosts[0] }, group: new FakeGroup() }] });
    const drops: string[] = [];
    noDefault.on('drop', (r, detail) => drops.push(`${r}: ${detail}`));
    noDefault.request(session(), fromHex('6000070000' + HEADER + '0800'));
    assert.deepEqual(drops, ['no-route: no host for NII 0007']);
    assert.equal(noDefault.counters.rejected['no-route'], 1);
    await noDefault.close();
  });
});
