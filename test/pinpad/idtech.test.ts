import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { toHex } from '../../src/codec/hex';
import { loadWorkKeys } from '../../src/crypto/key-loading';
import { decryptPin } from '../../src/crypto/pin-block';
import { SecretKey } from '../../src/crypto/secret-key';
import { wrapTr31 } from '../../src/crypto/tr31';
import { layoutFor, wrapWorkKeys, type WorkKeys } from '../../src/crypto/work-keys';
import { IdtechPinPad, KEY_INDEX } from '../../src/pinpad/idtech-driver';
import { encodeIdtechFrame, IdtechDecoder, type IdtechEvent } from '../../src/pinpad/idtech-frame';
import { loadPinPadProfile } from '../../src/pinpad/profile';
import { PinPadError } from '../../src/pinpad/szzt-link';
import { openSerialLine } from '../../src/serial/port';
import { openPty, type Pty } from '../../src/serial/pty';
import { IdtechEmulator } from '../../src/sim/pinpad/idtech-emulator';
import { cutPoints, splitAt } from '../support/chunks';

const TMK = SecretKey.fromHex('CA5D92598DCA48CE8A4C76361A9269E9');
const KBPK = SecretKey.fromHex('19191919191919195B5B5B5B5B5B5B5B');
const SLOTS = { pin: 0, mac: 1, track: 2 };

function decode(chunks: Buffer[]): IdtechEvent[] {
  const events: IdtechEvent[] = [];
  const d = new IdtechDecoder();
  for (const c of chunks) d.push(c, (e) => events.push(e));
  return events;
}

function randomKeys(mode: string): WorkKeys {
  const keys: Partial<WorkKeys> = {};
  for (const place of layoutFor(mode).keys) keys[place.type] = SecretKey.fromBytes(randomBytes(place.keyLength));
  return keys as WorkKeys;
}

describe('pinpad/idtech frames (R-PAD-1)', () => {
  it('R-PAD-1: the L100 manual\'s examples: "get firmware version" is 0203007846013FBF03, "get key status" 0203007846300EEE03', () => {
    assert.equal(toHex(encodeIdtechFrame(Buffer.from([0x78, 0x46, 0x01]))), '0203007846013FBF03');
    assert.equal(toHex(encodeIdtechFrame(Buffer.from([0x78, 0x46, 0x30]))), '0203007846300EEE03');
  });

  it('R-PAD-1: frames decode however chunked; bytes outside frames are key echoes; a lone 0x15 is a NAK', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 4 }), cutPoints, (bodies, cuts) => {
        const stream = Buffer.concat([Buffer.from('**', 'latin1'), ...bodies.map((b) => encodeIdtechFrame(b)), Buffer.from([0x15])]);
        const events = decode(splitAt(stream, cuts));
        assert.deepEqual(events.slice(0, 2), [{ type: 'key', byte: 0x2a }, { type: 'key', byte: 0x2a }]);
        assert.deepEqual(events.slice(2, -1).map((e) => (e.type === 'frame' ? toHex(e.body) : e.type)), bodies.map((b) => toHex(b)));
        assert.deepEqual(events[events.length - 1], { type: 'nak' });
      }),
    );
  });

  it('a wrong LRC, a wrong SUM or a missing ETX is a typed error; random bytes never crash', () => {
    const good = encodeIdtechFrame(Buffer.from([0x78, 0x46, 0x01]));
    for (const [at, code] of [[6, 'BAD_LRC'], [7, 'BAD_LRC'], [8, 'MISSING_ETX']] as const) {
      const bad = Buffer.from(good);
      bad[at] ^= 0x10;
      const events = decode([bad, good]);
      assert.equal(events[0].type === 'error' && events[0].error.code, code);
      assert.equal(events[1].type, 'frame');
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => void decode([Buffer.from(bytes)])));
  });
});

describe('pinpad/idtech driver against the emulator personality over a real pty', function () {
  this.timeout(20_000);
  let dir: string;
  let pty: Pty;
  /** What beforeEach opened, in order: a set-up that failed half way closes only what it got to. */
  let opened: (() => unknown)[] = [];
  let emulator: IdtechEmulator;
  let pad: IdtechPinPad;
  const profile = { ...loadPinPadProfile('l100'), timeoutMs: 300, pinEntryTimeoutMs: 2000 };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-idt-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  beforeEach(async () => {
    pty = await openPty({ link: { dir, name: 'idt' } });
    opened.push(() => pty.close());
    emulator = new IdtechEmulator(pty.device, { typedPin: '123456' });
    opened.push(() => emulator.close());
    emulator.holdKbpk(KBPK);
    emulator.holdMasterKey(1, TMK);
    pad = await IdtechPinPad.open(pty.path, profile, { translation: new Map([[1, TMK]]), kbpk: KBPK });
    opened.push(() => pad.close());
  });
  afterEach(async () => {
    for (const close of opened.reverse()) await close();
    opened = [];
  });

  it('R-PAD-1: firmware version (78 46 01) names model and firmware', async () => {
    assert.deepEqual(await pad.deviceInfo(), { model: 'SmartPIN L100', firmware: 'V1.00.012' });
  });

  for (const mode of ['003', '004']) {
    it(`R-KEY-1, R-KEY-2: key mode ${mode}: keys go in as TR-31 blocks under the TMK and the pad's check value on load equals field 62's`, async () => {
      const layout = layoutFor(mode);
      const keys = randomKeys(mode);
      const results = await loadWorkKeys(pad, wrapWorkKeys(keys, TMK, layout), layout, SLOTS, 1);
      for (const r of results) {
        assert.equal(r.pass, true, `${r.type}: ${r.error ?? ''}`);
        assert.equal(r.device, toHex((keys[r.type] as SecretKey).checkValue(3)));
      }
      assert.equal(emulator.storedCheckValue(KEY_INDEX.pin, 1), toHex(keys.pin.checkValue(3)));
      const status = await pad.keyStatus();
      assert.ok(status.some((s) => s.index === KEY_INDEX.pin && s.slot === 1 && s.exists));
    });
  }

  it('R-KEY-2: a key the pad stores corrupted answers another check value and fails', async () => {
    emulator.inject({ kind: 'corrupt-key', times: 1 });
    const layout = layoutFor('003');
    const results = await loadWorkKeys(pad, wrapWorkKeys(randomKeys('003'), TMK, layout), layout, SLOTS, 1);
    assert.deepEqual(results.map((r) => r.pass), [false, true]);
  });

  it('R-KEY-2: a block wrapped under another key is refused by the pad (its TR-31 MAC fails): 15 0A 01', async () => {
    await pad.close();
    const other = await IdtechPinPad.open(pty.path, profile, { translation: new Map([[1, SecretKey.fromBytes(randomBytes(16))]]) });
    try {
      const layout = layoutFor('003');
      const results = await loadWorkKeys(other, wrapWorkKeys(randomKeys('003'), TMK, layout), layout, SLOTS, 1);
      assert.ok(results.every((r) => !r.pass && /PINPAD_15_0A01: .*key block MAC does not verify/.test(r.error ?? '')), JSON.stringify(results));
    } finally {
      await other.close();
    }
  });

  it('R-KEY-4: a master key goes in as a K0 block under the KBPK; the pad answers its check value', async () => {
    const master = SecretKey.fromHex('0123456789ABCDEFFEDCBA9876543210');
    assert.equal(toHex(await pad.loadMasterKey(3, master)), '08D7B4');
    assert.equal(emulator.storedCheckValue(KEY_INDEX.master, 3), '08D7B4');
  });

  it('wrong state refused: a session key for a slot with no PIN master key (15 0A 03); PIN entry with no PIN key (15 04 00)', async () => {
    await pad.close();
    const layout = layoutFor('003');
    const slot5 = await IdtechPinPad.open(pty.path, profile, { translation: new Map([[5, TMK]]) });
    try {
      const r = await loadWorkKeys(slot5, wrapWorkKeys(randomKeys('003'), TMK, layout), layout, SLOTS, 5);
      assert.ok(r.every((k) => !k.pass && /PINPAD_15_0A03/.test(k.error ?? '')), JSON.stringify(r));
    } finally {
      await slot5.close();
    }
    const raw = await openSerialLine(pty.path, { controlLines: false });
    try {
      const events: IdtechEvent[] = [];
      const d = new IdtechDecoder();
      raw.on('data', (chunk) => d.push(chunk, (e) => events.push(e)));
      raw.write(encodeIdtechFrame(Buffer.concat([Buffer.from([0x75, 0x46, 0x07, 0x00]), Buffer.from('2142000000000012', 'latin1'), Buffer.from([0])])));
      const deadline = Date.now() + 2000;
      while (events.length < 1 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      assert.equal(events[0]?.type === 'frame' && toHex(events[0].body), '150400');
    } finally {
      await raw.close();
    }
  });

  it('wrong key length refused: the driver refuses an 8-byte PIN key; the pad refuses one sent anyway (15 0A 04)', async () => {
    await assert.rejects(pad.loadWorkKey({ type: 'pin', slot: 0, masterIndex: 1, encrypted: randomBytes(8) }), (e: PinPadError) => e.code === 'PINPAD_BAD_KEY_LENGTH');
    await pad.close();
    const host = await openSerialLine(pty.path, { controlLines: false });
    try {
      const events: IdtechEvent[] = [];
      const d = new IdtechDecoder();
      host.on('data', (chunk) => d.push(chunk, (e) => events.push(e)));
      const tmk = TMK.reveal();
      const block = wrapTr31(tmk, { version: 'B', usage: 'P0', algorithm: 'T', modeOfUse: 'E', keyVersion: '00', exportability: 'N', optionalBlocks: [{ id: '01', data: '0028' }, { id: '02', data: '0001' }] }, randomBytes(8));
      tmk.fill(0);
      host.write(encodeIdtechFrame(Buffer.concat([Buffer.from([0x75, 0x46, 0x3b]), Buffer.from(block, 'latin1')])));
      const deadline = Date.now() + 2000;
      while (events.length < 1 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      assert.equal(events[0]?.type === 'frame' && toHex(events[0].body), '150A04');
    } finally {
      await host.close();
    }
  });

  it('R-PAD-1: NAKs (bad frames) and silence are retried, then succeed', async () => {
    emulator.inject({ kind: 'nak', times: 2 });
    emulator.inject({ kind: 'silent', times: 1 });
    await pad.deviceInfo();
    assert.deepEqual({ naks: pad.counters.naks, timeouts: pad.counters.timeouts, again: pad.counters.retransmissions }, { naks: 2, timeouts: 1, again: 3 });
  });

  it('R-PIN-1: MK/SK PIN entry: 06 at once, "*" per digit typed, then the PIN block under the loaded PIN key', async () => {
    const layout = layoutFor('003');
    const keys = randomKeys('003');
    await loadWorkKeys(pad, wrapWorkKeys(keys, TMK, layout), layout, SLOTS, 1);
    const block = await pad.pinBlock({ slot: 0, pin: '123456', pan: '6212142000000000012' });
    assert.equal(decryptPin(keys.pin, block, '6212142000000000012'), '123456');
    assert.equal(pad.counters.keyPresses, 6);
  });
});
