import { bcdLength, readBcd, writeBcd, type PadNibble } from '../codec/bcd';
import { CodecError } from '../errors';
import type { FieldSpec } from './field';
import type { FieldValue, FieldValues, IsoMessage } from './message';
import { FIRST_FIELD, LAST_FIELD, type MessageSpec } from './message-spec';

/**
 * Pack and unpack ISO 8583 messages of one spec: MTI (2 bytes BCD), one 8-byte bitmap (no
 * secondary, R-MSG-3), fields 2..64. Errors are CodecErrors naming the field and the byte offset
 * (offsets count from the start of the buffer handed to unpack).
 */
export interface PackOptions {
  /** Pad nibble for odd-length left-aligned digits (R-MSG-4); default 0. */
  pad?: PadNibble;
}

const MTI_BYTES = 2;
const BITMAP_BYTES = 8;

/** Byte value -> its two BCD digits as a number, or -1. For length prefixes. */
const BCD_BYTE_VALUE: readonly number[] = Array.from({ length: 256 }, (_, b) =>
  b >> 4 <= 9 && (b & 0x0f) <= 9 ? (b >> 4) * 10 + (b & 0x0f) : -1,
);

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function prefixBytes(spec: FieldSpec): number {
  return spec.prefix === 'LL' ? 1 : spec.prefix === 'LLL' ? 2 : 0;
}

/** Bytes a value of `units` length takes on the wire, without the prefix. */
function wireBytes(spec: FieldSpec, units: number): number {
  return spec.kind === 'numeric' || spec.kind === 'track' ? bcdLength(units) : units;
}

export class MessageCodec {
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

  unpack(input: Uint8Array, start = 0, end = input.length): IsoMessage {
    const bytes = asBuffer(input);
    if (end - start < MTI_BYTES + BITMAP_BYTES) {
      throw new CodecError('TRUNCATED', `message needs ${MTI_BYTES + BITMAP_BYTES} bytes for MTI and bitmap, has ${end - start}`, {
        offset: end,
      });
    }
    const mti = readBcd(bytes, start, 4, 'right');
    const bitmapAt = start + MTI_BYTES;
    if (bytes[bitmapAt] & 0x80) {
      throw new CodecError('SECONDARY_BITMAP', 'bit 1 is set, but this message has one bitmap only (R-MSG-3)', {
        field: 1,
        offset: bitmapAt,
      });
    }
    const fields: FieldValues = {};
    let offset = bitmapAt + BITMAP_BYTES;
    for (let byteIndex = 0; byteIndex < BITMAP_BYTES; byteIndex++) {
      const bits = bytes[bitmapAt + byteIndex];
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
        offset = this.readField(bytes, offset, end, number, spec, fields);
      }
    }
    if (offset !== end) {
      throw new CodecError('TRAILING_BYTES', `${end - offset} bytes after the last field`, { offset });
    }
    return { mti, fields };
  }

  private readField(bytes: Buffer, at: number, end: number, number: number, spec: FieldSpec, out: FieldValues): number {
    let offset = at;
    let units = spec.length;
    if (spec.prefix !== 'fixed') {
      const size = spec.prefix === 'LL' ? 1 : 2;
      if (end - offset < size) throw truncated(number, offset, size, end - offset);
      const hi = BCD_BYTE_VALUE[bytes[offset]];
      const lo = size === 2 ? BCD_BYTE_VALUE[bytes[offset + 1]] : 0;
      if (hi < 0 || lo < 0) {
        throw new CodecError('NON_DIGIT', `field ${number}: length prefix is not BCD`, { field: number, offset });
      }
      units = size === 2 ? hi * 100 + lo : hi;
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
    switch (spec.kind) {
      case 'numeric':
      case 'track':
        try {
          out[number] = readBcd(bytes, offset, units, spec.align, spec.kind === 'track');
        } catch (e) {
          throw inField(e, number);
        }
        break;
      case 'text':
        out[number] = bytes.toString('latin1', offset, offset + size);
        break;
      case 'binary':
        out[number] = Buffer.from(bytes.subarray(offset, offset + size));
        break;
    }
    return offset + size;
  }

  /** Pack to a new buffer. */
  pack(message: IsoMessage, options: PackOptions = {}): Buffer {
    const end = this.write(message, this.scratch, 0, options);
    return Buffer.from(this.scratch.subarray(0, end));
  }

  /**
   * Pack into `target` at `offset`; returns the offset after the message. The target must have
   * `maxMessageBytes` free (values are checked before they are written, never clipped).
   */
  write(message: IsoMessage, target: Buffer, offset: number, options: PackOptions = {}): number {
    const pad = options.pad ?? 0;
    if (!/^\d{4}$/.test(message.mti)) {
      throw new CodecError('BAD_MTI', `MTI must be 4 digits, got ${JSON.stringify(message.mti)}`);
    }
    writeBcd(target, offset, message.mti, { align: 'right' });
    const bitmapAt = offset + MTI_BYTES;
    target.fill(0, bitmapAt, bitmapAt + BITMAP_BYTES);
    let o = bitmapAt + BITMAP_BYTES;
    const fields = message.fields;
    for (const key in fields) {
      const number = +key;
      const spec = this.fields[number];
      if (spec === undefined) {
        throw new CodecError('UNKNOWN_FIELD', `field ${key} is not defined by spec ${this.spec.name}`, {
          field: Number.isInteger(number) ? number : undefined,
        });
      }
      const value = fields[number];
      if (value === undefined) continue;
      target[bitmapAt + ((number - 1) >> 3)] |= 0x80 >> ((number - 1) & 7);
      o = this.writeField(target, o, number, spec, value, pad);
    }
    return o;
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

function truncated(field: number, offset: number, need: number, have: number): CodecError {
  return new CodecError('TRUNCATED', `field ${field}: needs ${need} bytes, ${have} left`, { field, offset });
}

function badValue(field: number, expected: string): CodecError {
  return new CodecError('BAD_VALUE', `field ${field}: value must be ${expected}`, { field });
}

/** Add the field number to a CodecError raised by a lower codec (BCD). */
function inField(error: unknown, field: number): unknown {
  if (!(error instanceof CodecError)) return error;
  return new CodecError(error.code, `field ${field}: ${error.message}`, { ...error.context, field });
}
