import assert from 'node:assert/strict';
import { SecretKey } from '../../src/crypto/secret-key';
import { runPos, parseScript } from '../../src/sim/pos/runner';
import { PlatformSimulator } from '../../src/sim/platform/simulator';
import { CARD, TMK, platformConfig } from '../support/platform';

describe('sim pos as a channel/agent: straight to the platform simulator as its client (binary2 over TCP)', function () {
  this.timeout(10_000);
  let sim: PlatformSimulator;
  afterEach(async () => {
    await sim?.close();
  });

  async function run(script: string): Promise<Awaited<ReturnType<typeof runPos>>> {
    return runPos(
      {
        via: 'tcp',
        host: '127.0.0.1',
        port: sim.ports[0],
        terminalId: '12345678',
        merchantId: '123456789012345',
        tmk: SecretKey.fromHex(TMK),
        keyMode: '003',
        macAlgorithm: 'unionpay-ecb',
        card: { pan: CARD.pan, pin: CARD.pin },
        responseTimeoutMs: 2_000,
      },
      parseScript(script),
    );
  }

  it('R-CONN-7: an agent connects straight to the platform as a client: it signs on and its sale is approved, no NAC between', async () => {
    sim = new PlatformSimulator(platformConfig({}));
    await sim.start();
    const results = await run('signon,sale:100');
    assert.deepEqual(
      results.map((r) => [r.step, r.responseCode]),
      [
        ['sign-on', '00'],
        ['sale 100', '00'],
      ],
    );
    assert.equal(sim.journal.entries.length, 2, 'both requests reached the platform itself');
    assert.equal(sim.journal.entries[0].dialMonitor, null, 'no NAC put a dial-monitor block in');
  });

  it('R-MSG-8: a sale answered with another STAN is not taken for approved: the POS reverses it with its own STAN', async () => {
    sim = new PlatformSimulator(platformConfig({ faults: [{ mti: '0200', action: 'wrong-stan', times: 1 }] }));
    await sim.start();
    const results = await run('signon,sale:100');
    assert.deepEqual(
      results.map((r) => [r.step, r.responseCode]),
      [
        ['sign-on', '00'],
        ['sale 100', '00'],
      ],
    );
    assert.match(results[1].note ?? '', /^no usable response \(the 0210 carries STAN 000003, the 0200 had 000002\): reversed \(0400, 98\)$/);
    const journal = sim.journal.entries.map((e) => [e.mti, e.stan]);
    assert.deepEqual(journal, [
      ['0800', '000001'],
      ['0200', '000002'],
      ['0400', '000002'],
    ]);
  });
});
