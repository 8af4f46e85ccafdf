import type { ErrorCode } from '../errors';
import { Buffer } from 'node:buffer';
import createDebug from 'debug';
import { systemClock, type Clock, type TimerHandle } from '../clock';
import { fromHex } from '../codec/hex';
import type { KeyStore, LoadWorkKeyRequest, MacRequest, PinBlockRequest } from '../crypto/key-store';
import type { SecretKey } from '../crypto/secret-key';
import { wrapTr31, type Tr31Header } from '../crypto/tr31';
import type { WorkKeyType } from '../crypto/work-keys';
import { openSerialLine, type SerialLine } from '../serial/port';
import { encodeIdtechFrame, IdtechDecoder } from './idtech-frame';
import type { PinPadProfile } from './profile';
import { PinPadError } from './szzt-link';

const log = createDebug('nacbridge:pinpad');

/** Command bodies (task, function) from the L100 manual; see docs/pinpads.md for what is nacbridge's reading. */
export const IDTECH = {
  firmwareVersion: [0x78, 0x46, 0x01],
  keyStatus: [0x78, 0x46, 0x30],
  loadKey: [0x75, 0x46, 0x3b],
  encryptedPin: [0x75, 0x46, 0x07],
} as const;

/** Key index ("key name") of the L100's key status table; 0x29 and 0x2A are nacbridge's for MAC and track session keys. */
export const KEY_INDEX: Record<'master' | WorkKeyType, number> = { master: 0x08, pin: 0x28, mac: 0x29, track: 0x2a };
const TR31_USAGE: Record<'master' | WorkKeyType, Pick<Tr31Header, 'usage' | 'modeOfUse'>> = {
  master: { usage: 'K0', modeOfUse: 'D' },
  pin: { usage: 'P0', modeOfUse: 'E' },
  mac: { usage: 'M3', modeOfUse: 'C' },
  track: { usage: 'D0', modeOfUse: 'B' },
};

export interface IdtechOptions {
  /** Master keys the host knows, by index: field 62's keys are translated into TR-31 blocks under them. */
  translation?: Map<number, SecretKey>;
  /** The pad's key block protection key, for loading a master key (bench use). */
  kbpk?: SecretKey;
  clock?: Clock;
}

export interface IdtechCounters {
  commands: number;
  retransmissions: number;
  naks: number;
  badFrames: number;
  timeouts: number;
  keyPresses: number;
}

/** "15 07 02"-style answers. */
const ERRORS: Readonly<Record<string, string>> = {
  '0400': 'no PIN key',
  '0702': 'PAN is in error',
  '0A01': 'key block MAC does not verify',
  '0A02': 'key block format error',
  '0A03': 'no key to unwrap the key block with',
  '0A04': 'key length or usage not accepted',
};

/**
 * A TR-31 pad of the ID TECH SmartPIN family behind the KeyStore interface. Keys go in as TR-31
 * version B key blocks (src/crypto/tr31.ts) and the pad answers every load with the key's check
 * value. Field 62's keys arrive encrypted under the TMK, which this family cannot take, so the
 * host translates: it decrypts each with the TMK it was given (environment) and wraps it at once
 * in a TR-31 block under the same TMK, the pad's PIN master key; the clear key lives only in that
 * step and is zeroed. A block the pad cannot authenticate is refused by the pad.
 */
export class IdtechPinPad implements KeyStore {
  readonly description: string;
  readonly counters: IdtechCounters = { commands: 0, retransmissions: 0, naks: 0, badFrames: 0, timeouts: 0, keyPresses: 0 };
  private readonly decoder = new IdtechDecoder();
  private readonly frames: Buffer[] = [];
  private retry: ((why: string) => void) | null = null;
  private wake: (() => void) | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly loaded = new Map<number, { type: WorkKeyType; masterIndex: number }>();
  private readonly clock: Clock;

  private constructor(
    private readonly port: SerialLine,
    readonly profile: PinPadProfile,
    private readonly options: IdtechOptions,
  ) {
    this.description = `${profile.name} on ${port.path}`;
    this.clock = options.clock ?? systemClock;
    port.on('data', (chunk) =>
      this.decoder.push(chunk, (e) => {
        if (e.type === 'frame') {
          this.frames.push(e.body);
          this.wake?.();
        } else if (e.type === 'key') this.counters.keyPresses++;
        else if (e.type === 'nak') {
          this.counters.naks++;
          this.retry?.('NAK');
        } else {
          this.counters.badFrames++;
          this.retry?.(e.error.code);
        }
      }),
    );
  }

  static async open(path: string, profile: PinPadProfile, options: IdtechOptions = {}): Promise<IdtechPinPad> {
    const port = await openSerialLine(path, { baudRate: profile.baudRate, controlLines: false });
    return new IdtechPinPad(port, profile, options);
  }

  private fail(code: ErrorCode, name: string, why: string, deviceCode?: string): PinPadError {
    return new PinPadError(code, `${this.description}: ${name}: ${why}`, { device: this.description, command: name, deviceCode });
  }

  /** The next frame within `ms`, or null. */
  private nextFrame(ms: number): Promise<Buffer | null> {
    const ready = this.frames.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => {
      let timer: TimerHandle | null = null;
      this.wake = () => {
        this.wake = null;
        timer?.cancel();
        resolve(this.frames.shift() ?? null);
      };
      timer = this.clock.setTimeout(() => {
        this.wake = null;
        resolve(null);
      }, ms);
    });
  }

  /** Send a body; resend on NAK, a bad frame or silence; resolve with the answer's body. */
  private command(body: Buffer, name: string): Promise<Buffer> {
    const run = async (): Promise<Buffer> => {
      this.counters.commands++;
      this.frames.length = 0;
      const frame = encodeIdtechFrame(body);
      const retries = this.profile.retries;
      for (let tries = 1; ; tries++) {
        let reason: string | null = null;
        this.retry = (why) => {
          reason = why;
          this.wake?.();
        };
        this.port.write(frame);
        const answer = await this.nextFrame(this.profile.timeoutMs);
        this.retry = null;
        if (answer) return this.checked(answer, name);
        if (reason === null) this.counters.timeouts++;
        if (tries > retries) throw this.fail('PINPAD_NO_ANSWER', name, `failed after ${tries} attempt(s): ${reason ?? 'no answer'}`);
        this.counters.retransmissions++;
        log('%s: %s: %s, sending again', this.description, name, reason ?? 'no answer');
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** 06 + data is success; 15 + code a typed device error. */
  private checked(answer: Buffer, name: string): Buffer {
    if (answer[0] === 0x06) return answer.subarray(1);
    if (answer[0] === 0x15) {
      const code = answer.subarray(1).toString('hex').toUpperCase();
      throw this.fail(`PINPAD_15_${code}`, name, `refused: 15 ${code} ${ERRORS[code] ?? 'device error'}`, code);
    }
    throw this.fail('PINPAD_BAD_RESPONSE', name, 'the answer is neither 06 nor 15');
  }

  async deviceInfo(): Promise<{ model: string; firmware: string }> {
    const version = (await this.command(Buffer.from(IDTECH.firmwareVersion), 'get firmware version')).toString('latin1').trim();
    return { model: version.split(/\s+/).slice(0, -1).join(' ') || version, firmware: version.split(/\s+/).pop() ?? '' };
  }

  /** 78 46 30: [key index, slot, status] of every key the pad knows. */
  async keyStatus(): Promise<{ index: number; slot: number; exists: boolean }[]> {
    const data = await this.command(Buffer.from(IDTECH.keyStatus), 'get key status');
    const count = data.readUInt16LE(0);
    const out: { index: number; slot: number; exists: boolean }[] = [];
    for (let i = 0; i < count && 2 + i * 4 + 4 <= data.length; i++) {
      const at = 2 + i * 4;
      out.push({ index: data[at], slot: data.readUInt16BE(at + 1), exists: data[at + 3] === 1 });
    }
    return out;
  }

  private async loadBlock(block: string, name: string): Promise<Buffer> {
    const kcv = await this.command(Buffer.concat([Buffer.from(IDTECH.loadKey), Buffer.from(block, 'latin1')]), name);
    if (kcv.length !== 3) throw this.fail('PINPAD_BAD_RESPONSE', name, `expected a 3-byte check value, got ${kcv.length} bytes`);
    return kcv;
  }

  private header(kind: 'master' | WorkKeyType, slot: number): Tr31Header {
    const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
    return {
      version: 'B',
      ...TR31_USAGE[kind],
      algorithm: 'T',
      keyVersion: '00',
      exportability: 'N',
      optionalBlocks: [
        { id: '01', data: hex4(KEY_INDEX[kind]) },
        { id: '02', data: hex4(slot) },
      ],
    };
  }

  private checkLength(kind: 'master' | WorkKeyType, length: number): void {
    const lengths = this.profile.keyLengths[kind];
    if (!lengths.includes(length)) throw new PinPadError('PINPAD_BAD_KEY_LENGTH', `${this.description} takes ${lengths.join(' or ') || 'no'}-byte ${kind} keys, not ${length}`);
  }

  /** Bench use: a master key as a TR-31 K0 block under the pad's KBPK; the pad answers its check value. */
  async loadMasterKey(index: number, key: SecretKey): Promise<Buffer> {
    if (!this.options.kbpk) throw new PinPadError('PINPAD_NO_KBPK', `${this.description}: loading a master key needs the pad's key block protection key`);
    this.checkLength('master', key.length);
    const kbpk = this.options.kbpk.reveal();
    const clear = key.reveal();
    try {
      return await this.loadBlock(wrapTr31(kbpk, this.header('master', index), clear), `load master key ${index}`);
    } finally {
      kbpk.fill(0);
      clear.fill(0);
    }
  }

  async loadWorkKey(request: LoadWorkKeyRequest): Promise<Buffer> {
    this.checkLength(request.type, request.encrypted.length);
    const tmk = this.options.translation?.get(request.masterIndex);
    if (!tmk) throw new PinPadError('PINPAD_NO_TRANSLATION_KEY', `${this.description}: the host has no master key ${request.masterIndex} to translate field 62's keys into key blocks`);
    const clear = tmk.decrypt(request.encrypted);
    const kbpk = tmk.reveal();
    try {
      const kcv = await this.loadBlock(wrapTr31(kbpk, this.header(request.type, request.masterIndex), clear), `load ${request.type} key`);
      this.loaded.set(request.slot, { type: request.type, masterIndex: request.masterIndex });
      return kcv;
    } finally {
      clear.fill(0);
      kbpk.fill(0);
    }
  }

  async checkValue(): Promise<Buffer> {
    throw new PinPadError('PINPAD_UNSUPPORTED', `${this.description} cannot report a check value on request (it reports one on load)`, { device: this.description });
  }

  /** The family has no erase command in nacbridge's subset: the slot is forgotten on the host and must be reloaded. */
  async clearWorkKey(_type: WorkKeyType, slot: number): Promise<void> {
    this.loaded.delete(slot);
  }

  /**
   * 75 46 07, MK/SK with a plaintext PAN: the pad answers 06 at once, echoes "*" per digit typed,
   * then sends 06 + 16 ASCII hex of the PIN block.
   */
  async pinBlock(request: PinBlockRequest): Promise<Buffer> {
    if (!this.profile.supports.pinEntry) throw new PinPadError('PINPAD_UNSUPPORTED', `${this.description} cannot take a PIN`);
    const entry = this.loaded.get(request.slot);
    if (!entry || entry.type !== 'pin') throw new PinPadError('PINPAD_EMPTY_SLOT', `${this.description} has no PIN key in slot ${request.slot}`);
    if (!/^\d{13,19}$/.test(request.pan)) throw new PinPadError('BAD_PAN', `${this.description}: PAN must be 13 to 19 digits`);
    const prompt = Buffer.from('ENTER PIN', 'latin1');
    const body = Buffer.concat([Buffer.from(IDTECH.encryptedPin), Buffer.from([0x00]), Buffer.from(request.pan.slice(-16).padStart(16, '0'), 'latin1'), Buffer.from([prompt.length]), prompt]);
    await this.command(body, 'get encrypted PIN');
    const done = await this.nextFrame(this.profile.pinEntryTimeoutMs);
    if (!done) throw this.fail('PINPAD_NO_ANSWER', 'get encrypted PIN', 'no PIN block (the cardholder did not finish)');
    const data = this.checked(done, 'get encrypted PIN').toString('latin1');
    if (!/^[0-9A-F]{16}$/.test(data)) throw this.fail('PINPAD_BAD_RESPONSE', 'get encrypted PIN', 'the PIN block is not 16 hex digits');
    return fromHex(data, 'PIN block');
  }

  async mac(_request: MacRequest): Promise<Buffer> {
    throw new PinPadError('PINPAD_UNSUPPORTED', `${this.description} cannot compute a MAC (profile ${this.profile.name})`, { device: this.description });
  }

  async close(): Promise<void> {
    this.loaded.clear();
    await this.port.close();
  }
}
