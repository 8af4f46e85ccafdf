import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AsyncFrameDecoder, encodeAsyncFrame } from '../../src/codec/async-frame';
import { decodeAll, type DecodeEvent } from '../../src/codec/decoder';
import { fromHex, toHex } from '../../src/codec/hex';
import { CodecError } from '../../src/errors';
import { cutPoints, oneByteAtATime, splitAt } from '../support/chunks';
import { vectors } from '../support/vectors';

const frames = (events: DecodeEvent[]): string[] => events.flatMap((e) => (e.type === 'frame' ? [toHex(e.frame)] : []));
const errors = (events: DecodeEvent[]): string[] => events.flatMap((e) => (e.type === 'error' ? [e.error.code] : []));
const discarded = (events: DecodeEvent[]): number =>
  events.reduce((n, e) => n + (e.type === 'discarded' ? e.bytes : 0), 0);

describe('codec/async-frame', () => {
  for (const v of vectors().asyncFrame) {
    it(`R-MDM-6: vector ${v.hex} encodes and decodes exactly`, () => {
      assert.equal(toHex(encodeAsyncFrame(fromHex(v.tpdu + v.data))), v.hex);
      const events = decodeAll(new AsyncFrameDecoder(), [fromHex(v.hex)]);
      assert.deepEqual(frames(events), [v.tpdu + v.data]);
      assert.deepEqual(errors(events), []);
    });
  }

  it('R-MDM-6: a wrong LRC is a typed error and the next frame still decodes', () => {
    const good = encodeAsyncFrame(fromHex('6000038009080003'));
    const bad = Buffer.from(good);
    bad[bad.length - 1] ^= 0xff;
    const events = decodeAll(new AsyncFrameDecoder(), [Buffer.concat([bad, good])]);
    assert.deepEqual(errors(events), ['BAD_LRC']);
    assert.deepEqual(frames(events), ['6000038009080003']);
    const error = events.find((e) => e.type === 'error') as { error: CodecError };
    assert.equal(error.error.context.offset, bad.length - 1);
  });

  it('R-MDM-6: a missing ETX is a typed error and the decoder resynchronises on the next STX', () => {
    const good = encodeAsyncFrame(fromHex('60000380090800'));
    const broken = Buffer.from(good);
    broken[broken.length - 2] = 0x00; // ETX gone
    const events = decodeAll(new AsyncFrameDecoder(), [broken, good]);
    assert.ok(errors(events).includes('MISSING_ETX'));
    assert.deepEqual(frames(events), ['60000380090800']);
  });

  it('R-MDM-6: garbage before STX is counted as discarded, never silently lost', () => {
    const good = encodeAsyncFrame(fromHex('6000038009'));
    const events = decodeAll(new AsyncFrameDecoder(), [fromHex('FFEE0D0A'), good, fromHex('0606')]);
    assert.deepEqual(frames(events), ['6000038009']);
    assert.equal(discarded(events), 6);
  });

  it('R-MDM-6: a BCD length over the maximum or not BCD is an error, and the hunt resumes', () => {
    const good = encodeAsyncFrame(fromHex('6000038009'));
    const events = decodeAll(new AsyncFrameDecoder({ maxLength: 100 }), [fromHex('029999'), fromHex('02AB01'), good]);
    assert.deepEqual(errors(events), ['LENGTH_OVER_MAX', 'BAD_LENGTH_PREFIX']);
    assert.deepEqual(frames(events), ['6000038009']);
  });

  it('R-MDM-6: a half frame waits; reset() forgets it and reports how much', () => {
    const decoder = new AsyncFrameDecoder();
    const good = encodeAsyncFrame(fromHex('6000038009080003'));
    assert.deepEqual(decodeAll(decoder, [good.subarray(0, 6)]), []);
    assert.equal(decoder.pendingBytes, 6);
    assert.equal(decoder.reset(), 6);
    assert.deepEqual(frames(decodeAll(decoder, [good])), ['6000038009080003']);
  });

  it('R-MDM-6: yields the same frames however the line chunks them (split, coalesced, one byte at a time)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 400 }), { maxLength: 6 }), cutPoints, (bodies, cuts) => {
        const stream = Buffer.concat(bodies.map((b) => encodeAsyncFrame(b)));
        const expected = bodies.map((b) => toHex(b));
        assert.deepEqual(frames(decodeAll(new AsyncFrameDecoder(), splitAt(stream, cuts))), expected);
        assert.deepEqual(frames(decodeAll(new AsyncFrameDecoder(), oneByteAtATime(stream))), expected);
      }),
    );
  });

  it('R-MDM-6: random bytes never throw and memory stays bounded by the maximum frame', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), cutPoints, (bytes, cuts) => {
        const decoder = new AsyncFrameDecoder();
        const events = decodeAll(decoder, splitAt(bytes, cuts));
        for (const e of events) if (e.type === 'error') assert.ok(e.error instanceof CodecError);
        assert.ok(decoder.pendingBytes <= 2048 + 5);
      }),
    );
  });

  it('R-MDM-6: a good frame after random noise is always found', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (noise) => {
        const body = fromHex('6000038009080003');
        // Noise may hold an STX whose claimed length swallows the frame; a quiet line then
        // repeats the frame (as POS terminals retransmit), and it must be found.
        const good = encodeAsyncFrame(body);
        const events = decodeAll(new AsyncFrameDecoder({ maxLength: 256 }), [noise, good, Buffer.alloc(300), good]);
        assert.ok(frames(events).includes(toHex(body)));
      }),
    );
  });
});
