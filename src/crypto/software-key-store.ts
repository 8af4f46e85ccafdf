import { CryptoError } from '../errors';
import type { KeyStore, LoadWorkKeyRequest, MacRequest, PinBlockRequest } from './key-store';
import { computeMac } from './mac';
import { encryptPinBlock } from './pin-block';
import { SecretKey } from './secret-key';
import type { WorkKeyType } from './work-keys';

interface WorkKeyEntry {
  type: WorkKeyType;
  key: SecretKey;
}

/** A key store in memory, behind the same interface as a PIN pad. Keys are zeroed when replaced or closed. */
export class SoftwareKeyStore implements KeyStore {
  readonly description: string;
  private readonly masters = new Map<number, SecretKey>();
  private readonly slots = new Map<number, WorkKeyEntry>();
  private closed = false;

  constructor(description = 'software key store') {
    this.description = description;
  }

  private open(): void {
    if (this.closed) throw new CryptoError('STORE_CLOSED', `${this.description} is closed`);
  }

  async loadMasterKey(index: number, key: SecretKey): Promise<Buffer> {
    this.open();
    const copy = SecretKey.fromBytes(key.reveal());
    this.masters.get(index)?.destroy();
    this.masters.set(index, copy);
    return copy.checkValue();
  }

  async loadWorkKey(request: LoadWorkKeyRequest): Promise<Buffer> {
    this.open();
    const master = this.masters.get(request.masterIndex);
    if (master === undefined) {
      throw new CryptoError('NO_MASTER_KEY', `${this.description} has no master key at index ${request.masterIndex}`, {
        masterIndex: request.masterIndex,
      });
    }
    const clear = master.decrypt(request.encrypted);
    const key = SecretKey.fromBytes(clear);
    clear.fill(0);
    this.slots.get(request.slot)?.key.destroy();
    this.slots.set(request.slot, { type: request.type, key });
    return key.checkValue();
  }

  private entry(type: WorkKeyType, slot: number): WorkKeyEntry {
    this.open();
    const entry = this.slots.get(slot);
    if (entry === undefined || entry.type !== type) {
      throw new CryptoError('EMPTY_SLOT', `${this.description} has no ${type} key in slot ${slot}`, { slot, key: type });
    }
    return entry;
  }

  async checkValue(type: WorkKeyType, slot: number): Promise<Buffer> {
    return this.entry(type, slot).key.checkValue();
  }

  async clearWorkKey(type: WorkKeyType, slot: number): Promise<void> {
    const entry = this.slots.get(slot);
    if (entry !== undefined && entry.type === type) {
      entry.key.destroy();
      this.slots.delete(slot);
    }
  }

  async pinBlock(request: PinBlockRequest): Promise<Buffer> {
    return encryptPinBlock(this.entry('pin', request.slot).key, request.pin, request.pan);
  }

  async mac(request: MacRequest): Promise<Buffer> {
    return computeMac(request.algorithm, this.entry('mac', request.slot).key, request.data);
  }

  async close(): Promise<void> {
    for (const key of this.masters.values()) key.destroy();
    for (const entry of this.slots.values()) entry.key.destroy();
    this.masters.clear();
    this.slots.clear();
    this.closed = true;
  }
}
