import { CryptoError } from '../errors';
import { fromHex, toHex } from '../codec/hex';
import type { SecretKey } from './secret-key';

/**
 * PIN block ISO 9564 format 0 / ANSI X9.8 (R-PIN-1):
 *   0 | PIN length | PIN | F fill        (16 nibbles)
 *   XOR 0000 | rightmost 12 PAN digits excluding the check digit
 * Errors never repeat the PIN or the PAN.
 */
export const PIN_BLOCK_LENGTH = 8;

export function checkPin(pin: string): void {
  if (!/^\d{4,12}$/.test(pin)) throw new CryptoError('BAD_PIN', 'PIN must be 4 to 12 digits');
}

export function checkPan(pan: string): void {
  if (!/^\d{13,19}$/.test(pan)) throw new CryptoError('BAD_PAN', 'PAN must be 13 to 19 digits');
}

/** 0000 + the 12 PAN digits left of the check digit. */
function panBlock(pan: string): Buffer {
  checkPan(pan);
  return fromHex('0000' + pan.slice(-13, -1));
}

export function clearPinBlock(pin: string, pan: string): Buffer {
  checkPin(pin);
  const pinField = fromHex(('0' + pin.length.toString(16).toUpperCase() + pin).padEnd(16, 'F'));
  const block = panBlock(pan);
  for (let i = 0; i < PIN_BLOCK_LENGTH; i++) block[i] ^= pinField[i];
  pinField.fill(0);
  return block;
}

/** The PIN in a clear format-0 block, or BAD_PIN_BLOCK when the block is not one for this PAN. */
export function pinFromClearBlock(block: Uint8Array, pan: string): string {
  if (block.length !== PIN_BLOCK_LENGTH) throw new CryptoError('BAD_PIN_BLOCK', `PIN block must be ${PIN_BLOCK_LENGTH} bytes`);
  const field = panBlock(pan);
  for (let i = 0; i < PIN_BLOCK_LENGTH; i++) field[i] ^= block[i];
  const nibbles = toHex(field);
  field.fill(0);
  const length = parseInt(nibbles[1], 16);
  const valid =
    nibbles[0] === '0' &&
    length >= 4 &&
    length <= 12 &&
    /^\d+$/.test(nibbles.slice(2, 2 + length)) &&
    /^F*$/.test(nibbles.slice(2 + length));
  if (!valid) throw new CryptoError('BAD_PIN_BLOCK', 'not a format 0 PIN block for this PAN (wrong key, PAN or format)');
  return nibbles.slice(2, 2 + length);
}

export function encryptPinBlock(pinKey: SecretKey, pin: string, pan: string): Buffer {
  const clear = clearPinBlock(pin, pan);
  try {
    return pinKey.encrypt(clear);
  } finally {
    clear.fill(0);
  }
}

export function decryptPin(pinKey: SecretKey, encrypted: Uint8Array, pan: string): string {
  const clear = pinKey.decrypt(encrypted);
  try {
    return pinFromClearBlock(clear, pan);
  } finally {
    clear.fill(0);
  }
}

/** True when the encrypted block holds `pin` for `pan`; a malformed block is simply false. */
export function verifyPin(pinKey: SecretKey, encrypted: Uint8Array, pan: string, pin: string): boolean {
  try {
    return decryptPin(pinKey, encrypted, pan) === pin;
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'BAD_PIN_BLOCK') return false;
    throw e;
  }
}
