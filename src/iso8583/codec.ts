import { Buffer } from 'node:buffer';
import { bcdLength, readBcd, writeBcdDigits, type PadNibble } from '../codec/bcd';
import { copyBytes, sliceCopy } from '../codec/bytes';
import { latin1String } from '../codec/latin1';
import { CodecError } from '../errors';
import type { FieldSpec } from './field';
import {
  IsoMessage,
  MAX_FIELD,
  type FieldDecoder,
  type FieldNumber,
  type FieldValue,
  type MessageData,
} from './message';
import { FIRST_FIELD, LAST_FIELD, type MessageSpec } from './message-spec';

/**
 * Pack and unpack ISO 8583 messages of one spec: MTI (2 bytes BCD), one 8-byte bitmap (no
 * secondary, R-MSG-3), fields 2..64. Errors are CodecErrors naming the field and the byte offset
 * (offsets count from the start of the buffer handed to unpack).
 *
 * unpack validates every byte (lengths, BCD nibbles, bounds) but builds no value strings: on this
 * class of machine a string costs more than a whole field's validation, and a relay or a
 * simulator reads only a few fields. Values are decoded when read (IsoMessage.get).
 */
export interface PackOptions {
  /** Pad nibble for odd-length left-aligned digits of fields set by value (R-MSG-4); default 0. */
  pad?: PadNibble;
}

export const MTI_BYTES = 2;
const BITMAP_BYTES = 8;
const NO_LAYOUT: readonly number[] = [LAST_FIELD + 1, 0];

export interface UnpackOptions {
  /**
   * false: the message reads from the buffer it was given instead of a private copy. Only for a
   * buffer handed over and never written again, such as the frames nacbridge's decoders emit.
   */
  copy?: boolean;
}

/** Byte value -> its two BCD digits as a number, or -1. For length prefixes. */
const BCD_BYTE_VALUE: readonly number[] = Array.from({ length: 256 }, (_, b) =>
  b >> 4 <= 9 && (b & 0x0f) <= 9 ? (b >> 4) * 10 + (b & 0x0f) : -1,
);
const DIGIT = 1;
const TRACK_SEPARATOR = 2;
const PAD = 4;
const ANY_NIBBLE = 8;
/** Nibble value -> what it may be: a digit, the track separator D, a pad (0 or F). */
const NIBBLE: readonly number[] = Array.from({ length: 16 }, (_, n) =>
  (n <= 9 ? DIGIT : 0) | (n === 0xd ? TRACK_SEPARATOR : 0) | (n === 0 || n === 0xf ? PAD : 0) | ANY_NIBBLE,
);

/** Field kinds as small integers, for the per-field tables the codec builds from its spec. */
const NONE = 0;
const NUMERIC = 1;
const TRACK = 2;
const TEXT = 3;
const BINARY = 4;
const KIND_CODE: Readonly<Record<FieldSpec['kind'], number>> = { numeric: NUMERIC, track: TRACK, text: TEXT, binary: BINARY };

/** Nibble -> the character code of its symbol in a decoded value (digits; track data: = for D, A-F). */
const SYMBOL_CODE = Uint8Array.from('0123456789ABC=EF', (c) => c.charCodeAt(0));

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function prefixBytes(spec: FieldSpec): number {
  return spec.prefix === 'LL' ? 1 : spec.prefix === 'LLL' ? 2 : 0;
}

/** Bytes a value of `units` length takes on the wire, without the prefix. */
export function wireBytes(spec: FieldSpec, units: number): number {
  return spec.kind === 'numeric' || spec.kind === 'track' ? bcdLength(units) : units;
}

/** Whether the bitmap at `bitmapAt` has field `n`. */
function hasBit(bytes: Uint8Array, bitmapAt: number, n: number): boolean {
  return (bytes[bitmapAt + ((n - 1) >> 3)] & (0x80 >> ((n - 1) & 7))) !== 0;
}

export class MessageCodec implements FieldDecoder {
  readonly spec: MessageSpec;
  /** Indexed by field number; undefined where the spec has no field. */
  private readonly fields: (FieldSpec | undefined)[] = [];
  /**
   * The spec as tables indexed by field number, read by the hot paths instead of the FieldSpec
   * objects: the kind (NONE where the spec has no field), the prefix's bytes (0, 1 or 2), the
   * exact or maximum length, and 1 where BCD values are left-aligned.
   */
  private readonly kinds = new Uint8Array(LAST_FIELD + 1);
  private readonly prefixes = new Uint8Array(LAST_FIELD + 1);
  private readonly lengths = new Int32Array(LAST_FIELD + 1);
  private readonly lefts = new Uint8Array(LAST_FIELD + 1);
  private readonly scratch: Buffer;

  constructor(spec: MessageSpec) {
    this.spec = spec;
    let worst = MTI_BYTES + BITMAP_BYTES;
    for (let n = FIRST_FIELD; n <= LAST_FIELD; n++) {
      const f = spec.fields[n];
      this.fields[n] = f;
      if (!f) continue;
      worst += prefixBytes(f) + wireBytes(f, f.length);
      this.kinds[n] = KIND_CODE[f.kind];
      this.prefixes[n] = prefixBytes(f);
      this.lengths[n] = f.length;
      this.lefts[n] = f.align === 'left' ? 1 : 0;
    }
    // Values are checked against their maximum before writing, so this can never overflow.
    this.scratch = Buffer.allocUnsafe(worst);
  }

  /** The most bytes one message of this spec can take. */
  get maxMessageBytes(): number {
    return this.scratch.length;
  }

  field(number: number): FieldSpec | undefined {
    return this.fields[number];
  }

  unpack(input: Uint8Array, start = 0, end = input.length, options: UnpackOptions = {}): IsoMessage {
    const source = asBuffer(input);
    if (end - start < MTI_BYTES + BITMAP_BYTES) {
      throw new CodecError('TRUNCATED', `message needs ${MTI_BYTES + BITMAP_BYTES} bytes for MTI and bitmap, has ${end - start}`, {
        offset: end,
      });
    }
    const mti = readMti(source, start);
    const bitmapAt = start + MTI_BYTES;
    if (source[bitmapAt] & 0x80) {
      throw new CodecError('SECONDARY_BITMAP', 'bit 1 is set, but this message has one bitmap only (R-MSG-3)', {
        field: 1,
        offset: bitmapAt,
      });
    }
    // Layout offsets count from `base`: `start` in a private copy, 0 in a borrowed buffer.
    const copy = options.copy !== false;
    const base = copy ? start : 0;
    const high = (source[bitmapAt] << 24) | (source[bitmapAt + 1] << 16) | (source[bitmapAt + 2] << 8) | source[bitmapAt + 3];
    const low = (source[bitmapAt + 4] << 24) | (source[bitmapAt + 5] << 16) | (source[bitmapAt + 6] << 8) | source[bitmapAt + 7];
    // Sized from the bitmap: [field, start] per field and the sentinel.
    const layout = new Array<number>(2 * (popcount(high) + popcount(low)) + 2);
    const kinds = this.kinds;
    let k = 0;
    let offset = bitmapAt + BITMAP_BYTES;
    for (let word = 0; word < 2; word++) {
      // The set bits, ascending: the highest bit of the word is the lowest field number.
      let bits = word === 0 ? high : low;
      while (bits !== 0) {
        const bit = Math.clz32(bits);
        bits &= ~(0x80000000 >>> bit);
        const number = 32 * word + bit + 1;
        if (kinds[number] === NONE) {
          throw new CodecError('UNKNOWN_FIELD', `bitmap has field ${number}, which spec ${this.spec.name} does not define`, {
            field: number,
            offset: bitmapAt + ((number - 1) >> 3),
          });
        }
        layout[k++] = number;
        layout[k++] = offset - base;
        offset = this.scanField(source, offset, end, number);
      }
    }
    if (offset !== end) {
      throw new CodecError('TRAILING_BYTES', `${end - offset} bytes after the last field`, { offset });
    }
    layout[k++] = MAX_FIELD + 1; // sentinel: every field ends where the next entry starts
    layout[k] = end - base;
    // By default a private copy: a caller may reuse its buffer (socket chunks are pooled).
    return IsoMessage.unpacked(mti, copy ? sliceCopy(source, start, end) : source, layout, this, high, low);
  }

  /**
   * Where field `number`'s value starts (after any length prefix), reading only the bitmap and
   * the prefixes of the fields before it: for a relay that matches on one field without
   * unpacking the message. -1 when the field is absent or the message cannot be read that far.
   * Nothing is validated beyond that; the bytes at the offset may run past `end`.
   */
  valueOffset(input: Uint8Array, number: number, start = 0, end = input.length): number {
    const bitmapAt = start + MTI_BYTES;
    if (number < FIRST_FIELD || number > LAST_FIELD || end - start < MTI_BYTES + BITMAP_BYTES) return -1;
    if (input[bitmapAt] & 0x80 || !hasBit(input, bitmapAt, number)) return -1;
    let offset = bitmapAt + BITMAP_BYTES;
    for (let n = FIRST_FIELD; n < number; n++) {
      if (!hasBit(input, bitmapAt, n)) continue;
      const spec = this.fields[n];
      if (spec === undefined || end - offset < prefixBytes(spec)) return -1;
      const units = this.prefixValue(input, offset, spec);
      if (units < 0) return -1;
      offset += prefixBytes(spec) + wireBytes(spec, units);
    }
    const spec = this.fields[number];
    return spec === undefined ? -1 : offset + prefixBytes(spec);
  }

  /** A variable field's length in its units, read from its BCD prefix at `at` (-1: not BCD). */
  private prefixValue(bytes: Uint8Array, at: number, spec: FieldSpec): number {
    if (spec.prefix === 'fixed') return spec.length;
    const hi = BCD_BYTE_VALUE[bytes[at]];
    const lo = spec.prefix === 'LLL' ? BCD_BYTE_VALUE[bytes[at + 1]] : 0;
    if (hi < 0 || lo < 0) return -1;
    return spec.prefix === 'LLL' ? hi * 100 + lo : hi;
  }

  /** Check a field's prefix, bounds and (for BCD) every nibble; return the offset after it. */
  private scanField(bytes: Buffer, at: number, end: number, number: number): number {
    let offset = at;
    const max = this.lengths[number];
    let units = max;
    const size = this.prefixes[number];
    if (size !== 0) {
      if (end - offset < size) throw truncated(number, offset, size, end - offset);
      const hi = BCD_BYTE_VALUE[bytes[offset]];
      const lo = size === 2 ? BCD_BYTE_VALUE[bytes[offset + 1]] : 0;
      if (hi < 0 || lo < 0) {
        throw new CodecError('NON_DIGIT', `field ${number}: length prefix is not BCD`, { field: number, offset });
      }
      units = size === 2 ? hi * 100 + lo : hi;
      if (units > max) {
        throw new CodecError('LENGTH_OVER_MAX', `field ${number}: length ${units} exceeds the maximum ${max}`, {
          field: number,
          offset,
        });
      }
      offset += size;
    }
    const kind = this.kinds[number];
    const bcd = kind === NUMERIC || kind === TRACK;
    const wire = bcd ? (units + 1) >> 1 : units;
    if (end - offset < wire) throw truncated(number, offset, wire, end - offset);
    if (bcd) {
      const bad = findBadNibble(bytes, offset, units, this.lefts[number] === 1, kind === TRACK);
      if (bad >= 0) {
        throw new CodecError('NON_DIGIT', `field ${number}: byte at offset ${bad} holds a nibble that is not a digit`, {
          field: number,
          offset: bad,
        });
      }
    }
    return offset + wire;
  }

  /** FieldDecoder: the value of a field that scanField validated, `bytes[start..end)`. */
  decodeField(number: FieldNumber, bytes: Buffer, start: number, end: number): FieldValue {
    const kind = this.kinds[number];
    const size = this.prefixes[number];
    const valueStart = start + size;
    if (kind === TEXT) return latin1String(bytes, valueStart, end - valueStart);
    if (kind === BINARY) return sliceCopy(bytes, valueStart, end);
    const units =
      size === 0
        ? this.lengths[number]
        : size === 1
          ? BCD_BYTE_VALUE[bytes[start]]
          : BCD_BYTE_VALUE[bytes[start]] * 100 + BCD_BYTE_VALUE[bytes[start + 1]];
    return validBcdString(bytes, valueStart, units, this.lefts[number] === 1);
  }

  /** Pack to a new buffer. */
  pack(message: MessageData | IsoMessage, options: PackOptions = {}): Buffer {
    const end = this.write(message, this.scratch, 0, options);
    return sliceCopy(this.scratch, 0, end);
  }

  /**
   * Pack into `target` at `offset`; returns the offset after the message. The target must have
   * `maxMessageBytes` free (values are checked before they are written, never clipped). Fields
   * of an unpacked message that were not set again are copied as they came.
   */
  write(message: MessageData | IsoMessage, target: Buffer, offset: number, options: PackOptions = {}): number {
    const pad = options.pad ?? 0;
    writeMti(target, offset, message.mti);
    const bitmapAt = offset + MTI_BYTES;
    for (let i = 0; i < BITMAP_BYTES; i++) target[bitmapAt + i] = 0;
    let o = bitmapAt + BITMAP_BYTES;
    if (message instanceof IsoMessage) return this.writeUnpacked(message, target, bitmapAt, o, pad);
    const fields = message.fields;
    // An index loop, not for..in: enumerating integer keys allocates a string per key.
    for (let number = 1; number <= LAST_FIELD; number++) {
      const value = fields[number as FieldNumber];
      if (value !== undefined) {
        this.mark(target, bitmapAt, number);
        o = this.writeField(target, o, number, value, pad);
      }
    }
    return o;
  }

  /** Set the field's bitmap bit, or throw UNKNOWN_FIELD. */
  private mark(target: Buffer, bitmapAt: number, number: number): void {
    if (this.kinds[number] === NONE || !(number >= FIRST_FIELD && number <= LAST_FIELD)) {
      throw new CodecError('UNKNOWN_FIELD', `field ${number} is not defined by spec ${this.spec.name}`, { field: number });
    }
    target[bitmapAt + ((number - 1) >> 3)] |= 0x80 >> ((number - 1) & 7);
  }

  /**
   * Fields of an unpacked message: untouched ones are copied from its wire bytes, neighbours on
   * the wire as one run; fields set since are encoded; deleted ones are left out.
   */
  private writeUnpacked(message: IsoMessage, target: Buffer, bitmapAt: number, at: number, pad: PadNibble): number {
    const layout = message.wireLayout ?? NO_LAYOUT;
    const bytes = message.wireBytes ?? target;
    const changes = message.changedFields;
    if (changes === null) {
      // Nothing changed since unpack: the fields are one contiguous run of wire bytes.
      let i = 0;
      for (; layout[i] <= LAST_FIELD; i += 2) this.mark(target, bitmapAt, layout[i]);
      return i === 0 ? at : copyBytes(bytes, layout[1], layout[i + 1], target, at);
    }
    let o = at;
    let runStart = 0;
    let runEnd = 0;
    let i = 0;
    for (let number = 1; number <= LAST_FIELD; number++) {
      while (layout[i] < number) i += 2;
      const change = changes === null ? undefined : changes[number];
      if (change === undefined && layout[i] === number) {
        this.mark(target, bitmapAt, number);
        if (layout[i + 1] !== runEnd) {
          if (runEnd > runStart) o = copyBytes(bytes, runStart, runEnd, target, o);
          runStart = layout[i + 1];
        }
        runEnd = layout[i + 3];
      } else if (change !== undefined && change !== null) {
        if (runEnd > runStart) o = copyBytes(bytes, runStart, runEnd, target, o);
        runStart = runEnd = 0;
        this.mark(target, bitmapAt, number);
        o = this.writeField(target, o, number, change, pad);
      }
    }
    return runEnd > runStart ? copyBytes(bytes, runStart, runEnd, target, o) : o;
  }

  private writeField(target: Buffer, at: number, number: number, value: FieldValue, pad: PadNibble): number {
    const kind = this.kinds[number];
    const size = this.prefixes[number];
    const max = this.lengths[number];
    let o = at;
    if (kind === BINARY) {
      if (!(value instanceof Uint8Array)) throw badValue(number, 'bytes');
      const length = value.length;
      checkLength(number, size === 0, max, length);
      o = writePrefix(target, o, size, length);
      if (length >= COPY_LOOP_BELOW) {
        target.set(value, o);
        return o + length;
      }
      for (let i = 0; i < length; i++) target[o + i] = value[i];
      return o + length;
    }
    if (typeof value !== 'string') throw badValue(number, 'a string');
    if (kind === TEXT) {
      const text = size === 0 && value.length < max ? value.padEnd(max, ' ') : value;
      const length = text.length;
      checkLength(number, size === 0, max, length);
      o = writePrefix(target, o, size, length);
      for (let i = 0; i < length; i++) {
        const c = text.charCodeAt(i);
        if (c > 0xff) {
          throw new CodecError('BAD_CHARACTER', `field ${number}: character at position ${i} does not fit one byte`, {
            field: number,
          });
        }
        target[o++] = c;
      }
      return o;
    }
    const digits = size === 0 && value.length < max ? value.padStart(max, '0') : value;
    checkLength(number, size === 0, max, digits.length);
    o = writePrefix(target, o, size, digits.length);
    const left = this.lefts[number] === 1;
    try {
      return writeBcdDigits(target, o, digits, left, left ? pad : 0, kind === TRACK);
    } catch (e) {
      throw inField(e, number);
    }
  }
}

/** Binary values shorter than this are copied by a loop: set() costs about 40 ns a call. */
const COPY_LOOP_BELOW = 16;

/** The MTI: 4 digits in 2 bytes. */
function readMti(bytes: Buffer, at: number): string {
  const b0 = bytes[at];
  const b1 = bytes[at + 1];
  // Anything else: readBcd throws the error that names the byte.
  if (DIGIT_BYTE[b0] === 0 || DIGIT_BYTE[b1] === 0) return readBcd(bytes, at, 4, 'right');
  return String.fromCharCode(48 + (b0 >> 4), 48 + (b0 & 15), 48 + (b1 >> 4), 48 + (b1 & 15));
}

function writeMti(target: Buffer, at: number, mti: string): void {
  if (mti.length !== 4) throw badMti(mti);
  const d0 = mti.charCodeAt(0) - 48;
  const d1 = mti.charCodeAt(1) - 48;
  const d2 = mti.charCodeAt(2) - 48;
  const d3 = mti.charCodeAt(3) - 48;
  if ((d0 | d1 | d2 | d3) < 0 || d0 > 9 || d1 > 9 || d2 > 9 || d3 > 9) throw badMti(mti);
  target[at] = (d0 << 4) | d1;
  target[at + 1] = (d2 << 4) | d3;
}

/** Byte -> its two nibbles' symbols (SYMBOL_CODE), as a string. */
const SYMBOL_PAIRS: readonly string[] = Array.from({ length: 256 }, (_, b) => String.fromCharCode(SYMBOL_CODE[b >> 4], SYMBOL_CODE[b & 15]));

/**
 * Byte -> the character codes of its two nibbles' symbols as one 16-bit unit in memory order
 * (first symbol at the lower address), so the decoder stores both with one write.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const SYMBOL_UNITS = Uint16Array.from({ length: 256 }, (_, b) =>
  LITTLE_ENDIAN ? SYMBOL_CODE[b >> 4] | (SYMBOL_CODE[b & 15] << 8) : (SYMBOL_CODE[b >> 4] << 8) | SYMBOL_CODE[b & 15],
);

/**
 * Characters of a BCD value being decoded, as bytes and as 16-bit units over the same memory
 * (grows for long fields). Pairs are stored from byte 2 on; an odd leading digit goes to byte 1.
 */
let symbolUnits = new Uint16Array(128);
let symbolBytes = Buffer.from(symbolUnits.buffer, symbolUnits.byteOffset, symbolUnits.byteLength);

/**
 * The value of `digits` BCD digits at `bytes[offset]`, which scanField validated (digits, or for
 * track data any nibble; the pad nibble is skipped): the symbols go into a scratch buffer, two at
 * a time, and the string is made from it in one go (latin1String).
 */
function validBcdString(bytes: Buffer, offset: number, digits: number, left: boolean): string {
  // Two digits in one byte: a string from the table, nothing allocated.
  if (digits === 2) return SYMBOL_PAIRS[bytes[offset]];
  if (symbolBytes.length < digits + 4) {
    symbolUnits = new Uint16Array(digits + 4);
    symbolBytes = Buffer.from(symbolUnits.buffer, symbolUnits.byteOffset, symbolUnits.byteLength);
  }
  const units = symbolUnits;
  let i = offset;
  let last = offset + ((digits + 1) >> 1); // exclusive
  let from = 2;
  if ((digits & 1) === 1) {
    if (left) {
      last--;
    } else {
      symbolBytes[1] = SYMBOL_CODE[bytes[i++] & 15];
      from = 1;
    }
  }
  let u = 1;
  for (; i < last; i++) units[u++] = SYMBOL_UNITS[bytes[i]];
  const out = symbolBytes;
  if ((digits & 1) === 1 && left) out[2 * u] = SYMBOL_CODE[bytes[last] >> 4];
  return latin1String(out, from, digits);
}

/** Set bits of a 32-bit word. */
function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Byte value -> 1 when both nibbles may stand inside a value (digits; for track data also D). */
const DIGIT_BYTE = Uint8Array.from({ length: 256 }, (_, b) => Number((NIBBLE[b >> 4] & DIGIT) !== 0 && (NIBBLE[b & 15] & DIGIT) !== 0));
/** Track data may be encrypted (53.3 = 1): any nibble stands, '=' being D. */
const TRACK_BYTE = new Uint8Array(256).fill(1);

/** Offset of the first byte with a nibble that may not stand where it is, or -1. */
function findBadNibble(bytes: Buffer, offset: number, digits: number, left: boolean, track: boolean): number {
  const ok = track ? TRACK_BYTE : DIGIT_BYTE;
  const allowed = track ? ANY_NIBBLE : DIGIT;
  let first = offset;
  let last = offset + ((digits + 1) >> 1) - 1;
  if (digits & 1) {
    // The byte holding the pad nibble: pad (0/F) on one side, a digit on the other.
    const padAt = left ? last : first;
    const b = bytes[padAt];
    const padNibble = left ? b & 15 : b >> 4;
    const digitNibble = left ? b >> 4 : b & 15;
    if ((NIBBLE[padNibble] & PAD) === 0 || (NIBBLE[digitNibble] & allowed) === 0) return padAt;
    if (!left) first++;
    else last--;
  }
  for (let i = first; i <= last; i++) if (ok[bytes[i]] === 0) return i;
  return -1;
}

function writePrefix(target: Buffer, at: number, size: number, units: number): number {
  if (size === 1) {
    target[at] = ((units / 10) << 4) | units % 10;
    return at + 1;
  }
  if (size === 2) {
    target[at] = (((units / 1000) | 0) << 4) | ((units / 100) | 0) % 10;
    target[at + 1] = ((((units / 10) | 0) % 10) << 4) | units % 10;
    return at + 2;
  }
  return at;
}

function checkLength(number: number, fixed: boolean, max: number, units: number): void {
  if (fixed ? units !== max : units > max) {
    const want = fixed ? `exactly ${max}` : `at most ${max}`;
    throw new CodecError(fixed && units < max ? 'WRONG_LENGTH' : 'LENGTH_OVER_MAX', `field ${number}: length ${units}, must be ${want}`, {
      field: number,
    });
  }
}

function badMti(mti: string): CodecError {
  return new CodecError('BAD_MTI', `MTI must be 4 digits, got ${JSON.stringify(mti)}`);
}

function truncated(field: number, offset: number, need: number, have: number): CodecError {
  return new CodecError('TRUNCATED', `field ${field}: needs ${need} bytes, ${have} left`, { field, offset });
}

function badValue(field: number, expected: string): CodecError {
  return new CodecError('BAD_VALUE', `field ${field}: value must be ${expected}`, { field });
}

/** Add the field number to a CodecError raised by a lower codec (BCD). */
function inField(error: unknown, field: number): unknown {
  if (!(error instanceof CodecError)) return error;
  return new CodecError(error.code, `field ${field}: ${error.message}`, { ...error.context, field }, { cause: error });
}
