import { Buffer } from 'node:buffer';
import { toHex } from '../codec/hex';
import { CryptoError } from '../errors';
import { BLOCK, encryptCbc } from './des';
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

function zeroPadded(data: Uint8Array): Buffer {
  const length = Math.max(BLOCK, Math.ceil(data.length / BLOCK) * BLOCK);
  const out = Buffer.alloc(length);
  out.set(data);
  return out;
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
 * A single- or double-length MAC key (DES or 3DES).
 */
export function unionpayEcbMac(key: SecretKey, data: Uint8Array): Buffer {
  const x = Buffer.alloc(BLOCK);
  const whole = data.length - (data.length % BLOCK);
  for (let i = 0; i < whole; i += BLOCK) for (let j = 0; j < BLOCK; j++) x[j] ^= data[i + j];
  for (let i = whole; i < data.length; i++) x[i - whole] ^= data[i]; // the zero-padded last block
  const expanded = hexExpand(x);
  const first = key.encrypt(expanded.subarray(0, 8));
  for (let j = 0; j < BLOCK; j++) first[j] ^= expanded[8 + j];
  return hexExpand(key.encrypt(first)).subarray(0, 8);
}

/** R-MAC-2, ANSI X9.9: CBC-MAC, zero IV, with the key as given (DES for 8 bytes, 3DES otherwise). */
export function x99Mac(key: SecretKey, data: Uint8Array): Buffer {
  const clear = key.reveal();
  try {
    const cbc = encryptCbc(clear, zeroPadded(data));
    return cbc.subarray(cbc.length - BLOCK);
  } finally {
    clear.fill(0);
  }
}

/**
 * R-MAC-2, ANSI X9.19 retail MAC: DES CBC-MAC with K1 over every block, then the last block
 * decrypted with K2 and encrypted with K1. Needs a double-length key.
 */
export function x919Mac(key: SecretKey, data: Uint8Array): Buffer {
  if (key.length !== 16) throw new CryptoError('BAD_KEY_LENGTH', `x9.19 needs a 16-byte key, got ${key.length}`);
  const k1 = key.part(0);
  const k2 = key.part(1);
  try {
    const h = x99Mac(k1, data);
    return k1.encrypt(k2.decrypt(h));
  } finally {
    k1.destroy();
    k2.destroy();
  }
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
