import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeAll, type DecodeEvent } from '../../src/codec/decoder';
import { fromHex, toHex } from '../../src/codec/hex';
import {
  ascii4,
  binary2,
  encodeLengthPrefixed,
  keepAliveFrame,
  LengthPrefixedDecoder,
  payloadStart,
  type LengthPrefix,
} from '../../src/codec/length-prefix';
import { CodecError } from '../../src/errors';
import { cutPoints, oneByteAtATime, splitAt } from '../support/chunks';
import { vectors } from '../support/vectors';

const frames = (events: DecodeEvent[]): string[] =>
  events.flatMap((e) => (e.type === 'frame' ? [toHex(e.frame)] : e.type === 'keepalive' ? ['keepalive'] : []));

describe('codec/length-prefix', () => {
  it('R-FRAME-1: binary2 is a 2-byte big-endian length counting every byte after it', () => {
    const sample = fromHex(vectors().decode[0].frame);
    assert.equal(toHex(sample.subarray(0, 2)), '0079');
    assert.equal(payloadStart(binary2, sample), 2);
    assert.equal(toHex(encodeLengthPrefixed(binary2, sample.subarray(2))), toHex(sample));
  });

  it('R-FRAME-2: ascii4 is 4 zero-padded ASCII digits', () => {
    assert.equal(encodeLengthPrefixed(ascii4, Buffer.alloc(200)).subarray(0, 4).toString('latin1'), '0200');
    const events = decodeAll(new LengthPrefixedDecoder(ascii4), [Buffer.from('0003abc', 'latin1')]);
    assert.deepEqual(frames(events), ['616263']);
  });

  it('R-IDLE-1, R-IDLE-2: a zero length is its own keep-alive event, in both framings', () => {
    assert.equal(toHex(keepAliveFrame(binary2)), '0000');
    assert.equal(keepAliveFrame(ascii4).toString('latin1'), '0000');
    for (const prefix of [binary2, ascii4]) {
      const stream = Buffer.concat([keepAliveFrame(prefix), encodeLengthPrefixed(prefix, fromHex('0102')), keepAliveFrame(prefix)]);
      assert.deepEqual(frames(decodeAll(new LengthPrefixedDecoder(prefix), [stream])), ['keepalive', '0102', 'keepalive']);
    }
  });

  it('R-FRAME-1: a length over the maximum (2048) is an error before any allocation, then the stream is dropped', () => {
    const decoder = new LengthPrefixedDecoder(binary2);
    const events = decodeAll(decoder, [fromHex('0801'), Buffer.alloc(10)]);
    assert.equal(events[0].type, 'error');
    assert.equal((events[0] as { error: CodecError }).error.code, 'LENGTH_OVER_MAX');
    assert.equal((events[0] as { error: CodecError }).error.context.offset, 0);
    assert.deepEqual(events.slice(1), [{ type: 'discarded', bytes: 10, reason: 'after a framing error' }]);
    assert.equal(decoder.pendingBytes, 0);
    assert.equal(decoder.reset(), 0);
    assert.deepEqual(frames(decodeAll(decoder, [fromHex('000199')])), ['99']);
  });

  it('R-FRAME-1: the maximum is configurable and exactly the maximum is accepted', () => {
    const decoder = new LengthPrefixedDecoder(binary2, { maxLength: 4 });
    assert.deepEqual(frames(decodeAll(decoder, [fromHex('000401020304')])), ['01020304']);
    const over = decodeAll(new LengthPrefixedDecoder(binary2, { maxLength: 4 }), [fromHex('0005')]);
    assert.equal(over[0].type, 'error');
  });

  it('R-FRAME-2: a non-digit in an ascii4 prefix is an error naming its stream offset', () => {
    const events = decodeAll(new LengthPrefixedDecoder(ascii4), [Buffer.from('0002ab', 'latin1'), Buffer.from('00x1', 'latin1')]);
    assert.deepEqual(frames(events), ['6162']);
    const error = events.find((e) => e.type === 'error') as { error: CodecError };
    assert.equal(error.error.code, 'BAD_LENGTH_PREFIX');
    assert.equal(error.error.context.offset, 8);
  });

  it('R-FRAME-1: a prefix that disagrees with the bytes of a whole frame is LENGTH_MISMATCH', () => {
    assert.throws(() => payloadStart(binary2, fromHex('0005010203')), (e: CodecError) => e.code === 'LENGTH_MISMATCH');
  });

  for (const prefix of [binary2, ascii4] as LengthPrefix[]) {
    it(`R-FRAME-1, R-FRAME-2: ${prefix.name} yields the same frames however the stream is chunked`, () => {
      const payloads = fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { maxLength: 8 });
      fc.assert(
        fc.property(payloads, cutPoints, (list, cuts) => {
          const stream = Buffer.concat(list.map((p) => encodeLengthPrefixed(prefix, p)));
          const expected = list.map((p) => (p.length === 0 ? 'keepalive' : toHex(p)));
          assert.deepEqual(frames(decodeAll(new LengthPrefixedDecoder(prefix), splitAt(stream, cuts))), expected);
          assert.deepEqual(frames(decodeAll(new LengthPrefixedDecoder(prefix), oneByteAtATime(stream))), expected);
        }),
      );
    });

    it(`${prefix.name}: random bytes never throw; only typed events come out`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 3000 }), cutPoints, (bytes, cuts) => {
          const events = decodeAll(new LengthPrefixedDecoder(prefix), splitAt(bytes, cuts));
          for (const e of events) if (e.type === 'error') assert.ok(e.error instanceof CodecError);
        }),
      );
    });
  }
});
