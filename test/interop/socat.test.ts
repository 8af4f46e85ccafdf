import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AsyncFrameDecoder, encodeAsyncFrame } from '../../src/codec/async-frame';
import { toHex } from '../../src/codec/hex';
import { buildTerminalMessage } from '../../src/iso8583/terminal-message';
import { openSerialLine } from '../../src/serial/port';
import { openPty } from '../../src/serial/pty';
import * as build from '../../src/terminal/messages';
import { ModemEmulator } from '../../src/sim/modem/emulator';
import { CARD } from '../support/platform';
import { EMULATOR_TIMING, startNacBench, terminalIdOf, type LineEnd, type NacBench } from '../support/nac-bench';
import { socatPtyPair, startSocat } from '../support/socat';
import { until } from '../support/wait';

/**
 * The NAC's serial lines against socat, the tool a bench uses to join serial devices: a socat pty
 * pair (the NAC opens one end, the emulated modem the other), and socat as a raw TCP serial server
 * in front of a pty (the NAC opens tcp://), as ser2net in raw mode would be.
 */

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'nacbridge-interop-'));
}

async function socatPairLineEnd(): Promise<LineEnd> {
  const dir = tempDir();
  const closers: (() => unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c();
  };
  try {
    const socat = await socatPtyPair(path.join(dir, 'nac'), path.join(dir, 'modem'));
    closers.push(() => socat.close());
    const port = await openSerialLine(path.join(dir, 'modem'), { controlLines: false });
    closers.push(() => port.close());
    const modem = new ModemEmulator(port, EMULATOR_TIMING);
    closers.push(() => modem.close());
    return { path: path.join(dir, 'nac'), modem: async () => modem, close };
  } catch (e) {
    await close();
    throw e;
  }
}

async function socatTcpServerLineEnd(): Promise<LineEnd> {
  const closers: (() => unknown)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c();
  };
  try {
    const pty = await openPty();
    closers.push(() => pty.close());
    const modem = new ModemEmulator(pty.device, EMULATOR_TIMING);
    closers.push(() => modem.close());
    let said = '';
    const socat = await startSocat(
      ['-d', '-d', 'TCP-LISTEN:0,bind=127.0.0.1,reuseaddr', `FILE:${pty.path},raw,echo=0`],
      () => /listening on AF=2 127\.0\.0\.1:\d+/.test(said),
      (text) => (said += text),
    );
    closers.push(() => socat.close());
    const port = Number(/listening on AF=2 127\.0\.0\.1:(\d+)/.exec(said)?.[1]);
    return { path: `tcp://127.0.0.1:${port}`, modem: async () => modem, close };
  } catch (e) {
    await close();
    throw e;
  }
}

const TRANSPORTS: [string, () => Promise<LineEnd>][] = [
  ['a socat pty pair', socatPairLineEnd],
  ['socat as a raw TCP serial server in front of a pty', socatTcpServerLineEnd],
];

for (const [transport, lineEnd] of TRANSPORTS) describe(`interop: NAC lines over ${transport}`, function () {
  this.timeout(20_000);
  let bench: NacBench | undefined;
  afterEach(async () => {
    await bench?.close();
    bench = undefined;
  });

  it('R-MDM-6, R-DIAL-1: every byte value 0x00..0xFF inside a frame reaches the platform unchanged, behind the dial-monitor block', async () => {
    bench = await startNacBench(1, lineEnd);
    const { pos } = await bench.dial(0, '50582613');
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const message = build.echoTest({ terminalId: terminalIdOf(0), merchantId: '123456789012345' }, '000001').set(62, everyByte);
    const payload = buildTerminalMessage(bench.codec, { tpdu: { id: 0x60, destination: '0003', originator: '0000' }, dialMonitor: null, header: '603100310000', message });
    assert.ok(toHex(payload).includes(toHex(everyByte)), 'the frame carries all 256 byte values');
    const decoder = new AsyncFrameDecoder();
    const answers: Buffer[] = [];
    pos.on('data', (chunk: Buffer) => decoder.push(chunk, (e) => e.type === 'frame' && answers.push(e.frame)));
    pos.write(encodeAsyncFrame(payload));
    await until(() => bench?.captured.length === 1, 'the request at the platform', 5000);
    const dialBlock = '4C5249001C' + '0000000050582613' + '0000000061651108' + '580009490006000000220030';
    assert.equal(toHex((bench as NacBench).captured[0]), '6000030001' + dialBlock + toHex(payload.subarray(5)));
  });

  it('a sign-on with key loading and a sale with PIN and MAC go through and back (binary keys and MACs both ways)', async () => {
    bench = await startNacBench(1, lineEnd);
    const { terminal } = await bench.dial(0, '50582613');
    const signOn = await terminal.signOn();
    assert.equal(signOn.responseCode, '00');
    assert.deepEqual(signOn.keys.map((k) => k.pass), [true, true], 'both check values of field 62 pass at the POS');
    const sale = await terminal.sale({ pan: CARD.pan }, '1234', CARD.pin);
    assert.equal(sale.responseCode, '00');
    assert.equal(sale.macOk, true);
  });
});
