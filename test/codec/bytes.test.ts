import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { copyBytes, sliceCopy } from '../../src/codec/bytes';

/** The reference: a byte at a time. */
function copyByHand(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): void {
  for (let i = start; i < end; i++) dst[at + i - start] = src[i];
}

describe('codec/bytes: the hot-path copies', () => {
  it('copy whole buffers, short parts (loop) and long parts (view), from Buffers and plain Uint8Arrays, like a byte-at-a-time copy', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(), fc.nat(64), fc.boolean(), (bytes, a, b, at, plain) => {
        const src = plain ? bytes : Buffer.from(bytes);
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
        const dst = Buffer.alloc(at + end - start + 3, 0xee);
        const expected = Buffer.alloc(dst.length, 0xee);
        copyByHand(src, start, end, expected, at);
        assert.equal(copyBytes(src, start, end, dst, at), at + end - start);
        assert.deepEqual(dst, expected);
      }),
    );
  });

  it('a whole-buffer copy into a target too small throws instead of copying part', () => {
    assert.throws(() => copyBytes(Buffer.alloc(10), 0, 10, Buffer.alloc(12), 3), RangeError);
  });

  it('sliceCopy returns a Buffer that does not share memory with its source', () => {
    const src = Buffer.from('00112233445566778899', 'hex');
    const copy = sliceCopy(src, 2, 8);
    assert.ok(Buffer.isBuffer(copy));
    assert.equal(copy.toString('hex'), '223344556677');
    src.fill(0);
    assert.equal(copy.toString('hex'), '223344556677');
  });
});
