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
import { layoutFor, wrapWorkKeys, type WorkKeys } from '../../src/crypto/work-keys';
import { loadPinPadProfile } from '../../src/pinpad/profile';
import { PinPadError } from '../../src/pinpad/szzt-link';
import { VerifonePinPad } from '../../src/pinpad/verifone-driver';
import { encodeVerifonePacket, VerifoneDecoder, type VerifoneEvent } from '../../src/pinpad/verifone-frame';
import { openSerialLine } from '../../src/serial/port';
import { openPty, type Pty } from '../../src/serial/pty';
import { VerifoneEmulator } from '../../src/sim/pinpad/verifone-emulator';
import { cutPoints, splitAt } from '../support/chunks';

const TMK = SecretKey.fromHex('CA5D92598DCA48CE8A4C76361A9269E9');
const SLOTS = { pin: 0, mac: 1 };

function decode(chunks: Buffer[]): VerifoneEvent[] {
  const events: VerifoneEvent[] = [];
  const d = new VerifoneDecoder();
  for (const c of chunks) d.push(c, (e) => events.push(e));
  return events;
}

function randomKeys(mode: string): WorkKeys {
  const keys: Partial<WorkKeys> = {};
  for (const place of layoutFor(mode).keys) keys[place.type] = SecretKey.fromBytes(randomBytes(place.keyLength));
  return keys as WorkKeys;
}

describe('pinpad/verifone packets (R-PAD-1)', () => {
  it('R-PAD-1: <SI>08 7<SO> LRC: the LRC is the XOR of everything after SI through SO (the MX800 guide example "select master key 7")', () => {
    const packet = encodeVerifonePacket('SI', '087');
    assert.deepEqual([...packet.subarray(0, 5)], [0x0f, 0x30, 0x38, 0x37, 0x0e]);
    assert.equal(packet[5], 0x30 ^ 0x38 ^ 0x37 ^ 0x0e);
    assert.equal(encodeVerifonePacket('STX', 'Z1').toString('hex'), '025a3103' + (0x5a ^ 0x31 ^ 0x03).toString(16).padStart(2, '0'));
  });

  it('R-PAD-1: packets and ACK / NAK / EOT decode in order however the bytes are chunked', () => {
    const body = fc.string({ unit: fc.constantFrom(...'0123456789ABCDEFZ.'), maxLength: 40 });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom<'SI' | 'STX'>('SI', 'STX'), body), { maxLength: 5 }), cutPoints, (packets, cuts) => {
        const stream = Buffer.concat([Buffer.from([0x06]), ...packets.map(([f, b]) => encodeVerifonePacket(f, b)), Buffer.from([0x15, 0x04])]);
        const events = decode(splitAt(stream, cuts));
        assert.deepEqual(events[0], { type: 'ack' });
        assert.deepEqual(
          events.slice(1, -2).map((e) => (e.type === 'packet' ? [e.framing, e.body.toString('latin1')] : e.type)),
          packets,
        );
        assert.deepEqual(events.slice(-2), [{ type: 'nak' }, { type: 'eot' }]);
      }),
    );
  });

  it('a wrong LRC is a typed error and the next packet still decodes; random bytes never crash', () => {
    const bad = encodeVerifonePacket('SI', '06');
    bad[bad.length - 1] ^= 1;
    const events = decode([bad, encodeVerifonePacket('SI', '06')]);
    assert.equal(events[0].type === 'error' && events[0].error.code, 'BAD_LRC');
    assert.equal(events[1].type, 'packet');
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => void decode([Buffer.from(bytes)])));
  });
});

describe('pinpad/verifone driver against the emulator personality over a real pty', function () {
  this.timeout(20_000);
  let dir: string;
  let pty: Pty;
  /** What beforeEach opened, in order: a set-up that failed half way closes only what it got to. */
  let opened: (() => unknown)[] = [];
  let emulator: VerifoneEmulator;
  let pad: VerifonePinPad;
  const profile = { ...loadPinPadProfile('vf1000se'), timeoutMs: 300, pinEntryTimeoutMs: 2000 };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-vf-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  beforeEach(async () => {
    pty = await openPty({ link: { dir, name: 'vf' } });
    opened.push(() => pty.close());
    emulator = new VerifoneEmulator(pty.device, { typedPin: '123456', serial: '4711' });
    opened.push(() => emulator.close());
    emulator.holdMasterKey(1, TMK);
    pad = await VerifonePinPad.open(pty.path, profile);
    opened.push(() => pad.close());
  });
  afterEach(async () => {
    for (const close of opened.reverse()) await close();
    opened = [];
  });

  it('R-PAD-1: packet 06 answers version, release date and serial; the exchange ends with EOT', async () => {
    const info = await pad.deviceInfo();
    assert.deepEqual({ firmware: info.firmware, releaseDate: info.releaseDate, serial: info.serial }, { firmware: 'S12', releaseDate: '260115', serial: 'N014711' });
    assert.deepEqual(emulator.commands, ['06']);
  });

  for (const mode of ['001', '003']) {
    it(`R-KEY-1, R-KEY-2, R-KEY-3: key mode ${mode}: session keys stay encrypted; the pad's MAC of a zero block equals field 62's check value`, async () => {
      const layout = layoutFor(mode);
      const keys = randomKeys(mode);
      const proofs = { pin: 'mac-of-zero-block', mac: 'mac-of-zero-block' } as const;
      const results = await loadWorkKeys(pad, wrapWorkKeys(keys, TMK, layout), layout, SLOTS, 1, proofs);
      for (const r of results) {
        assert.equal(r.pass, true, `${r.type}: ${r.error ?? ''}`);
        assert.equal(r.proof, 'mac-of-zero-block');
        assert.equal(r.device, toHex((keys[r.type] as SecretKey).checkValue()));
      }
      assert.deepEqual(emulator.commands.filter((c) => c === 'Z66').length, 2);
    });
  }

  it('R-KEY-2: a session key the pad decrypts wrongly fails its proof and is dropped', async () => {
    emulator.inject({ kind: 'corrupt-key', times: 1 });
    const layout = layoutFor('003');
    const results = await loadWorkKeys(pad, wrapWorkKeys(randomKeys('003'), TMK, layout), layout, SLOTS, 1, { pin: 'mac-of-zero-block', mac: 'mac-of-zero-block' });
    assert.deepEqual(results.map((r) => [r.type, r.pass]), [['pin', false], ['mac', true]]);
    await assert.rejects(pad.pinBlock({ slot: 0, pin: '1234', pan: '6212142000000000012' }), (e: PinPadError) => e.code === 'PINPAD_EMPTY_SLOT');
  });

  it('a check value on load is not what this family gives: with that proof every key fails (no false PASS)', async () => {
    const layout = layoutFor('003');
    const results = await loadWorkKeys(pad, wrapWorkKeys(randomKeys('003'), TMK, layout), layout, SLOTS, 1);
    assert.ok(results.every((r) => !r.pass && r.device === ''));
  });

  it('R-PIN-1: Z60 with the session key, the cardholder types on the pad, 71 carries the PIN block', async () => {
    const layout = layoutFor('003');
    const keys = randomKeys('003');
    await loadWorkKeys(pad, wrapWorkKeys(keys, TMK, layout), layout, SLOTS, 1, { pin: 'mac-of-zero-block', mac: 'mac-of-zero-block' });
    const block = await pad.pinBlock({ slot: 0, pin: '123456', pan: '6212142000000000012' });
    assert.equal(decryptPin(keys.pin, block, '6212142000000000012'), '123456');
    assert.equal(emulator.commands[emulator.commands.length - 1], 'Z60');
  });

  it('R-MAC-2: a long message goes over several Z66 packets (sequence numbers, "ready for the next") and matches X9.19', async () => {
    const layout = layoutFor('004');
    const keys = randomKeys('004');
    await loadWorkKeys(pad, wrapWorkKeys(keys, TMK, layout), layout, { pin: 0, mac: 1, track: 2 }, 1, { pin: 'mac-of-zero-block', mac: 'mac-of-zero-block', track: 'mac-of-zero-block' });
    const data = randomBytes(300);
    const before = emulator.commands.length;
    const mac = await pad.mac({ slot: 1, algorithm: 'x9.19', data });
    const { x919Mac } = await import('../../src/crypto/mac');
    assert.equal(toHex(mac), toHex(x919Mac(keys.mac, data)));
    assert.equal(emulator.commands.length - before, 3, '304 bytes in 112-byte packets');
    await assert.rejects(pad.mac({ slot: 1, algorithm: 'unionpay-ecb', data }), (e: PinPadError) => e.code === 'PINPAD_UNSUPPORTED');
  });

  it('R-KEY-4: master key transfer (02) is echoed, verified by the host, stored on ACK, and proven by a MAC under it', async () => {
    const key = SecretKey.fromHex('0123456789ABCDEFFEDCBA9876543210');
    assert.equal(toHex(await pad.loadMasterKey(3, key)), '08D7B4FB');
    assert.equal(emulator.masterCheckValue(3), '08D7B4FB');
  });

  it('R-PAD-1: an echo that differs from what was sent is cancelled with EOT and nothing is stored', async () => {
    emulator.inject({ kind: 'bad-echo', times: 1 });
    await assert.rejects(pad.loadMasterKey(4, SecretKey.fromHex('0123456789ABCDEFFEDCBA9876543210')), (e: PinPadError) => e.code === 'PINPAD_ECHO_MISMATCH');
    assert.equal(emulator.hasMasterKey(4), false);
  });

  it('R-PAD-1: NAKs, silence and a response with a bad LRC are retried and the exchange succeeds', async () => {
    emulator.inject({ kind: 'nak', times: 2 });
    emulator.inject({ kind: 'silent', times: 1 });
    emulator.inject({ kind: 'corrupt-response', times: 1 });
    const info = await pad.deviceInfo();
    assert.equal(info.serial.slice(-4), '4711');
    assert.deepEqual(
      { naks: pad.counters.naksReceived, timeouts: pad.counters.timeouts, naksSent: pad.counters.naksSent },
      { naks: 2, timeouts: 1, naksSent: 1 },
    );
  });

  it('R-PAD-1: after three bad LRCs in a row the pad sends EOT (the emulator is as strict as the manual)', async () => {
    const events: string[] = [];
    await pad.close(); // this test is the host itself
    const host = await openSerialLine(pty.path, { controlLines: false });
    try {
      host.on('data', (chunk) => events.push(...[...chunk].map((b) => b.toString(16))));
      const bad = encodeVerifonePacket('SI', '06');
      bad[bad.length - 1] ^= 1;
      for (let i = 0; i < 3; i++) host.write(bad);
      const deadline = Date.now() + 2000;
      while (events.length < 3 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      assert.deepEqual(events, ['15', '15', '4']);
    } finally {
      await host.close();
    }
  });

  it('wrong state refused: keys under an empty master key address fail with a typed error; Z60 before any 08 select gets EOT', async () => {
    const layout = layoutFor('003');
    const keys = randomKeys('003');
    // the keys are wrapped under the TMK, but told to sit under address 5, which is empty
    const results = await loadWorkKeys(pad, wrapWorkKeys(keys, TMK, layout), layout, SLOTS, 5, { pin: 'mac-of-zero-block', mac: 'mac-of-zero-block' });
    assert.ok(results.every((r) => !r.pass && /PINPAD_NO_MASTER_KEY/.test(r.error ?? '')));
    await pad.close(); // the rest talks to the pad directly
    const host = await openSerialLine(pty.path, { controlLines: false });
    try {
      const got: number[] = [];
      host.on('data', (chunk) => got.push(...chunk));
      host.write(encodeVerifonePacket('STX', 'Z60.6212142000000000012\x1c' + '0'.repeat(32)));
      const deadline = Date.now() + 2000;
      while (got.length < 1 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      assert.deepEqual(got, [0x04], 'EOT: no master key selected');
    } finally {
      await host.close();
    }
  });

  it('wrong key length refused: the pad EOTs a 24-byte master key; the driver refuses a 24-byte session key before sending', async () => {
    await assert.rejects(pad.loadMasterKey(2, SecretKey.fromBytes(randomBytes(24))), (e: PinPadError) => e.code === 'PINPAD_BAD_KEY_LENGTH');
    await assert.rejects(
      pad.loadWorkKey({ type: 'pin', slot: 0, masterIndex: 1, encrypted: randomBytes(24) }),
      (e: PinPadError) => e.code === 'PINPAD_BAD_KEY_LENGTH',
    );
    await pad.close(); // the rest talks to the pad directly
    const host = await openSerialLine(pty.path, { controlLines: false });
    try {
      const got: number[] = [];
      host.on('data', (chunk) => got.push(...chunk));
      host.write(encodeVerifonePacket('SI', '022' + '00'.repeat(24)));
      const deadline = Date.now() + 2000;
      while (got.length < 1 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      assert.deepEqual(got, [0x04]);
      assert.equal(emulator.hasMasterKey(2), false);
    } finally {
      await host.close();
    }
  });
});
