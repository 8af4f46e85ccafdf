import { Buffer } from 'node:buffer';
import { toHex } from '../codec/hex';
import { CryptoError } from '../errors';
import { BLOCK } from './des';
import { SecretKey } from './secret-key';

/**
 * MAC algorithms (R-MAC-1, R-MAC-2). Each returns the 8 bytes that go into field 64.
 * Data is zero-padded to a multiple of 8 (no extra block when it already is one).
 */
export type MacAlgorithm = 'unionpay-ecb' | 'x9.9' | 'x9.19';
export const MAC_ALGORITHMS: readonly MacAlgorithm[] = ['unionpay-ecb', 'x9.9', 'x9.19'];

export function isMacAlgorithm(name: string): name is MacAlgorithm {
  return (MAC_ALGORITHMS as readonly string[]).includes(name);
}

const HEX_ASCII = Buffer.from('0123456789ABCDEF', 'latin1');

/** A 32-bit word -> 8 ASCII hex characters at out[offset]. */
function hexWord(word: number, out: Uint8Array, offset: number): void {
  for (let k = 0; k < 8; k++) out[offset + k] = HEX_ASCII[(word >>> (28 - 4 * k)) & 15];
}

/** `data` zero-padded to whole blocks (an empty input is one zero block), in a new buffer. */
function zeroPadded(data: Uint8Array): Buffer {
  const out = Buffer.alloc(Math.max(BLOCK, Math.ceil(data.length / BLOCK) * BLOCK));
  out.set(data);
  return out;
}

/**
 * R-MAC-1, UnionPay "ECB": XOR every 8-byte block; hex-expand to 16 characters; encrypt the first
 * 8; XOR with the last 8; encrypt again; hex-expand; field 64 = the first 8 characters.
 * A single- or double-length MAC key (DES or 3DES).
 *
 * The two dependent encryptions E(E(A) ^ B) are CBC with a zero IV over the 16 characters A B,
 * so they run as one update() on the key's kept des-ede3-cbc context (node:crypto costs about
 * 1.2 us per update() call, whatever the context; two ECB calls cost one more).
 */
export function unionpayEcbMac(key: SecretKey, data: Uint8Array): Buffer {
  const ciphers = key.ciphers();
  // XOR of every block (the last zero-padded), in two words.
  let hi = 0;
  let lo = 0;
  const whole = data.length - (data.length % BLOCK);
  for (let i = 0; i < whole; i += BLOCK) {
    hi ^= (data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3];
    lo ^= (data[i + 4] << 24) | (data[i + 5] << 16) | (data[i + 6] << 8) | data[i + 7];
  }
  for (let i = whole; i < data.length; i++) {
    const shift = 24 - 8 * ((i - whole) & 3);
    if (i - whole < 4) hi ^= data[i] << shift;
    else lo ^= data[i] << shift;
  }
  const expanded = Buffer.allocUnsafe(16);
  hexWord(hi, expanded, 0);
  hexWord(lo, expanded, 8);
  const last = ciphers.cbcLastBlock(expanded); // E(E(first 8) ^ last 8)
  const mac = Buffer.allocUnsafe(BLOCK);
  hexWord((last[0] << 24) | (last[1] << 16) | (last[2] << 8) | last[3], mac, 0);
  return mac;
}

/**
 * R-MAC-2, ANSI X9.9: CBC-MAC, zero IV, with the key as given (DES for 8 bytes, 3DES otherwise):
 * one update() over the padded data on the key's kept des-ede3-cbc context.
 */
export function x99Mac(key: SecretKey, data: Uint8Array): Buffer {
  const ciphers = key.ciphers();
  return ciphers.cbcLastBlock(zeroPadded(data));
}

/**
 * R-MAC-2, ANSI X9.19 retail MAC: DES CBC-MAC with K1 over every block, then the last block
 * decrypted with K2 and encrypted with K1. Needs a double-length key.
 *
 * The last block's E K1, D K2, E K1 is 3DES ECB with the key itself (K1 K2 K1), so: one update()
 * of single DES CBC (K1 K1 K1) over every block but the last, the last XORed with its result,
 * then one update() of the key's kept ECB context.
 */
export function x919Mac(key: SecretKey, data: Uint8Array): Buffer {
  const ciphers = key.ciphers(); // first: a destroyed key is KEY_DESTROYED, not a bad length
  if (key.length !== 16) throw new CryptoError('BAD_KEY_LENGTH', `x9.19 needs a 16-byte key, got ${key.length}`);
  const padded = zeroPadded(data);
  const lastAt = padded.length - BLOCK;
  const last = padded.subarray(lastAt);
  if (lastAt > 0) {
    const chain = ciphers.cbcLastBlock(padded.subarray(0, lastAt), true);
    for (let j = 0; j < BLOCK; j++) last[j] ^= chain[j];
  }
  return ciphers.encrypt(last);
}

export function computeMac(algorithm: MacAlgorithm, key: SecretKey, data: Uint8Array): Buffer {
  switch (algorithm) {
    case 'unionpay-ecb':
      return unionpayEcbMac(key, data);
    case 'x9.9':
      return x99Mac(key, data);
    case 'x9.19':
      return x919Mac(key, data);
  }
}

/** As people write it: the 8 characters for unionpay-ecb, 16 hex digits for the others. */
export function formatMac(algorithm: MacAlgorithm, mac: Uint8Array): string {
  return algorithm === 'unionpay-ecb' ? Buffer.from(mac).toString('latin1') : toHex(mac);
}
