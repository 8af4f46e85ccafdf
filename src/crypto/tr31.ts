import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { fromHex, toHex } from '../codec/hex';
import { CryptoError, type ErrorCode } from '../errors';
import { aesBlockCipher, cmac, tdesBlockCipher, type BlockCipher } from './cmac';
import { decryptCbc, encryptCbc } from './des';

/**
 * TR-31 (ANSI X9.143) key blocks, versions B and D: the key derivation binding method.
 *
 *   header (16 ASCII + optional blocks) | hex(encrypted payload) | hex(MAC)
 *   payload = 2-byte key length in bits | key | random padding to the cipher's block size
 *
 * Two keys are derived from the key block protection key (KBPK) by CMAC over
 * counter | usage (0000 encryption, 0001 MAC) | 00 | algorithm | length in bits:
 *   B: TDES; algorithm 0000 (2-key, 128 bits) or 0001 (3-key, 192 bits); MAC 8 bytes.
 *   D: AES; algorithm 0002 / 0003 / 0004 (128 / 192 / 256 bits); MAC 16 bytes.
 * The MAC is the CMAC (derived MAC key) of header + clear payload; the payload is encrypted in
 * CBC mode with the derived encryption key and the MAC as IV. Unwrapping checks the MAC
 * (constant time) before the key length or the key is looked at; any failure is a CryptoError
 * with a TR31_* code and never carries key material.
 */
export type Tr31Version = 'B' | 'D';

export interface Tr31OptionalBlock {
  /** Two characters ("KS", "PB", or numeric proprietary IDs). */
  id: string;
  /** Printable ASCII. */
  data: string;
}

export interface Tr31Header {
  version: Tr31Version;
  /** Two characters: "P0" PIN encryption, "M3" ISO 9797-1 MAC 3, "K0" key encryption, "D0" data, ... */
  usage: string;
  /** One character: "T" TDES, "A" AES, "D" DES, ... */
  algorithm: string;
  /** One character: "E" encrypt, "D" decrypt, "B" both, "G" generate MAC, "C" both MAC, "N" none, ... */
  modeOfUse: string;
  /** Two characters, "00" when unused. */
  keyVersion: string;
  /** "E" exportable under a trusted key, "N" non-exportable, "S" sensitive. */
  exportability: string;
  optionalBlocks: Tr31OptionalBlock[];
}

export interface Tr31Unwrapped {
  header: Tr31Header;
  /** The clear key: zero it when done. */
  key: Buffer;
}

const HEADER_LENGTH = 16;
const PRINTABLE = /^[\x20-\x7e]*$/;

function fail(code: ErrorCode, message: string): CryptoError {
  return new CryptoError(code, message);
}

interface VersionRules {
  blockSize: 8 | 16;
  macLength: number;
  kbpkLengths: readonly number[];
  cipher(key: Uint8Array): BlockCipher;
  algorithmCode(kbpkLength: number): number;
  cbcEncrypt(key: Uint8Array, data: Uint8Array, iv: Uint8Array): Buffer;
  cbcDecrypt(key: Uint8Array, data: Uint8Array, iv: Uint8Array): Buffer;
}

const aesCbc = (decrypt: boolean) => (key: Uint8Array, data: Uint8Array, iv: Uint8Array): Buffer => {
  const name = `aes-${key.length * 8}-cbc`;
  const c = decrypt ? createDecipheriv(name, key, iv) : createCipheriv(name, key, iv);
  return c.setAutoPadding(false).update(data);
};

const RULES: Record<Tr31Version, VersionRules> = {
  B: {
    blockSize: 8,
    macLength: 8,
    kbpkLengths: [16, 24],
    cipher: tdesBlockCipher,
    algorithmCode: (n) => (n === 16 ? 0x0000 : 0x0001),
    cbcEncrypt: encryptCbc,
    cbcDecrypt: decryptCbc,
  },
  D: {
    blockSize: 16,
    macLength: 16,
    kbpkLengths: [16, 24, 32],
    cipher: aesBlockCipher,
    algorithmCode: (n) => (n === 16 ? 0x0002 : n === 24 ? 0x0003 : 0x0004),
    cbcEncrypt: aesCbc(false),
    cbcDecrypt: aesCbc(true),
  },
};

function rulesFor(version: string): VersionRules {
  if (version !== 'B' && version !== 'D') {
    throw fail('TR31_UNSUPPORTED_VERSION', `key block version ${JSON.stringify(version)} is not supported (B or D)`);
  }
  return RULES[version];
}

/** KBEK and KBAK from the KBPK (TR-31 2010 / X9.143 key derivation). Zero both when done. */
export function deriveTr31Keys(version: Tr31Version, kbpk: Uint8Array): { encryption: Buffer; authentication: Buffer } {
  return deriveKeys(rulesFor(version), kbpk);
}

function deriveKeys(rules: VersionRules, kbpk: Uint8Array): { encryption: Buffer; authentication: Buffer } {
  if (!rules.kbpkLengths.includes(kbpk.length)) {
    throw fail('TR31_BAD_KBPK', `the KBPK must be ${rules.kbpkLengths.join(', ')} bytes for this version, got ${kbpk.length}`);
  }
  const cipher = rules.cipher(kbpk);
  try {
    const bits = kbpk.length * 8;
    const derive = (usage: number): Buffer => {
      const parts: Buffer[] = [];
      for (let counter = 1; parts.length * rules.blockSize < kbpk.length; counter++) {
        const data = Buffer.from([counter, usage >> 8, usage & 0xff, 0x00, 0, 0, bits >> 8, bits & 0xff]);
        data.writeUInt16BE(rules.algorithmCode(kbpk.length), 4);
        parts.push(cmac(cipher, data));
      }
      const out = Buffer.concat(parts).subarray(0, kbpk.length);
      const copy = Buffer.from(out);
      for (const p of parts) p.fill(0);
      return copy;
    };
    return { encryption: derive(0x0000), authentication: derive(0x0001) };
  } finally {
    cipher.destroy();
  }
}

function macOf(rules: VersionRules, kbak: Uint8Array, header: string, payload: Uint8Array): Buffer {
  const cipher = rules.cipher(kbak);
  try {
    return cmac(cipher, Buffer.concat([Buffer.from(header, 'latin1'), payload])).subarray(0, rules.macLength);
  } finally {
    cipher.destroy();
  }
}

function checkField(value: string, pattern: RegExp, what: string): void {
  if (!pattern.test(value)) throw fail('TR31_BAD_HEADER', `${what} ${JSON.stringify(value)} is not valid`);
}

function encodeOptionalBlocks(blocks: readonly Tr31OptionalBlock[]): string {
  let out = '';
  for (const b of blocks) {
    checkField(b.id, /^[0-9A-Z]{2}$/, 'optional block ID');
    if (!PRINTABLE.test(b.data)) throw fail('TR31_BAD_OPTIONAL_BLOCK', `optional block ${b.id} holds a character that is not printable ASCII`);
    const length = b.data.length + 4;
    if (length > 255) throw fail('TR31_BAD_OPTIONAL_BLOCK', `optional block ${b.id} is longer than 255 characters (extended lengths are not supported)`);
    out += b.id + length.toString(16).toUpperCase().padStart(2, '0') + b.data;
  }
  return out;
}

/** The header text for a block of `length` characters (optional blocks padded with "PB" as needed). */
function headerText(h: Tr31Header, blockSize: number, length: number): string {
  checkField(h.usage, /^[0-9A-Z]{2}$/, 'key usage');
  checkField(h.algorithm, /^[0-9A-Z]$/, 'algorithm');
  checkField(h.modeOfUse, /^[0-9A-Z]$/, 'mode of use');
  checkField(h.keyVersion, /^[0-9A-Za-z]{2}$/, 'key version number');
  checkField(h.exportability, /^[0-9A-Z]$/, 'exportability');
  if (h.optionalBlocks.some((b) => b.id === 'PB')) throw fail('TR31_BAD_OPTIONAL_BLOCK', 'the PB (padding) block is added by the wrapper, not given');
  return h.version + String(length).padStart(4, '0') + h.usage + h.algorithm + h.modeOfUse + h.keyVersion + h.exportability + paddedOptional(h.optionalBlocks, blockSize);
}

function paddedOptional(blocks: readonly Tr31OptionalBlock[], blockSize: number): string {
  const count = (n: number) => String(n).padStart(2, '0');
  let optional = encodeOptionalBlocks(blocks);
  if (optional.length === 0) return count(0) + '00';
  let n = blocks.length;
  const rest = (HEADER_LENGTH + optional.length) % blockSize;
  if (rest !== 0) {
    let pad = blockSize - rest;
    if (pad < 4) pad += blockSize;
    optional += 'PB' + pad.toString(16).toUpperCase().padStart(2, '0') + '0'.repeat(pad - 4);
    n++;
  }
  return count(n) + '00' + optional;
}

export interface Tr31WrapOptions {
  /** Random padding source (tests pass the published example's padding). */
  random?: (length: number) => Buffer;
  /** Pad as if the key were this many bytes long (hides the key length); default the key's length. */
  maskedKeyLength?: number;
}

/** Wrap `key` under `kbpk`; `header.version` picks B (TDES KBPK) or D (AES KBPK). */
export function wrapTr31(kbpk: Uint8Array, header: Tr31Header, key: Uint8Array, options: Tr31WrapOptions = {}): string {
  const rules = rulesFor(header.version);
  if (key.length === 0 || key.length > 64) throw fail('TR31_BAD_KEY_LENGTH', `a key of ${key.length} bytes cannot be wrapped`);
  const masked = options.maskedKeyLength ?? key.length;
  if (masked < key.length) throw fail('TR31_BAD_KEY_LENGTH', 'the masked key length is shorter than the key');
  const payloadLength = Math.ceil((2 + masked) / rules.blockSize) * rules.blockSize;
  const padding = (options.random ?? randomBytes)(payloadLength - 2 - key.length);
  if (padding.length !== payloadLength - 2 - key.length) throw fail('TR31_BAD_PADDING', 'the random source gave the wrong number of bytes');
  const payload = Buffer.alloc(payloadLength);
  payload.writeUInt16BE(key.length * 8, 0);
  payload.set(key, 2);
  payload.set(padding, 2 + key.length);
  const optionalLength = paddedOptional(header.optionalBlocks, rules.blockSize).length - 4;
  const total = HEADER_LENGTH + optionalLength + payloadLength * 2 + rules.macLength * 2;
  if (total > 9999) throw fail('TR31_BAD_LENGTH', 'the key block would be longer than 9999 characters');
  const text = headerText(header, rules.blockSize, total);
  const keys = deriveKeys(rules, kbpk);
  try {
    const mac = macOf(rules, keys.authentication, text, payload);
    const encrypted = rules.cbcEncrypt(keys.encryption, payload, mac);
    return text + toHex(encrypted) + toHex(mac);
  } finally {
    keys.encryption.fill(0);
    keys.authentication.fill(0);
    payload.fill(0);
  }
}

/** The header of a key block, checked for shape (nothing here is authenticated yet). */
export function parseTr31Header(block: string): { header: Tr31Header; length: number; headerLength: number } {
  if (block.length < HEADER_LENGTH) throw fail('TR31_BAD_LENGTH', `a key block is at least ${HEADER_LENGTH} characters, got ${block.length}`);
  if (!PRINTABLE.test(block.slice(0, HEADER_LENGTH))) throw fail('TR31_BAD_HEADER', 'the key block header is not printable ASCII');
  const version = block[0];
  rulesFor(version);
  const lengthText = block.slice(1, 5);
  checkField(lengthText, /^\d{4}$/, 'key block length');
  const length = Number(lengthText);
  if (length !== block.length) throw fail('TR31_BAD_LENGTH', `the header says ${length} characters, the block has ${block.length}`);
  const countText = block.slice(12, 14);
  checkField(countText, /^\d{2}$/, 'optional block count');
  if (block.slice(14, 16) !== '00') throw fail('TR31_BAD_HEADER', 'reserved field is not "00"');
  const optionalBlocks: Tr31OptionalBlock[] = [];
  let at = HEADER_LENGTH;
  for (let i = 0; i < Number(countText); i++) {
    const id = block.slice(at, at + 2);
    const lengthHex = block.slice(at + 2, at + 4);
    if (!/^[0-9A-Z]{2}$/.test(id) || !/^[0-9A-F]{2}$/.test(lengthHex)) throw fail('TR31_BAD_OPTIONAL_BLOCK', `optional block ${i + 1} has no valid ID and length`);
    const blockLength = parseInt(lengthHex, 16);
    if (blockLength === 0) throw fail('TR31_BAD_OPTIONAL_BLOCK', `optional block ${id} uses an extended length, which is not supported`);
    if (blockLength < 4 || at + blockLength > block.length) throw fail('TR31_BAD_OPTIONAL_BLOCK', `optional block ${id} runs past the block`);
    const data = block.slice(at + 4, at + blockLength);
    if (!PRINTABLE.test(data)) throw fail('TR31_BAD_OPTIONAL_BLOCK', `optional block ${id} is not printable ASCII`);
    if (id !== 'PB') optionalBlocks.push({ id, data });
    at += blockLength;
  }
  const header: Tr31Header = {
    version: version as Tr31Version,
    usage: block.slice(5, 7),
    algorithm: block[7],
    modeOfUse: block[8],
    keyVersion: block.slice(9, 11),
    exportability: block[11],
    optionalBlocks,
  };
  return { header, length, headerLength: at };
}

/** Unwrap a key block: MAC first (constant time), then the key length, then the key. */
export function unwrapTr31(kbpk: Uint8Array, block: string): Tr31Unwrapped {
  const { header, headerLength } = parseTr31Header(block);
  const rules = rulesFor(header.version);
  if (headerLength % rules.blockSize !== 0) throw fail('TR31_BAD_HEADER', `the header is ${headerLength} characters, not a multiple of ${rules.blockSize}`);
  const macHex = rules.macLength * 2;
  const body = block.slice(headerLength, block.length - macHex);
  if (body.length === 0 || body.length % (rules.blockSize * 2) !== 0 || block.length - headerLength < macHex) {
    throw fail('TR31_BAD_LENGTH', `the encrypted key data is ${body.length} hex characters, not a whole number of ${rules.blockSize}-byte blocks`);
  }
  let encrypted: Buffer;
  let mac: Buffer;
  try {
    encrypted = fromHex(body, 'encrypted key data');
    mac = fromHex(block.slice(block.length - macHex), 'key block MAC');
  } catch {
    throw fail('TR31_BAD_HEX', 'the encrypted key data or the MAC is not hex');
  }
  const keys = deriveKeys(rules, kbpk);
  let payload: Buffer | null = null;
  try {
    payload = rules.cbcDecrypt(keys.encryption, encrypted, mac);
    const expected = macOf(rules, keys.authentication, block.slice(0, headerLength), payload);
    if (!timingSafeEqual(expected, mac)) throw fail('TR31_MAC_MISMATCH', 'the key block MAC does not verify: wrong KBPK, or the block was altered');
    const bits = payload.readUInt16BE(0);
    if (bits === 0 || bits % 8 !== 0 || bits / 8 > payload.length - 2) throw fail('TR31_BAD_KEY_LENGTH', 'the key length inside the block is not valid');
    return { header, key: Buffer.from(payload.subarray(2, 2 + bits / 8)) };
  } finally {
    payload?.fill(0);
    keys.encryption.fill(0);
    keys.authentication.fill(0);
  }
}

/** "B0080P0TE00N0000": the fields of a header as people write it (optional blocks not taken). */
export function headerFromText(text: string): Tr31Header {
  if (text.length !== HEADER_LENGTH) throw fail('TR31_BAD_HEADER', `a header template is ${HEADER_LENGTH} characters, got ${text.length}`);
  if (text.slice(12, 16) !== '0000') throw fail('TR31_BAD_HEADER', 'give optional blocks separately: the template must end "0000"');
  rulesFor(text[0]);
  return {
    version: text[0] as Tr31Version,
    usage: text.slice(5, 7),
    algorithm: text[7],
    modeOfUse: text[8],
    keyVersion: text.slice(9, 11),
    exportability: text[11],
    optionalBlocks: [],
  };
}

/**
 * Check value of a key by its TR-31 algorithm: TDES / DES encrypt 8 zero bytes; AES the CMAC of
 * 16 zero bytes (ANSI X9.24-1:2017). `length` bytes, 3 by default as key loaders print them.
 */
export function tr31CheckValue(algorithm: string, key: Uint8Array, length = 3): Buffer {
  const cipher = algorithm === 'A' ? aesBlockCipher(key) : tdesBlockCipher(key);
  try {
    const full = algorithm === 'A' ? cmac(cipher, Buffer.alloc(16)) : cipher.encryptBlock(Buffer.alloc(8));
    return Buffer.from(full.subarray(0, length));
  } finally {
    cipher.destroy();
  }
}
