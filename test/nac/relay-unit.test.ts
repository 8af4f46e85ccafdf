import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock';
import { fromHex } from '../../src/codec/hex';
import { nacConfigSchema } from '../../src/nac/config';
import { Relay, type TerminalSession } from '../../src/nac/relay';

const session = (): TerminalSession & { sent: Buffer[] } => {
  const sent: Buffer[] = [];
  return { address: '0001', label: 'line1', ani: '50582613', dnis: '61651108', isOpen: true, sent, send: (p: Buffer) => sent.push(p) };
};

describe('nac/relay without sockets', () => {
  const config = nacConfigSchema.parse({
    hosts: [
      { name: 'cups', nii: ['0003'], links: [{ host: '10.0.0.1', port: 1 }, { host: '10.0.0.2', port: 1 }] },
      { name: 'other', nii: ['0005'], default: true, links: [{ host: '10.0.0.3', port: 1 }, { host: '10.0.0.4', port: 1 }] },
    ],
  });
  const relay = new Relay({ hosts: config.hosts, clock: new ManualClock() });
  after(() => relay.close());

  it('R-MSG-1: routes by the NII in the TPDU destination, else to the default host', () => {
    assert.equal(relay.route('0003')?.config.name, 'cups');
    assert.equal(relay.route('0005')?.config.name, 'other');
    assert.equal(relay.route('0009')?.config.name, 'other');
  });

  it('a frame too short for a TPDU and header is rejected (bad-frame) and counted, nothing is sent', () => {
    const drops: string[] = [];
    relay.on('drop', (r) => drops.push(r));
    const s = session();
    relay.request(s, fromHex('600003'));
    relay.request(s, fromHex('6000030000'));
    relay.removeAllListeners('drop');
    assert.deepEqual(drops, ['bad-frame', 'bad-frame']);
    assert.equal(relay.counters.rejected['bad-frame'], 2);
    assert.equal(relay.counters.requests, 0, 'never relayed, so not a request');
    assert.deepEqual(s.sent, []);
  });

  it('R-FRAME-1: a frame that the dial-monitor block would push over 2048 bytes is rejected (bad-frame), not sent', () => {
    const drops: string[] = [];
    relay.on('drop', (r, detail) => drops.push(`${r}: ${detail}`));
    const before = relay.counters.rejected['bad-frame'] ?? 0;
    relay.request(session(), Buffer.concat([fromHex('6000030000' + '603100310000'), Buffer.alloc(2048 - 11)]));
    relay.removeAllListeners('drop');
    assert.deepEqual(drops, ['bad-frame: 2081 bytes with the dial-monitor block exceed the link maximum of 2048']);
    assert.equal(relay.counters.rejected['bad-frame'], before + 1);
    assert.equal(relay.inFlight, 0);
  });

  it('R-DIAL-1/R-DIAL-4: the block carries the caller ID right-aligned; an over-long one keeps its last 16 digits', () => {
    const sent: string[] = [];
    relay.on('request', (_s, _host, payload) => sent.push(payload.subarray(0, 5 + 21).toString('hex')));
    const long = { ...session(), address: '0002', ani: '8610' + '12345678901234567' };
    relay.request(session(), fromHex('6000030000' + '603100310000' + '0800'));
    relay.request(long, fromHex('6000030000' + '603100310000' + '0800'));
    relay.removeAllListeners('request');
    assert.deepEqual(sent, [
      '6000030001' + '4c5249001c' + '0000000050582613' + '0000000061651108',
      '6000030002' + '4c5249001c' + '2345678901234567' + '0000000061651108',
    ]);
  });

  it('no route (no matching NII and no default host) is logged and counted', async () => {
    const noDefault = new Relay({ hosts: nacConfigSchema.parse({ hosts: [{ name: 'cups', nii: ['0003'], links: [{ host: '10.0.0.1', port: 1 }, { host: '10.0.0.2', port: 1 }] }] }).hosts });
    const drops: string[] = [];
    noDefault.on('drop', (r, detail) => drops.push(`${r}: ${detail}`));
    noDefault.request(session(), fromHex('6000070000' + '603100310000' + '0800'));
    assert.deepEqual(drops, ['no-route: no host for NII 0007']);
    assert.equal(noDefault.counters.rejected['no-route'], 1);
    await noDefault.close();
  });
});
