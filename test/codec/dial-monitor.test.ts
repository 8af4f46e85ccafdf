import assert from 'node:assert/strict';
import {
  buildDialMonitor,
  DEFAULT_DIAL_TAIL_HEX,
  hasDialMonitor,
  parseDialTail,
  readDialMonitor,
} from '../../src/codec/dial-monitor';
import { fromHex, toHex } from '../../src/codec/hex';
import { readTerminalEnvelope } from '../../src/codec/terminal-envelope';
import { CodecError } from '../../src/errors';
import { vectors } from '../support/vectors';

describe('codec/dial-monitor', () => {
  for (const v of vectors().dialMonitor) {
    it(`R-DIAL-1, R-DIAL-2: vector ANI ${v.ani} DNIS ${v.dnis} builds and parses exactly`, () => {
      const built = buildDialMonitor({ ani: v.ani, dnis: v.dnis, tail: parseDialTail(DEFAULT_DIAL_TAIL_HEX) });
      assert.equal(toHex(built), v.block);
      const parsed = readDialMonitor(fromHex(v.block));
      assert.equal(parsed.ani, v.ani);
      assert.equal(parsed.dnis, v.dnis);
      assert.equal(toHex(parsed.tail), DEFAULT_DIAL_TAIL_HEX);
    });
  }

  it('R-DIAL-1: layout is marker 4C 52 49 00 1C, ANI 8 BCD, DNIS 8 BCD, 12-byte tail (33 bytes)', () => {
    const block = buildDialMonitor({ ani: '1', dnis: '2', tail: Buffer.alloc(12, 0xaa) });
    assert.equal(block.length, 33);
    assert.equal(toHex(block.subarray(0, 5)), '4C5249001C');
    assert.equal(toHex(block.subarray(5, 13)), '0000000000000001');
    assert.equal(toHex(block.subarray(13, 21)), '0000000000000002');
    assert.equal(toHex(block.subarray(21)), 'AA'.repeat(12));
  });

  it('R-DIAL-3: the tail is configurable; each public deployment tail round-trips', () => {
    for (const tail of ['580009490006000000220030', '5800094900060000' + '00C20146', '580009490006000000320001']) {
      const block = buildDialMonitor({ ani: '50582613', dnis: '61651108', tail: parseDialTail(tail) });
      assert.equal(toHex(readDialMonitor(block).tail), tail);
    }
    assert.throws(() => parseDialTail('5800'), (e: CodecError) => e.code === 'BAD_DIAL_TAIL');
  });

  it('R-DIAL-4: no caller ID gives an all-zero ANI, read back as ""', () => {
    const block = buildDialMonitor({ ani: '', dnis: '61651108', tail: parseDialTail(DEFAULT_DIAL_TAIL_HEX) });
    assert.equal(toHex(block.subarray(5, 13)), '0000000000000000');
    assert.equal(readDialMonitor(block).ani, '');
  });

  it('R-DIAL-4: ANI with area code up to 16 digits fits; 17 digits or non-digits are refused', () => {
    const tail = parseDialTail(DEFAULT_DIAL_TAIL_HEX);
    assert.equal(readDialMonitor(buildDialMonitor({ ani: '8602150582613', dnis: '1', tail })).ani, '8602150582613');
    assert.throws(() => buildDialMonitor({ ani: '1'.repeat(17), dnis: '1', tail }), (e: CodecError) => e.code === 'TOO_LONG');
    assert.throws(() => buildDialMonitor({ ani: '5058-2613', dnis: '1', tail }), (e: CodecError) => e.code === 'NON_DIGIT');
  });

  it('R-FRAME-3: the block is detected right after the TPDU and skipped to find the header', () => {
    const payload = Buffer.concat([fromHex('6000030001'), fromHex(vectors().dialMonitor[0].block), fromHex('603100310000'), fromHex('0800')]);
    assert.equal(hasDialMonitor(payload, 5), true);
    const envelope = readTerminalEnvelope(payload);
    assert.equal(envelope.dialMonitor?.ani, '50582613');
    assert.equal(envelope.headerOffset, 38);
    assert.equal(envelope.messageOffset, 44);
    const plain = readTerminalEnvelope(Buffer.concat([fromHex('6000030001'), fromHex('603100310000'), fromHex('0800')]));
    assert.equal(plain.dialMonitor, null);
    assert.equal(plain.headerOffset, 5);
  });

  it('R-DIAL-1: a marker whose block is cut short is TRUNCATED, not misread', () => {
    const cut = fromHex(vectors().dialMonitor[0].block).subarray(0, 20);
    assert.throws(() => readDialMonitor(cut), (e: CodecError) => e.code === 'TRUNCATED');
  });
});
