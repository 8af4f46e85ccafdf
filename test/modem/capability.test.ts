import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock';
import { answerSyncVerdict, listHolds, testLists } from '../../src/modem/capability';
import { ModemLine, type LineState } from '../../src/modem/line';
import { probeModem, probeTable, type ProbeResult } from '../../src/modem/probe';
import { loadModemProfile } from '../../src/modem/profile';
import { ModemEmulator, type V80Support } from '../../src/sim/modem/emulator';
import { TcpModemServer } from '../../src/sim/modem/tcp-serial-server';
import { runCli } from '../support/cli';
import { MemorySerialLine, settle } from '../support/memory-serial';
import { FakeCallSide } from '../support/fake-call-side';


async function run(clock: ManualClock, ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await settle();
  }
}

describe('R-MDM-7 answer-side synchronous access: AT+ES=? / AT+ESA=? at init and in modem probe', () => {
  it('R-MDM-7: reads V.80 test lists: 8 in the third +ES list is answer-side synchronous access; crc_type 1 in the fifth +ESA list', () => {
    assert.deepEqual(testLists('+ES: (0-4,6),(0-4),(0-4,8)'), ['0-4,6', '0-4', '0-4,8']);
    assert.deepEqual(testLists('+ES: 6,0,8'), ['6', '0', '8']);
    assert.equal(listHolds('0-4,8', 8), true);
    assert.equal(listHolds('0-4', 8), false);
    assert.equal(listHolds('0-9', 8), true);
    assert.equal(listHolds(undefined, 8), false);
    const esa = { final: 'OK', answer: '+ESA: (0),(0),(0),(0-1),(0-1),(0),(0-255),(0-255)' };
    assert.equal(answerSyncVerdict({ final: 'OK', answer: '+ES: (0-4,6),(0-4),(0-4,8)' }, esa).ok, true);
    const calling = answerSyncVerdict({ final: 'OK', answer: '+ES: (0-4,6),(0-4),(0-4)' }, esa);
    assert.equal(calling.ok, false);
    assert.match(calling.why, /third list \(answer side\) has no 8: synchronous access on the calling side only/);
    assert.match(calling.why, /"\+ES: \(0-4,6\),\(0-4\),\(0-4\)"/, 'the modem answer is quoted');
    assert.match(answerSyncVerdict({ final: 'ERROR', answer: '' }, esa).why, /^AT\+ES=\? answered ERROR: no V.80/);
    const noCrc = answerSyncVerdict({ final: 'OK', answer: '+ES: (6),(0),(8)' }, { final: 'OK', answer: '+ESA: (0),(0),(0),(0),(0),(0),(0),(0)' });
    assert.equal(noCrc.ok, false);
    assert.match(noCrc.why, /crc_type/);
    assert.equal(answerSyncVerdict({ final: 'OK', answer: '+ES: (6),(0),(8)' }, { final: 'ERROR', answer: '' }).ok, false);
  });

  async function initLine(v80: V80Support, requireAnswerSync = true): Promise<{ line: ModemLine; modem: ModemEmulator; states: [LineState, string | undefined][]; clock: ManualClock }> {
    const clock = new ManualClock();
    const port = new MemorySerialLine('memory', true);
    const modem = new ModemEmulator(port.dte, { clock, v80 });
    const line = new ModemLine({ name: 'line7', path: 'memory', profile: loadModemProfile('v80-generic'), clock, open: async () => port, requireAnswerSync });
    const states: [LineState, string | undefined][] = [];
    line.on('state', (s, d) => states.push([s, d]));
    line.start();
    await run(clock, 3000);
    return { line, modem, states, clock };
  }

  it('R-MDM-7: a modem with answer-side synchronous access: the queries go before AT+ES=6,,8 on the first init only; the line goes idle', async () => {
    const { line, modem, clock } = await initLine('answer');
    try {
      assert.equal(line.state, 'idle');
      const at = (c: string) => modem.commands.indexOf(c);
      assert.ok(at('AT+ES=?') >= 0 && at('AT+ESA=?') === at('AT+ES=?') + 1 && at('AT+ES=6,,8') === at('AT+ESA=?') + 1, modem.commands.join(' '));
      assert.equal(line.failedBecause, null);
      // The re-init after a call does not ask again.
      const before = modem.commands.length;
      const side = new FakeCallSide();
      modem.ring({ number: '50582613' }, side);
      await run(clock, 12_000, 100);
      assert.equal(line.state, 'connected');
      side.emit('close');
      await run(clock, 3000, 100);
      assert.equal(line.state, 'idle');
      const again = modem.commands.slice(before);
      assert.ok(again.includes('AT+ES=6,,8'), again.join(' '));
      assert.ok(!again.includes('AT+ES=?'), again.join(' '));
    } finally {
      const closing = line.close();
      await run(clock, 2000, 100);
      await closing;
      modem.close();
    }
  });

  for (const [v80, expect] of [
    ['originate-only', /the third list \(answer side\) has no 8: synchronous access on the calling side only/],
    ['none', /AT\+ES=\? answered ERROR: no V.80 synchronous access/],
  ] as const) {
    it(`R-MDM-7: a modem with V.80 ${v80}: the line fails at init, naming the modem's answer, and is not retried`, async () => {
      const { line, modem, states, clock } = await initLine(v80);
      try {
        assert.equal(line.state, 'failed');
        const failed = states.find(([s]) => s === 'failed');
        assert.ok(failed);
        assert.match(failed[1] ?? '', /^the modem cannot answer synchronous terminals \(framing sdlc\): /);
        assert.match(failed[1] ?? '', expect);
        assert.equal(line.failedBecause, failed[1]);
        assert.ok(!modem.commands.includes('AT+ES=6,,8'), 'the setting is never sent');
        const sent = modem.commands.length;
        await run(clock, 60_000, 1000);
        assert.equal(modem.commands.length, sent, 'no retry: the modem has to change');
        assert.equal(line.counters.reinits, 0);
      } finally {
        await line.close();
        modem.close();
      }
    });
  }

  it('R-MDM-7: an async line asks nothing: the same modem serves it', async () => {
    const { line, modem, clock } = await initLine('originate-only', false);
    try {
      assert.equal(modem.commands.includes('AT+ES=?'), false);
      // v80-generic sends AT+ES=6,,8, which this modem refuses: a plain init failure, retried.
      assert.equal(line.state === 'failed', false);
    } finally {
      const closing = line.close();
      await run(clock, 2000, 100);
      await closing;
      modem.close();
    }
  });

  async function probe(v80: V80Support): Promise<ProbeResult> {
    const clock = new ManualClock();
    const port = new MemorySerialLine('memory', true);
    const modem = new ModemEmulator(port.dte, { clock, v80 });
    let result: ProbeResult | null = null;
    const probing = probeModem(port, { clock, path: '/dev/ttyUSB0' }).then((r) => (result = r));
    for (let i = 0; i < 2000 && result === null; i++) {
      clock.advance(10);
      await settle(5);
    }
    await probing;
    modem.close();
    assert.ok(result);
    return result;
  }

  it('R-MDM-7: modem probe says whether the modem answers in synchronous access', async () => {
    const yes = await probe('answer');
    assert.equal(yes.answerSync?.ok, true);
    assert.match(probeTable(yes), /^synchronous access on answer \(SDLC terminals, framing sdlc\): yes: AT\+ES=\? answered "\+ES: \(0-4,6\),\(0-4\),\(0-4,8\)" OK/m);
    const no = await probe('originate-only');
    assert.equal(no.answerSync?.ok, false);
    assert.match(probeTable(no), /^synchronous access on answer \(SDLC terminals, framing sdlc\): no: .*calling side only/m);
  });

  it('R-MDM-7: nacbridge modem probe tcp://... prints the synchronous access line', async function () {
    this.timeout(20_000);
    const server = new TcpModemServer({ v80: 'none' });
    await server.start();
    try {
      const r = await runCli(['modem', 'probe', `tcp://127.0.0.1:${server.port}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^synchronous access on answer \(SDLC terminals, framing sdlc\): no: AT\+ES=\? answered ERROR/m);
    } finally {
      await server.close();
    }
  });
});
