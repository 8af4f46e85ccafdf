import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { toHex } from '../../src/codec/hex';
import { loadWorkKeys } from '../../src/crypto/key-loading';
import { computeMac } from '../../src/crypto/mac';
import { decryptPin } from '../../src/crypto/pin-block';
import { SecretKey } from '../../src/crypto/secret-key';
import { KEY_MODES, layoutFor, wrapWorkKeys, type WorkKeys } from '../../src/crypto/work-keys';
import { CodecError } from '../../src/errors';
import { loadPinPadProfile, listPinPadProfiles } from '../../src/pinpad/profile';
import { SzztPinPad } from '../../src/pinpad/szzt-driver';
import { encodeSzztFrame, SzztFrameDecoder, type SzztEvent } from '../../src/pinpad/szzt-frame';
import { PinPadError } from '../../src/pinpad/szzt-link';
import { openPty, type Pty } from '../../src/serial/pty';
import { PinPadEmulator } from '../../src/sim/pinpad/emulator';
import { cutPoints, splitAt } from '../support/chunks';

const TMK = SecretKey.fromHex('CA5D92598DCA48CE8A4C76361A9269E9');
const SLOTS = { pin: 0, mac: 4, track: 2 };

function decode(chunks: Buffer[]): SzztEvent[] {
  const events: SzztEvent[] = [];
  const d = new SzztFrameDecoder();
  for (const c of chunks) d.push(c, (e) => events.push(e));
  return events;
}

describe('pinpad/szzt framing (R-PAD-1)', () => {
  it('STX, 3-digit length, text, ETX, 2 hex digits of XOR from the length through ETX', () => {
    const frame = encodeSzztFrame(Buffer.from('3', 'latin1'));
    assert.equal(frame.toString('latin1', 0, 6), '\x020013\x03');
    const lrc = [...frame.subarray(1, 6)].reduce((x, b) => x ^ b, 0);
    assert.equal(frame.toString('latin1', 6), lrc.toString(16).toUpperCase().padStart(2, '0'));
  });

  it('decodes frames however they are chunked; bytes outside frames are key presses; NAK is its own event', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom(...'0123456789ABCDEF'), maxLength: 60 }), { maxLength: 5 }), cutPoints, (texts, cuts) => {
        const stream = Buffer.concat([Buffer.from('1', 'latin1'), ...texts.map((t) => encodeSzztFrame(Buffer.from(t, 'latin1'))), Buffer.from([0x15])]);
        const events = decode(splitAt(stream, cuts));
        assert.deepEqual(events[0], { type: 'key', byte: 0x31 });
        assert.deepEqual(events.slice(1, -1).map((e) => (e.type === 'frame' ? e.text.toString('latin1') : e.type)), texts);
        assert.deepEqual(events[events.length - 1], { type: 'nak' });
      }),
    );
  });

  it('a wrong LRC or a missing ETX is a typed error, and the next frame still decodes', () => {
    const good = encodeSzztFrame(Buffer.from('2', 'latin1'));
    const badLrc = Buffer.from(good);
    badLrc[badLrc.length - 1] = 0x30 + ((badLrc[badLrc.length - 1] - 0x30 + 1) % 10);
    const events = decode([badLrc, good]);
    assert.equal(events[0].type, 'error');
    assert.equal((events[0] as { error: CodecError }).error.code, 'BAD_LRC');
    assert.equal(events[1].type, 'frame');
    const noEtx = Buffer.from(good);
    noEtx[5] = 0x04;
    assert.equal((decode([noEtx])[0] as { error: CodecError }).error.code, 'MISSING_ETX');
  });

  it('random bytes never crash the decoder', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => void decode([Buffer.from(bytes)])));
  });

  it('R-KEY-3: profiles load; SZZT PIN slots pair with MAC slots n+4', () => {
    for (const name of listPinPadProfiles()) assert.doesNotThrow(() => loadPinPadProfile(name), name);
    for (const name of listPinPadProfiles().filter((n) => loadPinPadProfile(n).driver === 'szzt')) {
      assert.deepEqual(loadPinPadProfile(name).pairs, [[0, 4], [1, 5], [2, 6], [3, 7]]);
    }
    assert.ok(listPinPadProfiles().includes('zt588') && listPinPadProfiles().includes('szzt-emulator'));
  });
});

describe('pinpad/szzt driver against the emulator over a real pty', function () {
  this.timeout(15_000);
  let dir: string;
  let pty: Pty;
  let emulator: PinPadEmulator;
  let pad: SzztPinPad;
  /** What beforeEach opened, in order: a set-up that failed half way closes only what it got to. */
  let opened: (() => unknown)[] = [];

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-pinpad-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  beforeEach(async () => {
    pty = await openPty({ link: { dir, name: 'pad' } });
    opened.push(() => pty.close());
    emulator = new PinPadEmulator(pty.device, { typedPin: '123456' });
    opened.push(() => emulator.close());
    emulator.holdMasterKey(1, TMK);
    pad = await SzztPinPad.open(pty.path, loadPinPadProfile('szzt-emulator'));
    opened.push(() => pad.close());
  });
  afterEach(async () => {
    for (const close of opened.reverse()) await close();
    opened = [];
  });

  function randomKeys(mode: string): WorkKeys {
    const layout = layoutFor(mode);
    const keys: Partial<WorkKeys> = {};
    for (const place of layout.keys) keys[place.type] = SecretKey.fromBytes(require('node:crypto').randomBytes(place.keyLength));
    return keys as WorkKeys;
  }

  for (const mode of KEY_MODES) {
    it(`R-KEY-1, R-KEY-2, R-KEY-3: key mode ${mode} loads encrypted into the pad and every check value passes`, async () => {
      const layout = layoutFor(mode);
      const keys = randomKeys(mode);
      const results = await loadWorkKeys(pad, wrapWorkKeys(keys, TMK, layout), layout, SLOTS, 1);
      assert.equal(results.length, layout.keys.length);
      for (const r of results) {
        assert.equal(r.pass, true, r.type);
        assert.equal(r.device, toHex((keys[r.type] as SecretKey).checkValue()));
      }
      assert.equal(emulator.storedCheckValue(pad.keyIndex(0)), toHex(keys.pin.checkValue()));
    });
  }

  it('R-KEY-2: a field 62 with a flipped byte fails, and the bad key is not left active', async () => {
    const layout = layoutFor('003');
    const field62 = wrapWorkKeys(randomKeys('003'), TMK, layout);
    field62[21] ^= 0x10; // inside the encrypted MAC key
    const results = await loadWorkKeys(pad, field62, layout, SLOTS, 1);
    assert.deepEqual(results.map((r) => [r.type, r.pass]), [['pin', true], ['mac', false]]);
    assert.equal(emulator.storedCheckValue(pad.keyIndex(4)), null, 'erased');
    await assert.rejects(pad.checkValue('mac', 4), (e: PinPadError) => e.code === 'PINPAD_E4');
  });

  it('R-KEY-2: a key the device stores wrongly (corrupted) fails its check and is erased', async () => {
    emulator.inject({ kind: 'corrupt-key', times: 1 });
    const layout = layoutFor('003');
    const results = await loadWorkKeys(pad, wrapWorkKeys(randomKeys('003'), TMK, layout), layout, SLOTS, 1);
    assert.equal(results[0].pass, false);
    assert.equal(emulator.storedCheckValue(pad.keyIndex(0)), null);
  });

  it('R-KEY-4: loading a master key in clear (bench use) answers its check value', async () => {
    const master = SecretKey.fromHex('0123456789ABCDEFFEDCBA9876543210');
    assert.equal(toHex(await pad.loadMasterKey(3, master)), '08D7B4FB');
  });

  it('R-PAD-1: NAKs and silence are retried, then succeed', async () => {
    emulator.inject({ kind: 'nak', times: 2 });
    emulator.inject({ kind: 'silent', times: 1 });
    const info = await pad.deviceInfo();
    assert.equal(info.model, 'ZT588E');
    assert.equal(pad.counters.naks, 2);
    assert.equal(pad.counters.timeouts, 1);
    assert.equal(pad.counters.retransmissions, 3);
  });

  it('R-PAD-1: a pad that stays silent is reported after the retries, naming device and command', async () => {
    emulator.inject({ kind: 'silent', times: 10 });
    await assert.rejects(pad.deviceInfo(), (e: PinPadError) => e.code === 'PINPAD_NO_ANSWER' && /szzt-emulator on .*: device information failed after 4 attempt/.test(e.message));
  });

  it('device error codes become typed errors naming device, command and code', async () => {
    emulator.inject({ kind: 'error', code: 0xe0, times: 1 });
    await assert.rejects(pad.deviceInfo(), (e: PinPadError) => e.code === 'PINPAD_E0' && e.context.deviceCode === 'E0' && /device information refused: E0 low battery/.test(e.message));
  });

  it('a wrong master index gives a clear error and no key', async () => {
    const layout = layoutFor('003');
    const results = await loadWorkKeys(pad, wrapWorkKeys(randomKeys('003'), TMK, layout), layout, SLOTS, 7);
    assert.ok(results.every((r) => !r.pass && /E4 key not found/.test(r.error ?? '')));
  });

  it('R-PIN-1, R-MAC-1: PIN block from the pad keypad and MAC with the loaded keys', async () => {
    const layout = layoutFor('003');
    const keys = randomKeys('003');
    await loadWorkKeys(pad, wrapWorkKeys(keys, TMK, layout), layout, SLOTS, 1);
    const block = await pad.pinBlock({ slot: 0, pin: '123456', pan: '6212142000000000012' });
    assert.equal(decryptPin(keys.pin, block, '6212142000000000012'), '123456');
    const data = Buffer.from('0200 MAC input', 'latin1');
    assert.deepEqual(await pad.mac({ slot: 4, algorithm: 'unionpay-ecb', data }), computeMac('unionpay-ecb', keys.mac, data));
  });
});
