import assert from 'node:assert/strict';
import { fromHex } from '../../src/codec/hex';
import { MessageCodec } from '../../src/iso8583/codec';
import { describeMessage, describeTerminalMessage } from '../../src/iso8583/describe';
import { fieldsFromJson, fieldsToJson } from '../../src/iso8583/json';
import { maskPan } from '../../src/iso8583/redact';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { readTerminalMessage } from '../../src/iso8583/terminal-message';
import { CodecError } from '../../src/errors';
import { vectors } from '../support/vectors';

const codec = new MessageCodec(unionpayPos);
const PAN = '6212142000000000012';
const TRACK2 = '6212142000000000012=25121010000000000';
const secretMessage = {
  mti: '0200',
  fields: {
    2: PAN,
    35: TRACK2,
    52: fromHex('1122334455667788'),
    55: fromHex('9F2608AABBCCDDEEFF0011'),
    62: fromHex('A0F4BAB158444777'),
    41: '12345678',
  },
};

describe('iso8583/describe and redaction', () => {
  it('masks a PAN to first 6 + last 4', () => {
    assert.equal(maskPan(PAN), '621214*********0012');
  });

  it('describe() shows the PAN masked and hides 35, 36, 52, 55, 62', () => {
    const text = describeMessage(codec, secretMessage);
    assert.ok(text.includes('621214*********0012'));
    assert.ok(!text.includes(PAN));
    assert.ok(!text.includes('25121010'));
    assert.ok(!text.includes('1122334455667788'));
    assert.ok(!text.includes('AABBCCDD'));
    assert.ok(!text.includes('A0F4BAB1'));
    assert.ok(text.includes('12345678'));
  });

  it('describe() reveals only when asked', () => {
    const text = describeMessage(codec, secretMessage, { reveal: true });
    assert.ok(text.includes(PAN));
    assert.ok(text.includes('1122334455667788'));
  });

  it('describes a terminal message with its TPDU and header', () => {
    const terminal = readTerminalMessage(codec, fromHex(vectors().decode[0].frame), 2);
    const text = describeTerminalMessage(codec, terminal);
    assert.ok(text.startsWith('TPDU 6000000004'));
    assert.ok(text.includes('header 603100310000  (processing requirement 0: none)'));
    assert.ok(!text.includes('A0F4BAB1'));
  });

  it('describe() prints every field label whole, however long (field 60\'s was cut to "network mana")', () => {
    const terminal = readTerminalMessage(codec, fromHex(vectors().decode[0].frame), 2);
    const text = describeTerminalMessage(codec, terminal);
    for (const number of [11, 32, 60, 62]) assert.ok(text.includes(`  ${codec.field(number)?.description} `), `field ${number}`);
    assert.match(text, /\n {2}60 {2}Reserved \(custom\): type, batch, network management n\.\.\.19 /);
    // Labels keep one column: every value starts at the same place.
    const formats = text.split('\n').filter((l) => /^ {2}[ \d]\d {2}/.test(l)).map((l) => l.search(/ (n|ans|b)[.\d]/));
    assert.equal(new Set(formats).size, 1, text);
  });

  it('JSON fields: redacted by default, exact with reveal, and read back with types checked', () => {
    assert.deepEqual(fieldsToJson(codec, secretMessage, false), {
      2: '621214*********0012',
      35: '***',
      41: '12345678',
      52: '***',
      55: '***',
      62: '***',
    });
    const revealed = fieldsToJson(codec, secretMessage, true);
    assert.deepEqual(fieldsFromJson(codec, revealed), secretMessage.fields);
    assert.throws(() => fieldsFromJson(codec, { 62: 'ABC' }), (e: CodecError) => e.code === 'ODD_HEX' && e.context.field === 62);
    assert.throws(() => fieldsFromJson(codec, { 62: '62XY' }), (e: CodecError) => e.code === 'NOT_HEX' && e.context.field === 62);
    assert.throws(() => fieldsFromJson(codec, { 62: '***' }), (e: CodecError) => e.code === 'REDACTED' && e.context.field === 62);
    assert.throws(() => fieldsFromJson(codec, { 2: '621214*********0012' }), (e: CodecError) => e.code === 'REDACTED' && e.context.field === 2);
    assert.throws(() => fieldsFromJson(codec, { 99: '1' }), (e: CodecError) => e.code === 'UNKNOWN_FIELD');
    assert.throws(() => fieldsFromJson(codec, { 11: 5 }), (e: CodecError) => e.code === 'BAD_VALUE');
  });
});
