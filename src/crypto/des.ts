import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';
import { inspect } from 'node:util';
import { CryptoError } from '../errors';

/**
 * DES and 3DES on node:crypto. OpenSSL 3 no longer offers single DES, so single DES runs as
 * 3DES with K1 = K2 = K3 (identical results); a 16-byte key is K1 K2 K1 (two-key 3DES).
 */
export const BLOCK = 8;
const CIPHER = 'des-ede3-ecb';

export function checkKeyLength(length: number, what = 'key'): void {
  if (length !== 8 && length !== 16 && length !== 24) {
    throw new CryptoError('BAD_KEY_LENGTH', `${what} must be 8, 16 or 24 bytes, got ${length}`);
  }
}

/** K1 K2 K3 for node's des-ede3. The returned buffer holds key material: zero it after use. */
export function tripleLengthKey(key: Uint8Array): Buffer {
  checkKeyLength(key.length);
  const out = Buffer.allocUnsafe(24);
  out.set(key.subarray(0, 8), 0);
  out.set(key.length === 8 ? key.subarray(0, 8) : key.subarray(8, 16), 8);
  out.set(key.length === 24 ? key.subarray(16, 24) : key.subarray(0, 8), 16);
  return out;
}

function checkBlocks(data: Uint8Array): void {
  if (data.length % BLOCK !== 0) {
    throw new CryptoError('BAD_DATA_LENGTH', `data must be a multiple of ${BLOCK} bytes, got ${data.length}`);
  }
}

/**
 * A reusable ECB engine for one key. ECB has no chaining state, so one cipher object serves
 * every block: on the bench machine a new cipher costs ~3 us, one update() on a kept one ~1.2 us.
 */
export class EcbEngine {
  private encryptor: Cipher | null;
  private decryptor: Decipher | null;

  constructor(key: Uint8Array) {
    const k = tripleLengthKey(key);
    try {
      this.encryptor = createCipheriv(CIPHER, k, null).setAutoPadding(false);
      this.decryptor = createDecipheriv(CIPHER, k, null).setAutoPadding(false);
    } finally {
      k.fill(0);
    }
  }

  encrypt(data: Uint8Array): Buffer {
    checkBlocks(data);
    if (this.encryptor === null) throw destroyed();
    return this.encryptor.update(data);
  }

  decrypt(data: Uint8Array): Buffer {
    checkBlocks(data);
    if (this.decryptor === null) throw destroyed();
    return this.decryptor.update(data);
  }

  /** Drop the OpenSSL contexts (their key schedules go with them; JS cannot zero them). */
  destroy(): void {
    this.encryptor = null;
    this.decryptor = null;
  }
}

function destroyed(): CryptoError {
  return new CryptoError('KEY_DESTROYED', 'key was destroyed');
}

export function encryptEcb(key: Uint8Array, data: Uint8Array): Buffer {
  const engine = new EcbEngine(key);
  try {
    return engine.encrypt(data);
  } finally {
    engine.destroy();
  }
}

export function decryptEcb(key: Uint8Array, data: Uint8Array): Buffer {
  const engine = new EcbEngine(key);
  try {
    return engine.decrypt(data);
  } finally {
    engine.destroy();
  }
}

/** 3DES CBC without padding (the IV defaults to zeros). */
export function encryptCbc(key: Uint8Array, data: Uint8Array, iv: Uint8Array = Buffer.alloc(BLOCK)): Buffer {
  checkBlocks(data);
  const k = tripleLengthKey(key);
  try {
    return createCipheriv('des-ede3-cbc', k, iv).setAutoPadding(false).update(data);
  } finally {
    k.fill(0);
  }
}

export function decryptCbc(key: Uint8Array, data: Uint8Array, iv: Uint8Array = Buffer.alloc(BLOCK)): Buffer {
  checkBlocks(data);
  const k = tripleLengthKey(key);
  try {
    return createDecipheriv('des-ede3-cbc', k, iv).setAutoPadding(false).update(data);
  } finally {
    k.fill(0);
  }
}

export function xorInto(target: Uint8Array, source: Uint8Array, offset = 0): void {
  for (let i = 0; i < target.length; i++) target[i] ^= source[offset + i];
}

/**
 * CBC with a zero IV on a kept des-ede3-cbc context, for CBC-MACs. A node:crypto Cipher cannot
 * be re-keyed or have its IV reset, and after update() its chaining value is the last ciphertext
 * block it produced. That block is remembered here, and the first block of the next input is
 * XORed with it before update(), so every call starts from a zero IV again:
 * C1 = E(P1 ^ chain ^ chain) = E(P1). All the DES work is OpenSSL's; this only keeps the books.
 */
class ZeroIvCbc {
  #cipher: Cipher | null;
  /** The last ciphertext block of the previous update(): the context's IV for the next one. */
  readonly #chain = Buffer.alloc(BLOCK);

  constructor(key24: Uint8Array) {
    this.#cipher = createCipheriv('des-ede3-cbc', key24, this.#chain).setAutoPadding(false);
  }

  /**
   * The last block of CBC(zero IV) over `data`: whole blocks, at least one. `data` is scratch the
   * caller owns: its first block is changed. The result is the end of update()'s own output.
   */
  lastBlock(data: Buffer): Buffer {
    if (data.length === 0 || data.length % BLOCK !== 0) {
      throw new CryptoError('BAD_DATA_LENGTH', `data must be a non-empty multiple of ${BLOCK} bytes, got ${data.length}`);
    }
    const cipher = this.#cipher;
    if (cipher === null) throw destroyed();
    const chain = this.#chain;
    for (let j = 0; j < BLOCK; j++) data[j] ^= chain[j];
    let out: Buffer;
    try {
      out = cipher.update(data);
    } catch (e) {
      this.destroy(); // its chaining value is no longer known
      throw e;
    }
    if (out.length !== data.length) {
      this.destroy();
      throw new CryptoError('BAD_DATA_LENGTH', `CBC gave ${out.length} bytes for ${data.length}`);
    }
    const lastAt = out.length - BLOCK;
    for (let j = 0; j < BLOCK; j++) chain[j] = out[lastAt + j];
    return out.subarray(lastAt);
  }

  destroy(): void {
    this.#cipher = null;
    this.#chain.fill(0);
  }
}

/**
 * The node:crypto contexts one key keeps for its life (SecretKey owns one): ECB both ways with
 * the whole key, and zero-IV CBC with the whole key and with K1 alone (as K1 K1 K1), for the
 * MACs. Each is created on first use from `key`, which is the owner's own buffer (not a copy):
 * the owner zeroes it and calls destroy(). destroy() drops the contexts; OpenSSL cleanses a
 * context's key schedule when the garbage collector frees it (JavaScript cannot reach it).
 */
export class KeyCiphers {
  #key: Uint8Array | null;
  #encryptor: Cipher | null = null;
  #decryptor: Decipher | null = null;
  #cbc: ZeroIvCbc | null = null;
  #cbcFirst: ZeroIvCbc | null = null;

  constructor(key: Uint8Array) {
    checkKeyLength(key.length);
    this.#key = key;
  }

  get destroyed(): boolean {
    return this.#key === null;
  }

  private liveKey(): Uint8Array {
    if (this.#key === null) throw destroyed();
    return this.#key;
  }

  /** ECB with the whole key, data a multiple of 8 bytes. */
  encrypt(data: Uint8Array): Buffer {
    checkBlocks(data);
    if (this.#encryptor === null) {
      const k = tripleLengthKey(this.liveKey());
      try {
        this.#encryptor = createCipheriv(CIPHER, k, null).setAutoPadding(false);
      } finally {
        k.fill(0);
      }
    }
    return this.#encryptor.update(data);
  }

  decrypt(data: Uint8Array): Buffer {
    checkBlocks(data);
    if (this.#decryptor === null) {
      const k = tripleLengthKey(this.liveKey());
      try {
        this.#decryptor = createDecipheriv(CIPHER, k, null).setAutoPadding(false);
      } finally {
        k.fill(0);
      }
    }
    return this.#decryptor.update(data);
  }

  /**
   * The last block of CBC with a zero IV over `data` (whole blocks, at least one; its first block
   * is changed, so pass scratch): with the whole key, or with K1 alone as single DES (K1 K1 K1).
   * One update() call however many blocks.
   */
  cbcLastBlock(data: Buffer, firstKeyOnly = false): Buffer {
    const key = this.liveKey();
    if (firstKeyOnly && key.length !== 8) {
      this.#cbcFirst ??= withTripleKey(key.subarray(0, 8), (k) => new ZeroIvCbc(k));
      return this.#cbcFirst.lastBlock(data);
    }
    this.#cbc ??= withTripleKey(key, (k) => new ZeroIvCbc(k));
    return this.#cbc.lastBlock(data);
  }

  /** Drop every context; later use throws KEY_DESTROYED. */
  destroy(): void {
    this.#key = null;
    this.#encryptor = null;
    this.#decryptor = null;
    this.#cbc?.destroy();
    this.#cbc = null;
    this.#cbcFirst?.destroy();
    this.#cbcFirst = null;
  }

  /** Never anything of the key. */
  toString(): string {
    return this.destroyed ? 'KeyCiphers(destroyed)' : 'KeyCiphers';
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

function withTripleKey<T>(key: Uint8Array, make: (key24: Buffer) => T): T {
  const k = tripleLengthKey(key);
  try {
    return make(k);
  } finally {
    k.fill(0);
  }
}
