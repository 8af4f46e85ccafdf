import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/codec/hex';
import { CodecError } from '../../src/errors';
import { STAN_MAX, StanSequence } from '../../src/iso8583/stan';
import {
  field22Layout,
  field53Layout,
  field60Layout,
  field61Layout,
  joinSubfields,
  splitSubfields,
} from '../../src/iso8583/subfields';
import { buildTlv, isConstructed, parseTlv } from '../../src/iso8583/tlv';
import { vectors } from '../support/vectors';

describe('iso8583/tlv', () => {
  it('R-MSG-7: one- and two-byte tags (low 5 bits all ones = two-byte tag)', () => {
    const items = parseTlv(fromHex('9F2608' + '1122334455667788' + '9501' + '80'));
    assert.deepEqual(
      items.map((t) => [t.tag, toHex(t.value)]),
      [
        ['9F26', '1122334455667788'],
        ['95', '80'],
      ],
    );
  });

  it('R-MSG-7: long length forms 0x81 and 0x82', () => {
    const long = Buffer.alloc(200, 0x11);
    const built = buildTlv([{ tag: '9F10', value: long }]);
    assert.equal(toHex(built.subarray(0, 4)), '9F1081C8');
    const longer = buildTlv([{ tag: '71', value: Buffer.alloc(300) }]);
    assert.equal(toHex(longer.subarray(0, 4)), '7182012C');
    assert.equal(parseTlv(longer)[0].value.length, 300);
  });

  it('R-MSG-7: the 0200 sample field 62 sub-data parses as TLV (5F01, 5F03, 5F04, 5C)', () => {
    const frame = fromHex(vectors().mac[0].frame);
    const field62 = frame.subarray(frame.length - 8 - 43, frame.length - 8);
    assert.deepEqual(
      parseTlv(field62).map((t) => t.tag),
      ['5F01', '5F03', '5F04', '5C'],
    );
  });

  it('R-MSG-7: a zero length carries no value; constructed tags are recognised', () => {
    assert.deepEqual(parseTlv(fromHex('9F0300')), [{ tag: '9F03', value: Buffer.alloc(0) }]);
    assert.equal(isConstructed('70'), true);
    assert.equal(isConstructed('9F26'), false);
  });

  it('R-MSG-7: truncated tags, lengths and values, and unsupported length forms are typed errors', () => {
    for (const hex of ['9F', '95', '9505AA', '9583010203', '9580']) {
      assert.throws(() => parseTlv(fromHex(hex)), (e: unknown) => e instanceof CodecError, hex);
    }
  });

  it('R-MSG-7: parse(build(items)) == items, and random bytes never crash the parser', () => {
    const tag = fc.oneof(
      fc.integer({ min: 0, max: 255 }).filter((b) => (b & 0x1f) !== 0x1f).map((b) => toHex(Buffer.from([b]))),
      fc.integer({ min: 0, max: 0x7f }).map((b) => '9F' + toHex(Buffer.from([b]))),
    );
    const item = fc.record({ tag, value: fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)) });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 6 }), (items) => {
        const plain = items.map((i) => ({ tag: i.tag, value: i.value }));
        assert.deepEqual(parseTlv(buildTlv(plain)), plain);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          parseTlv(bytes);
        } catch (e) {
          assert.ok(e instanceof CodecError);
        }
      }),
    );
  });
});

describe('iso8583/subfields', () => {
  it('field 22: PAN entry mode and PIN capability', () => {
    assert.deepEqual(splitSubfields(field22Layout, '021'), { panEntryMode: '02', pinEntryCapability: '1' });
  });

  it('field 53: PIN format, algorithm, track encryption flag', () => {
    assert.deepEqual(splitSubfields(field53Layout, '2610000000000000'), {
      pinFormat: '2',
      encryptionAlgorithm: '6',
      trackEncryption: '1',
      reserved: '0000000000000',
    });
  });

  it('R-MSG-10: field 60 splits at whatever length the edition sends (11 and 19 digits)', () => {
    assert.deepEqual(splitSubfields(field60Layout, '00000001003'), {
      transactionType: '00',
      batch: '000001',
      networkManagementCode: '003',
    });
    const full = splitSubfields(field60Layout, '2600000100060000000');
    assert.equal(full.transactionType, '26');
    assert.equal(full.terminalReadCapability, '6');
    assert.equal(full.accountType, '000');
    assert.equal(full.extension, '00');
    assert.equal(joinSubfields(field60Layout, full), '2600000100060000000');
  });

  it('field 61: original batch, STAN and date for voids and reversals', () => {
    assert.deepEqual(splitSubfields(field61Layout, '0000010001230322'), {
      originalBatch: '000001',
      originalStan: '000123',
      originalDate: '0322',
    });
  });

  it('a value cut inside a subfield, or a gap when joining, is a typed error', () => {
    assert.throws(() => splitSubfields(field60Layout, '0000000100', 60), (e: CodecError) => e.code === 'PARTIAL_SUBFIELD' && e.context.field === 60);
    assert.throws(() => joinSubfields(field60Layout, { transactionType: '00', networkManagementCode: '003' }), (e: CodecError) => e.code === 'SUBFIELD_GAP');
    assert.throws(() => joinSubfields(field60Layout, { transactionType: '0' }), (e: CodecError) => e.code === 'BAD_SUBFIELD');
  });
});

describe('iso8583/stan', () => {
  it('R-MSG-8: STAN runs 000001..999999 and wraps to 000001', () => {
    const seq = new StanSequence();
    assert.equal(seq.next(), '000001');
    const late = new StanSequence(STAN_MAX - 1);
    assert.equal(late.next(), '999999');
    assert.equal(late.next(), '000001');
    assert.throws(() => new StanSequence(1_000_000), (e: CodecError) => e.code === 'BAD_STAN');
  });
});
