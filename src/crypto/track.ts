import { CryptoError } from '../errors';
import { fromHex, toHex } from '../codec/hex';
import type { SecretKey } from './secret-key';

/**
 * Track data encryption when 53.3 = 1: the track is packed as BCD ('=' as D, an odd digit count
 * padded with 0), and the 8 bytes that end just before the last byte (the TDB) are encrypted with
 * the track key in place. The result keeps the digit count, with any nibble where it was
 * encrypted, written in the track alphabet of field 35/36 values ('=' for D, A B C E F).
 */
const TDB = 8;

function tdbRange(packed: Buffer): [number, number] {
  if (packed.length < TDB + 1) {
    throw new CryptoError('BAD_TRACK', `track data must pack to at least ${TDB + 1} bytes to be encrypted`);
  }
  const end = packed.length - 1;
  return [end - TDB, end];
}

function transform(track: string, apply: (block: Buffer) => Buffer): string {
  const nibbles = track.toUpperCase().replace(/=/g, 'D');
  if (!/^[0-9A-F]+$/.test(nibbles)) throw new CryptoError('BAD_TRACK', 'track data must be digits, = or A-F');
  const packed = fromHex(nibbles.length % 2 ? nibbles + '0' : nibbles);
  const [start, end] = tdbRange(packed);
  packed.set(apply(packed.subarray(start, end)), start);
  const out = toHex(packed).slice(0, track.length).replace(/D/g, '=');
  packed.fill(0);
  return out;
}

export function encryptTrack(trackKey: SecretKey, track: string): string {
  if (!/^[0-9=]+$/.test(track)) throw new CryptoError('BAD_TRACK', 'clear track data must be digits and =');
  return transform(track, (b) => trackKey.encrypt(b));
}

export function decryptTrack(trackKey: SecretKey, encrypted: string): string {
  return transform(encrypted, (b) => trackKey.decrypt(b));
}
