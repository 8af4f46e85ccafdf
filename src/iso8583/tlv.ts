import { Buffer } from 'node:buffer';
import { CodecError } from '../errors';
import { fromHex, toHex } from '../codec/hex';

/**
 * BER-TLV as used in field 55 and the TLV sub-data of 59/63 (R-MSG-7). Tags are uppercase hex
 * ("9F26"); a first byte whose low 5 bits are all ones starts a multi-byte tag, continued while
 * bit 8 is set. Lengths: one byte below 0x80, or 0x81 / 0x82 followed by 1 / 2 bytes.
 */
export interface Tlv {
  tag: string;
  value: Buffer;
}

const MAX_TAG_BYTES = 3;

/** Bit 6 of the first tag byte: the value holds more TLVs. */
export function isConstructed(tag: string): boolean {
  return (parseInt(tag.slice(0, 2), 16) & 0x20) !== 0;
}

export function parseTlv(bytes: Uint8Array, baseOffset = 0): Tlv[] {
  const items: Tlv[] = [];
  let i = 0;
  const at = (k: number): number => baseOffset + k;
  while (i < bytes.length) {
    const tagStart = i;
    if ((bytes[i++] & 0x1f) === 0x1f) {
      while (true) {
        if (i >= bytes.length) throw new CodecError('TRUNCATED', 'TLV tag runs past the end', { offset: at(i) });
        const more = (bytes[i++] & 0x80) !== 0;
        if (!more) break;
        if (i - tagStart >= MAX_TAG_BYTES) {
          throw new CodecError('BAD_TLV', `TLV tag longer than ${MAX_TAG_BYTES} bytes`, { offset: at(tagStart) });
        }
      }
    }
    const tag = toHex(bytes, tagStart, i);
    if (i >= bytes.length) throw new CodecError('TRUNCATED', `TLV ${tag}: no length`, { offset: at(i) });
    let length = bytes[i++];
    if (length & 0x80) {
      const count = length & 0x7f;
      if (count === 0 || count > 2) {
        throw new CodecError('BAD_TLV', `TLV ${tag}: length form 0x${length.toString(16).toUpperCase()} not supported`, {
          offset: at(i - 1),
        });
      }
      if (i + count > bytes.length) throw new CodecError('TRUNCATED', `TLV ${tag}: length runs past the end`, { offset: at(i) });
      length = count === 1 ? bytes[i] : (bytes[i] << 8) | bytes[i + 1];
      i += count;
    }
    if (i + length > bytes.length) {
      throw new CodecError('TRUNCATED', `TLV ${tag}: value of ${length} bytes runs past the end`, { offset: at(i) });
    }
    items.push({ tag, value: Buffer.from(bytes.subarray(i, i + length)) });
    i += length;
  }
  return items;
}

function lengthBytes(length: number): number[] {
  if (length < 0x80) return [length];
  if (length <= 0xff) return [0x81, length];
  if (length <= 0xffff) return [0x82, length >> 8, length & 0xff];
  throw new CodecError('LENGTH_OVER_MAX', `TLV value of ${length} bytes is too long`);
}

export function buildTlv(items: readonly Tlv[]): Buffer {
  const parts: Buffer[] = [];
  for (const { tag, value } of items) {
    const tagBytes = fromHex(tag, `TLV tag ${tag}`);
    if (tagBytes.length === 0 || tagBytes.length > MAX_TAG_BYTES) {
      throw new CodecError('BAD_TLV', `TLV tag ${tag} must be 1 to ${MAX_TAG_BYTES} bytes`);
    }
    parts.push(tagBytes, Buffer.from(lengthBytes(value.length)), value);
  }
  return Buffer.concat(parts);
}
