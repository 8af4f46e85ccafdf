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

/** 8 bytes -> 16 ASCII hex characters, as bytes. */
function hexExpand(block: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = HEX_ASCII[block[i] >> 4];
    out[i * 2 + 1] = HEX_ASCII[block[i] & 15];
  }
  return out;
}

/**
 * R-MAC-1, UnionPay "ECB": XOR every 8-byte block; hex-expand to 16 characters; encrypt the first
 * 8; XOR with the last 8; encrypt again; hex-expand; field 64 = the first 8 characters.
 * A single- or double-length MAC key (DES or 3DES). The key's schedule is kept by the key, so a
 * MAC builds no cipher.
 */
export function unionpayEcbMac(key: SecretKey, data: Uint8Array): Buffer {
  const cipher = key.cipher();
  const x = Buffer.alloc(BLOCK);
  const whole = data.length - (data.length % BLOCK);
  for (let i = 0; i < whole; i += BLOCK) for (let j = 0; j < BLOCK; j++) x[j] ^= data[i + j];
  for (let i = whole; i < data.length; i++) x[i - whole] ^= data[i]; // the zero-padded last block
  const expanded = hexExpand(x);
  cipher.encryptBlock(expanded, 0);
  for (let j = 0; j < BLOCK; j++) expanded[j] ^= expanded[8 + j];
  cipher.encryptBlock(expanded, 0);
  return hexExpand(expanded).subarray(0, 8);
}

/**
 * CBC-MAC with a zero IV over the zero-padded data (an empty input is one zero block): every
 * block with K1 alone when `retail` (X9.19) except the last, which gets the whole key
 * (D K2 E K1 after E K1 is E K1 D K2 E K1); with the whole key throughout otherwise (X9.9).
 */
function cbcMac(key: SecretKey, data: Uint8Array, retail: boolean): Buffer {
  const cipher = key.cipher();
  const h = Buffer.alloc(BLOCK);
  const blocks = Math.max(1, Math.ceil(data.length / BLOCK));
  for (let b = 0; b < blocks; b++) {
    const at = b * BLOCK;
    const end = Math.min(BLOCK, data.length - at);
    for (let j = 0; j < end; j++) h[j] ^= data[at + j];
    if (retail && b < blocks - 1) cipher.encryptBlockFirstKey(h, 0);
    else cipher.encryptBlock(h, 0);
  }
  return h;
}

/** R-MAC-2, ANSI X9.9: CBC-MAC, zero IV, with the key as given (DES for 8 bytes, 3DES otherwise). */
export function x99Mac(key: SecretKey, data: Uint8Array): Buffer {
  return cbcMac(key, data, false);
}

/**
 * R-MAC-2, ANSI X9.19 retail MAC: DES CBC-MAC with K1 over every block, then the last block
 * decrypted with K2 and encrypted with K1. Needs a double-length key.
 */
export function x919Mac(key: SecretKey, data: Uint8Array): Buffer {
  if (key.length !== 16) throw new CryptoError('BAD_KEY_LENGTH', `x9.19 needs a 16-byte key, got ${key.length}`);
  return cbcMac(key, data, true);
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
