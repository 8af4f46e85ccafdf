import type { MacAlgorithm } from './mac';
import type { SecretKey } from './secret-key';
import type { WorkKeyType } from './work-keys';

/**
 * What every holder of keys offers: the software key store (simulators, tests, benches without a
 * PIN pad) and the PIN pad drivers. Master keys sit at indexes, work keys in slots; work keys
 * arrive encrypted under a master key and the holder decrypts them itself (R-KEY-3), returning
 * the check value of what it loaded so the caller can compare it with the platform's (R-KEY-2).
 * Nothing here returns a clear work key or PIN.
 */
export interface LoadWorkKeyRequest {
  type: WorkKeyType;
  slot: number;
  masterIndex: number;
  /** The key encrypted under the master key, as field 62 carries it. */
  encrypted: Buffer;
}

export interface PinBlockRequest {
  slot: number;
  pin: string;
  pan: string;
}

export interface MacRequest {
  slot: number;
  algorithm: MacAlgorithm;
  data: Buffer;
}

export interface KeyStore {
  /** Which holder this is, for tables and errors ("software", "ZT588 on /dev/ttyUSB0"). */
  readonly description: string;
  /** Bench use only: put a clear master key at `index`; returns its check value. */
  loadMasterKey(index: number, key: SecretKey): Promise<Buffer>;
  /** Decrypt `encrypted` under the master key and keep it in the slot; returns the check value. */
  loadWorkKey(request: LoadWorkKeyRequest): Promise<Buffer>;
  /** The check value of the key now in a slot. */
  checkValue(type: WorkKeyType, slot: number): Promise<Buffer>;
  /** Make a slot unusable (a key whose check failed must not stay active). */
  clearWorkKey(type: WorkKeyType, slot: number): Promise<void>;
  /** Format 0 PIN block encrypted with the PIN key in `slot`. */
  pinBlock(request: PinBlockRequest): Promise<Buffer>;
  /** Field 64 bytes computed with the MAC key in `slot`. */
  mac(request: MacRequest): Promise<Buffer>;
  /** Zero every key and release the device. */
  close(): Promise<void>;
}
