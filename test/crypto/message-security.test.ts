import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/codec/hex';
import { computeMac } from '../../src/crypto/mac';
import { applyMac, applyPin, decryptTrackFields, encryptTrackFields, macInput, verifyMac } from '../../src/crypto/message-security';
import { encryptPinBlock } from '../../src/crypto/pin-block';
import { SecretKey } from '../../src/crypto/secret-key';
import { MessageCodec } from '../../src/iso8583/codec';
import { IsoMessage } from '../../src/iso8583/message';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { splitSubfields, field53Layout } from '../../src/iso8583/subfields';
import { readTerminalMessage } from '../../src/iso8583/terminal-message';
import { vectors } from '../support/vectors';

const codec = new MessageCodec(unionpayPos);
const sample = vectors().mac[0];
const frame = fromHex(sample.frame);
const macKey = SecretKey.fromHex(sample.key);
const unionpay = (data: Buffer) => computeMac('unionpay-ecb', macKey, data);

describe('crypto/message-security', () => {
  it('R-MSG-9: the MAC input of the published 0200 is MTI through the end of field 62', () => {
    const message = readTerminalMessage(codec, frame, 2).message;
    assert.equal(toHex(macInput(codec, message)), toHex(frame.subarray(2 + 5 + 6, frame.length - 8)));
    assert.equal(toHex(message.get(64) as Buffer), toHex(frame.subarray(frame.length - 8)), 'macInput leaves field 64 as it was');
  });

  it('R-MSG-9: bit 64 is set in the MAC input even before field 64 exists', () => {
    const message = new IsoMessage('0800', { 11: '000001', 41: '12345678' });
    const input = macInput(codec, message);
    assert.equal(input[2 + 7] & 0x01, 0x01, 'bit 64 is the last bit of the bitmap');
    assert.equal(message.has(64), false);
  });

  it('R-MSG-9: applyMac sets field 64 to the MAC the platform accepted; verifyMac agrees', async () => {
    const received = readTerminalMessage(codec, frame, 2).message;
    const rebuilt = new IsoMessage(received.mti, { ...received.fields });
    rebuilt.delete(64);
    await applyMac(codec, rebuilt, unionpay);
    assert.equal((rebuilt.get(64) as Buffer).toString('latin1'), sample.field64Ascii);
    assert.equal(await verifyMac(codec, received, unionpay), true);
  });

  it('R-MSG-9: any changed field makes verifyMac false', async () => {
    const received = readTerminalMessage(codec, frame, 2).message;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<3 | 4 | 11 | 41>(3, 4, 11, 41), async (field) => {
        const message = readTerminalMessage(codec, frame, 2).message;
        const value = message.getString(field) as string;
        message.set(field, value.slice(0, -1) + (value.endsWith('1') ? '2' : '1'));
        assert.equal(await verifyMac(codec, message, unionpay), false);
      }),
    );
    assert.equal(await verifyMac(codec, received, unionpay), true);
  });

  it('53.3: track fields encrypted by the sender travel through the codec and decrypt at the receiver', () => {
    const trackKey = SecretKey.fromHex('0123456789ABCDEFFEDCBA9876543210');
    const track2 = '6212142000000000012=25121010000000000';
    const track3 = '996212142000000000012=1561560000000000000003000000214000025120=000000000000=000000000000=000000000000';
    const sent = encryptTrackFields(new IsoMessage('0200', { 35: track2, 36: track3, 53: '2610000000000000' }), trackKey);
    assert.notEqual(sent.get(35), track2);
    const received = codec.unpack(codec.pack(sent));
    decryptTrackFields(received, trackKey);
    assert.equal(received.get(35), track2);
    assert.equal(received.get(36), track3);
    const clearFlag = codec.unpack(codec.pack(new IsoMessage('0200', { 35: track2, 53: '2600000000000000' })));
    assert.equal(decryptTrackFields(clearFlag, trackKey).get(35), track2, '53.3 = 0 leaves track data alone');
  });

  it('R-PIN-1: applyPin fills 52 with the PIN block and 53 with format 2, algorithm and track flag', () => {
    const pinKey = SecretKey.fromHex('807A23AD32B36D457AE91FDF927570EA');
    const block = encryptPinBlock(pinKey, '123456', '6212142000000000012');
    const message = applyPin(new IsoMessage('0200'), { pinBlock: block, doubleLengthKey: true, trackEncrypted: true });
    assert.deepEqual(message.get(52), block);
    assert.deepEqual(splitSubfields(field53Layout, message.getString(53) as string), {
      pinFormat: '2',
      encryptionAlgorithm: '6',
      trackEncryption: '1',
      reserved: '0000000000000',
    });
  });
});
