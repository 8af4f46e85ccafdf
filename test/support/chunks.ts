import fc from 'fast-check';

/** Split `bytes` at the given cut points (any values; they are folded into range and sorted). */
export function splitAt(bytes: Uint8Array, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1))))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(Buffer.from(bytes.subarray(last, p)));
    last = p;
  }
  out.push(Buffer.from(bytes.subarray(last)));
  return out;
}

/** Arbitrary cut points: none, a few, or many (down to one byte at a time). */
export const cutPoints = fc.array(fc.nat(), { maxLength: 40 });

export function oneByteAtATime(bytes: Uint8Array): Buffer[] {
  return Array.from(bytes, (b) => Buffer.from([b]));
}
