import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/codec/hex';
import { buildMessageHeader, parseMessageHeader } from '../../src/codec/message-header';
import { encodeTpdu, readTpdu, swapTpdu, tpduFromHex, tpduToHex } from '../../src/codec/tpdu';
import { CodecError } from '../../src/errors';
import { vectors } from '../support/vectors';

describe('codec/tpdu', () => {
  it('R-MSG-1: reads ID, destination (NII) and originator from the 0810 sample', () => {
    const frame = fromHex(vectors().decode[0].frame);
    const tpdu = readTpdu(frame, 2);
    assert.deepEqual(tpdu, { id: 0x60, destination: '0000', originator: '0004' });
    assert.equal(tpduToHex(tpdu), vectors().decode[0].tpdu);
  });

  it('R-MSG-1: a response swaps destination and originator, keeping the ID', () => {
    const request = tpduFromHex('6000030001');
    assert.equal(tpduToHex(swapTpdu(request)), '6000010003');
    assert.deepEqual(swapTpdu(swapTpdu(request)), request);
  });

  it('R-MSG-1: addresses must be 4 hex digits; a short buffer is TRUNCATED', () => {
    assert.throws(() => encodeTpdu({ id: 0x60, destination: '03', originator: '0001' }), (e: CodecError) => e.code === 'BAD_ADDRESS');
    assert.throws(() => readTpdu(fromHex('600003')), (e: CodecError) => e.code === 'TRUNCATED');
  });
});

describe('codec/message-header', () => {
  it('R-MSG-2: names the subfields of the 6-byte BCD header', () => {
    const header = parseMessageHeader(fromHex('603210320072'));
    assert.deepEqual(header, {
      applicationCategory: '60',
      softwareVersion: '32',
      terminalStatus: '1',
      processingRequirement: '0',
      reserved: '320072',
    });
    assert.equal(toHex(buildMessageHeader(header)), '603210320072');
  });

  it('R-MSG-2: every header seen in public samples round-trips', () => {
    for (const hex of ['603100310000', '603200321702', '603210320072']) {
      assert.equal(toHex(buildMessageHeader(parseMessageHeader(fromHex(hex)))), hex);
    }
  });

  it('R-MSG-2: a header part of the wrong width is refused', () => {
    assert.throws(
      () => buildMessageHeader({ applicationCategory: '6', softwareVersion: '31', terminalStatus: '0', processingRequirement: '0', reserved: '310000' }),
      (e: CodecError) => e.code === 'BAD_HEADER',
    );
  });
});
