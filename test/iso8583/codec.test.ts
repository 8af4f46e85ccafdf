import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/codec/hex';
import { CodecError } from '../../src/errors';
import { MessageCodec } from '../../src/iso8583/codec';
import { binary, numeric, prefix, text } from '../../src/iso8583/field';
import { withOverrides } from '../../src/iso8583/message-spec';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { readTerminalMessage } from '../../src/iso8583/terminal-message';
import type { FieldNumber } from '../../src/iso8583/message';
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
      assert.equal(terminal.header, v.header);
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

  it('R-MSG-6: track fields also carry encrypted track data (any nibble; D still reads as =)', () => {
    const packed = codec.pack({ mti: '0200', fields: { 35: '62121420A0B0C0E0F12=2512' } });
    assert.equal(toHex(packed.subarray(10)), '24' + '62121420A0B0C0E0F12D2512');
    assert.equal(codec.unpack(packed).get(35), '62121420A0B0C0E0F12=2512');
    assert.throws(() => codec.pack({ mti: '0200', fields: { 35: '6212D' } }), isCode('NON_DIGIT', 35), "D is written '='");
    assert.throws(() => codec.pack({ mti: '0200', fields: { 4: '00000000000A' } }), isCode('NON_DIGIT', 4), 'n fields stay digits');
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
        assert.deepEqual(codec.unpack(packed).toData(), message);
        assert.deepEqual(codec.pack(codec.unpack(packed), { pad }), packed);
        // Decoded values packed as plain data give the same bytes as the untouched copy.
        assert.deepEqual(codec.pack(codec.unpack(packed).toData(), { pad }), packed);
      }),
      { numRuns: 300 },
    );
  });

  it('R-MSG-3, R-MSG-5: valueOffset finds every field where unpack does, and -1 for every absent one', () => {
    const prefixSize = (n: number) => ({ fixed: 0, LL: 1, LLL: 2 })[codec.field(n)?.prefix ?? 'fixed'];
    fc.assert(
      fc.property(messageFor(unionpayPos), (message) => {
        const packed = Buffer.concat([fromHex('AABB'), codec.pack(message)]);
        const layout = codec.unpack(packed, 2).wireLayout as readonly number[];
        const starts = new Map<number, number>();
        for (let i = 0; i + 1 < layout.length; i += 2) starts.set(layout[i], layout[i + 1]);
        for (let n = 2; n <= 64; n++) {
          const start = starts.get(n);
          // The unpacked copy counts from the message's first byte; valueOffset from the buffer's.
          const expected = start === undefined ? -1 : 2 + start + prefixSize(n);
          assert.equal(codec.valueOffset(packed, n, 2), expected, `field ${n}`);
        }
      }),
      { numRuns: 300 },
    );
    assert.equal(codec.valueOffset(fromHex('0200'), 11), -1, 'too short for a bitmap');
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

describe('iso8583/IsoMessage', () => {
  const sale = fromHex(vectors().mac[0].frame).subarray(2 + 5 + 6);

  it('values are decoded when read; untouched fields pack again byte for byte', () => {
    const message = codec.unpack(sale);
    assert.equal(message.get(4), '000000001234');
    assert.equal(message.has(2), false);
    assert.deepEqual(message.numbers(), [3, 4, 11, 22, 25, 41, 42, 49, 60, 62, 64]);
    assert.equal(toHex(codec.pack(message)), toHex(sale));
  });

  it('set() replaces a field, delete() removes it, and pack follows', () => {
    const message = codec.unpack(sale);
    message.set(4, '000000009999').delete(64).set(2, '6212142000000000012');
    const again = codec.unpack(codec.pack(message));
    assert.equal(again.get(4), '000000009999');
    assert.equal(again.has(64), false);
    assert.equal(again.get(2), '6212142000000000012');
    assert.equal(again.get(41), '00000001');
  });

  it('R-MSG-4: an untouched field keeps its F pad while fields set by value use the pad option', () => {
    const signOn = fromHex(vectors().decode[0].frame).subarray(13);
    const message = codec.unpack(signOn);
    message.set(32, '123');
    const packed = codec.pack(message, { pad: 0 });
    assert.ok(toHex(packed).includes('00000001003F'), 'field 60 keeps its F');
    assert.ok(toHex(packed).includes('031230'), 'field 32 set by value is padded with 0');
  });

  it('an unpacked message owns its bytes: reusing the input buffer changes nothing', () => {
    const input = Buffer.from(sale);
    const message = codec.unpack(input);
    input.fill(0);
    assert.equal(message.get(42), '952718182217875');
    assert.equal(toHex(codec.pack(message)), toHex(sale));
  });

  it('R-MSG-3: random sets and deletes on an unpacked message pack exactly like the same content built by hand', () => {
    const numbers = Object.keys(unionpayPos.fields).map(Number) as FieldNumber[];
    const edit = fc.record({ number: fc.constantFrom(...numbers), value: fc.option(fc.constant(0), { nil: undefined }) });
    fc.assert(
      fc.property(messageFor(unionpayPos), messageFor(unionpayPos), fc.array(edit, { maxLength: 8 }), (base, donor, edits) => {
        const message = codec.unpack(codec.pack(base));
        const expected = { mti: base.mti, fields: { ...base.fields } };
        for (const { number, value } of edits) {
          const replacement = value === undefined ? undefined : donor.fields[number];
          message.set(number, replacement);
          if (replacement === undefined) delete expected.fields[number];
          else expected.fields[number] = replacement;
        }
        assert.equal(toHex(codec.pack(message)), toHex(codec.pack(expected)));
      }),
      { numRuns: 300 },
    );
  });

  it('{ copy: false } reads from the given buffer; the default copy does not', () => {
    const input = Buffer.from(sale);
    const borrowed = codec.unpack(input, 0, input.length, { copy: false });
    const copied = codec.unpack(input);
    input[input.length - 1] = 0x41; // last byte of field 64
    assert.equal(toHex(borrowed.get(64) as Buffer).slice(-2), '41');
    assert.equal(toHex(copied.get(64) as Buffer).slice(-2), '45');
  });

  it('fields is a frozen snapshot, so writing to it cannot silently do nothing', () => {
    const message = codec.unpack(sale);
    assert.throws(() => {
      (message.fields as Record<number, string>)[4] = '1';
    }, TypeError);
  });
});

describe('iso8583/field specs', () => {
  it('field constructors read like the paper spec', () => {
    assert.deepEqual(numeric({ description: 'x', length: 6 }).align, 'right');
    assert.deepEqual(numeric({ description: 'x', length: 19, prefix: prefix.LL }).align, 'left');
    assert.equal(binary({ description: 'x', length: 8 }).kind, 'binary');
  });
});
