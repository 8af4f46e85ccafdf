import createDebug from 'debug';
import { fromHex, toHex } from '../../codec/hex';
import { computeMac, type MacAlgorithm } from '../../crypto/mac';
import { SecretKey } from '../../crypto/secret-key';
import { encodeSzztFrame, NAK, SzztFrameDecoder } from '../../pinpad/szzt-frame';
import { CMD, MAC_CODE, STATUS_OK } from '../../pinpad/szzt-protocol';

const log = createDebug('nacbridge:sim-pinpad');

export interface PinPadByteSide {
  write(data: Uint8Array): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
}

/** What to do to the next commands: the driver's retries and error paths get exercised. */
export type PinPadFault =
  | { kind: 'nak'; times: number }
  | { kind: 'silent'; times: number }
  | { kind: 'error'; code: number; times: number }
  /** The next work key loaded is stored with one byte flipped (its check value will differ). */
  | { kind: 'corrupt-key'; times: number };

export interface PinPadEmulatorOptions {
  /** The PIN its scripted cardholder types when asked. */
  typedPin?: string;
  model?: string;
  serial?: string;
}

const MAC_BY_CODE: Record<string, MacAlgorithm> = Object.fromEntries(Object.entries(MAC_CODE).map(([a, c]) => [c, a as MacAlgorithm]));

/**
 * An SZZT-family PIN pad for benches and tests: holds master keys and work keys by device index,
 * decrypts what is loaded under the named master key, answers with check values, takes a PIN
 * from a scripted cardholder, and follows faults (NAK, silence, device errors, a corrupted key).
 */
export class PinPadEmulator {
  readonly commands: string[] = [];
  private readonly masters = new Map<number, SecretKey>();
  private readonly keys = new Map<number, { type: number; key: SecretKey }>();
  private readonly faults: PinPadFault[] = [];
  private readonly decoder = new SzztFrameDecoder();
  private pendingPin: { index: number; pan12: string } | null = null;
  private side: PinPadByteSide;

  constructor(side: PinPadByteSide, private readonly options: PinPadEmulatorOptions = {}) {
    this.side = side;
    this.listen(side);
  }

  /** Plug the pad's cable into another port (a new connection); its keys stay. */
  attach(side: PinPadByteSide): void {
    this.side = side;
    this.decoder.reset();
    this.listen(side);
  }

  private listen(side: PinPadByteSide): void {
    side.on('data', (chunk) => {
      if (this.side !== side) return;
      this.decoder.push(chunk, (e) => {
        if (e.type === 'frame') this.onCommand(e.text.toString('latin1'));
        else if (e.type === 'error') side.write(Buffer.from([NAK]));
      });
    });
  }

  /** A master key the pad "already holds" (loaded at the factory or by a key ceremony). */
  holdMasterKey(index: number, key: SecretKey): void {
    this.masters.get(index)?.destroy();
    this.masters.set(index, SecretKey.fromBytes(key.reveal()));
  }

  inject(fault: PinPadFault): void {
    this.faults.push({ ...fault });
  }

  /** Check value of what sits at a device index (tests compare it with the platform's). */
  storedCheckValue(index: number): string | null {
    const entry = this.keys.get(index);
    return entry ? toHex(entry.key.checkValue()) : null;
  }

  private takeFault(kind: PinPadFault['kind']): PinPadFault | undefined {
    const fault = this.faults.find((f) => f.kind === kind && f.times > 0);
    if (fault) fault.times--;
    return fault;
  }

  private reply(status: number, data = ''): void {
    this.side.write(encodeSzztFrame(Buffer.concat([Buffer.from([status]), Buffer.from(data, 'latin1')])));
  }

  private onCommand(text: string): void {
    const command = text[0];
    this.commands.push(command);
    log('command %s', command);
    if (this.takeFault('silent')) return;
    if (this.takeFault('nak')) {
      this.side.write(Buffer.from([NAK]));
      return;
    }
    const error = this.takeFault('error');
    if (error && error.kind === 'error') {
      this.reply(error.code);
      return;
    }
    try {
      this.execute(command, text.slice(1));
    } catch (e) {
      log('command %s failed: %s', command, (e as Error).message);
      this.reply(0xe9); // incorrect data
    }
  }

  private execute(command: string, args: string): void {
    switch (command) {
      case CMD.loadPlainKey: {
        const index = parseInt(args.slice(0, 2), 16);
        const key = SecretKey.fromHex(args.slice(4), 'key');
        this.masters.get(index)?.destroy();
        this.masters.set(index, key);
        this.reply(STATUS_OK, toHex(key.checkValue()));
        return;
      }
      case CMD.loadEncryptedKey: {
        const under = parseInt(args.slice(0, 2), 16);
        const index = parseInt(args.slice(2, 4), 16);
        const type = Number(args[4]);
        if (type === 0) {
          this.keys.get(index)?.key.destroy();
          this.keys.delete(index);
          this.reply(STATUS_OK);
          return;
        }
        const master = this.masters.get(under);
        if (master === undefined) {
          this.reply(0xe4); // key not found
          return;
        }
        const clear = master.decrypt(fromHex(args.slice(6)));
        // 0x02, not 0x01: the low bit of every DES key byte is parity and changes nothing.
        if (this.takeFault('corrupt-key')) clear[0] ^= 0x02;
        const key = SecretKey.fromBytes(clear);
        clear.fill(0);
        this.keys.get(index)?.key.destroy();
        this.keys.set(index, { type, key });
        this.reply(STATUS_OK, toHex(key.checkValue()));
        return;
      }
      case CMD.readCheckValue: {
        const entry = this.keys.get(parseInt(args.slice(0, 2), 16));
        if (!entry) this.reply(0xe4);
        else this.reply(STATUS_OK, toHex(entry.key.checkValue()));
        return;
      }
      case CMD.deviceInfo: {
        const pad = (s: string, n: number) => s.padEnd(n, ' ').slice(0, n);
        this.reply(STATUS_OK, pad('nacbridge emulator', 50) + '0'.repeat(48) + '0'.repeat(20) + pad('', 8) + pad(this.options.model ?? 'ZT588E', 6) + '1.0' + '1.0' + '2611' + pad(this.options.serial ?? '0001', 4));
        return;
      }
      case CMD.control:
        this.reply(STATUS_OK);
        return;
      case CMD.startPinEntry: {
        const index = parseInt(args.slice(0, 2), 16);
        if (!this.keys.has(index)) {
          this.reply(0xe4);
          return;
        }
        this.pendingPin = { index, pan12: args.slice(6, 18) };
        this.reply(STATUS_OK);
        return;
      }
      case CMD.readPinBlock: {
        const pending = this.pendingPin;
        this.pendingPin = null;
        const typed = this.options.typedPin;
        const entry = pending ? this.keys.get(pending.index) : undefined;
        if (!pending || !entry || typed === undefined) {
          this.reply(0xee); // input timed out: nobody typed
          return;
        }
        const pinField = fromHex(('0' + typed.length.toString(16) + typed).padEnd(16, 'F'));
        const panField = fromHex('0000' + pending.pan12);
        for (let i = 0; i < 8; i++) pinField[i] ^= panField[i];
        const block = entry.key.encrypt(pinField);
        pinField.fill(0);
        this.reply(STATUS_OK, '00' + String(typed.length).padStart(2, '0') + toHex(block));
        return;
      }
      case CMD.mac: {
        const entry = this.keys.get(parseInt(args.slice(0, 2), 16));
        const algorithm = MAC_BY_CODE[args[2]];
        if (!entry || !algorithm) {
          this.reply(entry ? 0xeb : 0xe4);
          return;
        }
        this.reply(STATUS_OK, toHex(computeMac(algorithm, entry.key, fromHex(args.slice(3)))));
        return;
      }
      default:
        this.reply(0xeb); // incorrect parameter
    }
  }

  close(): void {
    for (const m of this.masters.values()) m.destroy();
    for (const k of this.keys.values()) k.key.destroy();
    this.masters.clear();
    this.keys.clear();
  }
}
