import { systemClock, type Clock } from '../clock';
import { fromHex, toHex } from '../codec/hex';
import type { KeyStore, LoadWorkKeyRequest, MacRequest, PinBlockRequest } from '../crypto/key-store';
import type { SecretKey } from '../crypto/secret-key';
import type { WorkKeyType } from '../crypto/work-keys';
import { openSerialLine, type SerialLine } from '../serial/port';
import type { PinPadProfile } from './profile';
import { CMD, DEVICE_ERRORS, hex2, isDeviceError, KEY_TYPE, lengthCode, MAC_CODE, PIN_FORMAT_ISO0 } from './szzt-protocol';
import { PinPadError, SzztLink, type SzztLinkCounters } from './szzt-link';

export interface DeviceInfo {
  model: string;
  hardwareVersion: string;
  softwareVersion: string;
  productionDate: string;
  serial: string;
}

/**
 * A PIN pad of the SZZT family behind the KeyStore interface. Work keys go to the device still
 * encrypted under the master key it holds; it decrypts them itself and answers with the check
 * value of what it loaded (R-KEY-3). Device errors become PinPadErrors naming device, command and
 * code. Key material is never logged or put in an error.
 */
export class SzztPinPad implements KeyStore {
  readonly description: string;
  private readonly link: SzztLink;

  private constructor(
    private readonly port: SerialLine,
    readonly profile: PinPadProfile,
    clock: Clock,
  ) {
    this.description = `${profile.name} on ${port.path}`;
    this.link = new SzztLink(port, { device: this.description, clock, timeoutMs: profile.timeoutMs, retries: profile.retries });
  }

  static async open(path: string, profile: PinPadProfile, clock: Clock = systemClock): Promise<SzztPinPad> {
    const port = await openSerialLine(path, { baudRate: profile.baudRate, controlLines: false });
    return new SzztPinPad(port, profile, clock);
  }

  get counters(): SzztLinkCounters {
    return this.link.counters;
  }

  /** The device key index of a logical slot. */
  keyIndex(slot: number): number {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.profile.slots) {
      throw new PinPadError('BAD_SLOT', `${this.description}: slot ${slot} is outside 0..${this.profile.slots - 1}`, { device: this.description });
    }
    return this.profile.keyIndex.base + this.profile.keyIndex.step * slot;
  }

  /** Send a command; a status byte E0..EF is a typed device error. Returns the data after the status. */
  private async run(name: string, text: string): Promise<string> {
    const answer = await this.link.command(text, name);
    const status = answer[0];
    if (status === undefined) throw new PinPadError('PINPAD_EMPTY_ANSWER', `${this.description}: ${name}: empty answer`, { device: this.description, command: name });
    if (isDeviceError(status)) {
      const code = hex2(status);
      throw new PinPadError(`PINPAD_${code}`, `${this.description}: ${name} refused: ${code} ${DEVICE_ERRORS[status] ?? 'unknown device error'}`, {
        device: this.description,
        command: name,
        deviceCode: code,
      });
    }
    return answer.toString('latin1', 1);
  }

  private requireSupport(feature: keyof PinPadProfile['supports'], what: string): void {
    if (!this.profile.supports[feature]) {
      throw new PinPadError('PINPAD_UNSUPPORTED', `${this.description} cannot ${what} (profile ${this.profile.name})`, { device: this.description });
    }
  }

  async deviceInfo(): Promise<DeviceInfo> {
    const data = await this.run('device information', CMD.deviceInfo);
    // user info 50, scan codes 48, settings 20, function code 8, model 6, hw 3, sw 3, date 4, serial 4
    const field = (from: number, length: number) => data.slice(from, from + length).trim();
    return {
      model: field(126, 6),
      hardwareVersion: field(132, 3),
      softwareVersion: field(135, 3),
      productionDate: field(138, 4),
      serial: field(142, 4),
    };
  }

  async loadMasterKey(index: number, key: SecretKey): Promise<Buffer> {
    const clear = key.reveal();
    try {
      const text = CMD.loadPlainKey + hex2(index) + KEY_TYPE.master + lengthCode(clear.length) + toHex(clear);
      return fromHex(await this.run('load master key', text), 'check value');
    } finally {
      clear.fill(0);
    }
  }

  async loadWorkKey(request: LoadWorkKeyRequest): Promise<Buffer> {
    const text =
      CMD.loadEncryptedKey +
      hex2(request.masterIndex) +
      hex2(this.keyIndex(request.slot)) +
      KEY_TYPE[request.type] +
      (lengthCode(request.encrypted.length) + 1) +
      toHex(request.encrypted);
    return fromHex(await this.run(`load ${request.type} key into slot ${request.slot}`, text), 'check value');
  }

  async checkValue(type: WorkKeyType, slot: number): Promise<Buffer> {
    this.requireSupport('readCheckValue', 'report a check value');
    return fromHex(await this.run(`read ${type} key check value`, CMD.readCheckValue + hex2(this.keyIndex(slot))), 'check value');
  }

  /** Erase the slot: the public command set loads "type 0, length 0" for that. */
  async clearWorkKey(type: WorkKeyType, slot: number): Promise<void> {
    await this.run(`erase ${type} key in slot ${slot}`, CMD.loadEncryptedKey + '00' + hex2(this.keyIndex(slot)) + '00');
  }

  /**
   * Format 0 PIN block from the device: it takes the PIN from its own keypad (a real cardholder,
   * or the emulator's scripted one), never from the host; `request.pin` only gives its length.
   */
  async pinBlock(request: PinBlockRequest): Promise<Buffer> {
    this.requireSupport('pinEntry', 'take a PIN');
    const pan12 = request.pan.slice(-13, -1);
    if (!/^\d{12}$/.test(pan12)) throw new PinPadError('BAD_PAN', `${this.description}: PAN must be 13 to 19 digits`);
    const length = String(request.pin.length).padStart(2, '0');
    await this.run('start PIN entry', CMD.startPinEntry + hex2(this.keyIndex(request.slot)) + PIN_FORMAT_ISO0 + '0' + length + pan12);
    const data = await this.run('read PIN block', CMD.readPinBlock);
    return fromHex(data.slice(4), 'PIN block'); // track (2) + length (2) + block
  }

  async mac(request: MacRequest): Promise<Buffer> {
    this.requireSupport('mac', 'compute a MAC');
    return fromHex(await this.run('compute MAC', CMD.mac + hex2(this.keyIndex(request.slot)) + MAC_CODE[request.algorithm] + toHex(request.data)), 'MAC');
  }

  async close(): Promise<void> {
    await this.port.close();
  }
}
