import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock';
import { ModemLine, type Call, type HangupReason } from '../../src/modem/line';
import { loadModemProfile, type ModemProfile } from '../../src/modem/profile';
import { ModemEmulator, type EmulatorOptions } from '../../src/sim/modem/emulator';
import { MemorySerialLine, settle, type MemorySerialOptions } from '../support/memory-serial';
import { FakeCallSide } from '../support/fake-call-side';

/** Advance the manual clock in steps, letting I/O run between them. */
async function run(clock: ManualClock, ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await settle();
  }
}


interface Rig {
  clock: ManualClock;
  port: MemorySerialLine;
  modem: ModemEmulator;
  line: ModemLine;
  states: string[];
}

const rigs: Rig[] = [];

/** A line on a memory port with DTR wired to a classic (or v250) emulator. */
async function rig(profile: ModemProfile, emulator: EmulatorOptions, port: { controlLines?: boolean } & MemorySerialOptions = {}, toIdle = true): Promise<Rig> {
  const clock = new ManualClock(Date.UTC(2026, 10, 21, 14, 5));
  const serial = new MemorySerialLine('memory', port.controlLines ?? true, { ...port, baud: port.baud ? { rate: port.baud.rate, clock } : undefined });
  const modem = new ModemEmulator(serial.dte, { clock, ringIntervalMs: 5000, callerIdDelayMs: 1500, guardMs: 1000, ...emulator });
  serial.onDtr = (on) => modem.setDtr(on);
  const line = new ModemLine({ name: 'line1', path: 'memory', profile, clock, open: async () => serial.reopen() });
  const states: string[] = [];
  line.on('state', (state, detail) => states.push(detail ? `${state} (${detail})` : state));
  line.on('retry', (why) => states.push(`retry: ${why}`));
  const r = { clock, port: serial, modem, line, states };
  rigs.push(r);
  line.start();
  if (toIdle) {
    await run(clock, 3000);
    assert.equal(line.state, 'idle', states.join(' / '));
  }
  return r;
}

async function connect(r: Rig, pos = new FakeCallSide()): Promise<FakeCallSide> {
  const connected = new Promise<Call>((resolve) => r.line.once('connected', resolve));
  r.modem.ring({ format: 'none' }, pos);
  await run(r.clock, 6000);
  await connected;
  assert.equal(r.line.state, 'connected');
  // The caller's own modem says CONNECT; what the call carries after it is what these tests look at.
  assert.match(pos.text, /^\r\nCONNECT \d+\r\n$/);
  pos.sent.length = 0;
  return pos;
}

/** What the modem received in command mode, from index `from`. */
const commandsSince = (r: Rig, from: number): string[] => r.modem.commands.slice(from);

describe('modem/hayes: classic Hayes modems, numeric results, optional init commands (injected clock)', () => {
  afterEach(async () => {
    for (const r of rigs.splice(0)) {
      const closing = r.line.close();
      await run(r.clock, 8000, 200);
      await closing;
      r.modem.close();
    }
  });

  describe('the classic-Hayes emulator personality misreads extended commands as real classic modems do', () => {
    it('AT+VCID=1 is read as V0 (numeric results) and a dial; AT#CID=1 dials; AT:U7A,0000 answers', async () => {
      const clock = new ManualClock();
      const port = new MemorySerialLine();
      const modem = new ModemEmulator(port.dte, { clock, personality: 'classic', dialTimeoutMs: 2000 });
      const heard: string[] = [];
      port.on('data', (c: Buffer) => heard.push(c.toString('latin1')));
      port.write(Buffer.from('ATE0\r'));
      await settle();
      port.write(Buffer.from('AT+VCID=1\r'));
      await settle();
      assert.equal(modem.verboseResults, false, 'V0: numeric results from now on');
      assert.equal(modem.isDialing, true, 'off-hook, dialling "=1"');
      await run(clock, 2000);
      assert.equal(modem.isDialing, false);
      assert.match(heard.join(''), /3\r$/, 'the dial ends in NO CARRIER, as the digit 3');
      port.write(Buffer.from('AT#CID=1\r'));
      await settle();
      assert.equal(modem.isDialing, true, '#CID=1 dials');
      port.write(Buffer.from('\r')); // any character aborts a dial
      await settle();
      assert.equal(modem.isDialing, false);
      heard.length = 0;
      port.write(Buffer.from('AT:U7A,0000\r'));
      await run(clock, 100);
      assert.equal(heard.join(''), '3\r', ':U7A is U7 then A: an answer with no call ringing, NO CARRIER');
      heard.length = 0;
      port.write(Buffer.from('ATZ\r'));
      await settle();
      assert.equal(heard.join(''), '0\r', 'ATZ leaves V0 as it was: OK is "0"');
      port.write(Buffer.from('AT+GMI\r'));
      await settle();
      assert.equal(heard.join(''), '0\rAT+GMI\r4\r', 'echo is back on after ATZ; G is no classic command: ERROR');
      modem.close();
    });

    it('R-MDM-5: the generic profile (AT+VCID=1) never brings a classic modem into service: it dials instead', async () => {
      const r = await rig(loadModemProfile('generic'), { personality: 'classic', dialTimeoutMs: 60_000 }, {}, false);
      for (let i = 0; i < 20 && !r.modem.isDialing; i++) await run(r.clock, 50);
      assert.equal(r.modem.isDialing, true, 'the modem went off-hook dialling');
      const pos = new FakeCallSide();
      r.modem.ring({ format: 'none' }, pos);
      assert.equal(pos.ended, true, 'a caller meanwhile hears busy');
      await run(r.clock, 10_000);
      assert.notEqual(r.line.state, 'idle');
      assert.ok(r.modem.dialled.includes('=1'), JSON.stringify(r.modem.dialled));
      assert.match(r.states.join(' / '), /no answer to AT\+VCID=1/);
    });
  });

  it('R-MDM-5: the shipped hayes profile drives a classic modem end to end: init, answer on ring 2, bytes both ways, DTR hang-up, re-init', async () => {
    const profile = loadModemProfile('hayes');
    assert.ok(
      profile.init.every((entry) => !/[+#%:$]/.test(typeof entry === 'string' ? entry : entry.command)),
      'no extended commands',
    );
    assert.equal(typeof profile.init[0] === 'string' ? profile.init[0] : profile.init[0].command, 'ATV1', 'verbose results before anything else');
    const r = await rig(profile, { personality: 'classic' });
    assert.deepEqual(r.modem.commands.slice(0, 5), ['ATV1', 'ATZ', 'ATE0V1Q0', 'ATS0=0', 'AT&C1&D2']);
    const pos = await connect(r);
    const got: Buffer[] = [];
    r.line.on('data', (c) => got.push(c));
    const awkward = Buffer.from([0x02, 0xff, 0x00, 0x03, 0x11, 0x13, 0x2b, 0x2b, 0x2b, 0x0d, 0x0a]);
    pos.emit('data', awkward);
    await settle();
    assert.deepEqual(Buffer.concat(got), awkward);
    r.line.write(awkward);
    await settle();
    assert.deepEqual(Buffer.concat(pos.sent), awkward);
    const before = r.modem.commands.length;
    const hangup = r.line.hangup('requested');
    await run(r.clock, 3000);
    await hangup;
    assert.deepEqual(r.port.dtrChanges, [false, true]);
    assert.equal(r.modem.callState, 'idle');
    assert.equal(pos.ended, true);
    assert.equal(r.line.counters.hangupFallbacks, 0);
    assert.deepEqual(commandsSince(r, before), ['ATV1', 'ATZ', 'ATE0V1Q0', 'ATS0=0', 'AT&C1&D2'], 'the init again after the call, nothing else');
    assert.equal(r.line.counters.postCallReinits, 1);
    assert.equal(r.line.state, 'idle');
  });

  it('numeric result codes are understood, and the modem is put back to verbose with ATV1', async () => {
    const profile: ModemProfile = { ...loadModemProfile('hayes'), init: ['ATZ', 'ATS0=0'] };
    const clock = new ManualClock();
    const port = new MemorySerialLine('memory', true);
    const modem = new ModemEmulator(port.dte, { clock, personality: 'classic' });
    port.write(Buffer.from('ATV0\r')); // a modem left in V0 (a stored profile, a misread +VCID)
    await settle();
    assert.equal(modem.verboseResults, false);
    const line = new ModemLine({ name: 'line1', path: 'memory', profile, clock, open: async () => port });
    line.start();
    await run(clock, 1000);
    assert.equal(line.state, 'idle');
    assert.equal(line.counters.verboseRestored, 1);
    assert.equal(modem.verboseResults, true);
    assert.deepEqual(modem.commands.slice(-3), ['ATZ', 'ATS0=0', 'ATV1']);
    await line.close();
    modem.close();
  });

  it('R-MDM-5: an optional init command answered ERROR is logged once and counted, and the line goes into service', async () => {
    const profile: ModemProfile = { ...loadModemProfile('hayes'), init: ['ATV1', 'ATZ', 'ATE0V1Q0', { command: 'AT+GCI=26', optional: true }, 'ATS0=0'] };
    const r = await rig(profile, { personality: 'classic' });
    assert.equal(r.line.counters.optionalRefused, 1);
    const pos = await connect(r);
    r.modem.dropCarrier();
    await run(r.clock, 1000);
    assert.equal(pos.ended, true);
    assert.equal(r.line.state, 'idle');
    assert.equal(r.line.counters.optionalRefused, 2, 'refused again at the re-init after the call');
    assert.deepEqual(r.line.counters.optionalRefusedBy, { 'AT+GCI=26': 2 });
    assert.equal(r.states.filter((s) => s.includes('AT+GCI=26 refused')).length, 1, 'said once');
  });

  it('R-MDM-5: a required init command answered ERROR still keeps the line out of service', async () => {
    const profile: ModemProfile = { ...loadModemProfile('hayes'), init: ['ATV1', 'AT+GCI=26'] };
    const r = await rig(profile, { personality: 'classic' }, {}, false);
    await run(r.clock, 5000);
    assert.notEqual(r.line.state, 'idle');
    assert.ok(r.line.counters.reinits >= 1);
  });

  describe('R-MDM-4: hang-up never talks into a call', () => {
    it('DTR that cannot be set (Inappropriate ioctl) falls back at once to guard, +++, ATH; no AT reaches the terminal', async () => {
      const r = await rig(loadModemProfile('hayes'), { personality: 'classic' }, { dtrFails: true });
      const pos = await connect(r);
      const started = r.clock.now();
      const hangup = r.line.hangup('requested');
      await run(r.clock, 4000);
      await hangup;
      assert.equal(r.line.counters.hangupFallbacks, 1);
      assert.equal(r.modem.callState, 'idle');
      assert.equal(pos.ended, true);
      assert.ok(!pos.callText.includes('AT'), `no AT command reached the terminal: ${JSON.stringify(pos.callText)}`);
      assert.equal(pos.callText, '', 'nothing at all: the escape was taken by the modem');
      assert.ok(r.modem.commands.includes('ATH'));
      assert.equal(r.line.state, 'idle');
      assert.ok(r.clock.now() - started >= 1000);
    });

    it('the escape guard is timed from when the port has drained: a reply still leaving at 9600 baud does not eat into it', async () => {
      const r = await rig(loadModemProfile('hayes'), { personality: 'classic' }, { dtrFails: true, baud: { rate: 9600, clock: new ManualClock() } });
      const pos = await connect(r);
      const reply = Buffer.alloc(1200, 0x55); // 1.25 s on the wire at 9600 baud
      let lastDataAt = 0;
      let escapeAt = 0;
      r.port.dte.on('data', (c: Buffer) => {
        if (c.toString('latin1') === '+++') escapeAt = r.clock.now();
        else if (escapeAt === 0) lastDataAt = r.clock.now();
      });
      r.line.write(reply);
      const hangup = r.line.hangup('requested');
      await run(r.clock, 6000, 25);
      await hangup;
      assert.ok(lastDataAt > 0 && escapeAt > 0);
      assert.ok(escapeAt - lastDataAt >= 1000, `guard ${escapeAt - lastDataAt} ms after the last byte left`);
      assert.equal(r.modem.callState, 'idle', 'the escape worked');
      assert.equal(pos.callText, reply.toString('latin1'), 'the reply arrived whole and nothing followed it');
    });

    it('an escape the modem does not answer: the call is dropped on our side, the port reopened, and no AT command is sent until the modem answers the escape OK', async () => {
      // The modem's guard (3 s) is longer than the profile's (1 s): the first escapes are call data to it.
      const r = await rig(loadModemProfile('hayes'), { personality: 'classic', guardMs: 3000 }, { dtrFails: true });
      const pos = await connect(r);
      const hangups: HangupReason[] = [];
      r.line.on('hangup', (reason) => hangups.push(reason));
      r.line.write(Buffer.from('reply'));
      const before = r.modem.commands.length;
      const hangup = r.line.hangup('requested');
      await run(r.clock, 6000, 100);
      await hangup;
      assert.deepEqual(hangups, ['requested'], 'the call is over for the NAC at once');
      assert.equal(r.line.state, 'recovering');
      assert.equal(r.line.counters.hangupFailures, 1);
      await run(r.clock, 30_000, 100);
      assert.equal(r.port.reopens, 1, 'the port was closed and opened again');
      assert.equal(r.line.state, 'idle', r.states.join(' / '));
      assert.equal(r.modem.callState, 'idle');
      assert.equal(pos.ended, true);
      assert.ok(!pos.callText.includes('AT'), `no AT command reached the terminal: ${JSON.stringify(pos.callText)}`);
      assert.match(pos.callText, /^reply(\+\+\+)+$/, 'only escapes that came too soon for this modem');
      assert.equal(commandsSince(r, before)[0], 'ATH', 'the first command after the call is the hang-up, after an answered escape');
      assert.equal(r.line.counters.postCallReinits, 1);
    });

    it('close (SIGTERM) with a call the modem will not let go reports it as not hung up', async () => {
      const r = await rig(loadModemProfile('hayes'), { personality: 'classic', guardMs: 1_000_000 }, { dtrFails: true });
      const pos = await connect(r);
      rigs.splice(rigs.indexOf(r), 1);
      const closing = r.line.close();
      await run(r.clock, 8000, 100);
      assert.equal(await closing, 'not-hung-up');
      assert.equal(r.line.shutdownOutcome, 'not-hung-up');
      assert.match(r.line.hangupError ?? '', /no answer to \+\+\+/);
      assert.ok(!pos.callText.includes('AT'));
      r.modem.close();
    });

    it('close (SIGTERM) with a call hung up says so', async () => {
      const r = await rig(loadModemProfile('hayes'), { personality: 'classic' });
      await connect(r);
      rigs.splice(rigs.indexOf(r), 1);
      const closing = r.line.close();
      await run(r.clock, 2000, 100);
      assert.equal(await closing, 'hung-up');
      assert.equal(r.modem.callState, 'idle');
      r.modem.close();
    });

    it('a refused optional &D2 command makes DTR hang-up untrustworthy: the escape is used instead', async () => {
      // K is no command of this modem: the line is refused with ERROR, so &D2 cannot be counted on.
      const profile: ModemProfile = { ...loadModemProfile('hayes'), init: ['ATV1', 'ATZ', 'ATE0V1Q0', 'ATS0=0', { command: 'AT&C1&D2K', optional: true }] };
      const r = await rig(profile, { personality: 'classic' });
      assert.equal(r.line.counters.optionalRefused, 1);
      const pos = await connect(r);
      const hangup = r.line.hangup('requested');
      await run(r.clock, 4000);
      await hangup;
      assert.deepEqual(r.port.dtrChanges, [], 'DTR left alone');
      assert.ok(r.modem.commands.includes('ATH'));
      assert.equal(pos.ended, true);
      assert.equal(r.line.counters.hangupFallbacks, 0, 'not a fallback: DTR was never tried');
    });
  });

  it('R-MDM-5: after every call the init string is sent again, every OK checked, before the line answers; its time is counted', async () => {
    const r = await rig(loadModemProfile('hayes'), { personality: 'classic' }, { baud: { rate: 2400, clock: new ManualClock() } });
    await connect(r);
    const before = r.modem.commands.length;
    r.modem.dropCarrier();
    await settle();
    assert.equal(r.line.state, 'init');
    // A caller ringing during the re-init is not answered before the modem is ready.
    await run(r.clock, 2000);
    assert.equal(r.line.state, 'idle');
    assert.deepEqual(commandsSince(r, before), ['ATV1', 'ATZ', 'ATE0V1Q0', 'ATS0=0', 'AT&C1&D2']);
    assert.equal(r.line.counters.postCallReinits, 1);
    assert.ok((r.line.counters.lastPostCallReinitMs ?? 0) > 0, `${r.line.counters.lastPostCallReinitMs} ms`);
    assert.equal(r.line.counters.postCallReinitMs, r.line.counters.lastPostCallReinitMs);
  });
});
