import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/codec/hex';
import { CodecError } from '../../src/errors';
import { MessageCodec } from '../../src/iso8583/codec';
import { binary, numeric, prefix, text } from '../../src/iso8583/field';
import { withOverrides } from '../../src/iso8583/message-spec';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { readTerminalMessage } from '../../src/iso8583/terminal-message';
import { messageFor } from '../support/messages';
import { vectors } from '../support/vectors';

const codec = new MessageCodec(unionpayPos);
const isCode = (code: string, field?: number, offset?: number) => (e: unknown) =>
  e instanceof CodecError &&
  e.code === code &&
  (field === undefined || e.context.field === field) &&
  (offset === undefined || e.context.offset === offset);

describe('iso8583/codec (unionpay-pos)', () => {
  for (const v of vectors().decode) {
    it(`R-FRAME-3, R-MSG-3: decode vector ${v.mti} gives the published TPDU, header and fields`, () => {
      const frame = fromHex(v.frame);
      const terminal = readTerminalMessage(codec, frame, 2);
      assert.equal(terminal.message.mti, v.mti);
      assert.equal(toHex(terminal.header), v.header);
      const fields = Object.fromEntries(
        Object.entries(terminal.message.fields).map(([k, val]) => [k, typeof val === 'string' ? val : toHex(val)]),
      );
      assert.deepEqual(fields, v.fields);
    });
  }

  it('R-MSG-3: MTI is 2 bytes BCD followed by one 8-byte bitmap', () => {
    const packed = codec.pack({ mti: '0800', fields: { 11: '000001', 41: '12345678' } });
    assert.equal(toHex(packed.subarray(0, 2)), '0800');
    assert.equal(toHex(packed.subarray(2, 10)), '0020000000800000');
  });

  it('R-MSG-3: bit 1 (a secondary bitmap) is refused with field 1 and its offset', () => {
    const bytes = fromHex('0800' + '8000000000000000');
    assert.throws(() => codec.unpack(bytes), isCode('SECONDARY_BITMAP', 1, 2));
  });

  it('R-MSG-4: fixed n right-aligned zero-filled; 22 left-aligned; variable n left-aligned with pad 0 or F', () => {
    const packed = codec.pack({ mti: '0200', fields: { 4: '1234', 22: '021', 32: '123' } });
    // 4: 000000001234, 22: 02 10, 32: LL 03 + 12 30
    assert.equal(toHex(packed.subarray(10)), '000000001234' + '0210' + '03' + '1230');
    const padF = codec.pack({ mti: '0200', fields: { 22: '021', 32: '123' } }, { pad: 0xf });
    assert.equal(toHex(padF.subarray(10)), '021F' + '03' + '123F');
    assert.deepEqual(codec.unpack(padF).fields, { 22: '021', 32: '123' });
  });

  it('R-MSG-5: LL/LLL prefixes are BCD, counting digits for n/z and bytes for ans/b', () => {
    const packed = codec.pack({ mti: '0200', fields: { 2: '6212142000000000012', 44: 'AB', 62: fromHex('0102') } });
    const body = toHex(packed.subarray(10));
    assert.equal(body, '19' + '62121420000000000120' + '02' + '4142' + '0002' + '0102');
  });

  it('R-MSG-6: track 2 separator = travels as nibble D', () => {
    const packed = codec.pack({ mti: '0200', fields: { 35: '6212142000000000012=2512' } });
    assert.equal(toHex(packed.subarray(10)), '24' + '6212142000000000012D2512');
    assert.equal(codec.unpack(packed).fields[35], '6212142000000000012=2512');
  });

  it('R-MSG-10: a platform profile overrides a field (field 60 narrowed to 11 digits)', () => {
    const narrow = new MessageCodec(withOverrides(unionpayPos, 'narrow-60', { 60: { length: 11 } }));
    const sample = fromHex(vectors().mac[0].frame);
    assert.throws(() => readTerminalMessage(narrow, sample, 2), isCode('LENGTH_OVER_MAX', 60));
    assert.equal(readTerminalMessage(codec, sample, 2).message.fields[60], '2600000100060000000');
  });

  it('R-MSG-10: a profile can change a field kind (bill payment 48 as ASCII) or remove one', () => {
    const billing = new MessageCodec(
      withOverrides(unionpayPos, 'billing', { 48: text({ description: 'bill payment data', length: 322, prefix: prefix.LLL }), 63: null }),
    );
    const packed = billing.pack({ mti: '0200', fields: { 48: 'AB#' } });
    assert.equal(toHex(packed.subarray(10)), '0003414223');
    assert.throws(() => billing.pack({ mti: '0200', fields: { 63: 'x' } }), isCode('UNKNOWN_FIELD', 63));
  });

  describe('typed errors carry code, field and byte offset', () => {
    const sample = fromHex(vectors().decode[0].frame);
    const message = sample.subarray(2 + 5 + 6); // after prefix, TPDU, header

    it('a truncated field names the field and where it starts', () => {
      const cut = message.subarray(0, message.length - 10); // inside field 62
      assert.throws(() => codec.unpack(cut), isCode('TRUNCATED', 62));
    });

    it('a variable length over the maximum names the field and the prefix offset', () => {
      const bytes = codec.pack({ mti: '0200', fields: { 32: '1' } });
      bytes[10] = 0x12; // LL 12 > max 11
      assert.throws(() => codec.unpack(bytes), isCode('LENGTH_OVER_MAX', 32, 10));
    });

    it('a non-digit nibble in an n field names the field and byte', () => {
      const bytes = codec.pack({ mti: '0200', fields: { 11: '000123' } });
      bytes[11] = 0x1a;
      assert.throws(() => codec.unpack(bytes), isCode('NON_DIGIT', 11, 11));
    });

    it('a non-digit character on encode names the field', () => {
      assert.throws(() => codec.pack({ mti: '0200', fields: { 4: '12x4' } }), isCode('NON_DIGIT', 4));
    });

    it('a bitmap bit for a field the spec lacks names the field and the bitmap byte', () => {
      const bytes = fromHex('0200' + '0000000000000000');
      bytes[2 + 0] = 0x10; // field 4 is known; use field 5 (0x08) which is not
      bytes[2] = 0x08;
      assert.throws(() => codec.unpack(bytes), isCode('UNKNOWN_FIELD', 5, 2));
    });

    it('trailing bytes after the last field are refused with their offset', () => {
      const bytes = Buffer.concat([codec.pack({ mti: '0800', fields: { 11: '000001' } }), fromHex('00')]);
      assert.throws(() => codec.unpack(bytes), isCode('TRAILING_BYTES', undefined, 13));
    });

    it('fixed values of the wrong size and wrong value types are refused on pack', () => {
      assert.throws(() => codec.pack({ mti: '0200', fields: { 4: '1'.repeat(13) } }), isCode('LENGTH_OVER_MAX', 4));
      assert.throws(() => codec.pack({ mti: '0200', fields: { 52: fromHex('0102') } }), isCode('WRONG_LENGTH', 52));
      assert.throws(() => codec.pack({ mti: '0200', fields: { 52: 'ABCD' } }), isCode('BAD_VALUE', 52));
      assert.throws(() => codec.pack({ mti: '020', fields: {} }), isCode('BAD_MTI'));
    });

    it('unknown field numbers are refused on pack', () => {
      assert.throws(() => codec.pack({ mti: '0200', fields: { 5: '1' } }), isCode('UNKNOWN_FIELD', 5));
    });
  });

  it('R-MSG-3, R-MSG-5: decode(encode(m)) == m for generated messages of the whole table', () => {
    fc.assert(
      fc.property(messageFor(unionpayPos), fc.constantFrom<0 | 15>(0, 15), (message, pad) => {
        const packed = codec.pack(message, { pad });
        assert.deepEqual(codec.unpack(packed), message);
        assert.deepEqual(codec.pack(codec.unpack(packed), { pad }), packed);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes never crash unpack: a message or a CodecError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          codec.unpack(bytes);
        } catch (e) {
          assert.ok(e instanceof CodecError, String(e));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated real messages never crash unpack', () => {
    const base = fromHex(vectors().decode[0].frame).subarray(13);
    fc.assert(
      fc.property(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(base.length), (at, value, cut) => {
        const bytes = Buffer.from(base.subarray(0, Math.max(cut, at + 1)));
        bytes[at] = value;
        try {
          codec.unpack(bytes);
        } catch (e) {
          assert.ok(e instanceof CodecError, String(e));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('iso8583/field specs', () => {
  it('field constructors read like the paper spec', () => {
    assert.deepEqual(numeric({ description: 'x', length: 6 }).align, 'right');
    assert.deepEqual(numeric({ description: 'x', length: 19, prefix: prefix.LL }).align, 'left');
    assert.equal(binary({ description: 'x', length: 8 }).kind, 'binary');
  });
});
