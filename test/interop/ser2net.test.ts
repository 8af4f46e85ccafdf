import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AsyncFrameDecoder, encodeAsyncFrame } from '../../src/codec/async-frame';
import { toHex } from '../../src/codec/hex';
import { buildTerminalMessage } from '../../src/iso8583/terminal-message';
import { ModemLine, type Call } from '../../src/modem/line';
import { loadModemProfile, type ModemProfile } from '../../src/modem/profile';
import { openPty } from '../../src/serial/pty';
import * as build from '../../src/terminal/messages';
import { ModemEmulator, type EmulatorOptions } from '../../src/sim/modem/emulator';
import { EMULATOR_TIMING, startNacBench, terminalIdOf, type LineEnd, type NacBench } from '../support/nac-bench';
import { StrictRfc2217Server } from '../support/rfc2217-server';
import { startSer2net } from '../support/ser2net';
import { until } from '../support/wait';
import { FakeCallSide } from '../support/fake-call-side';

/**
 * The NAC's serial lines through ser2net (Debian package), the serial server a bench or field
 * box runs: in raw TCP mode (tcp://) and in telnet RFC 2217 mode (rfc2217://) in front of a pty
 * carrying the modem emulator; and in RFC 2217 mode in front of an RFC 2217 device (the strict
 * test server carrying the emulator), so DTR set by the NAC goes through ser2net to the modem.
 */

type Mode = 'raw' | 'rfc2217';

/** ser2net in `mode` in front of a pty (opened here) whose master side carries an emulated modem. */
async function ser2netLineEnd(mode: Mode, emulator: EmulatorOptions = EMULATOR_TIMING): Promise<LineEnd & { modemNow: () => ModemEmulator }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-ser2net-pty-'));
  const closers: (() => unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c();
  };
  try {
    const pty = await openPty({ link: { dir, name: 'modem' } });
    closers.push(() => pty.close());
    const modem = new ModemEmulator(pty.device, emulator);
    closers.push(() => modem.close());
    const accepter = (port: number): string => (mode === 'raw' ? `tcp,127.0.0.1,${port}` : `telnet(rfc2217),tcp,127.0.0.1,${port}`);
    const server = await startSer2net(accepter, `serialdev,${pty.path},9600n81,local`);
    closers.push(() => server.close());
    const scheme = mode === 'raw' ? 'tcp' : 'rfc2217';
    return { path: `${scheme}://127.0.0.1:${server.port}`, modem: async () => modem, modemNow: () => modem, close };
  } catch (e) {
    await close();
    throw e;
  }
}


const EVERY_BYTE = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const FAST_PROFILE: Partial<ModemProfile> = { answerDelayMs: 20, escapeGuardMs: 100, commandTimeoutSeconds: 2 };

for (const mode of ['raw', 'rfc2217'] as Mode[]) {
  describe(`interop: NAC lines through ser2net in ${mode === 'raw' ? 'raw TCP mode (tcp://)' : 'telnet RFC 2217 mode (rfc2217://)'} in front of a pty`, function () {
    this.timeout(20_000);
    let bench: NacBench | undefined;
    const closers: (() => Promise<unknown> | unknown)[] = [];
    afterEach(async () => {
      await bench?.close();
      bench = undefined;
      for (const c of closers.splice(0).reverse()) await c();
    });

    it('R-MDM-6, R-DIAL-1: every byte value 0x00..0xFF inside a frame reaches the platform unchanged', async () => {
      bench = await startNacBench(1, () => ser2netLineEnd(mode));
      const { pos } = await bench.dial(0, '50582613');
      const message = build.echoTest({ terminalId: terminalIdOf(0), merchantId: '123456789012345' }, '000001').set(62, EVERY_BYTE);
      const payload = buildTerminalMessage(bench.codec, { tpdu: { id: 0x60, destination: '0003', originator: '0000' }, dialMonitor: null, header: '603100310000', message });
      const decoder = new AsyncFrameDecoder();
      pos.on('data', (chunk: Buffer) => decoder.push(chunk, () => undefined));
      pos.write(encodeAsyncFrame(payload));
      await until(() => bench?.captured.length === 1, 'the request at the platform', 5000);
      const dialBlock = '4C5249001C' + '0000000050582613' + '0000000061651108' + '580009490006000000220030';
      assert.equal(toHex((bench as NacBench).captured[0]), '6000030001' + dialBlock + toHex(payload.subarray(5)));
    });

    it('every byte value 0x00..0xFF crosses a call both ways, and the line hangs up and re-initialises', async () => {
      const end = await ser2netLineEnd(mode);
      closers.push(() => end.close());
      const line = new ModemLine({ name: 'line1', path: end.path, profile: { ...loadModemProfile('emulator'), ...FAST_PROFILE } });
      closers.push(() => line.close());
      line.start();
      await until(() => line.state === 'idle', 'the line idle', 8000);
      const pos = new FakeCallSide();
      const connected = new Promise<Call>((resolve) => line.once('connected', resolve));
      end.modemNow().ring({ number: '50582613' }, pos);
      await connected;
      // The caller's own modem says CONNECT first; the call's bytes are what follows.
      assert.match(Buffer.concat(pos.sent).toString('latin1'), /^\r\nCONNECT \d+\r\n$/);
      pos.sent.length = 0;
      const got: Buffer[] = [];
      line.on('data', (c) => got.push(c));
      const frame = Buffer.concat([EVERY_BYTE, Buffer.from('+++'), Buffer.from([0xff, 0xff, 0x11, 0x13])]);
      pos.emit('data', frame);
      line.write(frame);
      await until(() => Buffer.concat(got).length >= frame.length && Buffer.concat(pos.sent).length >= frame.length, 'the bytes both ways', 5000);
      assert.deepEqual(Buffer.concat(got), frame, 'POS to NAC');
      assert.deepEqual(Buffer.concat(pos.sent), frame, 'NAC to POS');
      await line.hangup('requested');
      await until(() => line.state === 'idle', 'the re-init after the call', 8000);
      assert.equal(pos.ended, true);
      assert.equal(line.counters.postCallReinits, 1);
    });
  });
}

describe('interop: ser2net in front of an RFC 2217 device: DTR hang-up through the server', function () {
  this.timeout(20_000);
  const closers: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  it('R-MDM-4: the NAC drops DTR over rfc2217://, ser2net passes it on, the modem hangs up: no escape, no ATH', async () => {
    const device = new StrictRfc2217Server();
    await device.start();
    closers.push(() => device.close());
    let modem: ModemEmulator | null = null;
    device.on('connection', (side) => {
      modem?.close();
      modem = new ModemEmulator(side, { ...EMULATOR_TIMING, personality: 'classic' });
    });
    device.on('dtr', (on) => modem?.setDtr(on));
    closers.push(() => modem?.close());
    const server = await startSer2net((port) => `telnet(rfc2217),tcp,127.0.0.1,${port}`, `telnet(rfc2217),tcp,127.0.0.1,${device.port}`);
    closers.push(() => server.close());
    const line = new ModemLine({ name: 'line1', path: `rfc2217://127.0.0.1:${server.port}`, profile: { ...loadModemProfile('hayes'), ...FAST_PROFILE, dtrDropMs: 100 } });
    closers.push(() => line.close());
    line.start();
    await until(() => line.state === 'idle', 'the line idle', 8000);
    const current = (): ModemEmulator => {
      assert.ok(modem);
      return modem;
    };
    const pos = new FakeCallSide();
    const connected = new Promise<Call>((resolve) => line.once('connected', resolve));
    current().ring({ format: 'none' }, pos);
    await connected;
    await line.hangup('requested');
    await until(() => line.state === 'idle', 'the re-init after the call', 8000);
    assert.ok(current().dtrChanges.includes(false), `DTR reached the modem: ${JSON.stringify(current().dtrChanges)}`);
    assert.equal(pos.ended, true);
    assert.equal(line.counters.hangupFallbacks, 0);
    assert.ok(!current().commands.includes('ATH'), 'no ATH: DTR did it');
    // Only what the caller's own modem says around the call: CONNECT, then NO CARRIER once it ended.
    assert.equal(Buffer.concat(pos.sent).toString('latin1').replace(/^\r\nCONNECT \d+\r\n/, '').replace(/\r\nNO CARRIER\r\n$/, ''), '', 'nothing written into the call');
    assert.deepEqual(device.violations, [], 'ser2net spoke RFC 2217 as the strict server reads it');
  });

  it('R-MDM-4: ser2net in front of a pty (no DTR) does not confirm DTR: the line falls back to the escape and hangs up', async () => {
    const end = await ser2netLineEnd('rfc2217', { ...EMULATOR_TIMING, personality: 'classic' });
    closers.push(() => end.close());
    const line = new ModemLine({ name: 'line1', path: end.path, profile: { ...loadModemProfile('hayes'), ...FAST_PROFILE } });
    closers.push(() => line.close());
    line.start();
    await until(() => line.state === 'idle', 'the line idle', 8000);
    const pos = new FakeCallSide();
    const connected = new Promise<Call>((resolve) => line.once('connected', resolve));
    end.modemNow().ring({ format: 'none' }, pos);
    await connected;
    await line.hangup('requested');
    await until(() => line.state === 'idle', 'the re-init after the call', 12_000);
    assert.equal(line.counters.hangupFallbacks, 1);
    assert.ok(end.modemNow().commands.includes('ATH'));
    assert.equal(pos.ended, true);
    // Only what the caller's own modem says around the call: CONNECT, then NO CARRIER once it ended.
    assert.equal(Buffer.concat(pos.sent).toString('latin1').replace(/^\r\nCONNECT \d+\r\n/, '').replace(/\r\nNO CARRIER\r\n$/, ''), '', 'nothing written into the call');
  });

  it('a tcp:// line on ser2net in telnet mode stops with an error that says to use rfc2217:// or a raw port', async () => {
    const end = await ser2netLineEnd('rfc2217');
    closers.push(() => end.close());
    const tcpPath = end.path.replace(/^rfc2217:/, 'tcp:');
    const line = new ModemLine({ name: 'line1', path: tcpPath, profile: loadModemProfile('emulator') });
    closers.push(() => line.close());
    const states: string[] = [];
    line.on('state', (s, d) => states.push(`${s}${d ? ` (${d})` : ''}`));
    line.start();
    await until(() => line.state === 'failed', 'the line to fail', 8000);
    assert.match(states.join('\n'), /failed \(tcp:\/\/127\.0\.0\.1:\d+: the serial server is in telnet mode .*Use rfc2217:\/\/127\.0\.0\.1:\d+/);
    assert.equal(line.counters.reopens, 0);
  });
});
