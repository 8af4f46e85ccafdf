import { CryptoError } from '../errors';
import { fromHex, toHex } from '../codec/hex';
import type { SecretKey } from './secret-key';

/**
 * Track data encryption when 53.3 = 1: the track is packed as BCD ('=' as D, an odd digit count
 * padded with 0), and the 8 bytes that end just before the last byte (the TDB) are encrypted with
 * the track key in place. The result keeps the digit count, with hex nibbles where it was
 * encrypted. Values are digit strings in and out, as field 35/36 values are.
 */
const TDB = 8;

function packTrack(track: string): Buffer {
  if (!/^[0-9=]+$/.test(track)) throw new CryptoError('BAD_TRACK', 'track data must be digits and =');
  const nibbles = track.replace(/=/g, 'D');
  return fromHex(nibbles.length % 2 ? nibbles + '0' : nibbles);
}

function tdbRange(packed: Buffer): [number, number] {
  if (packed.length < TDB + 1) {
    throw new CryptoError('BAD_TRACK', `track data must pack to at least ${TDB + 1} bytes to be encrypted`);
  }
  const end = packed.length - 1;
  return [end - TDB, end];
}

function transform(track: string, apply: (block: Buffer) => Buffer, encrypted: boolean): string {
  const packed = encrypted ? fromHex(track.length % 2 ? track + '0' : track, 'encrypted track') : packTrack(track);
  const [start, end] = tdbRange(packed);
  packed.set(apply(packed.subarray(start, end)), start);
  const hex = toHex(packed).slice(0, track.length);
  packed.fill(0);
  return hex;
}

export function encryptTrack(trackKey: SecretKey, track: string): string {
  return transform(track, (b) => trackKey.encrypt(b), false);
}

export function decryptTrack(trackKey: SecretKey, encrypted: string): string {
  return transform(encrypted.toUpperCase(), (b) => trackKey.decrypt(b), true).replace(/D/g, '=');
}
