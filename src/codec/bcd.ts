import { Buffer } from 'node:buffer';
import { CodecError } from '../errors';

/**
 * Packed BCD (R-MSG-4). Odd digit counts need one pad nibble: right-aligned values put it first
 * (`123` -> `01 23`), left-aligned values put it last (`021` -> `02 10`). The encoder's pad nibble
 * is a choice (0 in most samples, F in some hosts' responses); the decoder accepts both.
 *
 * The `track` alphabet adds `=` as nibble D, the track 2/3 field separator (R-MSG-6), and A B C E F
 * as themselves: track data encrypted under 53.3 = 1 keeps its digit count but any nibble.
 */
export type Alignment = 'left' | 'right';
export type PadNibble = 0x0 | 0xf;

export interface BcdOptions {
  align: Alignment;
  /** Pad nibble written for an odd number of digits; default 0. */
  pad?: PadNibble;
  /** Allow `=` (nibble D), for track data (`z` fields). */
  track?: boolean;
}

const ZERO = 48;
const EQUALS = 61;
const TRACK_SEPARATOR_NIBBLE = 0xd;

const TRACK_SYMBOLS = '0123456789ABC=EF';

function symbolOf(nibble: number, track: boolean): string | undefined {
  if (track) return TRACK_SYMBOLS[nibble];
  return nibble <= 9 ? String(nibble) : undefined;
}

/** For every byte value, its two symbols, or undefined when either nibble is not one. */
function pairTable(track: boolean): (string | undefined)[] {
  return Array.from({ length: 256 }, (_, b) => {
    const hi = symbolOf(b >> 4, track);
    const lo = symbolOf(b & 0x0f, track);
    return hi !== undefined && lo !== undefined ? hi + lo : undefined;
  });
}
const DIGIT_PAIRS = pairTable(false);
const TRACK_PAIRS = pairTable(true);

export function bcdLength(digitCount: number): number {
  return (digitCount + 1) >> 1;
}

function nibbleOf(text: string, i: number, track: boolean): number {
  const c = text.charCodeAt(i);
  const n = c - ZERO;
  if (n >= 0 && n <= 9) return n;
  if (track) {
    if (c === EQUALS) return TRACK_SEPARATOR_NIBBLE;
    const letter = TRACK_SYMBOLS.indexOf(text[i].toUpperCase());
    if (letter >= 10 && text[i] !== 'D' && text[i] !== 'd') return letter;
  }
  throw new CodecError(
    'NON_DIGIT',
    track ? `not a digit, '=' or A-F at position ${i}` : `not a digit at position ${i}`,
    { offset: i },
  );
}

/** Write `digits` as packed BCD at `target[offset]`; returns the offset after the last byte. */
export function writeBcd(target: Uint8Array, offset: number, digits: string, options: BcdOptions): number {
  const track = options.track === true;
  const pad = options.pad ?? 0;
  const count = digits.length;
  let i = 0;
  let o = offset;
  if (count & 1) {
    if (options.align === 'right') {
      target[o++] = (pad << 4) | nibbleOf(digits, 0, track);
      i = 1;
    }
  }
  const pairsEnd = options.align === 'left' && count & 1 ? count - 1 : count;
  for (; i < pairsEnd; i += 2) {
    target[o++] = (nibbleOf(digits, i, track) << 4) | nibbleOf(digits, i + 1, track);
  }
  if (count & 1 && options.align === 'left') {
    target[o++] = (nibbleOf(digits, count - 1, track) << 4) | pad;
  }
  return o;
}

export function encodeBcd(digits: string, options: BcdOptions): Buffer {
  const out = Buffer.allocUnsafe(bcdLength(digits.length));
  writeBcd(out, 0, digits, options);
  return out;
}

function badNibble(offset: number): CodecError {
  return new CodecError('NON_DIGIT', `byte at offset ${offset} holds a nibble that is not a digit`, { offset });
}

function isPad(nibble: number): boolean {
  return nibble === 0 || nibble === 0xf;
}

/**
 * Read `digitCount` digits of packed BCD from `source[offset]`. The caller has checked that
 * the bytes are there. A nibble that is neither a digit nor (in the pad position) 0/F throws,
 * with the offset of the offending byte.
 */
export function readBcd(
  source: Uint8Array,
  offset: number,
  digitCount: number,
  align: Alignment,
  track = false,
): string {
  const pairs = track ? TRACK_PAIRS : DIGIT_PAIRS;
  const byteCount = (digitCount + 1) >> 1;
  const odd = (digitCount & 1) === 1;
  let first = offset;
  let last = offset + byteCount; // exclusive
  let head = '';
  let tail = '';
  if (odd && align === 'right') {
    const b = source[first];
    const digit = symbolOf(b & 0x0f, track);
    if (!isPad(b >> 4) || digit === undefined) throw badNibble(first);
    head = digit;
    first++;
  } else if (odd) {
    const b = source[last - 1];
    const digit = symbolOf(b >> 4, track);
    if (!isPad(b & 0x0f) || digit === undefined) throw badNibble(last - 1);
    tail = digit;
    last--;
  }
  let out = head;
  for (let i = first; i < last; i++) {
    const pair = pairs[source[i]];
    if (pair === undefined) throw badNibble(i);
    out += pair;
  }
  return out + tail;
}

export function decodeBcd(bytes: Uint8Array, digitCount: number, align: Alignment, track = false): string {
  if (bcdLength(digitCount) > bytes.length) {
    throw new CodecError('TRUNCATED', `need ${bcdLength(digitCount)} bytes of BCD, have ${bytes.length}`, {
      offset: bytes.length,
    });
  }
  return readBcd(bytes, 0, digitCount, align, track);
}
