/**
 * Small-copy helpers for hot paths. Buffer#copy costs ~125 ns whatever the size (argument
 * checks), set(subarray) more (a view is a whole Buffer object, ~200 ns); a plain loop costs
 * ~2.4 ns a byte on the bench machine, so below this many bytes the loop wins.
 */
const LOOP_BELOW = 48;

/** Copy `src[start..end)` to `dst[at..)`; returns the offset after the copy. */
export function copyBytes(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  const length = end - start;
  if (length < LOOP_BELOW) {
    for (let i = 0; i < length; i++) dst[at + i] = src[start + i];
  } else if (Buffer.isBuffer(src)) {
    src.copy(dst, at, start, end); // no view object, unlike set(subarray)
  } else {
    dst.set(src.subarray(start, end), at);
  }
  return at + length;
}

/** A new Buffer holding a copy of `src[start..end)`. */
export function sliceCopy(src: Uint8Array, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  copyBytes(src, start, end, out, 0);
  return out;
}
