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
 * every block: on the bench machine a new cipher costs ~9 us, one block through a kept one ~2 us.
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

// ---------------------------------------------------------------------------------------------
// A kept DES key schedule for SecretKey (MACs, PIN blocks, check values). node:crypto costs about
// 1.2 us per update() call even with a kept context, and a UnionPay MAC needs two dependent
// single-block encryptions; these tables do a DES block in a few hundred nanoseconds. The
// schedule is ordinary memory, so destroy() can zero it (OpenSSL's contexts cannot be zeroed from
// JavaScript). Checked against node:crypto for random keys and data in test/crypto.
// ---------------------------------------------------------------------------------------------

const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8, 57, 49, 41, 33, 25, 17, 9, 1, 59,
  51, 43, 35, 27, 19, 11, 3, 61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
];
const P = [16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25];
const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36, 63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
  14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, 41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53,
  46, 42, 50, 36, 29, 32,
];
const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
/** S1..S8, each 4 rows of 16. */
export const S_BOXES: readonly (readonly number[])[] = [
  [14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8, 4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13],
  [15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5, 0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9],
  [10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1, 13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12],
  [7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9, 10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14],
  [2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6, 4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3],
  [12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8, 9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13],
  [4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6, 1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12],
  [13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2, 7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11],
];

/** S-box i and the P permutation in one lookup: SPi[six bits] is S-box i's output after P. */
const SP = Array.from({ length: 8 }, () => new Int32Array(64));
const [SP0, SP1, SP2, SP3, SP4, SP5, SP6, SP7] = SP;
/** A 64-bit permutation as 8 byte tables: PERM_HI/LO[256 * byte + value] = that byte's output bits. */
const IP_HI = new Int32Array(2048);
const IP_LO = new Int32Array(2048);
const FP_HI = new Int32Array(2048);
const FP_LO = new Int32Array(2048);

(function buildTables(): void {
  for (let box = 0; box < 8; box++) {
    for (let v = 0; v < 64; v++) {
      const s = S_BOXES[box][(((v >> 4) & 2) | (v & 1)) * 16 + ((v >> 1) & 15)];
      const before = s << (28 - 4 * box); // bits 4 box + 1 .. 4 box + 4, numbered from the MSB
      let after = 0;
      for (let k = 0; k < 32; k++) if ((before >>> (32 - P[k])) & 1) after |= 1 << (31 - k);
      SP[box][v] = after;
    }
  }
  const FP = new Array<number>(64);
  for (let i = 0; i < 64; i++) FP[IP[i] - 1] = i + 1;
  const fill = (perm: number[], hi: Int32Array, lo: Int32Array): void => {
    for (let out = 0; out < 64; out++) {
      const input = perm[out] - 1;
      const byte = input >> 3;
      const mask = 0x80 >> (input & 7);
      for (let v = 0; v < 256; v++) {
        if ((v & mask) === 0) continue;
        if (out < 32) hi[256 * byte + v] |= 1 << (31 - out);
        else lo[256 * byte + v] |= 1 << (63 - out);
      }
    }
  };
  fill(IP, IP_HI, IP_LO);
  fill(FP, FP_HI, FP_LO);
})();

/**
 * 16 rounds' subkeys for one 8-byte DES key, two words a round: chunks 0, 2, 4, 6 and 7, 1, 3, 5
 * at bits 26, 18, 10, 2 (where the round finds them in R and in R rotated by 4). The caller zeroes
 * `bits`.
 */
function schedule(key: Uint8Array, offset: number, out: Int32Array, bits: Uint8Array): void {
  // bits[0..55] = C D after PC1
  for (let i = 0; i < 56; i++) {
    const b = PC1[i] - 1;
    bits[i] = (key[offset + (b >> 3)] >> (7 - (b & 7))) & 1;
  }
  for (let round = 0; round < 16; round++) {
    for (let s = 0; s < SHIFTS[round]; s++) {
      const c0 = bits[0];
      const d0 = bits[28];
      for (let i = 0; i < 27; i++) {
        bits[i] = bits[i + 1];
        bits[28 + i] = bits[29 + i];
      }
      bits[27] = c0;
      bits[55] = d0;
    }
    const chunk = (c: number): number => {
      let v = 0;
      for (let j = 0; j < 6; j++) v = (v << 1) | bits[PC2[c * 6 + j] - 1];
      return v;
    };
    out[2 * round] = (chunk(0) << 26) | (chunk(2) << 18) | (chunk(4) << 10) | (chunk(6) << 2);
    out[2 * round + 1] = (chunk(7) << 26) | (chunk(1) << 18) | (chunk(3) << 10) | (chunk(5) << 2);
  }
}

// The two halves a block leaves the rounds with (no allocation per block).
let outLeft = 0;
let outRight = 0;

/** 16 rounds over (left, right), already in the IP domain; leaves (R16, L16) in outLeft/outRight. */
function rounds(left: number, right: number, keys: Int32Array, base: number, decrypt: boolean): void {
  let l = left;
  let r = right;
  const step = decrypt ? -2 : 2;
  for (let k = decrypt ? base + 30 : base, n = 0; n < 16; n++, k += step) {
    const x = (r >>> 1) | (r << 31); // E starts with bit 32
    const u = x ^ keys[k];
    const t = ((x >>> 4) | (x << 28)) ^ keys[k + 1];
    const f =
      SP0[(u >>> 26) & 63] | SP2[(u >>> 18) & 63] | SP4[(u >>> 10) & 63] | SP6[(u >>> 2) & 63] |
      SP7[(t >>> 26) & 63] | SP1[(t >>> 18) & 63] | SP3[(t >>> 10) & 63] | SP5[(t >>> 2) & 63];
    const next = l ^ f;
    l = r;
    r = next;
  }
  outLeft = r;
  outRight = l;
}

/** FP of (l, r) as 8 bytes at b[o]. */
function writeFinal(l: number, r: number, b: Uint8Array, o: number): void {
  const hi =
    FP_HI[l >>> 24] | FP_HI[256 + ((l >>> 16) & 255)] | FP_HI[512 + ((l >>> 8) & 255)] | FP_HI[768 + (l & 255)] |
    FP_HI[1024 + (r >>> 24)] | FP_HI[1280 + ((r >>> 16) & 255)] | FP_HI[1536 + ((r >>> 8) & 255)] | FP_HI[1792 + (r & 255)];
  const lo =
    FP_LO[l >>> 24] | FP_LO[256 + ((l >>> 16) & 255)] | FP_LO[512 + ((l >>> 8) & 255)] | FP_LO[768 + (l & 255)] |
    FP_LO[1024 + (r >>> 24)] | FP_LO[1280 + ((r >>> 16) & 255)] | FP_LO[1536 + ((r >>> 8) & 255)] | FP_LO[1792 + (r & 255)];
  b[o] = hi >>> 24;
  b[o + 1] = hi >>> 16;
  b[o + 2] = hi >>> 8;
  b[o + 3] = hi;
  b[o + 4] = lo >>> 24;
  b[o + 5] = lo >>> 16;
  b[o + 6] = lo >>> 8;
  b[o + 7] = lo;
}

/**
 * A DES / 3DES key's schedule, kept for the key's life: an 8-byte key is single DES, 16 bytes
 * K1 K2 K1, 24 bytes K1 K2 K3 (the same results as des-ede3 with the key as tripleLengthKey
 * gives it). Blocks are processed in place. destroy() zeroes the schedule.
 */
export class DesSchedule {
  /** 3 x 32 subkey words: K1, K2, K3. */
  #keys: Int32Array;
  readonly #single: boolean;

  constructor(key: Uint8Array) {
    checkKeyLength(key.length);
    this.#keys = new Int32Array(96);
    this.#single = key.length === 8;
    const bits = new Uint8Array(56);
    try {
      schedule(key, 0, this.#keys.subarray(0, 32), bits);
      schedule(key, key.length === 8 ? 0 : 8, this.#keys.subarray(32, 64), bits);
      schedule(key, key.length === 24 ? 16 : 0, this.#keys.subarray(64, 96), bits);
    } finally {
      bits.fill(0);
    }
  }

  get destroyed(): boolean {
    return this.#keys.length === 0;
  }

  private live(): Int32Array {
    if (this.#keys.length === 0) throw destroyed();
    return this.#keys;
  }

  /** The whole key (DES or 3DES) on the 8 bytes at `offset`, in place. */
  encryptBlock(block: Uint8Array, offset = 0): void {
    this.crypt(block, offset, false, false);
  }

  decryptBlock(block: Uint8Array, offset = 0): void {
    this.crypt(block, offset, true, false);
  }

  /** Single DES with K1 only (X9.19's chaining key), in place. */
  encryptBlockFirstKey(block: Uint8Array, offset = 0): void {
    this.crypt(block, offset, false, true);
  }

  /** ECB over whole blocks into a new buffer. */
  ecb(data: Uint8Array, decrypt: boolean): Buffer {
    checkBlocks(data);
    const out = Buffer.from(data);
    for (let i = 0; i < out.length; i += BLOCK) this.crypt(out, i, decrypt, false);
    return out;
  }

  /**
   * CBC-MAC with a zero IV over `data` zero-padded to whole blocks (an empty input is one zero
   * block), the last block written to `out` at `outOffset`. `retail` (X9.19): every block but the
   * last with K1 alone, the last with the whole key; otherwise the whole key throughout (X9.9).
   * The chain stays in the IP domain (IP is linear: IP(h ^ d) = IP(h) ^ IP(d)), so a block costs
   * one IP of its data and the rounds; FP runs once, at the end.
   */
  cbcMac(data: Uint8Array, retail: boolean, out: Uint8Array, outOffset = 0): void {
    const keys = this.live();
    const blocks = Math.max(1, Math.ceil(data.length / BLOCK));
    const whole = data.length >> 3;
    let l = 0;
    let r = 0;
    for (let block = 0; block < blocks; block++) {
      const o = block * BLOCK;
      if (block < whole) {
        const d = data;
        l ^= IP_HI[d[o]] | IP_HI[256 + d[o + 1]] | IP_HI[512 + d[o + 2]] | IP_HI[768 + d[o + 3]] | IP_HI[1024 + d[o + 4]] | IP_HI[1280 + d[o + 5]] | IP_HI[1536 + d[o + 6]] | IP_HI[1792 + d[o + 7]];
        r ^= IP_LO[d[o]] | IP_LO[256 + d[o + 1]] | IP_LO[512 + d[o + 2]] | IP_LO[768 + d[o + 3]] | IP_LO[1024 + d[o + 4]] | IP_LO[1280 + d[o + 5]] | IP_LO[1536 + d[o + 6]] | IP_LO[1792 + d[o + 7]];
      } else {
        for (let j = 0; o + j < data.length; j++) {
          l ^= IP_HI[256 * j + data[o + j]];
          r ^= IP_LO[256 * j + data[o + j]];
        }
      }
      if ((retail && block < blocks - 1) || this.#single) {
        rounds(l, r, keys, 0, false);
      } else {
        rounds(l, r, keys, 0, false);
        rounds(outLeft, outRight, keys, 32, true);
        rounds(outLeft, outRight, keys, 64, false);
      }
      l = outLeft;
      r = outRight;
    }
    writeFinal(l, r, out, outOffset);
  }

  private crypt(b: Uint8Array, o: number, decrypt: boolean, firstOnly: boolean): void {
    const keys = this.live();
    if (o < 0 || o + BLOCK > b.length) throw new CryptoError('BAD_DATA_LENGTH', `no 8-byte block at ${o}`);
    const l = IP_HI[b[o]] | IP_HI[256 + b[o + 1]] | IP_HI[512 + b[o + 2]] | IP_HI[768 + b[o + 3]] | IP_HI[1024 + b[o + 4]] | IP_HI[1280 + b[o + 5]] | IP_HI[1536 + b[o + 6]] | IP_HI[1792 + b[o + 7]];
    const r = IP_LO[b[o]] | IP_LO[256 + b[o + 1]] | IP_LO[512 + b[o + 2]] | IP_LO[768 + b[o + 3]] | IP_LO[1024 + b[o + 4]] | IP_LO[1280 + b[o + 5]] | IP_LO[1536 + b[o + 6]] | IP_LO[1792 + b[o + 7]];
    if (firstOnly || this.#single) {
      rounds(l, r, keys, 0, decrypt);
    } else {
      // E K1, D K2, E K3 (decrypting: D K3, E K2, D K1); FP then IP between stages cancel out.
      rounds(l, r, keys, decrypt ? 64 : 0, decrypt);
      rounds(outLeft, outRight, keys, 32, !decrypt);
      rounds(outLeft, outRight, keys, decrypt ? 0 : 64, decrypt);
    }
    writeFinal(outLeft, outRight, b, o);
  }

  /** Zero the schedule; every later use throws KEY_DESTROYED. */
  destroy(): void {
    this.#keys.fill(0);
    this.#keys = new Int32Array(0);
  }

  /** Never the subkeys: they are key material. */
  toString(): string {
    return this.destroyed ? 'DesSchedule(destroyed)' : 'DesSchedule';
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
