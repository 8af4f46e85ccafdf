import { Buffer } from 'node:buffer';
import { CodecError } from '../errors';
import { latin1String } from './latin1';

const HEX_DIGITS = '0123456789ABCDEF';
/** Two uppercase hex characters for every byte value; avoids toUpperCase() on hot paths. */
const BYTE_TO_HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, b) => HEX_DIGITS[b >> 4] + HEX_DIGITS[b & 0x0f],
);

/** Uppercase hex of `bytes[start..end)`. */
export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const count = end - start;
  if (count > 2 && count <= SHORT_HEX_BYTES) {
    // Up to 16 characters: their codes into a scratch buffer, then one string (latin1String).
    for (let i = 0; i < count; i++) {
      const b = bytes[start + i];
      hexScratch[2 * i] = HEX_CODE[b >> 4];
      hexScratch[2 * i + 1] = HEX_CODE[b & 0x0f];
    }
    return latin1String(hexScratch, 0, 2 * count);
  }
  let out = '';
  for (let i = start; i < end; i++) out += BYTE_TO_HEX[bytes[i]];
  return out;
}

const SHORT_HEX_BYTES = 8;
const HEX_CODE = Uint8Array.from(HEX_DIGITS, (c) => c.charCodeAt(0));
const hexScratch = Buffer.allocUnsafe(2 * SHORT_HEX_BYTES);

/**
 * Strict hex decoding: an odd number of digits or any non-hex character is a CodecError
 * (Buffer.from(s, 'hex') silently stops at the first bad character).
 */
export function fromHex(hex: string, what = 'hex'): Buffer {
  if (hex.length % 2 !== 0) {
    throw new CodecError('ODD_HEX', `${what}: odd number of hex digits (${hex.length})`);
  }
  const bad = /[^0-9a-fA-F]/.exec(hex);
  if (bad) {
    throw new CodecError('NOT_HEX', `${what}: not a hex digit at character ${bad.index}`, {
      offset: bad.index,
    });
  }
  return Buffer.from(hex, 'hex');
}

const HEX_NIBBLE: readonly number[] = Array.from({ length: 128 }, (_, c) => {
  const ch = String.fromCharCode(c);
  return /[0-9a-fA-F]/.test(ch) ? parseInt(ch, 16) : -1;
});

/** Value of one hex digit character, or -1. */
export function hexDigitValue(charCode: number): number {
  return charCode < 128 ? HEX_NIBBLE[charCode] : -1;
}

/**
 * Write `hex` as bytes at `target[offset]` without allocating; returns the offset after them.
 * Throws like fromHex on odd length or a non-hex character.
 */
export function writeHex(target: Uint8Array, offset: number, hex: string, what = 'hex'): number {
  if (hex.length % 2 !== 0) throw new CodecError('ODD_HEX', `${what}: odd number of hex digits (${hex.length})`);
  let o = offset;
  for (let i = 0; i < hex.length; i += 2) {
    const hi = hexDigitValue(hex.charCodeAt(i));
    const lo = hexDigitValue(hex.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) {
      const at = hi < 0 ? i : i + 1;
      throw new CodecError('NOT_HEX', `${what}: not a hex digit at character ${at}`, { offset: at });
    }
    target[o++] = (hi << 4) | lo;
  }
  return o;
}

/** Hex as typed by people: whitespace (and an optional 0x) ignored. */
export function fromLooseHex(text: string, what = 'hex'): Buffer {
  return fromHex(text.replace(/\s+/g, '').replace(/^0x/i, ''), what);
}
