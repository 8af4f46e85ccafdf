import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeBcd, encodeBcd } from '../../src/codec/bcd';
import { fromHex, toHex } from '../../src/codec/hex';
import { lrc } from '../../src/codec/lrc';
import { CodecError } from '../../src/errors';

describe('codec/bcd', () => {
  it('R-MSG-4: right-aligned odd digits get a leading pad nibble (123 -> 01 23)', () => {
    assert.equal(toHex(encodeBcd('123', { align: 'right' })), '0123');
    assert.equal(decodeBcd(fromHex('0123'), 3, 'right'), '123');
  });

  it('R-MSG-4: left-aligned odd digits get a trailing pad nibble (field 22: 021 -> 02 10)', () => {
    assert.equal(toHex(encodeBcd('021', { align: 'left' })), '0210');
    assert.equal(decodeBcd(fromHex('0210'), 3, 'left'), '021');
  });

  it('R-MSG-4: the pad nibble is chosen on encode and both 0 and F are accepted on decode', () => {
    assert.equal(toHex(encodeBcd('00000001003', { align: 'left', pad: 0xf })), '00000001003F');
    assert.equal(decodeBcd(fromHex('00000001003F'), 11, 'left'), '00000001003');
    assert.equal(decodeBcd(fromHex('000000010030'), 11, 'left'), '00000001003');
    assert.equal(decodeBcd(fromHex('F123'), 3, 'right'), '123');
  });

  it('R-MSG-4: a pad nibble other than 0/F is a NON_DIGIT error at its byte', () => {
    assert.throws(() => decodeBcd(fromHex('0213'), 3, 'left'), (e: CodecError) => e.code === 'NON_DIGIT' && e.context.offset === 1);
  });

  it('R-MSG-4: a nibble A-F inside the digits is a NON_DIGIT error naming the byte offset', () => {
    assert.throws(() => decodeBcd(fromHex('12A4'), 4, 'right'), (e: CodecError) => e.code === 'NON_DIGIT' && e.context.offset === 1);
  });

  it('R-MSG-6: track alphabet maps = to nibble D both ways', () => {
    const packed = encodeBcd('6212142000000000012=2512', { align: 'left', track: true });
    assert.equal(toHex(packed), '6212142000000000012D2512');
    assert.equal(decodeBcd(packed, 24, 'left', true), '6212142000000000012=2512');
    assert.throws(() => encodeBcd('12=3', { align: 'left' }), (e: CodecError) => e.code === 'NON_DIGIT' && e.context.offset === 2);
  });

  it('R-MSG-4: encode then decode returns the digits for any length, alignment and pad', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^\d{0,40}$/),
        fc.constantFrom<'left' | 'right'>('left', 'right'),
        fc.constantFrom<0 | 15>(0, 15),
        (digits, align, pad) => {
          const packed = encodeBcd(digits, { align, pad });
          assert.equal(packed.length, Math.ceil(digits.length / 2));
          assert.equal(decodeBcd(packed, digits.length, align), digits);
        },
      ),
    );
  });

  it('decoding more digits than the bytes hold is TRUNCATED', () => {
    assert.throws(() => decodeBcd(fromHex('12'), 4, 'right'), (e: CodecError) => e.code === 'TRUNCATED');
  });
});

describe('codec/hex and lrc', () => {
  it('fromHex rejects odd lengths and non-hex characters with typed errors', () => {
    assert.throws(() => fromHex('ABC'), (e: CodecError) => e.code === 'ODD_HEX');
    assert.throws(() => fromHex('ABZZ'), (e: CodecError) => e.code === 'NOT_HEX' && e.context.offset === 2);
    assert.equal(toHex(fromHex('00ff10')), '00FF10');
  });

  it('R-MSG-4, R-MSG-6: the encoder takes exactly digits (and for track data = and A B C E F in either case) in every position, any other UTF-16 unit is NON_DIGIT at its position', () => {
    const trackNibble = (c: string): number => (c === '=' ? 0xd : c !== '' && '0123456789ABCEFabcef'.includes(c) ? parseInt(c, 16) : -1);
    // Every Latin-1 unit, and beyond it digits of other scripts (Arabic-Indic, fullwidth) and the last unit.
    const codes = [...Array(256).keys(), 0x660, 0x669, 0xff10, 0xff19, 0xff21, 0xffff];
    for (const code of codes) {
      const c = String.fromCharCode(code);
      for (const track of [false, true]) {
        const nibble = track ? trackNibble(c) : '0123456789'.includes(c) ? Number(c) : -1;
        // Every position: the odd right-aligned head, a pair's high and low, the odd left-aligned tail.
        for (const [digits, align, at, expected] of [
          [c + '12', 'right', 0, `0${nibble.toString(16)}12`],
          [c + '1', 'right', 0, `${nibble.toString(16)}1`],
          ['1' + c, 'left', 1, `1${nibble.toString(16)}`],
          ['12' + c, 'left', 2, `12${nibble.toString(16)}0`],
        ] as const) {
          if (nibble < 0) {
            assert.throws(() => encodeBcd(digits, { align, track }), (e: CodecError) => e.code === 'NON_DIGIT' && e.context.offset === at, `${code} ${track}`);
          } else {
            assert.equal(toHex(encodeBcd(digits, { align, track })), expected.toUpperCase(), `${code} ${track}`);
          }
        }
      }
    }
  });

  it('R-MSG-4: encode then decode gives the digits back for random digit strings, both alignments and pads', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{0,40}$/), fc.constantFrom('left', 'right') as fc.Arbitrary<'left' | 'right'>, fc.constantFrom(0x0, 0xf) as fc.Arbitrary<0x0 | 0xf>, (digits, align, pad) => {
        assert.equal(decodeBcd(encodeBcd(digits, { align, pad }), digits.length, align), digits);
      }),
      { numRuns: 300 },
    );
  });

  it('R-MSG-4, R-MSG-6: long and short values decode alike: track round trips, and a bad nibble anywhere is NON_DIGIT at its byte', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9=]{1,104}$/), fc.constantFrom('left', 'right') as fc.Arbitrary<'left' | 'right'>, fc.nat(), (digits, align, at) => {
        const packed = encodeBcd(digits, { align, track: true });
        assert.equal(decodeBcd(packed, digits.length, align, true), digits);
        if (digits.includes('=')) return;
        const numeric = encodeBcd(digits, { align });
        const byte = at % numeric.length;
        numeric[byte] = 0xaa; // both nibbles A: no digit, no pad
        assert.throws(() => decodeBcd(numeric, digits.length, align), (e: CodecError) => e.code === 'NON_DIGIT' && e.context.offset === byte);
      }),
      { numRuns: 500 },
    );
  });

  it('R-MDM-6: LRC is the XOR of the bytes (spec example, length through ETX = E6)', () => {
    assert.equal(lrc(fromHex('00076000038009080003')), 0xe6);
    assert.equal(lrc(fromHex('0200076000038009080003E6'), 1, 11), 0xe6);
  });
});
