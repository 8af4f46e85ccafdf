import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock';
import { ModemLine, type Call, type HangupReason } from '../../src/modem/line';
import { loadModemProfile, type ModemProfile } from '../../src/modem/profile';
import { openSerialLine } from '../../src/serial/port';
import { ModemEmulator } from '../../src/sim/modem/emulator';
import { until } from '../support/wait';
import { StrictRfc2217Server, telnetModeServer, type DeviceSide } from '../support/rfc2217-server';
import { FakeCallSide } from '../support/fake-call-side';

/** Let socket I/O run: a few turns of the event loop. */
async function io(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Advance the manual clock in steps with socket I/O between them, until `done` (or fail after `maxMs` of clock time). */
async function runUntil(clock: ManualClock, done: () => boolean, what: string, maxMs = 60_000, step = 50): Promise<void> {
  const realDeadline = Date.now() + 8000;
  for (let t = 0; !done(); t += step) {
    if (t > maxMs || Date.now() > realDeadline) throw new Error(`timed out waiting for ${what}`);
    clock.advance(step);
    await io();
  }
}


describe('serial/rfc2217: lines through a telnet COM-PORT serial server (a strict test server)', () => {
  let server: StrictRfc2217Server;
  const closers: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    assert.deepEqual(server?.violations ?? [], [], 'the strict server saw no protocol violation');
  });

  async function start(options: ConstructorParameters<typeof StrictRfc2217Server>[0] = {}): Promise<void> {
    server = new StrictRfc2217Server(options);
    await server.start();
    closers.push(() => server.close());
  }

  it('negotiates COM-PORT and sets baud rate, data bits, parity and stop bits from the line config', async () => {
    await start();
    const line = await openSerialLine(server.url, { baudRate: 2400, dataBits: 7, parity: 'even', stopBits: 2 });
    closers.push(() => line.close());
    await until(() => server.controls.length === 2, 'DTR and RTS at open');
    assert.deepEqual({ ...server.settings }, { baud: 2400, dataSize: 7, parity: 3, stopSize: 2, modemStateMask: 0xff });
    assert.deepEqual(server.controls, [8, 11], 'DTR and RTS raised at open');
  });

  it('every byte value 0x00..0xFF crosses both ways, 0xFF doubled on the wire and undoubled on arrival', async () => {
    await start();
    const device = new Promise<DeviceSide>((resolve) => server.once('connection', resolve));
    const line = await openSerialLine(server.url, {});
    closers.push(() => line.close());
    const side = await device;
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const atDevice: Buffer[] = [];
    side.on('data', (c) => atDevice.push(c));
    line.write(every);
    line.write(Buffer.from([0xff, 0xff, 0x0d, 0x00]));
    await line.drain();
    const fromDevice: Buffer[] = [];
    line.on('data', (c) => fromDevice.push(c));
    side.write(every);
    side.write(Buffer.from([0xff, 0xfb, 0x01]));
    const expectToDevice = Buffer.concat([every, Buffer.from([0xff, 0xff, 0x0d, 0x00])]);
    await until(() => Buffer.concat(atDevice).length >= expectToDevice.length, 'the bytes at the device');
    await until(() => Buffer.concat(fromDevice).length >= 259, 'the bytes from the device');
    assert.deepEqual(Buffer.concat(atDevice), expectToDevice);
    assert.equal(server.doubledIacs, 3, 'each 0xFF sent as IAC IAC');
    assert.deepEqual(Buffer.concat(fromDevice), Buffer.concat([every, Buffer.from([0xff, 0xfb, 0x01])]), 'IAC IAC read as one 0xFF, even when it looks like a WILL');
  });

  it('DTR is set through the server; one that does not confirm DTR (a pty behind ser2net) is CONTROL_LINES_UNAVAILABLE', async () => {
    await start();
    const line = await openSerialLine(server.url, {});
    closers.push(() => line.close());
    await line.setDtr(false);
    assert.equal(server.dtrState, false);
    await line.setDtr(true);
    assert.equal(server.dtrState, true);

    const silent = new StrictRfc2217Server({ dtr: 'silent' });
    await silent.start();
    closers.push(() => silent.close());
    const clock = new ManualClock();
    const quiet = await openSerialLine(silent.url, { clock, replyTimeoutMs: 1000 });
    closers.push(() => quiet.close());
    let failure: Error | null = null;
    const setting = quiet.setDtr(false).catch((e: Error) => (failure = e));
    await runUntil(clock, () => failure !== null, 'the DTR confirmation to time out', 2000);
    await setting;
    assert.match(String(failure), /did not confirm DTR off within 1000 ms/);
    assert.deepEqual(silent.violations, []);
  });

  it('modem-state notifications give DCD: the line emits the change and getDcd() reads it', async () => {
    await start();
    const line = await openSerialLine(server.url, {});
    closers.push(() => line.close());
    await assert.rejects(line.getDcd(), /has not reported the modem state/);
    const changes: boolean[] = [];
    line.on('dcd', (on) => changes.push(on));
    server.notifyDcd(true);
    server.notifyDcd(false);
    await until(() => changes.length >= 2, 'two DCD changes');
    assert.deepEqual(changes, [true, false]);
    assert.equal(await line.getDcd(), false);
  });

  it('a server that refuses the COM-PORT option fails the open, saying it does not speak RFC 2217', async () => {
    await start({ refuseComPort: true });
    await assert.rejects(openSerialLine(server.url, {}), /does not speak RFC 2217 .*use tcp:\/\//);
  });

  it('a tcp:// line on a telnet-mode server stops with an error that says so, and the modem line does not retry', async () => {
    await start();
    const telnet = await telnetModeServer();
    closers.push(() => telnet.close());
    const path = `tcp://127.0.0.1:${telnet.port}`;
    const line = await openSerialLine(path, {});
    closers.push(() => line.close());
    const [reason, fatal] = await new Promise<[string, boolean | undefined]>((resolve) => line.once('close', (r, f) => resolve([r, f])));
    assert.equal(fatal, true);
    assert.match(reason, /serial server is in telnet mode .*IAC DO\/WILL\/WONT\/DONT.*Use rfc2217:\/\/127\.0\.0\.1:\d+ .*raw TCP/);

    const clock = new ManualClock();
    const modemLine = new ModemLine({ name: 'line1', path, profile: loadModemProfile('hayes'), clock });
    closers.push(() => modemLine.close());
    const states: string[] = [];
    modemLine.on('state', (s, d) => states.push(`${s}${d ? ` (${d})` : ''}`));
    modemLine.start();
    await runUntil(clock, () => modemLine.state === 'failed', 'the line to fail', 30_000);
    await runUntil(clock, () => clock.now() > 20_000, 'time to pass', 30_000, 500);
    assert.equal(modemLine.state, 'failed', states.join(' / '));
    assert.equal(modemLine.counters.reopens, 0, 'not retried');
    assert.match(states.join('\n'), /failed \(.*telnet mode/);
  });

  describe('a modem line through the server (emulated modem behind it)', () => {
    let clock: ManualClock;
    let modem: ModemEmulator;
    let line: ModemLine;

    async function setUp(dtr: 'works' | 'silent', profile: Partial<ModemProfile> = {}): Promise<void> {
      await start({ dtr });
      clock = new ManualClock(Date.UTC(2026, 10, 21, 14, 5));
      server.on('connection', (side) => {
        modem = new ModemEmulator(side, { clock, ringIntervalMs: 2000, callerIdDelayMs: 500, guardMs: 1000, personality: 'classic' });
        closers.push(() => modem.close());
      });
      server.on('dtr', (on) => modem.setDtr(on));
      line = new ModemLine({ name: 'line1', path: server.url, profile: { ...loadModemProfile('hayes'), ...profile }, clock });
      closers.push(() => line.close());
      line.start();
      await runUntil(clock, () => line.state === 'idle', 'the line to go idle');
    }

    async function call(): Promise<FakeCallSide> {
      const pos = new FakeCallSide();
      const connected = new Promise<Call>((resolve) => line.once('connected', resolve));
      modem.ring({ format: 'none' }, pos);
      await runUntil(clock, () => line.state === 'connected', 'the call');
      await connected;
      // The caller's own modem says CONNECT; what the call carries after it is what is looked at.
      assert.match(Buffer.concat(pos.sent).toString('latin1'), /^\r\nCONNECT \d+\r\n$/);
      pos.sent.length = 0;
      return pos;
    }

    it('R-MDM-4: DTR hang-up works over the network: the modem sees DTR drop and hangs up, no escape needed', async () => {
      await setUp('works');
      const pos = await call();
      const hangup = line.hangup('requested');
      await runUntil(clock, () => line.state === 'idle', 'the hang-up and re-init');
      await hangup;
      assert.deepEqual(modem.dtrChanges, [true, false, true], 'raised at open, dropped, raised');
      assert.equal(pos.ended, true);
      assert.equal(line.counters.hangupFallbacks, 0);
      assert.ok(!modem.commands.includes('ATH'));
      assert.equal(line.counters.postCallReinits, 1);
    });

    it('R-MDM-4: a server that does not confirm DTR: the line falls back to guard, +++, ATH at once', async () => {
      await setUp('silent', { commandTimeoutSeconds: 1 });
      const pos = await call();
      const hangup = line.hangup('requested');
      await runUntil(clock, () => line.state === 'idle', 'the fallback hang-up and re-init');
      await hangup;
      assert.equal(line.counters.hangupFallbacks, 1);
      assert.ok(modem.commands.includes('ATH'));
      assert.equal(pos.ended, true);
      // Only the NO CARRIER the caller's own modem says once the call has ended.
      assert.equal(Buffer.concat(pos.sent).toString('latin1').replace(/\r\nNO CARRIER\r\n$/, ''), '', 'nothing written into the call');
    });

    it('R-MDM-4: carrier loss is seen from the modem-state notification (DCD falling)', async () => {
      await setUp('works', { dcdPollMs: 60_000 });
      await call();
      const hangups: HangupReason[] = [];
      line.on('hangup', (r) => hangups.push(r));
      server.notifyDcd(true);
      await until(() => server.violations.length === 0 && line.state === 'connected', 'DCD up');
      await io(20);
      assert.equal(line.state, 'connected', 'a rise is no loss');
      server.notifyDcd(false);
      await until(() => hangups.length > 0, 'the hang-up');
      assert.deepEqual(hangups, ['carrier-lost']);
    });
  });
});

