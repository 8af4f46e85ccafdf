import type { MacAlgorithm } from '../crypto/mac';
import type { WorkKeyType } from '../crypto/work-keys';

/**
 * The SZZT command set as nacbridge uses it. From public drivers of the family: 1 load a plain
 * key, 2 load an encrypted key (and erase, with type 0), 3 device information, 5 control,
 * 6 start PIN entry, 7 read the PIN block; status bytes E0..EF are device errors.
 * nacbridge additions for benches (the emulator has them; check your device's manual before
 * relying on them with hardware): K read a key's check value, M compute a MAC.
 */
export const CMD = {
  loadPlainKey: '1',
  loadEncryptedKey: '2',
  deviceInfo: '3',
  control: '5',
  startPinEntry: '6',
  readPinBlock: '7',
  readCheckValue: 'K',
  mac: 'M',
} as const;

export const KEY_TYPE: Record<'master' | WorkKeyType, number> = { master: 2, pin: 3, mac: 5, track: 6 };

/** Length code of a key: 0 single, 1 double, 2 triple. */
export function lengthCode(bytes: number): number {
  return bytes === 8 ? 0 : bytes === 16 ? 1 : 2;
}

export const PIN_FORMAT_ISO0 = ' ';

export const MAC_CODE: Record<MacAlgorithm, string> = { 'unionpay-ecb': 'U', 'x9.9': '9', 'x9.19': 'R' };

export const DEVICE_ERRORS: Readonly<Record<number, string>> = {
  0xe0: 'low battery',
  0xe1: 'IMK required',
  0xe2: 'TMK required',
  0xe3: 'unexpected key size',
  0xe4: 'key not found',
  0xe5: 'key not found or not compatible',
  0xe6: 'key parity check failed',
  0xe7: 'key is not valid',
  0xe8: 'unexpected command length',
  0xe9: 'incorrect data',
  0xeb: 'incorrect parameter',
  0xec: 'authorization required',
  0xed: 'authorization temporarily locked',
  0xee: 'input timed out',
  0xef: 'general error',
};

export const STATUS_OK = 0x30;

export function isDeviceError(status: number): boolean {
  return status >= 0xe0 && status <= 0xef;
}

export const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');
