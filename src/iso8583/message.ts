import { CodecError } from '../errors';

/** A field value: digits or text as a string, binary fields (b) as bytes. */
export type FieldValue = string | Buffer;

/** Field numbers of a one-bitmap message (R-MSG-3); 1 would be the secondary bitmap. */
// prettier-ignore
export type FieldNumber =
  | 1  | 2  | 3  | 4  | 5  | 6  | 7  | 8  | 9  | 10 | 11 | 12 | 13 | 14 | 15 | 16
  | 17 | 18 | 19 | 20 | 21 | 22 | 23 | 24 | 25 | 26 | 27 | 28 | 29 | 30 | 31 | 32
  | 33 | 34 | 35 | 36 | 37 | 38 | 39 | 40 | 41 | 42 | 43 | 44 | 45 | 46 | 47 | 48
  | 49 | 50 | 51 | 52 | 53 | 54 | 55 | 56 | 57 | 58 | 59 | 60 | 61 | 62 | 63 | 64;

export const MAX_FIELD = 64;

/** Field number -> value, as a plain object. Integer keys iterate in ascending (bitmap) order. */
export type FieldValues = { [field in FieldNumber]?: FieldValue };

/** A message as plain data: what code and tests write by hand. */
export interface MessageData {
  mti: string;
  fields: FieldValues;
}

export function isFieldNumber(n: number): n is FieldNumber {
  return Number.isInteger(n) && n >= 1 && n <= MAX_FIELD;
}

/**
 * Turns validated wire bytes back into a value; implemented by the codec that unpacked them.
 * `start`/`end` bound the whole field, length prefix included.
 */
export interface FieldDecoder {
  decodeField(number: FieldNumber, bytes: Buffer, start: number, end: number): FieldValue;
}

/**
 * An ISO 8583 message: MTI and fields. An unpacked message keeps a private copy of its bytes
 * and their layout: every byte was validated by unpack, values are decoded only when read, and
 * fields never set are packed again byte for byte (original pad nibbles included). Values are
 * snapshots: change a field with set(), never by mutating a Buffer you were given.
 */
export class IsoMessage {
  mti: string;
  /**
   * From unpack: [field, start, field, start, ..., 65, end]: fields ascending, then a sentinel
   * whose start is the end of the message, so field i ends at layout[i + 3]. Null when built by hand.
   */
  private layout: number[] | null = null;
  private bytes: Buffer | null = null;
  private decoder: FieldDecoder | null = null;
  /** Fields set or deleted since unpack (null = deleted); allocated on the first change. */
  private changes: (FieldValue | null | undefined)[] | null = null;
  /**
   * The unpacked bitmap as two 32-bit words (fields 1..32 in `high`, field 1 in its top bit;
   * 33..64 in `low`): has() is one bit test, and a field's entry in the layout is the number of
   * bits before its own (no scan of the layout).
   */
  private high = 0;
  private low = 0;

  constructor(mti: string, fields?: FieldValues) {
    this.mti = mti;
    if (fields === undefined) return;
    for (const key of Object.keys(fields)) {
      const n = Number(key);
      if (!isFieldNumber(n)) throw new CodecError('UNKNOWN_FIELD', `field ${key} is not a field number 1..${MAX_FIELD}`);
      const value = fields[n];
      if (value !== undefined) this.set(n, value);
    }
  }

  /**
   * Used by the codec: a message over bytes it validated. `high` and `low` are the bitmap's
   * words (big-endian), which must list exactly the fields of `layout`.
   */
  static unpacked(mti: string, bytes: Buffer, layout: number[], decoder: FieldDecoder, high?: number, low?: number): IsoMessage {
    const message = new IsoMessage(mti);
    message.bytes = bytes;
    message.layout = layout;
    message.decoder = decoder;
    if (high === undefined || low === undefined) {
      // No bitmap given: from the layout.
      high = 0;
      low = 0;
      for (let i = 0; layout[i] <= MAX_FIELD; i += 2) {
        const n = layout[i];
        if (n <= 32) high |= 1 << (32 - n);
        else low |= 1 << (64 - n);
      }
    }
    message.high = high | 0;
    message.low = low | 0;
    return message;
  }

  static from(data: MessageData | IsoMessage): IsoMessage {
    return data instanceof IsoMessage ? data : new IsoMessage(data.mti, data.fields);
  }

  /** Index into layout of the field's entry, or -1. */
  private wireIndex(number: number): number {
    if (this.layout === null || !(number >= 1 && number <= MAX_FIELD) || (number | 0) !== number) return -1;
    const high = this.high;
    if (number <= 32) {
      // Bits of the fields before `number`: the top number - 1 bits of high.
      if (((high >>> (32 - number)) & 1) === 0) return -1;
      return number === 1 ? 0 : 2 * popcount(high >>> (33 - number));
    }
    const low = this.low;
    if (((low >>> (64 - number)) & 1) === 0) return -1;
    return 2 * (popcount(high) + (number === 33 ? 0 : popcount(low >>> (65 - number))));
  }

  get(number: FieldNumber): FieldValue | undefined {
    const changes = this.changes;
    if (changes !== null) {
      const change = changes[number];
      if (change !== undefined) return change ?? undefined;
    }
    const i = this.wireIndex(number);
    if (i < 0 || this.bytes === null || this.decoder === null || this.layout === null) return undefined;
    return this.decoder.decodeField(number, this.bytes, this.layout[i + 1], this.layout[i + 3]);
  }

  /** The value when it is text or digits; undefined for absent and binary fields. */
  getString(number: FieldNumber): string | undefined {
    const value = this.get(number);
    return typeof value === 'string' ? value : undefined;
  }

  has(number: FieldNumber): boolean {
    const changes = this.changes;
    if (changes !== null) {
      const change = changes[number];
      if (change !== undefined) return change !== null;
    }
    return this.wireIndex(number) >= 0;
  }

  set(number: FieldNumber, value: FieldValue | undefined): this {
    this.changes ??= new Array(MAX_FIELD + 1);
    this.changes[number] = value ?? null;
    return this;
  }

  delete(number: FieldNumber): this {
    return this.set(number, undefined);
  }

  /** Present field numbers, ascending. */
  numbers(): FieldNumber[] {
    const layout = this.layout;
    if (this.changes === null) {
      if (layout === null) return [];
      // As unpacked: the layout lists them.
      const count = popcount(this.high) + popcount(this.low);
      const out = new Array<FieldNumber>(count);
      for (let k = 0; k < count; k++) out[k] = layout[2 * k] as FieldNumber;
      return out;
    }
    const out: FieldNumber[] = [];
    for (let n = 1; n <= MAX_FIELD; n++) if (this.has(n as FieldNumber)) out.push(n as FieldNumber);
    return out;
  }

  /** For the codec's pack: [field, start, ..., 65, end] over wireBytes, or null when built by hand. */
  get wireLayout(): readonly number[] | null {
    return this.layout;
  }

  /** For the codec's pack: the bytes this message was unpacked from. */
  get wireBytes(): Buffer | null {
    return this.bytes;
  }

  /** For the codec's pack: fields set (a value) or deleted (null) since unpack; null when none. */
  get changedFields(): readonly (FieldValue | null | undefined)[] | null {
    return this.changes;
  }

  /** All fields decoded, as a frozen plain object (frozen: writing to it would change nothing). */
  get fields(): Readonly<FieldValues> {
    const out: FieldValues = {};
    for (const n of this.numbers()) out[n] = this.get(n);
    return Object.freeze(out);
  }

  toData(): MessageData {
    return { mti: this.mti, fields: { ...this.fields } };
  }
}

/** Set bits of a 32-bit word. */
function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Present fields of either form, ascending. */
export function messageEntries(message: MessageData | IsoMessage): [FieldNumber, FieldValue][] {
  const out: [FieldNumber, FieldValue][] = [];
  if (message instanceof IsoMessage) {
    for (const n of message.numbers()) out.push([n, message.get(n) as FieldValue]);
    return out;
  }
  for (const key of Object.keys(message.fields)) {
    const n = Number(key);
    const value = isFieldNumber(n) ? message.fields[n] : undefined;
    if (isFieldNumber(n) && value !== undefined) out.push([n, value]);
  }
  return out;
}
