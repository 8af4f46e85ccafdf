import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock';
import { ModemLine, type Call, type HangupReason } from '../../src/modem/line';
import { loadModemProfile, listModemProfiles, type ModemProfile } from '../../src/modem/profile';
import { ModemEmulator, type CallerIdFormat, type EmulatorOptions } from '../../src/sim/modem/emulator';
import { MemorySerialLine, settle } from '../support/memory-serial';
import { FakeCallSide } from '../support/fake-call-side';

/** Advance the manual clock in steps, letting I/O run between them. */
async function run(clock: ManualClock, ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await settle();
  }
}

const callSide = (): FakeCallSide => new FakeCallSide();

describe('modem/line state machine (emulated modem, injected clock)', () => {
  let clock: ManualClock;
  let port: MemorySerialLine;
  let modem: ModemEmulator;
  let line: ModemLine;
  let profile: ModemProfile;

  async function setUp(p: Partial<ModemProfile> = {}, controlLines = false, emulator: EmulatorOptions = {}): Promise<void> {
    clock = new ManualClock(Date.UTC(2026, 10, 21, 14, 5));
    port = new MemorySerialLine('memory', controlLines);
    modem = new ModemEmulator(port.dte, { clock, ringIntervalMs: 5000, callerIdDelayMs: 1500, guardMs: 200, ...emulator });
    profile = { ...loadModemProfile('emulator'), ...p };
    line = new ModemLine({ name: 'line1', path: 'memory', profile, clock, open: async () => port });
    line.start();
    await run(clock, 200);
    assert.equal(line.state, 'idle');
  }

  afterEach(async () => {
    // Closing a connected line hangs up first (guard times on the manual clock): keep time moving.
    const closing = line?.close();
    await run(clock, 2000, 100);
    await closing;
    modem?.close();
  });

  it('R-MDM-5: every init command of the profile is sent and answered OK before the line goes idle', async () => {
    await setUp();
    assert.deepEqual(modem.commands.slice(0, profile.init.length), profile.init);
  });

  it('R-MDM-5: an init command answered ERROR is retried: the line re-initialises and never gives up', async () => {
    clock = new ManualClock();
    port = new MemorySerialLine();
    let failures = 2;
    port.dte.on('data', (chunk: Buffer) => {
      const command = chunk.toString('latin1').trim();
      const answer = command === 'AT+VCID=1' && failures-- > 0 ? 'ERROR' : 'OK';
      port.dte.write(Buffer.from(`\r\n${answer}\r\n`, 'latin1'));
    });
    line = new ModemLine({ name: 'line1', path: 'memory', profile: loadModemProfile('emulator'), clock, open: async () => port });
    const retries: string[] = [];
    line.on('retry', (why) => retries.push(why));
    line.start();
    await run(clock, 10_000, 100);
    assert.equal(line.state, 'idle');
    assert.equal(line.counters.reinits, 2);
    assert.deepEqual(retries, ['init failed: AT+VCID=1 answered ERROR', 'init failed: AT+VCID=1 answered ERROR']);
  });

  it('R-MDM-1: caller ID between the first and second ring: ATA right after it', async () => {
    await setUp();
    const connected = new Promise<Call>((resolve) => line.once('connected', resolve));
    modem.ring({ number: '50582613' }, callSide());
    await run(clock, 2000);
    const call = await connected;
    assert.equal(call.callerId?.number, '50582613');
    assert.equal(call.rings, 1, 'answered before the second ring');
    assert.match(call.connect, /^CONNECT/);
    assert.equal(line.counters.callerIdPresent, 1);
  });

  it('R-MDM-1: no caller ID: answer on the configured ring (2)', async () => {
    await setUp();
    const connected = new Promise<Call>((resolve) => line.once('connected', resolve));
    modem.ring({ format: 'none' }, callSide());
    await run(clock, 6000);
    const call = await connected;
    assert.equal(call.callerId, null);
    assert.equal(call.rings, 2);
    assert.equal(line.counters.callerIdAbsent, 1);
  });

  for (const [format, number] of [
    ['formatted', '50582613'],
    ['mdmf', '01050582613'],
    ['sdmf', '50582613'],
    ['dtmf', '50582613'],
  ] as [CallerIdFormat, string][]) {
    it(`R-MDM-2: caller ID in ${format} form reaches the call`, async () => {
      await setUp();
      const connected = new Promise<Call>((resolve) => line.once('connected', resolve));
      modem.ring({ number, format }, callSide());
      await run(clock, 2000);
      assert.equal((await connected).callerId?.number, number);
    });
  }

  it('R-MDM-2, R-DIAL-4: a private number is answered as "no caller ID" with the reason kept', async () => {
    await setUp();
    const connected = new Promise<Call>((resolve) => line.once('connected', resolve));
    modem.ring({ format: 'private' }, callSide());
    await run(clock, 2000);
    const call = await connected;
    assert.equal(call.callerId?.number, null);
    assert.equal(call.callerId?.absent, 'private');
  });

  it('R-MDM-3: on-hook CIDM and NO CARRIER around the caller-ID burst do not end the call', async () => {
    await setUp();
    const connected = new Promise<Call>((resolve) => line.once('connected', resolve));
    modem.ring({ number: '50582613', onHookNoise: true }, callSide());
    await run(clock, 2000);
    assert.equal((await connected).callerId?.number, '50582613');
    assert.equal(line.state, 'connected');
  });

  it('connected: bytes pass both ways; the far end dropping shows as carrier lost (NO CARRIER)', async () => {
    await setUp();
    const pos = callSide();
    modem.ring({ number: '50582613' }, pos);
    await run(clock, 2000);
    const got: Buffer[] = [];
    line.on('data', (c) => got.push(c));
    pos.emit('data', Buffer.from([0x02, 0x00, 0x01, 0x60, 0x03, 0x62]));
    await settle();
    assert.deepEqual(Buffer.concat(got), Buffer.from([0x02, 0x00, 0x01, 0x60, 0x03, 0x62]));
    line.write(Buffer.from('reply'));
    await settle();
    assert.equal(Buffer.concat(pos.sent).toString(), '\r\nCONNECT 9600\r\nreply', "the caller's modem said CONNECT, then the NAC's bytes");
    const hangup = new Promise<HangupReason>((resolve) => line.once('hangup', (r) => resolve(r)));
    modem.dropCarrier();
    await settle();
    assert.equal(await hangup, 'carrier-lost');
    assert.equal(line.state, 'idle');
  });

  it('R-MDM-4: an emulated line that dies a set time after CONNECT shows as carrier lost, and only the call in progress is dropped', async () => {
    await setUp({}, false, { dropAfterMs: 3000 });
    const pos = callSide();
    const connected = new Promise<Call>((resolve) => line.once('connected', resolve));
    modem.ring({ number: '50582613' }, pos);
    await run(clock, 2000);
    await connected;
    const hangup = new Promise<HangupReason>((resolve) => line.once('hangup', (r) => resolve(r)));
    await run(clock, 2500);
    assert.equal(line.state, 'connected', 'still up before the drop time');
    assert.equal(pos.ended, false);
    await run(clock, 1000);
    assert.equal(await hangup, 'carrier-lost');
    assert.equal(pos.ended, true);
    assert.equal(line.state, 'idle');
    // The next call gets its own timer from its own CONNECT, not what was left of the last one.
    const next = callSide();
    const again = new Promise<Call>((resolve) => line.once('connected', resolve));
    modem.ring({ number: '50582613' }, next);
    await run(clock, 2000);
    await again;
    await run(clock, 2500);
    assert.equal(line.state, 'connected');
    await run(clock, 1000);
    assert.equal(line.state, 'idle');
    assert.equal(line.counters.hangups['carrier-lost'], 2);
  });

  it('R-MDM-4: without control lines the line hangs up with guard time, +++ and ATH', async () => {
    await setUp();
    const pos = callSide();
    modem.ring({ number: '50582613' }, pos);
    await run(clock, 2000);
    const hangup = line.hangup('requested');
    await run(clock, 1000);
    await hangup;
    assert.equal(modem.callState, 'idle');
    assert.equal(pos.ended, true);
    assert.ok(modem.commands.includes('ATH'));
    assert.equal(line.state, 'idle');
    assert.equal(line.counters.hangups.requested, 1);
  });

  it('R-MDM-4: with control lines the line hangs up by dropping DTR', async () => {
    await setUp({ hangup: 'dtr', controlLines: true }, true);
    modem.ring({ number: '50582613' }, callSide());
    await run(clock, 2000);
    const hangup = line.hangup('requested');
    await run(clock, 600);
    await hangup;
    assert.deepEqual(port.dtrChanges, [false, true]);
  });

  it('R-MDM-4: DCD going low is carrier loss (polled)', async () => {
    await setUp({ hangup: 'dtr', controlLines: true }, true);
    modem.ring({ number: '50582613' }, callSide());
    await run(clock, 3000);
    assert.equal(line.state, 'connected');
    const hangup = new Promise<HangupReason>((resolve) => line.once('hangup', (r) => resolve(r)));
    port.dcd = false;
    await run(clock, 600);
    assert.equal(await hangup, 'carrier-lost');
  });

  it('a connected call without traffic for 60 s is hung up', async () => {
    await setUp();
    modem.ring({ number: '50582613' }, callSide());
    await run(clock, 2000);
    const hangup = new Promise<HangupReason>((resolve) => line.once('hangup', (r) => resolve(r)));
    await run(clock, 61_000, 1000);
    assert.equal(await hangup, 'inactivity');
  });

  it('a caller that gives up before the answer leaves the line idle, counted', async () => {
    await setUp({ answerOnRing: 5, answerAfterCallerId: false });
    const pos = callSide();
    modem.ring({ format: 'none' }, pos);
    await run(clock, 3000);
    pos.emit('close');
    await run(clock, 9000, 500);
    assert.equal(line.state, 'idle');
    assert.equal(line.counters.callsAbandoned, 1);
  });

  it('an unplugged port is reopened with backoff when it returns', async () => {
    await setUp();
    const retries: [string, number][] = [];
    line.on('retry', (why, delayMs) => retries.push([why, delayMs]));
    port.unplug();
    await settle();
    assert.equal(line.state, 'opening');
    const opener = line as unknown as { o: { open: () => Promise<MemorySerialLine> } };
    // Still missing at the first retry: the failure is announced with the next try's delay.
    opener.o.open = async () => {
      throw new Error('memory: No such file or directory');
    };
    await run(clock, 1000);
    assert.equal(line.state, 'opening');
    assert.equal(retries.length, 2, JSON.stringify(retries));
    assert.match(retries[0][0], /^port lost: /);
    assert.equal(retries[1][0], 'open failed: memory: No such file or directory');
    assert.ok(retries[1][1] >= 500 && retries[1][1] <= 2000, `backoff ${retries[1][1]} ms`);
    port = new MemorySerialLine();
    modem = new ModemEmulator(port.dte, { clock });
    opener.o.open = async () => port;
    await run(clock, 3000);
    assert.equal(line.state, 'idle');
    assert.equal(line.counters.reopens, 2);
  });

  it('every shipped modem profile loads and keeps answer-on-ring at 2 or more (R-MDM-1, R-MDM-5)', () => {
    const names = listModemProfiles();
    assert.deepEqual(names, ['conexant-usb', 'cx93001-sync', 'emulator', 'generic', 'hayes', 'si24xx-sync', 'silabs', 'v80-generic']);
    for (const name of names) assert.ok(loadModemProfile(name).answerOnRing >= 2);
  });
});
