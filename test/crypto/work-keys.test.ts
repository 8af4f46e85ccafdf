import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/codec/hex';
import { loadWorkKeys, readCheckValues } from '../../src/crypto/key-loading';
import type { KeyStore } from '../../src/crypto/key-store';
import { SecretKey } from '../../src/crypto/secret-key';
import { SoftwareKeyStore } from '../../src/crypto/software-key-store';
import { encryptPinBlock, decryptPin } from '../../src/crypto/pin-block';
import { computeMac } from '../../src/crypto/mac';
import {
  inspectWorkKeys,
  KEY_MODES,
  layoutFor,
  unwrapWorkKeys,
  WORK_KEY_LAYOUTS,
  wrapWorkKeys,
  type KeyMode,
  type WorkKeys,
} from '../../src/crypto/work-keys';
import { CryptoError } from '../../src/errors';
import { vectors } from '../support/vectors';

const v = vectors().field62[0];
const keyOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => SecretKey.fromBytes(b));

function randomKeys(mode: KeyMode): fc.Arbitrary<WorkKeys> {
  const layout = WORK_KEY_LAYOUTS[mode];
  const lengths = Object.fromEntries(layout.keys.map((k) => [k.type, k.keyLength]));
  return fc.record({
    pin: keyOf(lengths.pin),
    mac: keyOf(lengths.mac),
    ...(lengths.track ? { track: keyOf(lengths.track) } : {}),
  }) as fc.Arbitrary<WorkKeys>;
}

describe('crypto/work-keys (field 62)', () => {
  it(`R-KEY-1, R-KEY-2: the mode ${v.mode} vector unwraps to the published PIN and MAC keys`, () => {
    const keys = unwrapWorkKeys(fromHex(v.field62), SecretKey.fromHex(v.tmk), layoutFor(v.mode));
    assert.equal(toHex(keys.pin.reveal()), v.pinKey);
    assert.equal(toHex(keys.mac.reveal()), v.macKey);
    assert.equal(toHex(keys.pin.checkValue()), v.pinKeyCheck);
    assert.equal(toHex(keys.mac.checkValue()), v.macKeyCheck, 'single-DES check of the 8-byte MAC key');
  });

  it('R-KEY-1: layouts are 24, 40 and 60 bytes with the keys and checks where the spec puts them', () => {
    assert.deepEqual(
      KEY_MODES.map((m) => [m, WORK_KEY_LAYOUTS[m].length, WORK_KEY_LAYOUTS[m].keys.map((k) => `${k.type}@${k.keyOffset}/${k.keyLength}+${k.checkOffset}`)]),
      [
        ['001', 24, ['pin@0/8+8', 'mac@12/8+20']],
        ['003', 40, ['pin@0/16+16', 'mac@20/8+36']],
        ['004', 60, ['pin@0/16+16', 'mac@20/16+36', 'track@40/16+56']],
      ],
    );
    assert.throws(() => unwrapWorkKeys(Buffer.alloc(39), SecretKey.fromHex(v.tmk), layoutFor('003')), (e: CryptoError) => e.code === 'BAD_FIELD62_LENGTH');
    assert.throws(() => layoutFor('002'), (e: CryptoError) => e.code === 'BAD_KEY_MODE');
  });

  it('R-KEY-1: a layout is data, so a platform that moves the MAC check (offset 28) is one object away', () => {
    const moved = { ...WORK_KEY_LAYOUTS['003'], keys: [WORK_KEY_LAYOUTS['003'].keys[0], { ...WORK_KEY_LAYOUTS['003'].keys[1], checkOffset: 28 }] };
    const original = fromHex(v.field62);
    const field62 = Buffer.alloc(40);
    original.copy(field62, 0, 0, 28);
    original.copy(field62, 28, 36, 40);
    assert.equal(inspectWorkKeys(field62, SecretKey.fromHex(v.tmk), moved).every((r) => r.ok), true);
  });

  for (const mode of KEY_MODES) {
    it(`R-KEY-1: unwrap(wrap(keys)) == keys for random keys, mode ${mode}`, () => {
      fc.assert(
        fc.property(randomKeys(mode), keyOf(16), (keys, tmk) => {
          const layout = layoutFor(mode);
          const back = unwrapWorkKeys(wrapWorkKeys(keys, tmk, layout), tmk, layout);
          for (const k of layout.keys) assert.ok(back[k.type]?.equals(keys[k.type] as SecretKey), k.type);
        }),
        { numRuns: 40 },
      );
    });

    it(`R-KEY-2: a field 62 with any byte of a check value flipped is rejected, naming the key (mode ${mode})`, () => {
      const layout = layoutFor(mode);
      fc.assert(
        fc.property(randomKeys(mode), keyOf(16), fc.nat(), fc.integer({ min: 1, max: 255 }), (keys, tmk, pick, flip) => {
          const field62 = wrapWorkKeys(keys, tmk, layout);
          const target = layout.keys[pick % layout.keys.length];
          field62[target.checkOffset + (pick % target.checkLength)] ^= flip;
          assert.throws(
            () => unwrapWorkKeys(field62, tmk, layout),
            (e: CryptoError) => e.code === 'CHECK_VALUE_MISMATCH' && e.context.key === target.type && e.message.includes(target.type),
          );
        }),
        { numRuns: 60 },
      );
    });
  }

  it('R-KEY-2: a rejected unwrap says which key, never the key itself', () => {
    const tampered = fromHex(v.field62);
    tampered[3] ^= 0x01; // inside the encrypted PIN key
    try {
      unwrapWorkKeys(tampered, SecretKey.fromHex(v.tmk), layoutFor('003'));
      assert.fail('must throw');
    } catch (e) {
      assert.ok(e instanceof CryptoError);
      const text = `${e.message} ${JSON.stringify(e.context)} ${e.stack}`;
      for (const secret of [v.pinKey, v.macKey, v.tmk]) assert.ok(!text.toUpperCase().includes(secret.slice(0, 8)));
      assert.equal(e.context.key, 'pin');
    }
  });
});

describe('crypto/software-key-store through the KeyStore interface', () => {
  const slots = { pin: 0, mac: 4 };
  let store: KeyStore;

  beforeEach(async () => {
    store = new SoftwareKeyStore();
    await store.loadMasterKey(1, SecretKey.fromHex(v.tmk));
  });
  afterEach(async () => {
    await store.close();
  });

  it('R-KEY-3: loads field 62 keys encrypted, pairing PIN slot n with MAC slot n+4; each check passes', async () => {
    const results = await loadWorkKeys(store, fromHex(v.field62), layoutFor('003'), slots, 1);
    assert.deepEqual(results, [
      { type: 'pin', slot: 0, expected: v.pinKeyCheck, device: v.pinKeyCheck, pass: true, proof: 'check-value-on-load' },
      { type: 'mac', slot: 4, expected: v.macKeyCheck, device: v.macKeyCheck, pass: true, proof: 'check-value-on-load' },
    ]);
    assert.deepEqual(await readCheckValues(store, slots), [
      { type: 'pin', slot: 0, device: v.pinKeyCheck },
      { type: 'mac', slot: 4, device: v.macKeyCheck },
    ]);
  });

  it('R-KEY-2: a key whose check fails is reported and not left active', async () => {
    const tampered = fromHex(v.field62);
    tampered[22] ^= 0x40; // inside the encrypted MAC key
    const results = await loadWorkKeys(store, tampered, layoutFor('003'), slots, 1);
    assert.deepEqual(results.map((r) => [r.type, r.pass]), [['pin', true], ['mac', false]]);
    await assert.rejects(store.checkValue('mac', 4), (e: CryptoError) => e.code === 'EMPTY_SLOT');
    await assert.rejects(store.mac({ slot: 4, algorithm: 'unionpay-ecb', data: Buffer.alloc(8) }), (e: CryptoError) => e.code === 'EMPTY_SLOT');
  });

  it('a wrong master index is a load failure naming the index', async () => {
    const results = await loadWorkKeys(store, fromHex(v.field62), layoutFor('003'), slots, 7);
    assert.equal(results.every((r) => !r.pass && r.error?.includes('index 7')), true);
  });

  it('R-PIN-1, R-MAC-1: PIN blocks and MACs from the store equal those of the clear keys', async () => {
    await loadWorkKeys(store, fromHex(v.field62), layoutFor('003'), slots, 1);
    const keys = unwrapWorkKeys(fromHex(v.field62), SecretKey.fromHex(v.tmk), layoutFor('003'));
    const block = await store.pinBlock({ slot: 0, pin: '123456', pan: '6212142000000000012' });
    assert.equal(decryptPin(keys.pin, block, '6212142000000000012'), '123456');
    assert.deepEqual(block, encryptPinBlock(keys.pin, '123456', '6212142000000000012'));
    const data = Buffer.from('0200 sample data', 'latin1');
    assert.deepEqual(await store.mac({ slot: 4, algorithm: 'unionpay-ecb', data }), computeMac('unionpay-ecb', keys.mac, data));
    await assert.rejects(store.pinBlock({ slot: 4, pin: '123456', pan: '6212142000000000012' }), (e: CryptoError) => e.code === 'EMPTY_SLOT', 'a MAC slot is not a PIN slot');
  });

  it('close() zeroes the keys: nothing works afterwards', async () => {
    await loadWorkKeys(store, fromHex(v.field62), layoutFor('003'), slots, 1);
    await store.close();
    await assert.rejects(store.checkValue('pin', 0), (e: CryptoError) => e.code === 'STORE_CLOSED');
  });
});
