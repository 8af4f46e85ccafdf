import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { ManualClock } from '../../src/clock';
import { NacbridgeError } from '../../src/errors';
import { asyncFrameChannel, awaitAnswer } from '../../src/terminal/channels';
import { ModemEmulator } from '../../src/sim/modem/emulator';
import { startModemSim, type ModemSim } from '../../src/sim/modem/runner';
import { runCli } from '../support/cli';
import { settle } from '../support/memory-serial';
import { TMK } from '../support/platform';

/** A caller's end of a call (or the modem's serial side): records what reached it. */
class FakeSide extends EventEmitter {
  readonly sent: Buffer[] = [];
  ended = false;
  write(data: Uint8Array): boolean {
    this.sent.push(Buffer.from(data));
    return true;
  }
  end(): void {
    this.ended = true;
    this.emit('close');
  }
  get text(): string {
    return Buffer.concat(this.sent).toString('latin1');
  }
}

const rejectsWith = (code: string, message: RegExp) => (e: unknown) => e instanceof NacbridgeError && e.code === code && message.test(e.message);

describe("modem simulator: the caller hears its call's progress (CONNECT, NO ANSWER, BUSY, NO CARRIER)", () => {
  let clock: ManualClock;
  let dte: FakeSide;
  let modem: ModemEmulator;
  beforeEach(() => {
    clock = new ManualClock(0);
    dte = new FakeSide();
    modem = new ModemEmulator(dte, { clock, ringIntervalMs: 100, callerIdDelayMs: 30, maxRings: 3, connectDelayMs: 10 });
  });
  afterEach(() => modem.close());

  it('a call nobody answers ends with NO ANSWER after the last ring', () => {
    const caller = new FakeSide();
    modem.ring({ number: '50582613' }, caller);
    clock.advance(250);
    assert.equal(caller.ended, false, 'still ringing');
    clock.advance(100);
    assert.equal(caller.text, '\r\nNO ANSWER\r\n');
    assert.equal(caller.ended, true);
  });

  it('a second call while one is ringing gets BUSY', () => {
    modem.ring({ number: '50582613' }, new FakeSide());
    const second = new FakeSide();
    modem.ring({ number: '50582614' }, second);
    assert.equal(second.text, '\r\nBUSY\r\n');
    assert.equal(second.ended, true);
  });

  it('an answered call says CONNECT to the caller, and a dead line NO CARRIER', () => {
    const caller = new FakeSide();
    modem.ring({ number: '50582613' }, caller);
    dte.emit('data', Buffer.from('ATA\r'));
    clock.advance(10);
    assert.equal(caller.text, '\r\nCONNECT 9600\r\n');
    assert.equal(modem.dropCarrier(), true);
    assert.equal(caller.text, '\r\nCONNECT 9600\r\n\r\nNO CARRIER\r\n');
    assert.equal(caller.ended, true);
  });
});

describe('POS side of a dialled call: answered, not answered, or cut off', () => {
  it('awaitAnswer resolves on CONNECT, even split across chunks', async () => {
    const line = new FakeSide();
    const answered = awaitAnswer(line, 60_000, new ManualClock(0));
    line.emit('data', Buffer.from('\r\nCONN'));
    line.emit('data', Buffer.from('ECT 9600\r\n'));
    assert.equal(await answered, 'CONNECT 9600');
  });

  it('awaitAnswer: NO ANSWER, BUSY, a line closed with no result, and no CONNECT in time are each said as such', async () => {
    const clock = new ManualClock(0);
    const cases: [(line: FakeSide) => void, string, RegExp][] = [
      [(l) => l.emit('data', Buffer.from('\r\nNO ANSWER\r\n')), 'NO_ANSWER', /^the call was not answered \(NO ANSWER\)$/],
      [(l) => l.emit('data', Buffer.from('\r\nBUSY\r\n')), 'LINE_BUSY', /^the line is busy \(BUSY\)/],
      [(l) => l.end(), 'NO_ANSWER', /^the call was not answered: the line closed with no CONNECT$/],
      [() => clock.advance(45_000), 'NO_ANSWER', /^the call was not answered: no CONNECT within 45 s$/],
    ];
    for (const [happen, code, message] of cases) {
      const line = new FakeSide();
      const answered = awaitAnswer(line, 45_000, clock);
      happen(line);
      await assert.rejects(answered, rejectsWith(code, message), code);
    }
  });

  it('a call whose carrier drops while a request waits fails as NO CARRIER, not as a closed connection', async () => {
    const line = new FakeSide();
    const channel = asyncFrameChannel(line, 60_000, new ManualClock(0));
    const answer = channel.request(Buffer.from('6000030000', 'hex'));
    line.emit('data', Buffer.from('\r\nNO CARRIER\r\n'));
    line.end();
    await assert.rejects(answer, rejectsWith('NO_CARRIER', /^the carrier was lost \(NO CARRIER\) before the response came$/));
  });
});

describe('cli: sim pos --dial to a modem simulator nobody answers', function () {
  this.timeout(10_000);
  let sim: ModemSim;
  const dtes: Socket[] = [];
  beforeEach(async () => {
    sim = await startModemSim({
      serial: { kind: 'tcp', host: '127.0.0.1', port: 0 },
      pos: { host: '127.0.0.1', port: 0 },
      callerId: { number: '50582613', format: 'formatted' },
      emulator: { ringIntervalMs: 50, callerIdDelayMs: 10, maxRings: 3 },
    });
  });
  afterEach(async () => {
    for (const s of dtes.splice(0)) s.destroy();
    await sim.close();
  });

  const pos = () => [
    'sim', 'pos', '--dial', `127.0.0.1:${sim.posPort}`, '--terminal-id', '12345678', '--merchant-id', '123456789012345',
    '--tmk-env', 'POS_TMK', '--pan-env', 'POS_PAN', '--script', 'signon',
  ];

  for (const attached of [false, true]) {
    it(`${attached ? 'a serial side nobody answers (no ATA)' : 'nothing on the serial side'}: "the call was not answered", exit 2 (it was "the connection closed before the response came" after ~41 s)`, async () => {
      if (attached) {
        const port = Number(sim.linePath.split(':').pop());
        const dte = connect({ host: '127.0.0.1', port });
        dte.on('error', () => undefined);
        dtes.push(dte);
        await new Promise((resolve) => dte.once('connect', resolve));
        await settle();
      }
      const r = await runCli(pos(), '', { POS_TMK: TMK, POS_PAN: '6212142000000000012' });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(
        r.stderr,
        `nacbridge: NO_ANSWER: the call was not answered (NO ANSWER); dialled 127.0.0.1:${sim.posPort}: is a NAC attached to the modem's serial side, with its line idle?\n`,
      );
    });
  }
});
