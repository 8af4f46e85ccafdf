import { Buffer } from 'node:buffer';
import { CryptoError } from '../errors';
import { SecretKey } from './secret-key';

/**
 * Work keys in the sign-on response's field 62 (R-KEY-1): each key encrypted under the terminal
 * master key (TMK), followed by its check value (R-KEY-2). Layouts are data, because regional
 * platforms move things (a MAC check at offset 28 instead of 36).
 */
export type WorkKeyType = 'pin' | 'mac' | 'track';
export const WORK_KEY_TYPES: readonly WorkKeyType[] = ['pin', 'mac', 'track'];
export type KeyMode = '001' | '003' | '004';
export const KEY_MODES: readonly KeyMode[] = ['001', '003', '004'];

export interface WorkKeyPlace {
  type: WorkKeyType;
  keyOffset: number;
  keyLength: 8 | 16 | 24;
  checkOffset: number;
  checkLength: number;
}

export interface WorkKeyLayout {
  mode: KeyMode;
  /** Bytes of field 62. */
  length: number;
  keys: readonly WorkKeyPlace[];
}

const place = (type: WorkKeyType, keyOffset: number, keyLength: 8 | 16, checkOffset: number): WorkKeyPlace => ({
  type,
  keyOffset,
  keyLength,
  checkOffset,
  checkLength: 4,
});

export const WORK_KEY_LAYOUTS: Readonly<Record<KeyMode, WorkKeyLayout>> = {
  // 24 bytes: PIN key 8 + check 4 + MAC key 8 + check 4
  '001': { mode: '001', length: 24, keys: [place('pin', 0, 8, 8), place('mac', 12, 8, 20)] },
  // 40 bytes: PIN key 16 + check 4 + MAC key 8 + 8 zero bytes + check 4 (single-DES MAC check)
  '003': { mode: '003', length: 40, keys: [place('pin', 0, 16, 16), place('mac', 20, 8, 36)] },
  // 60 bytes: PIN key 16 + 4 + MAC key 16 + 4 + track key 16 + 4
  '004': {
    mode: '004',
    length: 60,
    keys: [place('pin', 0, 16, 16), place('mac', 20, 16, 36), place('track', 40, 16, 56)],
  },
};

export function isKeyMode(mode: string): mode is KeyMode {
  return (KEY_MODES as readonly string[]).includes(mode);
}

export function layoutFor(mode: string): WorkKeyLayout {
  if (!isKeyMode(mode)) throw new CryptoError('BAD_KEY_MODE', `key mode must be one of ${KEY_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  return WORK_KEY_LAYOUTS[mode];
}

/** One key of field 62: its encrypted bytes and the check value the platform sent. */
export interface EncryptedWorkKey {
  type: WorkKeyType;
  encrypted: Buffer;
  expectedCheck: Buffer;
}

export function splitField62(field62: Uint8Array, layout: WorkKeyLayout): EncryptedWorkKey[] {
  if (field62.length !== layout.length) {
    throw new CryptoError('BAD_FIELD62_LENGTH', `field 62 for key mode ${layout.mode} must be ${layout.length} bytes, got ${field62.length}`, {
      field: 62,
    });
  }
  return layout.keys.map((k) => ({
    type: k.type,
    encrypted: Buffer.from(field62.subarray(k.keyOffset, k.keyOffset + k.keyLength)),
    expectedCheck: Buffer.from(field62.subarray(k.checkOffset, k.checkOffset + k.checkLength)),
  }));
}

export interface UnwrappedWorkKey {
  type: WorkKeyType;
  expectedCheck: Buffer;
  actualCheck: Buffer;
  ok: boolean;
  key: SecretKey;
}

/**
 * Decrypt every key and compute its check value, reporting each result (for tools that must
 * show which key failed). Callers that use the keys want unwrapWorkKeys, which refuses a failure.
 */
export function inspectWorkKeys(field62: Uint8Array, tmk: SecretKey, layout: WorkKeyLayout): UnwrappedWorkKey[] {
  return splitField62(field62, layout).map(({ type, encrypted, expectedCheck }) => {
    const clear = tmk.decrypt(encrypted);
    const key = SecretKey.fromBytes(clear);
    clear.fill(0);
    const actualCheck = key.checkValue(expectedCheck.length);
    return { type, expectedCheck, actualCheck, ok: actualCheck.equals(expectedCheck), key };
  });
}

export type WorkKeys = { pin: SecretKey; mac: SecretKey; track?: SecretKey };

/**
 * R-KEY-1, R-KEY-2: the clear work keys, only when every check value matches. A mismatch throws
 * CHECK_VALUE_MISMATCH naming the key, and every key of the field is destroyed: none is returned.
 */
export function unwrapWorkKeys(field62: Uint8Array, tmk: SecretKey, layout: WorkKeyLayout): WorkKeys {
  const results = inspectWorkKeys(field62, tmk, layout);
  const bad = results.find((r) => !r.ok);
  if (bad) {
    for (const r of results) r.key.destroy();
    throw new CryptoError('CHECK_VALUE_MISMATCH', `${bad.type} key check value does not match field 62`, {
      field: 62,
      key: bad.type,
    });
  }
  const keys: Partial<WorkKeys> = {};
  for (const r of results) keys[r.type] = r.key;
  return keys as WorkKeys;
}

/** The platform side: field 62 for `keys` under the TMK, with check values (used by the simulator). */
export function wrapWorkKeys(keys: WorkKeys, tmk: SecretKey, layout: WorkKeyLayout): Buffer {
  const out = Buffer.alloc(layout.length);
  for (const k of layout.keys) {
    const key = keys[k.type];
    if (key === undefined) throw new CryptoError('MISSING_KEY', `key mode ${layout.mode} needs a ${k.type} key`);
    if (key.length !== k.keyLength) {
      throw new CryptoError('BAD_KEY_LENGTH', `key mode ${layout.mode} carries a ${k.keyLength}-byte ${k.type} key, got ${key.length}`);
    }
    const clear = key.reveal();
    out.set(tmk.encrypt(clear), k.keyOffset);
    clear.fill(0);
    out.set(key.checkValue(k.checkLength), k.checkOffset);
  }
  return out;
}
