import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/codec/hex';
import { inspect } from 'node:util';
import { decryptCbc, decryptEcb, encryptCbc, encryptEcb, KeyCiphers } from '../../src/crypto/des';
import { computeMac, formatMac, MAC_ALGORITHMS } from '../../src/crypto/mac';
import { clearPinBlock, decryptPin, encryptPinBlock, pinFromClearBlock, verifyPin } from '../../src/crypto/pin-block';
import { checkValueOf, SecretKey } from '../../src/crypto/secret-key';
import { decryptTrack, encryptTrack } from '../../src/crypto/track';
import { CryptoError } from '../../src/errors';
import { vectors } from '../support/vectors';

const keyBytes = fc.constantFrom(8, 16, 24).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));
const NOW_IS_THE_TIME = Buffer.from('Now is the time for all ', 'latin1');

describe('crypto/des and check values', () => {
  for (const v of vectors().kcv) {
    it(`R-KEY-2: check value of the ${v.source} is ${v.kcv}`, () => {
      assert.equal(toHex(checkValueOf(fromHex(v.key))), v.kcv);
    });
  }

  it('R-KEY-2: an 8-byte key is single DES (3DES with K1=K2=K3), a 16-byte key is K1 K2 K1', () => {
    const k = fromHex('0723C80DB5F4CD3D');
    assert.equal(toHex(checkValueOf(k)), toHex(checkValueOf(Buffer.concat([k, k]))));
    assert.equal(toHex(checkValueOf(k)), toHex(checkValueOf(Buffer.concat([k, k, k]))));
  });

  it('check value length is 1..8 bytes', () => {
    assert.equal(toHex(checkValueOf(fromHex('0123456789ABCDEFFEDCBA9876543210'), 8)), '08D7B4FB629D0885');
    assert.throws(() => checkValueOf(fromHex('0123456789ABCDEF'), 9), (e: CryptoError) => e.code === 'BAD_CHECK_LENGTH');
  });

  it('decrypt(encrypt(x)) == x for random keys and data, ECB and CBC', () => {
    fc.assert(
      fc.property(keyBytes, fc.integer({ min: 1, max: 8 }).chain((n) => fc.uint8Array({ minLength: n * 8, maxLength: n * 8 })), (key, data) => {
        assert.deepEqual(decryptEcb(key, encryptEcb(key, data)), Buffer.from(data));
        assert.deepEqual(decryptCbc(key, encryptCbc(key, data)), Buffer.from(data));
      }),
      { numRuns: 100 },
    );
  });

  it('wrong key lengths and partial blocks are typed errors', () => {
    assert.throws(() => encryptEcb(Buffer.alloc(10), Buffer.alloc(8)), (e: CryptoError) => e.code === 'BAD_KEY_LENGTH');
    assert.throws(() => encryptEcb(Buffer.alloc(8), Buffer.alloc(7)), (e: CryptoError) => e.code === 'BAD_DATA_LENGTH');
  });
});

describe('crypto/des: the contexts a key keeps (KeyCiphers)', () => {
  const blocks = (min: number, max: number) => fc.integer({ min, max }).chain((n) => fc.uint8Array({ minLength: n * 8, maxLength: n * 8 }));

  it('ECB both ways equals a new node:crypto context per call, for random 8-, 16- and 24-byte keys and data', () => {
    fc.assert(
      fc.property(keyBytes, fc.array(blocks(1, 6), { minLength: 1, maxLength: 5 }), (key, inputs) => {
        const ciphers = new KeyCiphers(Buffer.from(key));
        for (const data of inputs) {
          assert.deepEqual(ciphers.encrypt(data), encryptEcb(key, data));
          assert.deepEqual(ciphers.decrypt(data), decryptEcb(key, data));
        }
        ciphers.destroy();
      }),
      { numRuns: 200 },
    );
  });

  it('zero-IV CBC on a kept context: every call in a row equals a new des-ede3-cbc per call (whole key and K1 alone)', () => {
    fc.assert(
      fc.property(keyBytes, fc.array(fc.tuple(blocks(1, 12), fc.boolean()), { minLength: 1, maxLength: 8 }), (key, calls) => {
        const ciphers = new KeyCiphers(Buffer.from(key));
        for (const [data, firstKeyOnly] of calls) {
          const expected = encryptCbc(firstKeyOnly ? key.subarray(0, 8) : key, data).subarray(data.length - 8);
          assert.equal(toHex(ciphers.cbcLastBlock(Buffer.from(data), firstKeyOnly)), toHex(expected));
        }
        ciphers.destroy();
      }),
      { numRuns: 200 },
    );
  });

  it('a refused CBC input (empty, partial block) is BAD_DATA_LENGTH and leaves the chain intact', () => {
    const key = fromHex('0123456789ABCDEFFEDCBA9876543210');
    const ciphers = new KeyCiphers(Buffer.from(key));
    const data = Buffer.from(NOW_IS_THE_TIME);
    const expected = toHex(encryptCbc(key, data).subarray(16));
    assert.equal(toHex(ciphers.cbcLastBlock(Buffer.from(data))), expected);
    assert.throws(() => ciphers.cbcLastBlock(Buffer.alloc(0)), (e: CryptoError) => e.code === 'BAD_DATA_LENGTH');
    assert.throws(() => ciphers.cbcLastBlock(Buffer.alloc(12)), (e: CryptoError) => e.code === 'BAD_DATA_LENGTH');
    assert.equal(toHex(ciphers.cbcLastBlock(Buffer.from(data))), expected);
  });

  it('destroy() drops the contexts: every later use is KEY_DESTROYED, and it never prints key material', () => {
    const ciphers = new KeyCiphers(fromHex('0123456789ABCDEFFEDCBA9876543210'));
    ciphers.encrypt(Buffer.alloc(8));
    assert.equal(inspect(ciphers), 'KeyCiphers');
    assert.equal(JSON.stringify({ ciphers }), '{"ciphers":"KeyCiphers"}');
    ciphers.destroy();
    assert.equal(ciphers.destroyed, true);
    assert.equal(String(ciphers), 'KeyCiphers(destroyed)');
    assert.throws(() => ciphers.encrypt(Buffer.alloc(8)), (e: CryptoError) => e.code === 'KEY_DESTROYED');
    assert.throws(() => ciphers.decrypt(Buffer.alloc(8)), (e: CryptoError) => e.code === 'KEY_DESTROYED');
    assert.throws(() => ciphers.cbcLastBlock(Buffer.alloc(8)), (e: CryptoError) => e.code === 'KEY_DESTROYED');
    assert.throws(() => ciphers.cbcLastBlock(Buffer.alloc(8), true), (e: CryptoError) => e.code === 'KEY_DESTROYED');
  });

  it('a SecretKey keeps one set of contexts for its life and drops them with itself', () => {
    const key = SecretKey.fromHex('0123456789ABCDEFFEDCBA9876543210');
    const ciphers = key.ciphers();
    computeMac('x9.19', key, NOW_IS_THE_TIME);
    computeMac('x9.9', key, NOW_IS_THE_TIME);
    computeMac('unionpay-ecb', key, NOW_IS_THE_TIME);
    key.checkValue();
    assert.equal(key.ciphers(), ciphers, 'the same contexts, not new ones per MAC');
    key.destroy();
    assert.equal(ciphers.destroyed, true);
    assert.throws(() => key.ciphers(), (e: CryptoError) => e.code === 'KEY_DESTROYED');
    for (const algorithm of MAC_ALGORITHMS) {
      assert.throws(() => computeMac(algorithm, key, NOW_IS_THE_TIME), (e: CryptoError) => e.code === 'KEY_DESTROYED', algorithm);
    }
    assert.throws(() => key.encrypt(Buffer.alloc(8)), (e: CryptoError) => e.code === 'KEY_DESTROYED');
    assert.throws(() => ciphers.cbcLastBlock(Buffer.alloc(8)), (e: CryptoError) => e.code === 'KEY_DESTROYED');
  });
});

/** The MACs as first written, on node:crypto with a new cipher per step: the reference for the kept contexts. */
function referenceMac(algorithm: 'unionpay-ecb' | 'x9.9' | 'x9.19', key: Uint8Array, data: Uint8Array): Buffer {
  const padded = Buffer.alloc(Math.max(8, Math.ceil(data.length / 8) * 8));
  padded.set(data);
  const cbcMac = (k: Uint8Array) => encryptCbc(k, padded).subarray(padded.length - 8);
  if (algorithm === 'x9.9') return cbcMac(key);
  if (algorithm === 'x9.19') return encryptEcb(key.subarray(0, 8), decryptEcb(key.subarray(8, 16), cbcMac(key.subarray(0, 8))));
  const x = Buffer.alloc(8);
  for (let i = 0; i < padded.length; i++) x[i % 8] ^= padded[i];
  const expanded = Buffer.from(toHex(x), 'latin1');
  const first = encryptEcb(key, expanded.subarray(0, 8));
  for (let j = 0; j < 8; j++) first[j] ^= expanded[8 + j];
  return Buffer.from(toHex(encryptEcb(key, first)).slice(0, 8), 'latin1');
}

describe('crypto/mac', () => {
  it('R-MAC-1: UnionPay ECB MAC of the published 0200 is B3A092AE', () => {
    const v = vectors().mac[0];
    const frame = fromHex(v.frame);
    const data = frame.subarray(2 + 5 + 6, frame.length - 8);
    const mac = computeMac('unionpay-ecb', SecretKey.fromHex(v.key), data);
    assert.equal(formatMac('unionpay-ecb', mac), v.field64Ascii);
    assert.equal(toHex(mac), toHex(frame.subarray(frame.length - 8)));
  });

  it('R-MAC-1: a double-length MAC key runs the same steps with 3DES', () => {
    const single = SecretKey.fromHex('0723C80DB5F4CD3D');
    const doubled = SecretKey.fromHex('0723C80DB5F4CD3D0723C80DB5F4CD3D');
    const other = SecretKey.fromHex('0723C80DB5F4CD3D1111111111111111');
    assert.deepEqual(computeMac('unionpay-ecb', doubled, NOW_IS_THE_TIME), computeMac('unionpay-ecb', single, NOW_IS_THE_TIME));
    assert.notDeepEqual(computeMac('unionpay-ecb', other, NOW_IS_THE_TIME), computeMac('unionpay-ecb', single, NOW_IS_THE_TIME));
  });

  it('R-MAC-2: ANSI X9.9 DES CBC-MAC matches the published example (70A30640CC76DD8B)', () => {
    assert.equal(toHex(computeMac('x9.9', SecretKey.fromHex('0123456789ABCDEF'), NOW_IS_THE_TIME)), '70A30640CC76DD8B');
  });

  it('R-MAC-2: ANSI X9.19 retail MAC matches the published examples (ISO/IEC 9797-1 B.4)', () => {
    const key = SecretKey.fromHex('0123456789ABCDEFFEDCBA9876543210');
    assert.equal(toHex(computeMac('x9.19', key, NOW_IS_THE_TIME)), 'A1C72E74EA3FA9B6');
    assert.equal(toHex(computeMac('x9.19', key, Buffer.from('Now is the time for it', 'latin1'))), '2E2B1428CC78254F');
    assert.throws(() => computeMac('x9.19', SecretKey.fromHex('0123456789ABCDEF'), NOW_IS_THE_TIME), (e: CryptoError) => e.code === 'BAD_KEY_LENGTH');
  });

  it('R-MAC-1, R-MAC-2: with the contexts kept across many MACs, every MAC still equals the reference values', () => {
    const v = vectors().mac[0];
    const frame = fromHex(v.frame);
    const input = frame.subarray(2 + 5 + 6, frame.length - 8);
    const ecbKey = SecretKey.fromHex(v.key);
    const x919Key = SecretKey.fromHex('0123456789ABCDEFFEDCBA9876543210');
    for (let i = 0; i < 50; i++) {
      assert.equal(formatMac('unionpay-ecb', computeMac('unionpay-ecb', ecbKey, input)), v.field64Ascii);
      assert.equal(toHex(computeMac('x9.19', x919Key, NOW_IS_THE_TIME)), 'A1C72E74EA3FA9B6');
      assert.equal(toHex(computeMac('x9.9', ecbKey.part(0), NOW_IS_THE_TIME)), toHex(referenceMac('x9.9', fromHex(v.key), NOW_IS_THE_TIME)));
    }
  });

  it('R-MAC-1, R-MAC-2: every algorithm equals the node:crypto reference for random keys and data (empty, partial and whole blocks)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...MAC_ALGORITHMS), fc.constantFrom(8, 16, 24).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })), fc.uint8Array({ maxLength: 80 }), (algorithm, keyBytes, data) => {
        const bytes = algorithm === 'x9.19' ? Buffer.concat([keyBytes, keyBytes]).subarray(0, 16) : keyBytes;
        const key = SecretKey.fromBytes(bytes);
        assert.equal(toHex(computeMac(algorithm, key, data)), toHex(referenceMac(algorithm, bytes, data)));
        assert.equal(toHex(computeMac(algorithm, key, data)), toHex(referenceMac(algorithm, bytes, data)), 'again, with the kept contexts');
        key.destroy();
      }),
      { numRuns: 300 },
    );
  });

  it('R-MAC-1, R-MAC-2: any sequence of MACs of any algorithms and inputs on one key equals the reference, MAC by MAC', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.array(fc.tuple(fc.constantFrom(...MAC_ALGORITHMS), fc.uint8Array({ maxLength: 120 })), { minLength: 2, maxLength: 12 }), (bytes, macs) => {
        const key = SecretKey.fromBytes(bytes);
        for (const [algorithm, data] of macs) assert.equal(toHex(computeMac(algorithm, key, data)), toHex(referenceMac(algorithm, bytes, data)), algorithm);
        key.destroy();
      }),
      { numRuns: 200 },
    );
  });

  it('R-MAC-1, R-MAC-2: a MAC changes when any byte of its input changes', () => {
    const key = SecretKey.fromHex('0123456789ABCDEFFEDCBA9876543210');
    fc.assert(
      fc.property(fc.constantFrom(...MAC_ALGORITHMS), fc.uint8Array({ minLength: 1, maxLength: 120 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (algorithm, data, at, flip) => {
        const changed = Buffer.from(data);
        changed[at % data.length] ^= flip;
        assert.notDeepEqual(computeMac(algorithm, key, changed), computeMac(algorithm, key, data));
      }),
      { numRuns: 300 },
    );
  });
});

describe('crypto/pin-block', () => {
  for (const v of vectors().pinBlock) {
    it(`R-PIN-1: format ${v.format} clear block for the vector is ${v.clearBlock}`, () => {
      assert.equal(toHex(clearPinBlock(v.pin, v.pan)), v.clearBlock);
      assert.equal(pinFromClearBlock(fromHex(v.clearBlock), v.pan), v.pin);
    });
  }

  it('R-PIN-1: encrypt, decrypt and verify with a PIN key', () => {
    const key = SecretKey.fromHex('807A23AD32B36D457AE91FDF927570EA');
    const block = encryptPinBlock(key, '123456', '6212142000000000012');
    assert.equal(decryptPin(key, block, '6212142000000000012'), '123456');
    assert.equal(verifyPin(key, block, '6212142000000000012', '123456'), true);
    assert.equal(verifyPin(key, block, '6212142000000000012', '654321'), false);
    assert.equal(verifyPin(key, block, '6212142000000000020', '123456'), false, 'another PAN');
    assert.equal(verifyPin(SecretKey.fromHex('1111111111111111'), block, '6212142000000000012', '123456'), false, 'another key');
  });

  it('R-PIN-1: decrypt(encrypt(pin)) == pin for random PINs, PANs and keys', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{4,12}$/), fc.stringMatching(/^\d{13,19}$/), keyBytes, (pin, pan, key) => {
        const secret = SecretKey.fromBytes(key);
        assert.equal(decryptPin(secret, encryptPinBlock(secret, pin, pan), pan), pin);
      }),
      { numRuns: 100 },
    );
  });

  it('R-PIN-1: bad PINs and PANs are typed errors that do not repeat them', () => {
    for (const [pin, pan] of [
      ['98', '6212142000000000012'],
      ['98a765', '6212142000000000012'],
      ['987654', '621214200000000001X'],
      ['987654', '777'],
    ]) {
      assert.throws(
        () => clearPinBlock(pin, pan),
        (e: CryptoError) => ['BAD_PIN', 'BAD_PAN'].includes(e.code) && !e.message.includes(pin) && !e.message.includes(pan),
      );
    }
  });
});

describe('crypto/track', () => {
  it('track data encryption (53.3): the TDB before the last byte is encrypted, the rest kept', () => {
    const key = SecretKey.fromHex('0123456789ABCDEFFEDCBA9876543210');
    const track = '6212142000000000012=25121010000000000';
    const encrypted = encryptTrack(key, track);
    assert.equal(encrypted.length, track.length);
    assert.notEqual(encrypted, track.replace(/=/g, 'D'));
    assert.equal(encrypted.slice(-1), track.slice(-1), 'the last byte is left clear');
    assert.equal(decryptTrack(key, encrypted), track);
  });

  it('decrypt(encrypt(track)) == track for random tracks', () => {
    const key = SecretKey.fromHex('0123456789ABCDEFFEDCBA9876543210');
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{13,19}=[0-9]{4,17}$/), (track) => {
        assert.equal(decryptTrack(key, encryptTrack(key, track)), track);
      }),
    );
  });
});

describe('crypto/secret-key', () => {
  it('a SecretKey never prints its bytes: inspect, string and JSON show length and check only', () => {
    const hex = '0123456789ABCDEFFEDCBA9876543210';
    const key = SecretKey.fromHex(hex);
    const { inspect } = require('node:util') as typeof import('node:util');
    for (const shown of [inspect(key), String(key), JSON.stringify({ key }), inspect({ nested: { key } })]) {
      assert.ok(!shown.toUpperCase().includes(hex.slice(0, 8)), shown);
      assert.ok(shown.includes('16 bytes'), shown);
    }
  });

  it('destroy() zeroes the key and makes every use fail', () => {
    const key = SecretKey.fromHex('0123456789ABCDEF');
    key.destroy();
    assert.equal(key.destroyed, true);
    assert.throws(() => key.encrypt(Buffer.alloc(8)), (e: CryptoError) => e.code === 'KEY_DESTROYED');
    assert.throws(() => key.reveal(), (e: CryptoError) => e.code === 'KEY_DESTROYED');
  });
});
