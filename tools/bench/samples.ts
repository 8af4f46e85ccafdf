/**
 * The messages the benchmarks carry. The realistic 0200 sale is built here from its field values
 * (a chip card, PIN online, track 2 and 3, field 55 ICC data, MAC): fields 2, 3, 4, 11, 14, 22,
 * 23, 25, 26, 35, 36, 41, 42, 49, 52, 53, 55, 60 and 64, 337 bytes as a terminal payload. The
 * card and keys are test values; field 64 is the UnionPay ECB MAC under the published test MAC
 * key of test/vectors (so the sale verifies like a real one).
 */
import { Buffer } from 'node:buffer';
import { fromHex } from '../../src/codec/hex';
import { encodeLengthPrefixed, binary2 } from '../../src/codec/length-prefix';
import { computeMac } from '../../src/crypto/mac';
import { macInput } from '../../src/crypto/message-security';
import { SecretKey } from '../../src/crypto/secret-key';
import { MessageCodec } from '../../src/iso8583/codec';
import { IsoMessage, type FieldValues } from '../../src/iso8583/message';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { buildTerminalMessage, type TerminalMessage } from '../../src/iso8583/terminal-message';
import type { Tpdu } from '../../src/codec/tpdu';

export const codec = new MessageCodec(unionpayPos);

/** Test MAC key of the published 0200 (test/vectors/vectors.json, group mac). */
export const SALE_MAC_KEY_HEX = '0723C80DB5F4CD3D';

const ICC_DATA =
  '9F2608' + '1A2B3C4D5E6F7081' + '9F2701' + '80' + '9F1011' + '07010103A0A000010A010000000000A1B2' + '9F3704' + '12345678' + '9F3602' + '0031' +
  '9505' + '0000048000' + '9A03' + '260515' + '9C01' + '00' + '9F0206' + '000000012345' + '5F2A02' + '0156' + '8202' + '7C00' + '9F1A02' + '0156' +
  '9F0306' + '000000000000' + '9F3303' + 'E0F9C8' + '9F3403' + '420300' + '9F3501' + '22' + '8408' + 'A000000333010101' +
  '9F0902' + '0020' + '9F4104' + '00000123' + '9F6310' + '30313032303030304130303030303030';

/** The sale's field values (STAN settable, so load generators can give every request its own). */
export function saleFields(stan = '000123'): FieldValues {
  return {
    2: '6222021234567890123',
    3: '000000',
    4: '000000012345',
    11: stan,
    14: '2812',
    22: '051',
    23: '001',
    25: '00',
    26: '12',
    35: '6222021234567890123=28122201234567890',
    36: '996222021234567890123=156156000000000000000000000011414144912==000000000000=000000000000=000000000000',
    41: '12345678',
    42: '123456789012345',
    49: '156',
    52: fromHex('1A2B3C4D5E6F7A8B'),
    53: '2600000000000000',
    55: fromHex(ICC_DATA),
    60: '22000001000500',
  };
}

/** The sale as a terminal payload (TPDU 60 0003 0000, header 603200320000), MAC set; 337 bytes. */
export function salePayload(stan = '000123', tpdu: Tpdu = { id: 0x60, destination: '0003', originator: '0000' }): Buffer {
  const message = new IsoMessage('0200', saleFields(stan));
  const key = SecretKey.fromHex(SALE_MAC_KEY_HEX);
  try {
    message.set(64, computeMac('unionpay-ecb', key, macInput(codec, message)));
  } finally {
    key.destroy();
  }
  const terminal: TerminalMessage = { tpdu, dialMonitor: null, header: '603200320000', message };
  return buildTerminalMessage(codec, terminal);
}

/** The 0810 sign-on response with field 62 (test/vectors, group decode), as a terminal payload. */
export const SIGNON_0810_PAYLOAD = fromHex(
  '60000000046031003100000810003800010AC000140134870918340322084861584032313033323230393138333430303030323130303031383631343430333630313230303231001100000001003F0040A0F4BAB158444777DCCEFA04F3B4652318ECC792EF3AEC72A5011D350000000000000000F1737A9E',
);

/** A payload framed as on a TCP link (2-byte binary length). */
export function framed(payload: Buffer): Buffer {
  return encodeLengthPrefixed(binary2, payload);
}
