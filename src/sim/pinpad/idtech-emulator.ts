import createDebug from 'debug';
import { fromHex, toHex } from '../../codec/hex';
import { SecretKey } from '../../crypto/secret-key';
import { parseTr31Header, unwrapTr31, type Tr31Header } from '../../crypto/tr31';
import { CryptoError } from '../../errors';
import { IDTECH, KEY_INDEX } from '../../pinpad/idtech-driver';
import { encodeIdtechFrame, IdtechDecoder, NAK } from '../../pinpad/idtech-frame';
import type { PinPadByteSide } from './emulator';

const log = createDebug('nacbridge:sim-pinpad');

export type IdtechFault =
  | { kind: 'nak'; times: number }
  | { kind: 'silent'; times: number }
  | { kind: 'corrupt-key'; times: number };

export interface IdtechEmulatorOptions {
  typedPin?: string;
  firmware?: string;
}

const ok = (data: Buffer | string = Buffer.alloc(0)) => Buffer.concat([Buffer.from([0x06]), typeof data === 'string' ? Buffer.from(data, 'latin1') : data]);
const refused = (code: number, sub: number) => Buffer.from([0x15, code, sub]);

/** What each key index accepts: TR-31 usage, and the lengths the L100 takes (TDES double length). */
const ACCEPTS: Record<number, { usage: string; lengths: number[] }> = {
  [KEY_INDEX.master]: { usage: 'K0', lengths: [16] },
  [KEY_INDEX.pin]: { usage: 'P0', lengths: [16] },
  [KEY_INDEX.mac]: { usage: 'M3', lengths: [8, 16] },
  [KEY_INDEX.track]: { usage: 'D0', lengths: [16] },
};

/**
 * An ID TECH SmartPIN L100-style TR-31 pad: frames with LRC and SUM (a bad one gets a lone NAK),
 * keys only as TR-31 B blocks whose MAC it verifies under the right key (the KBPK for the PIN
 * master key, the PIN master key of that slot for session keys), a 3-byte check value for every
 * load, "15 <code>" for everything it refuses (wrong usage, wrong length, no key to unwrap with,
 * PIN entry without a PIN key), and "*" echoed per digit while the cardholder types.
 */
export class IdtechEmulator {
  readonly commands: string[] = [];
  private readonly keys = new Map<string, SecretKey>();
  private readonly faults: IdtechFault[] = [];
  private readonly decoder = new IdtechDecoder();
  private side: PinPadByteSide;
  private kbpk: SecretKey | null = null;

  constructor(side: PinPadByteSide, private readonly options: IdtechEmulatorOptions = {}) {
    this.side = side;
    this.listen(side);
  }

  attach(side: PinPadByteSide): void {
    this.side = side;
    this.decoder.reset();
    this.listen(side);
  }

  private listen(side: PinPadByteSide): void {
    side.on('data', (chunk) => {
      if (this.side !== side) return;
      this.decoder.push(chunk, (e) => {
        if (e.type === 'frame') this.onCommand(e.body);
        else if (e.type === 'error') side.write(Buffer.from([NAK]));
      });
    });
  }

  /** The key block protection key the pad was given at its key ceremony (remote key loading KEK). */
  holdKbpk(key: SecretKey): void {
    this.kbpk?.destroy();
    this.kbpk = SecretKey.fromBytes(key.reveal());
  }

  /** A PIN master key the pad already holds in `slot`. */
  holdMasterKey(slot: number, key: SecretKey): void {
    this.store(KEY_INDEX.master, slot, SecretKey.fromBytes(key.reveal()));
  }

  storedCheckValue(index: number, slot: number): string | null {
    const key = this.keys.get(`${index}:${slot}`);
    return key ? toHex(key.checkValue(3)) : null;
  }

  inject(fault: IdtechFault): void {
    this.faults.push({ ...fault });
  }

  private takeFault(kind: IdtechFault['kind']): boolean {
    const fault = this.faults.find((f) => f.kind === kind && f.times > 0);
    if (fault) fault.times--;
    return fault !== undefined;
  }

  private store(index: number, slot: number, key: SecretKey): void {
    this.keys.get(`${index}:${slot}`)?.destroy();
    this.keys.set(`${index}:${slot}`, key);
  }

  private reply(body: Buffer): void {
    this.side.write(encodeIdtechFrame(body));
  }

  private onCommand(body: Buffer): void {
    const command = body.subarray(0, 3).toString('hex').toUpperCase();
    this.commands.push(command);
    log('command %s', command);
    if (this.takeFault('silent')) return;
    if (this.takeFault('nak')) {
      this.side.write(Buffer.from([NAK]));
      return;
    }
    const is = (c: readonly number[]) => body.length >= 3 && c.every((b, i) => body[i] === b);
    if (is(IDTECH.firmwareVersion)) return this.reply(ok(this.options.firmware ?? 'SmartPIN L100 V1.00.012'));
    if (is(IDTECH.keyStatus)) return this.keyStatus();
    if (is(IDTECH.loadKey)) return this.loadKey(body.subarray(3).toString('latin1'));
    if (is(IDTECH.encryptedPin)) return this.encryptedPin(body.subarray(3));
    this.reply(refused(0x01, 0x00)); // unknown command
  }

  private keyStatus(): void {
    const entries = [KEY_INDEX.master, KEY_INDEX.pin, KEY_INDEX.mac, KEY_INDEX.track].flatMap((index) =>
      [...this.keys.keys()].filter((k) => k.startsWith(`${index}:`)).map((k) => [index, Number(k.split(':')[1])]),
    );
    const data = Buffer.alloc(2 + entries.length * 4);
    data.writeUInt16LE(entries.length, 0);
    entries.forEach(([index, slot], i) => {
      data[2 + i * 4] = index;
      data.writeUInt16BE(slot, 3 + i * 4);
      data[5 + i * 4] = 1;
    });
    this.reply(ok(data));
  }

  private loadKey(block: string): void {
    const option = (header: Tr31Header, id: string): number | null => {
      const b = header.optionalBlocks.find((o) => o.id === id);
      return b && /^[0-9A-F]{4}$/.test(b.data) ? parseInt(b.data, 16) : null;
    };
    let header: Tr31Header;
    try {
      header = parseTr31Header(block).header; // shape only: which key unwraps it is in the header
    } catch {
      return this.reply(refused(0x0a, 0x02));
    }
    const index = option(header, '01');
    const slot = option(header, '02');
    const accepts = index === null ? undefined : ACCEPTS[index];
    if (index === null || slot === null || accepts === undefined || header.usage !== accepts.usage || header.algorithm !== 'T') return this.reply(refused(0x0a, 0x04));
    // The PIN master key comes under the KBPK; session keys under the PIN master key of their slot.
    const unwrapping = index === KEY_INDEX.master ? this.kbpk : this.keys.get(`${KEY_INDEX.master}:${slot}`);
    if (!unwrapping) return this.reply(refused(0x0a, 0x03)); // wrong state: nothing to unwrap with
    const kbpk = unwrapping.reveal();
    try {
      const { key } = unwrapTr31(kbpk, block);
      if (!accepts.lengths.includes(key.length)) {
        key.fill(0);
        return this.reply(refused(0x0a, 0x04));
      }
      if (this.takeFault('corrupt-key')) key[0] ^= 0x02;
      const secret = SecretKey.fromBytes(key);
      key.fill(0);
      this.store(index, slot, secret);
      this.reply(ok(secret.checkValue(3)));
    } catch (e) {
      this.reply(e instanceof CryptoError && e.code === 'TR31_MAC_MISMATCH' ? refused(0x0a, 0x01) : refused(0x0a, 0x02));
    } finally {
      kbpk.fill(0);
    }
  }

  private encryptedPin(args: Buffer): void {
    const pan = args.subarray(1, 17).toString('latin1');
    if (args[0] !== 0x00 || !/^\d{16}$/.test(pan)) return this.reply(refused(0x07, 0x02)); // PAN is in error
    const slots = [...this.keys.keys()].filter((k) => k.startsWith(`${KEY_INDEX.pin}:`));
    const key = slots.length > 0 ? this.keys.get(slots[0]) : undefined;
    if (!key) return this.reply(refused(0x04, 0x00)); // wrong state: no PIN key
    this.reply(ok());
    const typed = this.options.typedPin;
    if (typed === undefined) return; // nobody types: the host times out
    this.side.write(Buffer.from('*'.repeat(typed.length), 'latin1'));
    const pinField = fromHex(('0' + typed.length.toString(16) + typed).padEnd(16, 'F'));
    const panField = fromHex('0000' + pan.slice(-13, -1));
    for (let i = 0; i < 8; i++) pinField[i] ^= panField[i];
    const block = key.encrypt(pinField);
    pinField.fill(0);
    this.reply(ok(toHex(block)));
  }

  close(): void {
    for (const k of this.keys.values()) k.destroy();
    this.keys.clear();
    this.kbpk?.destroy();
  }
}
