import { Buffer } from 'node:buffer';
import { bcdLength, readBcd, writeBcd, type PadNibble } from '../codec/bcd';
import { copyBytes, sliceCopy } from '../codec/bytes';
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
const MTI_BCD = { align: 'right' } as const;
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
  private readonly scratch: Buffer;

  constructor(spec: MessageSpec) {
    this.spec = spec;
    let worst = MTI_BYTES + BITMAP_BYTES;
    for (let n = FIRST_FIELD; n <= LAST_FIELD; n++) {
      const f = spec.fields[n];
      this.fields[n] = f;
      if (f) worst += prefixBytes(f) + wireBytes(f, f.length);
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
    const mti = readBcd(source, start, 4, 'right');
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
    const layout: number[] = [];
    let offset = bitmapAt + BITMAP_BYTES;
    for (let byteIndex = 0; byteIndex < BITMAP_BYTES; byteIndex++) {
      const bits = source[bitmapAt + byteIndex];
      if (bits === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        if ((bits & (0x80 >> bit)) === 0) continue;
        const number = byteIndex * 8 + bit + 1;
        const spec = this.fields[number];
        if (spec === undefined) {
          throw new CodecError('UNKNOWN_FIELD', `bitmap has field ${number}, which spec ${this.spec.name} does not define`, {
            field: number,
            offset: bitmapAt + byteIndex,
          });
        }
        layout.push(number, offset - base);
        offset = this.scanField(source, offset, end, number, spec);
      }
    }
    if (offset !== end) {
      throw new CodecError('TRAILING_BYTES', `${end - offset} bytes after the last field`, { offset });
    }
    layout.push(MAX_FIELD + 1, end - base); // sentinel: every field ends where the next entry starts
    // By default a private copy: a caller may reuse its buffer (socket chunks are pooled).
    return IsoMessage.unpacked(mti, copy ? sliceCopy(source, start, end) : source, layout, this);
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
  private scanField(bytes: Buffer, at: number, end: number, number: number, spec: FieldSpec): number {
    let offset = at;
    let units = spec.length;
    if (spec.prefix !== 'fixed') {
      const size = prefixBytes(spec);
      if (end - offset < size) throw truncated(number, offset, size, end - offset);
      units = this.prefixValue(bytes, offset, spec);
      if (units < 0) {
        throw new CodecError('NON_DIGIT', `field ${number}: length prefix is not BCD`, { field: number, offset });
      }
      if (units > spec.length) {
        throw new CodecError('LENGTH_OVER_MAX', `field ${number}: length ${units} exceeds the maximum ${spec.length}`, {
          field: number,
          offset,
        });
      }
      offset += size;
    }
    const size = wireBytes(spec, units);
    if (end - offset < size) throw truncated(number, offset, size, end - offset);
    if (spec.kind === 'numeric' || spec.kind === 'track') {
      const bad = findBadNibble(bytes, offset, units, spec.align, spec.kind === 'track');
      if (bad >= 0) {
        throw new CodecError('NON_DIGIT', `field ${number}: byte at offset ${bad} holds a nibble that is not a digit`, {
          field: number,
          offset: bad,
        });
      }
    }
    return offset + size;
  }

  /** FieldDecoder: the value of a field that scanField validated, `bytes[start..end)`. */
  decodeField(number: FieldNumber, bytes: Buffer, start: number, end: number): FieldValue {
    const spec = this.fields[number] as FieldSpec;
    const valueStart = start + prefixBytes(spec);
    switch (spec.kind) {
      case 'numeric':
      case 'track':
        return readBcd(bytes, valueStart, this.prefixValue(bytes, start, spec), spec.align, spec.kind === 'track');
      case 'text':
        return end - valueStart < SHORT_TEXT ? latin1(bytes, valueStart, end) : bytes.toString('latin1', valueStart, end);
      case 'binary':
        return sliceCopy(bytes, valueStart, end);
    }
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
    const mti = message.mti;
    if (mti.length !== 4) throw badMti(mti);
    try {
      writeBcd(target, offset, mti, MTI_BCD);
    } catch {
      throw badMti(mti);
    }
    const bitmapAt = offset + MTI_BYTES;
    for (let i = 0; i < BITMAP_BYTES; i++) target[bitmapAt + i] = 0;
    let o = bitmapAt + BITMAP_BYTES;
    if (message instanceof IsoMessage) return this.writeUnpacked(message, target, bitmapAt, o, pad);
    const fields = message.fields;
    // An index loop, not for..in: enumerating integer keys allocates a string per key.
    for (let number = 1; number <= LAST_FIELD; number++) {
      const value = fields[number as FieldNumber];
      if (value !== undefined) o = this.writeField(target, o, number, this.mark(target, bitmapAt, number), value, pad);
    }
    return o;
  }

  /** Set the field's bitmap bit; its spec, or UNKNOWN_FIELD. */
  private mark(target: Buffer, bitmapAt: number, number: number): FieldSpec {
    const spec = this.fields[number];
    if (spec === undefined) {
      throw new CodecError('UNKNOWN_FIELD', `field ${number} is not defined by spec ${this.spec.name}`, { field: number });
    }
    target[bitmapAt + ((number - 1) >> 3)] |= 0x80 >> ((number - 1) & 7);
    return spec;
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
        o = this.writeField(target, o, number, this.mark(target, bitmapAt, number), change, pad);
      }
    }
    return runEnd > runStart ? copyBytes(bytes, runStart, runEnd, target, o) : o;
  }

  private writeField(target: Buffer, at: number, number: number, spec: FieldSpec, value: FieldValue, pad: PadNibble): number {
    let o = at;
    if (spec.kind === 'binary') {
      if (!(value instanceof Uint8Array)) throw badValue(number, 'bytes');
      checkLength(spec, number, value.length);
      o = writePrefix(target, o, spec, value.length);
      target.set(value, o);
      return o + value.length;
    }
    if (typeof value !== 'string') throw badValue(number, 'a string');
    if (spec.kind === 'text') {
      const text = spec.prefix === 'fixed' && value.length < spec.length ? value.padEnd(spec.length, ' ') : value;
      checkLength(spec, number, text.length);
      o = writePrefix(target, o, spec, text.length);
      for (let i = 0; i < text.length; i++) {
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
    const digits = spec.prefix === 'fixed' && value.length < spec.length ? value.padStart(spec.length, '0') : value;
    checkLength(spec, number, digits.length);
    o = writePrefix(target, o, spec, digits.length);
    try {
      return writeBcd(target, o, digits, { align: spec.align, pad: spec.align === 'left' ? pad : 0, track: spec.kind === 'track' });
    } catch (e) {
      throw inField(e, number);
    }
  }
}

/** Byte value -> 1 when both nibbles may stand inside a value (digits; for track data also D). */
const DIGIT_BYTE = Uint8Array.from({ length: 256 }, (_, b) => Number((NIBBLE[b >> 4] & DIGIT) !== 0 && (NIBBLE[b & 15] & DIGIT) !== 0));
/** Track data may be encrypted (53.3 = 1): any nibble stands, '=' being D. */
const TRACK_BYTE = new Uint8Array(256).fill(1);

/** Below this length a JS loop builds text faster than Buffer#toString's call into C++. */
const SHORT_TEXT = 32;
const LATIN1_CHAR: readonly string[] = Array.from({ length: 256 }, (_, c) => String.fromCharCode(c));

function latin1(bytes: Buffer, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += LATIN1_CHAR[bytes[i]];
  return s;
}

/** Offset of the first byte with a nibble that may not stand where it is, or -1. */
function findBadNibble(bytes: Buffer, offset: number, digits: number, align: 'left' | 'right', track: boolean): number {
  const ok = track ? TRACK_BYTE : DIGIT_BYTE;
  const allowed = track ? ANY_NIBBLE : DIGIT;
  let first = offset;
  let last = offset + ((digits + 1) >> 1) - 1;
  if (digits & 1) {
    // The byte holding the pad nibble: pad (0/F) on one side, a digit on the other.
    const padAt = align === 'right' ? first : last;
    const b = bytes[padAt];
    const padNibble = align === 'right' ? b >> 4 : b & 15;
    const digitNibble = align === 'right' ? b & 15 : b >> 4;
    if ((NIBBLE[padNibble] & PAD) === 0 || (NIBBLE[digitNibble] & allowed) === 0) return padAt;
    if (align === 'right') first++;
    else last--;
  }
  for (let i = first; i <= last; i++) if (ok[bytes[i]] === 0) return i;
  return -1;
}

function writePrefix(target: Buffer, at: number, spec: FieldSpec, units: number): number {
  if (spec.prefix === 'LL') {
    target[at] = ((units / 10) << 4) | units % 10;
    return at + 1;
  }
  if (spec.prefix === 'LLL') {
    target[at] = (((units / 1000) | 0) << 4) | ((units / 100) | 0) % 10;
    target[at + 1] = ((((units / 10) | 0) % 10) << 4) | units % 10;
    return at + 2;
  }
  return at;
}

function checkLength(spec: FieldSpec, number: number, units: number): void {
  if (spec.prefix === 'fixed' ? units !== spec.length : units > spec.length) {
    const want = spec.prefix === 'fixed' ? `exactly ${spec.length}` : `at most ${spec.length}`;
    throw new CodecError(
      spec.prefix === 'fixed' && units < spec.length ? 'WRONG_LENGTH' : 'LENGTH_OVER_MAX',
      `field ${number}: length ${units}, must be ${want}`,
      { field: number },
    );
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
