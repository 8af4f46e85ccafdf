import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../clock';
import { fromHex, toHex } from '../codec/hex';
import type { KeyStore, LoadWorkKeyRequest, MacRequest, PinBlockRequest } from '../crypto/key-store';
import { SecretKey } from '../crypto/secret-key';
import type { WorkKeyType } from '../crypto/work-keys';
import { openSerialLine, type SerialLine } from '../serial/port';
import type { PinPadProfile } from './profile';
import { PinPadError } from './szzt-link';
import { VerifoneLink, type VerifoneLinkCounters } from './verifone-link';

/** What packet 06 answers: version, release date, facility, batch, serial (VeriFone IPP layout). */
export interface VerifoneDeviceInfo {
  model: string;
  firmware: string;
  releaseDate: string;
  serial: string;
}

const FS = '\x1c';
/** Z66 carries at most 224 characters of message: 112 bytes as hex. */
const MAC_CHUNK = 112;

/**
 * A VeriFone PINpad 1000-family pad (master / session keys) behind the KeyStore interface.
 *
 * The family has no work-key slots: a session key travels, still encrypted under the selected
 * master key, inside every PIN-entry (Z60) and MAC (Z66) packet, and the pad decrypts it there.
 * So "loading" a work key checks that its master key is in the pad (packet 04) and keeps the
 * encrypted key on the host for later packets; the host never holds it in clear (R-KEY-3). The pad
 * reports no check value; what proves a key is a device operation the host can check: the MAC of
 * one block of zeros under the key is the key's check value (ISO 9797-1 algorithms 1 and 3 on a
 * single block are plain (T)DES encryption), so signon compares it with field 62's.
 */
export class VerifonePinPad implements KeyStore {
  readonly description: string;
  private readonly link: VerifoneLink;
  private readonly sessionKeys = new Map<number, { type: WorkKeyType; masterIndex: number; encrypted: Buffer }>();
  private selected: number | null = null;

  private constructor(
    private readonly port: SerialLine,
    readonly profile: PinPadProfile,
    clock: Clock,
  ) {
    this.description = `${profile.name} on ${port.path}`;
    this.link = new VerifoneLink(port, { device: this.description, clock, timeoutMs: profile.timeoutMs, retries: profile.retries });
  }

  static async open(path: string, profile: PinPadProfile, clock: Clock = systemClock): Promise<VerifonePinPad> {
    const port = await openSerialLine(path, { baudRate: profile.baudRate, controlLines: false });
    return new VerifonePinPad(port, profile, clock);
  }

  get counters(): VerifoneLinkCounters {
    return this.link.counters;
  }

  private address(masterIndex: number): string {
    if (!Number.isInteger(masterIndex) || masterIndex < 0 || masterIndex > 9) {
      throw new PinPadError('BAD_SLOT', `${this.description}: master key address ${masterIndex} is outside 0..9`, { device: this.description });
    }
    return String(masterIndex);
  }

  private checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.profile.slots) {
      throw new PinPadError('BAD_SLOT', `${this.description}: slot ${slot} is outside 0..${this.profile.slots - 1}`, { device: this.description });
    }
  }

  private unsupported(what: string): PinPadError {
    return new PinPadError('PINPAD_UNSUPPORTED', `${this.description} cannot ${what} (profile ${this.profile.name})`, { device: this.description });
  }

  /** Packet 06: the serial number record, also the family's device information. */
  async deviceInfo(): Promise<VerifoneDeviceInfo> {
    const body = (await this.link.exchange({ framing: 'SI', body: '06', name: 'read serial number', response: 'packet', closingEot: 'optional' })) as Buffer;
    const text = body.toString('latin1');
    if (!text.startsWith('06')) throw new PinPadError('PINPAD_BAD_RESPONSE', `${this.description}: read serial number: the answer is not packet 06`);
    const record = text.slice(2);
    return { model: this.profile.name, firmware: record.slice(0, 3), releaseDate: record.slice(3, 9), serial: record.slice(9) };
  }

  /** Packet 04: is there a master key at this address? */
  async hasMasterKey(masterIndex: number): Promise<boolean> {
    const body = (await this.link.exchange({ framing: 'SI', body: '04' + this.address(masterIndex), name: `check master key ${masterIndex}`, response: 'packet', closingEot: 'optional' })) as Buffer;
    const status = body.toString('latin1', 2, 3);
    if (status !== '0' && status !== 'F') throw new PinPadError('PINPAD_BAD_RESPONSE', `${this.description}: check master key: unexpected status ${JSON.stringify(status)}`);
    return status === 'F';
  }

  /** Packet 08: the master key later Z60 / Z66 packets use. Answered with ACK only. */
  private async select(masterIndex: number): Promise<void> {
    if (this.selected === masterIndex) return;
    await this.link.exchange({ framing: 'SI', body: '08' + this.address(masterIndex), name: `select master key ${masterIndex}`, response: 'none' });
    this.selected = masterIndex;
  }

  /**
   * Bench use: packet 02 puts a clear master key at an address (the pad echoes the packet, the
   * host checks the echo and ACKs, the pad stores and sends EOT). The pad reports no check value,
   * so the load is proven by a device operation the host can check: a random session key
   * encrypted under the new master key, and the pad's MAC of a zero block under it.
   */
  async loadMasterKey(index: number, key: SecretKey): Promise<Buffer> {
    if (!this.profile.keyLengths.master.includes(key.length)) {
      throw new PinPadError('PINPAD_BAD_KEY_LENGTH', `${this.description} takes ${this.profile.keyLengths.master.join(' or ')}-byte master keys, not ${key.length}`);
    }
    const clear = key.reveal();
    try {
      await this.link.exchange({ framing: 'SI', body: '02' + this.address(index) + toHex(clear), name: `load master key ${index}`, response: 'echo', closingEot: 'required' });
    } finally {
      clear.fill(0);
    }
    if (this.selected === index) this.selected = null;
    const probe = SecretKey.fromBytes(randomBytes(key.length === 8 ? 8 : 16));
    try {
      const clearProbe = probe.reveal();
      const encrypted = key.encrypt(clearProbe);
      clearProbe.fill(0);
      const mac = await this.macWith(index, encrypted, Buffer.alloc(8), 'prove master key');
      if (!mac.subarray(0, 4).equals(probe.checkValue())) {
        throw new PinPadError('PINPAD_PROOF_FAILED', `${this.description}: master key ${index} was stored, but a MAC under it does not match: the pad holds another key`);
      }
      return key.checkValue();
    } finally {
      probe.destroy();
    }
  }

  async loadWorkKey(request: LoadWorkKeyRequest): Promise<Buffer> {
    this.checkSlot(request.slot);
    const lengths = this.profile.keyLengths[request.type];
    if (!lengths.includes(request.encrypted.length)) {
      throw new PinPadError('PINPAD_BAD_KEY_LENGTH', `${this.description} takes ${lengths.join(' or ')}-byte ${request.type} keys, not ${request.encrypted.length}`);
    }
    if (!(await this.hasMasterKey(request.masterIndex))) {
      throw new PinPadError('PINPAD_NO_MASTER_KEY', `${this.description}: no master key at address ${request.masterIndex}`, { device: this.description });
    }
    this.sessionKeys.set(request.slot, { type: request.type, masterIndex: request.masterIndex, encrypted: Buffer.from(request.encrypted) });
    return Buffer.alloc(0); // the family reports no check value
  }

  async checkValue(): Promise<Buffer> {
    throw this.unsupported('report a check value (keys travel with each packet; prove them with a MAC of a zero block)');
  }

  async clearWorkKey(_type: WorkKeyType, slot: number): Promise<void> {
    this.sessionKeys.delete(slot);
  }

  private session(type: WorkKeyType | null, slot: number): { masterIndex: number; encrypted: Buffer } {
    this.checkSlot(slot);
    const entry = this.sessionKeys.get(slot);
    if (!entry || (type !== null && entry.type !== type)) {
      throw new PinPadError('PINPAD_EMPTY_SLOT', `${this.description} has no ${type ?? 'work'} key in slot ${slot}`, { device: this.description, slot });
    }
    return entry;
  }

  /** Z66 / Z67 over as many packets as the data needs (binary data, ASCII-hex coded). */
  private async macWith(masterIndex: number, encrypted: Buffer, data: Buffer, name: string): Promise<Buffer> {
    await this.select(masterIndex);
    const padded = Buffer.alloc(Math.max(8, Math.ceil(data.length / 8) * 8));
    data.copy(padded);
    const chunks = Math.ceil(padded.length / MAC_CHUNK);
    for (let i = 0; i < chunks; i++) {
      const last = i === chunks - 1;
      const part = padded.subarray(i * MAC_CHUNK, (i + 1) * MAC_CHUNK);
      const body = 'Z66' + (last ? '6' : '7') + String(i % 100).padStart(2, '0') + this.address(masterIndex) + FS + toHex(encrypted) + FS + FS + toHex(part);
      const answer = (await this.link.exchange({ framing: 'STX', body, name, response: 'packet', closingEot: 'optional' })) as Buffer;
      const text = answer.toString('latin1');
      const status = text.slice(3, 4);
      if (!text.startsWith('Z67')) throw new PinPadError('PINPAD_BAD_RESPONSE', `${this.description}: ${name}: the answer is not Z67`);
      if (!last && status === '1') continue;
      if (status !== '0') {
        throw new PinPadError(`PINPAD_Z67_${status}`, `${this.description}: ${name} refused: Z67 status ${status} ${Z67_STATUS[status] ?? 'unknown'}`, {
          device: this.description,
          command: name,
          deviceCode: status,
        });
      }
      return fromHex(text.slice(4, 20), 'MAC');
    }
    throw new PinPadError('PINPAD_BAD_RESPONSE', `${this.description}: ${name}: no MAC`);
  }

  /**
   * The pad's MAC: ISO 9797-1 algorithm 1 with a single-length key (x9.9), algorithm 3 with a
   * double-length key (x9.19). The UnionPay "ECB" MAC is not among the family's algorithms.
   */
  async mac(request: MacRequest): Promise<Buffer> {
    if (!this.profile.supports.mac) throw this.unsupported('compute a MAC');
    const entry = this.session(null, request.slot);
    const algorithm = entry.encrypted.length === 8 ? 'x9.9' : 'x9.19';
    if (request.algorithm !== algorithm) throw this.unsupported(`compute a ${request.algorithm} MAC with a ${entry.encrypted.length}-byte key (it computes ${algorithm})`);
    return this.macWith(entry.masterIndex, entry.encrypted, request.data, `compute MAC with slot ${request.slot}`);
  }

  /** Z60 -> the cardholder types on the pad -> 71 with the format 0 PIN block. */
  async pinBlock(request: PinBlockRequest): Promise<Buffer> {
    if (!this.profile.supports.pinEntry) throw this.unsupported('take a PIN');
    if (!/^\d{8,19}$/.test(request.pan)) throw new PinPadError('BAD_PAN', `${this.description}: the account number must be 8 to 19 digits`);
    const entry = this.session('pin', request.slot);
    await this.select(entry.masterIndex);
    const answer = (await this.link.exchange({
      framing: 'STX',
      body: 'Z60.' + request.pan + FS + toHex(entry.encrypted),
      name: 'PIN entry',
      response: 'packet',
      responseTimeoutMs: this.profile.pinEntryTimeoutMs,
      closingEot: 'none',
    })) as Buffer;
    const text = answer.toString('latin1');
    // 71.<fkey flag 1><PIN length 2><format "01"><PIN block 16>, or 71<error code>
    const m = /^71\.\d(\d{2})01([0-9A-F]{16})$/.exec(text);
    if (!m) {
      const code = text.startsWith('71') ? text.slice(2, 3) : '?';
      throw new PinPadError(`PINPAD_71_${code}`, `${this.description}: PIN entry refused: packet 71 error ${code}`, { device: this.description, deviceCode: code });
    }
    return fromHex(m[2], 'PIN block');
  }

  async close(): Promise<void> {
    for (const entry of this.sessionKeys.values()) entry.encrypted.fill(0);
    this.sessionKeys.clear();
    await this.port.close();
  }
}

export const Z67_STATUS: Readonly<Record<string, string>> = {
  '1': 'ready for the next Z66 packet',
  '2': 'sequence out of order',
  '3': 'master key pointer error',
  '4': 'second key error',
  '5': 'packet frame error',
  '6': 'flag error',
  '7': 'message error',
  '8': 'working key error',
  '9': 'master key attributes',
};
