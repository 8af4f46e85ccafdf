import assert from 'node:assert/strict';
import { createDecipheriv } from 'node:crypto';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/codec/hex';
import { aesBlockCipher, cmac, tdesBlockCipher } from '../../src/crypto/cmac';
import { decryptCbc } from '../../src/crypto/des';
import { deriveTr31Keys, headerFromText, parseTr31Header, tr31CheckValue, unwrapTr31, wrapTr31, type Tr31Header } from '../../src/crypto/tr31';
import { CryptoError } from '../../src/errors';

/**
 * Published worked examples. Every vector names where it was published:
 *  - "TR-31:2018 A.7.x": ANSI X9 TR-31:2018 Annex A examples, as reproduced in the test data of the
 *    open-source openemv/tr31 library (test/tr31_decrypt_test.c, comments "TR-31:2018, A.7.x").
 *  - "payShield": blocks generated on a Thales payShield 10k HSM, published in the same file.
 *  - "PP791": Uniform Industrial PIN Pad 791 Programmer's Manual UDN PM0103-U Rev. 06
 *    (2015-04-20), section 5, message 02, "Encrypted (ANSI TR-31 2010 Key Derivation Binding
 *    Method)" example, which also prints the derived keys and the CMAC.
 *  - "SP 800-38B": NIST SP 800-38B Appendix D (CMAC examples, AES-128 and TDEA 3-key).
 */
interface Vector {
  source: string;
  kbpk: string;
  block: string;
  key: string;
  kcv: string;
  header: Partial<Tr31Header>;
}

const VECTORS: Vector[] = [
  {
    source: 'TR-31:2018 A.7.2.2 (version B, 2-key TDES KBPK)',
    kbpk: 'DD7515F2BFC17F85CE48F3CA25CB21F6',
    block: 'B0080P0TE00E000094B420079CC80BA3461F86FE26EFC4A3B8E4FA4C5F5341176EED7B727B8A248E',
    key: '3F419E1CB7079442AA37474C2EFBF8B8',
    kcv: '57C409',
    header: { version: 'B', usage: 'P0', algorithm: 'T', modeOfUse: 'E', keyVersion: '00', exportability: 'E', optionalBlocks: [] },
  },
  {
    source: 'TR-31:2018 A.7.3.2 (version B with a KS optional block)',
    kbpk: '1D22BF32387C600AD97F9B97A51311AC',
    block: 'B0104B0TX12S0100KS1800604B120F9292800000BB68BE8680A400D9191AD4ECE45B6E6C0D21C4738A52190E248719E24B433627',
    key: 'E8BC63E5479455E26577F715D587FE68',
    kcv: '9A4212',
    header: { version: 'B', usage: 'B0', algorithm: 'T', modeOfUse: 'X', keyVersion: '12', exportability: 'S', optionalBlocks: [{ id: 'KS', data: '00604B120F9292800000' }] },
  },
  {
    source: 'TR-31:2018 A.7.4 (version D, AES-256 KBPK, AES key)',
    kbpk: '88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6',
    block: 'D0112P0AE00E0000B82679114F470F540165EDFBF7E250FCEA43F810D215F8D207E2E417C07156A27E8E31DA05F7425509593D03A457DC34',
    key: '3F419E1CB7079442AA37474C2EFBF8B8',
    kcv: '08793E',
    header: { version: 'D', usage: 'P0', algorithm: 'A', modeOfUse: 'E', exportability: 'E' },
  },
  {
    source: 'payShield (version B, K0 key)',
    kbpk: 'EFE0853B256B583D868F251CE99EA1D9',
    block: 'B0080K0TN00N00001C414014375212C24995E405B5EE052CB92B67F455EA2680F6751088F9F1C228',
    key: '5DB50B454F8389ADCE573BE50861F2BF',
    kcv: '5C9405',
    header: { version: 'B', usage: 'K0', algorithm: 'T', modeOfUse: 'N', exportability: 'N' },
  },
  {
    source: 'payShield (version D, AES-256 KBPK, TDES BDK)',
    kbpk: '41'.repeat(32),
    block: 'D0112B0TN00N000037DB9B046B7B0048785690759580ABC3B9842AB4BB7717B49E92528E575785D8123559376A2553B27BE94F054F4E971C',
    key: '1FA1F7CEC798D91545DA8AE0C7796BD9',
    kcv: 'FF5087',
    header: { version: 'D', usage: 'B0', algorithm: 'T' },
  },
  {
    source: 'payShield (version D, AES-256 key)',
    kbpk: '41'.repeat(32),
    block: 'D0144D0AN00N0000127862F945C2DED04530FAF7CDBC8B0BA10C7AA79BD5E0C2C5D6AC173BF588E4B19ACF1357178D50EA0AB193228E13958304FC6149632DFDCADF3A5B3D57E814',
    key: 'BE19E6A07A760F10EF8E83A226B63AAD141F463FDDD4F47DB244B4023EC3CACC',
    kcv: '0A00E3',
    header: { version: 'D', usage: 'D0', algorithm: 'A' },
  },
  {
    source: 'PP791 (version B, P0 key)',
    kbpk: '19191919191919195B5B5B5B5B5B5B5B',
    block: 'B0080P0TE00N00003C4F5024C59C182F7165BC870FCB7F63456AAE07DB736C32EA391E5834C1AA0C',
    key: 'AA55AA55AA55AA553434343434343434',
    kcv: tr31CheckValueHex('T', 'AA55AA55AA55AA553434343434343434'),
    header: { version: 'B', usage: 'P0', algorithm: 'T', modeOfUse: 'E', exportability: 'N' },
  },
];

function tr31CheckValueHex(algorithm: string, key: string): string {
  return toHex(tr31CheckValue(algorithm, fromHex(key)));
}

const isTr31 = (code: string) => (e: unknown) => e instanceof CryptoError && e.code === code;

describe('crypto/tr31: CMAC under the key blocks', () => {
  it('SP 800-38B D.1 AES-128 examples: empty message and one block', () => {
    const key = fromHex('2B7E151628AED2A6ABF7158809CF4F3C');
    assert.equal(toHex(cmac(aesBlockCipher(key), Buffer.alloc(0))), 'BB1D6929E95937287FA37D129B756746');
    assert.equal(toHex(cmac(aesBlockCipher(key), fromHex('6BC1BEE22E409F96E93D7E117393172A'))), '070A16B46B4D4144F79BDD9DD04A287C');
  });

  it('SP 800-38B D.4 three-key TDEA example: 20 bytes', () => {
    const key = fromHex('8AA83BF8CBDA10620BC1BF19FBB6CD58BC313D4A371CA8B5');
    assert.equal(toHex(cmac(tdesBlockCipher(key), fromHex('6BC1BEE22E409F96E93D7E117393172AAE2D8A57'))), '743DDBE0CE2DC2ED');
  });
});

describe('crypto/tr31: TR-31 / ANSI X9.143 key blocks B and D', () => {
  for (const v of VECTORS) {
    it(`R-KEY-2: ${v.source}: unwraps to the published key, header fields and check value`, () => {
      const r = unwrapTr31(fromHex(v.kbpk), v.block);
      assert.equal(toHex(r.key), v.key);
      for (const [field, value] of Object.entries(v.header)) assert.deepEqual(r.header[field as keyof Tr31Header], value, field);
      assert.equal(toHex(tr31CheckValue(r.header.algorithm, r.key)), v.kcv);
    });

    it(`${v.source}: re-wrapping with the block's own padding gives the published block exactly`, () => {
      // The padding sits after the key in the clear payload; wrap must reproduce every character.
      const { header } = parseTr31Header(v.block);
      const key = fromHex(v.key);
      const padding = clearPadding(v);
      assert.equal(wrapTr31(fromHex(v.kbpk), header, key, { random: (n) => padding.subarray(0, n) }), v.block);
    });
  }

  it('PP791: the derived encryption and MAC keys are the ones the manual prints', () => {
    const keys = deriveTr31Keys('B', fromHex('19191919191919195B5B5B5B5B5B5B5B'));
    assert.equal(toHex(keys.encryption), 'DB7F2A99D5647A7DD3EDFE3DA7CF5B21');
    assert.equal(toHex(keys.authentication), '87EE6C0795954446A34A0BB5F305BCE1');
  });

  it('TR-31:2018 A.7.4: wrapping with the published random seed gives the published D block', () => {
    const block = wrapTr31(fromHex(VECTORS[2].kbpk), headerFromText('D0000P0AE00E0000'), fromHex('3F419E1CB7079442AA37474C2EFBF8B8'), {
      random: () => fromHex('1C2965473CE206BB855B01533782'),
    });
    assert.equal(block, VECTORS[2].block);
  });

  it('round trips: any key, any KBPK length, both versions, with optional blocks', () => {
    const tdesKbpk = fc.constantFrom(16, 24).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));
    const aesKbpk = fc.constantFrom(16, 24, 32).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));
    const kbpkFor = fc.constantFrom<'B' | 'D'>('B', 'D').chain((version) => (version === 'B' ? tdesKbpk : aesKbpk).map((kbpk) => ({ version, kbpk })));
    const optional = fc.array(fc.record({ id: fc.constantFrom('KS', 'KV', 'TS', '01'), data: fc.string({ unit: fc.constantFrom(...'0123456789ABCDEF'), maxLength: 30 }) }), { maxLength: 3 });
    fc.assert(
      fc.property(kbpkFor, fc.uint8Array({ minLength: 8, maxLength: 32 }), optional, ({ version, kbpk }, key, optionalBlocks) => {
        const header: Tr31Header = { version, usage: 'P0', algorithm: 'T', modeOfUse: 'E', keyVersion: '00', exportability: 'N', optionalBlocks };
        const block = wrapTr31(kbpk, header, key);
        assert.equal(Number(block.slice(1, 5)), block.length);
        const r = unwrapTr31(kbpk, block);
        assert.deepEqual(r.key, Buffer.from(key));
        assert.deepEqual(r.header, { ...header, optionalBlocks: optionalBlocks.map((b) => ({ id: b.id, data: b.data })) });
      }),
      { numRuns: 200 },
    );
  });

  it('a changed character anywhere after the header, or a wrong KBPK, is refused before the key is used (TR31_MAC_MISMATCH)', () => {
    const v = VECTORS[0];
    for (let i = 16; i < v.block.length; i++) {
      const c = v.block[i] === '0' ? '1' : '0';
      const tampered = v.block.slice(0, i) + c + v.block.slice(i + 1);
      assert.throws(() => unwrapTr31(fromHex(v.kbpk), tampered), isTr31('TR31_MAC_MISMATCH'), `character ${i}`);
    }
    assert.throws(() => unwrapTr31(fromHex(VECTORS[1].kbpk), v.block), isTr31('TR31_MAC_MISMATCH'));
  });

  it('a header changed in a way that still parses is refused by the MAC (the header is authenticated)', () => {
    const v = VECTORS[0];
    for (const [at, c] of [[5, 'M'], [8, 'D'], [11, 'N'], [10, '1']] as const) {
      const tampered = v.block.slice(0, at) + c + v.block.slice(at + 1);
      assert.throws(() => unwrapTr31(fromHex(v.kbpk), tampered), isTr31('TR31_MAC_MISMATCH'));
    }
  });

  it('malformed blocks are typed errors, not crashes', () => {
    const v = VECTORS[0];
    const kbpk = fromHex(v.kbpk);
    assert.throws(() => unwrapTr31(kbpk, 'B0080P0T'), isTr31('TR31_BAD_LENGTH'));
    assert.throws(() => unwrapTr31(kbpk, v.block.slice(0, -2)), isTr31('TR31_BAD_LENGTH'));
    assert.throws(() => unwrapTr31(kbpk, 'A' + v.block.slice(1)), isTr31('TR31_UNSUPPORTED_VERSION'));
    assert.throws(() => unwrapTr31(kbpk, 'B0080P0TE00E0100' + v.block.slice(16)), isTr31('TR31_BAD_OPTIONAL_BLOCK'));
    assert.throws(() => unwrapTr31(kbpk, 'B0080P0TE00E0001' + v.block.slice(16)), isTr31('TR31_BAD_HEADER'));
    assert.throws(() => unwrapTr31(kbpk, v.block.slice(0, 30) + 'ZZ' + v.block.slice(32)), isTr31('TR31_BAD_HEX'));
    assert.throws(() => unwrapTr31(fromHex('0123456789ABCDEF'), v.block), isTr31('TR31_BAD_KBPK'));
    assert.throws(() => unwrapTr31(fromHex('0123456789ABCDEF'), VECTORS[2].block), isTr31('TR31_BAD_KBPK'), 'an 8-byte KBPK for a D block');
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (text) => {
        try {
          unwrapTr31(kbpk, text);
        } catch (e) {
          assert.ok(e instanceof CryptoError && e.code.startsWith('TR31_'), String(e));
        }
      }),
    );
  });

  it('errors never carry key material', () => {
    const v = VECTORS[0];
    try {
      unwrapTr31(fromHex(VECTORS[3].kbpk), v.block);
      assert.fail('unwrapped under the wrong KBPK');
    } catch (e) {
      const text = JSON.stringify({ m: (e as Error).message, c: (e as CryptoError).context });
      for (const secret of [v.key, v.kbpk, VECTORS[3].kbpk]) assert.ok(!text.includes(secret.slice(0, 8)));
    }
  });
});

/** The clear payload's padding of a published vector (after the 2-byte length and the key). */
function clearPadding(v: Vector): Buffer {
  const { header, headerLength } = parseTr31Header(v.block);
  const keys = deriveTr31Keys(header.version, fromHex(v.kbpk));
  const macHex = header.version === 'B' ? 16 : 32;
  const encrypted = fromHex(v.block.slice(headerLength, v.block.length - macHex));
  const iv = fromHex(v.block.slice(v.block.length - macHex));
  const payload: Buffer =
    header.version === 'B'
      ? decryptCbc(keys.encryption, encrypted, iv)
      : createDecipheriv(`aes-${keys.encryption.length * 8}-cbc`, keys.encryption, iv).setAutoPadding(false).update(encrypted);
  return Buffer.from(payload.subarray(2 + v.key.length / 2));
}
