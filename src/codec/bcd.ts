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

/**
 * Character code -> nibble, or -1: one table for digits, one for track data (digits, `=` as D, and
 * A B C E F in either case). Indexed by any UTF-16 code unit, so the encoder needs no range check.
 */
function nibbleTable(track: boolean): Int8Array {
  const table = new Int8Array(65536).fill(-1);
  for (let d = 0; d <= 9; d++) table[ZERO + d] = d;
  if (track) {
    table[EQUALS] = TRACK_SEPARATOR_NIBBLE;
    for (const letter of 'ABCEF') {
      const nibble = TRACK_SYMBOLS.indexOf(letter);
      table[letter.charCodeAt(0)] = nibble;
      table[letter.toLowerCase().charCodeAt(0)] = nibble;
    }
  }
  return table;
}
const DIGIT_NIBBLES = nibbleTable(false);
const TRACK_NIBBLES = nibbleTable(true);

function nonDigit(i: number, track: boolean): CodecError {
  return new CodecError('NON_DIGIT', track ? `not a digit, '=' or A-F at position ${i}` : `not a digit at position ${i}`, { offset: i });
}

/** Write `digits` as packed BCD at `target[offset]`; returns the offset after the last byte. */
export function writeBcd(target: Uint8Array, offset: number, digits: string, options: BcdOptions): number {
  return writeBcdDigits(target, offset, digits, options.align === 'left', options.pad ?? 0, options.track === true);
}

/** writeBcd with its options as arguments: no options object on the codec's hot path. */
export function writeBcdDigits(target: Uint8Array, offset: number, digits: string, left: boolean, pad: PadNibble, track: boolean): number {
  const table = track ? TRACK_NIBBLES : DIGIT_NIBBLES;
  const count = digits.length;
  let i = 0;
  let o = offset;
  if (count & 1 && !left) {
    const n = table[digits.charCodeAt(0)];
    if (n < 0) throw nonDigit(0, track);
    target[o++] = (pad << 4) | n;
    i = 1;
  }
  const pairsEnd = left && count & 1 ? count - 1 : count;
  if (!track) {
    // Digits only: arithmetic instead of the table (no memory load per character).
    for (; i < pairsEnd; i += 2) {
      const hi = digits.charCodeAt(i) - ZERO;
      const lo = digits.charCodeAt(i + 1) - ZERO;
      if (hi >>> 0 > 9 || lo >>> 0 > 9) throw nonDigit(hi >>> 0 > 9 ? i : i + 1, track);
      target[o++] = (hi << 4) | lo;
    }
  }
  for (; i < pairsEnd; i += 2) {
    const hi = table[digits.charCodeAt(i)];
    const lo = table[digits.charCodeAt(i + 1)];
    if ((hi | lo) < 0) throw nonDigit(hi < 0 ? i : i + 1, track);
    target[o++] = (hi << 4) | lo;
  }
  if (count & 1 && left) {
    const n = table[digits.charCodeAt(count - 1)];
    if (n < 0) throw nonDigit(count - 1, track);
    target[o++] = (n << 4) | pad;
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
  // The digits go into a scratch buffer and come out as one flat string: built by concatenation
  // they would be a rope, which the next charCodeAt (re-encoding the value, say) must flatten.
  const pairCount = last - first;
  if (pairCount < FLAT_FROM) {
    let out = head;
    for (let i = first; i < last; i++) {
      const pair = pairs[source[i]];
      if (pair === undefined) throw badNibble(i);
      out += pair;
    }
    return out + tail;
  }
  const codes = track ? TRACK_CODES : DIGIT_CODES;
  const size = 2 * pairCount + 2;
  if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, 2 * scratch.length));
  let k = 0;
  if (head !== '') scratch[k++] = head.charCodeAt(0);
  for (let i = first; i < last; i++) {
    const b = source[i];
    const pair = codes[b];
    if (pair < 0) throw badNibble(i);
    scratch[k++] = pair >> 8;
    scratch[k++] = pair & 0xff;
  }
  if (tail !== '') scratch[k++] = tail.charCodeAt(0);
  return scratch.toString('latin1', 0, k);
}

/** Below this many bytes, concatenation (V8 copies strings under 13 characters flat anyway). */
const FLAT_FROM = 6;
let scratch = Buffer.allocUnsafe(64);

/** Byte -> its two symbols' character codes (high << 8 | low), or -1. */
function codeTable(pairs: (string | undefined)[]): Int32Array {
  return Int32Array.from(pairs, (p) => (p === undefined ? -1 : (p.charCodeAt(0) << 8) | p.charCodeAt(1)));
}
const DIGIT_CODES = codeTable(DIGIT_PAIRS);
const TRACK_CODES = codeTable(TRACK_PAIRS);

export function decodeBcd(bytes: Uint8Array, digitCount: number, align: Alignment, track = false): string {
  if (bcdLength(digitCount) > bytes.length) {
    throw new CodecError('TRUNCATED', `need ${bcdLength(digitCount)} bytes of BCD, have ${bytes.length}`, {
      offset: bytes.length,
    });
  }
  return readBcd(bytes, 0, digitCount, align, track);
}
