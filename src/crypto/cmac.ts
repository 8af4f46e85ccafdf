import { Buffer } from 'node:buffer';
import { createCipheriv } from 'node:crypto';
import { CryptoError } from '../errors';
import { EcbEngine } from './des';

/**
 * CMAC (NIST SP 800-38B, ISO 9797-1 MAC algorithm 5) over any block cipher given as a one-block
 * encryption function: TDES (8-byte blocks) for TR-31 version B, AES (16-byte blocks) for D.
 */
export interface BlockCipher {
  readonly blockSize: 8 | 16;
  encryptBlock(block: Uint8Array): Buffer;
  destroy(): void;
}

/** TDES with a 16- or 24-byte key (8 bytes is single DES). */
export function tdesBlockCipher(key: Uint8Array): BlockCipher {
  const engine = new EcbEngine(key);
  return { blockSize: 8, encryptBlock: (block) => engine.encrypt(block), destroy: () => engine.destroy() };
}

/** AES-128/192/256 by key length. */
export function aesBlockCipher(key: Uint8Array): BlockCipher {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new CryptoError('BAD_KEY_LENGTH', `AES key must be 16, 24 or 32 bytes, got ${key.length}`);
  }
  let cipher: ReturnType<typeof createCipheriv> | null = createCipheriv(`aes-${key.length * 8}-ecb`, key, null).setAutoPadding(false);
  return {
    blockSize: 16,
    encryptBlock(block) {
      if (cipher === null) throw new CryptoError('KEY_DESTROYED', 'key was destroyed');
      return cipher.update(block);
    },
    destroy() {
      cipher = null;
    },
  };
}

/** Left shift by one bit, XOR Rb into the last byte when the top bit fell off. */
function subkey(from: Buffer, blockSize: 8 | 16): Buffer {
  const out = Buffer.alloc(blockSize);
  for (let i = 0; i < blockSize; i++) out[i] = ((from[i] << 1) & 0xff) | (i + 1 < blockSize ? from[i + 1] >> 7 : 0);
  if (from[0] & 0x80) out[blockSize - 1] ^= blockSize === 8 ? 0x1b : 0x87;
  return out;
}

/** The full-length CMAC of `data` (truncate as the caller's standard says). */
export function cmac(cipher: BlockCipher, data: Uint8Array): Buffer {
  const n = cipher.blockSize;
  const l = cipher.encryptBlock(Buffer.alloc(n));
  const k1 = subkey(l, n);
  const k2 = subkey(k1, n);
  l.fill(0);
  const blocks = Math.max(1, Math.ceil(data.length / n));
  const complete = data.length > 0 && data.length % n === 0;
  const last = Buffer.alloc(n);
  last.set(data.subarray((blocks - 1) * n));
  if (!complete) last[data.length - (blocks - 1) * n] = 0x80;
  const k = complete ? k1 : k2;
  for (let i = 0; i < n; i++) last[i] ^= k[i];
  let x: Buffer = Buffer.alloc(n);
  for (let b = 0; b < blocks - 1; b++) {
    for (let i = 0; i < n; i++) x[i] ^= data[b * n + i];
    x = cipher.encryptBlock(x);
  }
  for (let i = 0; i < n; i++) x[i] ^= last[i];
  const mac = cipher.encryptBlock(x);
  k1.fill(0);
  k2.fill(0);
  last.fill(0);
  return mac;
}
