import { Buffer } from 'node:buffer';
import { inspect } from 'node:util';
import { CryptoError } from '../errors';
import { fromHex, toHex } from '../codec/hex';
import { checkKeyLength, KeyCiphers } from './des';

export const DEFAULT_CHECK_LENGTH = 4;

/**
 * Key material that cannot be printed by accident: inspect, toString and JSON show only its
 * length and check value. The bytes are reachable only through reveal(), for the few places that
 * must hand them on (a --reveal output, a PIN pad load). destroy() zeroes them.
 */
export class SecretKey {
  #bytes: Buffer;
  /** The key's node:crypto contexts, created on first use and kept for the key's life; destroy() drops them. */
  #ciphers: KeyCiphers | null = null;

  private constructor(bytes: Buffer) {
    checkKeyLength(bytes.length);
    this.#bytes = bytes;
  }

  /** Takes a copy; the caller may zero its own buffer afterwards. */
  static fromBytes(bytes: Uint8Array): SecretKey {
    return new SecretKey(Buffer.from(bytes));
  }

  static fromHex(hex: string, what = 'key'): SecretKey {
    const bytes = fromHex(hex.trim(), what);
    try {
      return new SecretKey(Buffer.from(bytes));
    } catch (e) {
      if (e instanceof CryptoError) throw new CryptoError(e.code, e.message.replace(/^key/, what));
      throw e;
    } finally {
      bytes.fill(0);
    }
  }

  get length(): number {
    return this.#bytes.length;
  }

  get destroyed(): boolean {
    return this.#bytes.length === 0;
  }

  /**
   * The key's node:crypto contexts (ECB both ways, zero-IV CBC for the MACs), for the crypto
   * modules. Kept for the key's life, so a MAC creates no cipher; dropped by destroy().
   */
  ciphers(): KeyCiphers {
    if (this.destroyed) throw new CryptoError('KEY_DESTROYED', 'key was destroyed');
    this.#ciphers ??= new KeyCiphers(this.#bytes);
    return this.#ciphers;
  }

  /** 3DES (DES for an 8-byte key, as K1 K1 K1) ECB, data a multiple of 8 bytes. */
  encrypt(data: Uint8Array): Buffer {
    return this.ciphers().encrypt(data);
  }

  decrypt(data: Uint8Array): Buffer {
    return this.ciphers().decrypt(data);
  }

  /** R-KEY-2: the first `length` bytes of encrypting 8 zero bytes. */
  checkValue(length = DEFAULT_CHECK_LENGTH): Buffer {
    return this.encrypt(Buffer.alloc(8)).subarray(0, length);
  }

  /** The key bytes, copied. Only for outputs the user asked for and for loading devices. */
  reveal(): Buffer {
    if (this.destroyed) throw new CryptoError('KEY_DESTROYED', 'key was destroyed');
    return Buffer.from(this.#bytes);
  }

  /** The first / second / third 8-byte part, as a key of its own (X9.19 needs K1 and K2). */
  part(index: 0 | 1 | 2): SecretKey {
    if (this.destroyed) throw new CryptoError('KEY_DESTROYED', 'key was destroyed');
    if ((index + 1) * 8 > this.#bytes.length) throw new CryptoError('BAD_KEY_LENGTH', `key has no part ${index + 1}`);
    return new SecretKey(Buffer.from(this.#bytes.subarray(index * 8, index * 8 + 8)));
  }

  equals(other: SecretKey): boolean {
    return this.#bytes.equals(other.#bytes);
  }

  /** Zero the bytes and drop the cipher contexts. */
  destroy(): void {
    this.#bytes.fill(0);
    this.#bytes = Buffer.alloc(0);
    this.#ciphers?.destroy();
    this.#ciphers = null;
  }

  private label(): string {
    if (this.destroyed) return 'SecretKey(destroyed)';
    return `SecretKey(${this.length} bytes, check ${toHex(this.checkValue(3))})`;
  }

  toString(): string {
    return this.label();
  }

  toJSON(): string {
    return this.label();
  }

  [inspect.custom](): string {
    return this.label();
  }
}

/** Check value of a key given as bytes (kcv command, tests). */
export function checkValueOf(key: Uint8Array, length = DEFAULT_CHECK_LENGTH): Buffer {
  if (length < 1 || length > 8) throw new CryptoError('BAD_CHECK_LENGTH', `check value length must be 1..8, got ${length}`);
  const secret = SecretKey.fromBytes(key);
  try {
    return secret.checkValue(length);
  } finally {
    secret.destroy();
  }
}
