import assert from 'node:assert/strict';
import { toHex } from '../../src/codec/hex';
import type { SdlcFaults } from '../../src/terminal/sdlc-secondary';
import { CARD } from '../support/platform';
import { addressOf, ptyLineEnd, startNacBench, tcpLineEnd, type LineEnd, type NacBench } from '../support/nac-bench';
import { until } from '../support/wait';

const TRANSPORTS: [string, () => Promise<LineEnd>][] = [
  ['real ptys', ptyLineEnd],
  ['tcp:// serial lines', tcpLineEnd],
];

for (const [transport, lineEnd] of TRANSPORTS) describe(`R-MDM-7 synchronous terminal over ${transport}: SDLC secondary <-> V.80 modem emulator <-> NAC (SDLC primary) <-> platform`, function () {
  this.timeout(20_000);
  let bench: NacBench | undefined;
  afterEach(async () => {
    await bench?.close();
    bench = undefined;
  });

  async function start(faults: SdlcFaults = {}): Promise<NacBench> {
    bench = await startNacBench(1, lineEnd, {}, { framing: 'sdlc', sdlcFaults: faults });
    return bench;
  }

  it('R-MDM-7: signs on and makes a sale with MAC and PIN; the platform sees the line address in the TPDU, each request once', async () => {
    const b = await start();
    const { terminal, sdlc } = await b.dial(0, '50582613');
    const signOn = await terminal.signOn();
    assert.equal(signOn.responseCode, '00');
    assert.deepEqual(signOn.keys.map((k) => k.pass), [true, true]);
    const sale = await terminal.sale({ pan: CARD.pan }, '1234', CARD.pin);
    assert.equal(sale.responseCode, '00');
    assert.equal(sale.macOk, true);
    assert.equal(b.captured.length, 2);
    for (const p of b.captured) assert.equal(toHex(p.subarray(0, 5)), `600003${addressOf(0)}`);
    const counters = b.nac.lines[0]?.sdlc;
    assert.ok(counters);
    assert.equal(counters.iFramesIn, 2);
    assert.equal(counters.linkResets, 0);
    assert.equal(counters.connectRateBps, 9600);
    assert.equal(sdlc?.counters.snrm, 1);
  });

  it('R-MDM-7: survives a lost acknowledgement, a duplicate frame and a bad FCS without a duplicate relay or a lost answer', async () => {
    const b = await start({ lostAck: true });
    const first = await b.dial(0, '50582613');
    const faults: SdlcFaults[] = [{ duplicate: true }, { badFcs: true }];
    assert.equal((await first.terminal.signOn()).responseCode, '00');
    for (const f of faults) first.sdlc?.inject(f);
    assert.equal((await first.terminal.sale({ pan: CARD.pan }, '1234', CARD.pin)).responseCode, '00');
    assert.equal((await first.terminal.sale({ pan: CARD.pan }, '2345', CARD.pin)).responseCode, '00');
    assert.equal(b.captured.length, 3);
    const counters = b.nac.lines[0]?.sdlc;
    assert.ok(counters);
    assert.equal(counters.badFcs, 1);
    assert.ok(counters.retransmissionsIn >= 2, `retransmissions in: ${counters.retransmissionsIn}`);
    assert.equal(counters.linkResets, 0);
    assert.equal(first.sdlc?.counters.snrm, 1);
  });

  it('R-MDM-7: hangs up and calls again: the next call starts with SNRM at N(S)=N(R)=0', async () => {
    const b = await start();
    const first = await b.dial(0, '50582613');
    assert.equal((await first.terminal.signOn()).responseCode, '00');
    first.pos.end();
    await until(() => b.nac.lines[0]?.line.state === 'idle', 'line idle again', 10_000);
    const second = await b.dial(0, '50582613');
    await until(() => second.sdlc?.sequence.up === true, 'SNRM on the second call', 5000);
    assert.deepEqual([second.sdlc?.sequence.vs, second.sdlc?.sequence.vr], [0, 0]);
    assert.equal((await second.terminal.signOn()).responseCode, '00');
    assert.equal(b.captured.length, 2);
    assert.equal(b.nac.lines[0]?.sdlc?.linksUp, 2);
  });

  it('R-MDM-7: the terminal hangs up mid-window (its I-frame unacknowledged): counted, no V.80 byte after NO CARRIER, the line re-initialises, the next call starts at N(S)=N(R)=0', async () => {
    const b = await start();
    const line = b.nac.lines[0];
    assert.ok(line);
    const modem = await b.ends[0].modem();
    const first = await b.dial(0, '50582613');
    assert.equal((await first.terminal.signOn()).responseCode, '00');
    let bytesOutAtHangup = -1;
    let commandsAtHangup = -1;
    line.line.once('hangup', (reason) => {
      assert.equal(reason, 'carrier-lost');
      bytesOutAtHangup = line.line.counters.bytesOut;
      commandsAtHangup = modem.commands.length;
    });
    first.sdlc?.inject({ hangupMidWindow: true });
    await assert.rejects(first.terminal.sale({ pan: CARD.pan }, '1234', CARD.pin), /CALL_ENDED|call ended/);
    await until(() => line.line.state === 'idle' && bytesOutAtHangup >= 0, 'line re-initialised and idle', 10_000);
    assert.equal(line.sdlc?.midWindowHangups, 1);
    assert.equal(line.line.counters.bytesOut, bytesOutAtHangup, 'nothing written to the call after NO CARRIER');
    const after = modem.commands.slice(commandsAtHangup);
    assert.ok(after.length > 0 && after.every((c) => /^AT[\x20-\x7e]*$/.test(c)), `only AT commands after the hang-up: ${JSON.stringify(after)}`);
    assert.ok(after.includes('AT+ES=6,,8'), 'the line re-initialised synchronous access');
    // The sale's platform answer (if the NAC relayed the request) found no call to go back to.
    const second = await b.dial(0, '50582613');
    await until(() => second.sdlc?.sequence.up === true, 'SNRM on the next call', 5000);
    assert.deepEqual([second.sdlc?.sequence.vs, second.sdlc?.sequence.vr], [0, 0]);
    assert.equal((await second.terminal.signOn()).responseCode, '00');
    assert.equal(line.sdlc?.linksUp, 2);
    assert.equal(line.sdlc?.midWindowHangups, 1, 'the second call ended no window open');
  });
});
