import createDebug from 'debug';
import { fromHex, toHex } from '../../codec/hex';
import { x919Mac, x99Mac } from '../../crypto/mac';
import { SecretKey } from '../../crypto/secret-key';
import { ACK, encodeVerifonePacket, EOT, NAK, VerifoneDecoder, type VerifoneFraming } from '../../pinpad/verifone-frame';
import type { PinPadByteSide } from './emulator';

const log = createDebug('nacbridge:sim-pinpad');

/** Faults for the driver's error paths. */
export type VerifoneFault =
  /** NAK the next good packets as if their LRC were bad. */
  | { kind: 'nak'; times: number }
  /** Say nothing to the next packets. */
  | { kind: 'silent'; times: number }
  /** Send the next responses with a wrong LRC. */
  | { kind: 'corrupt-response'; times: number }
  /** Echo the next master key transfer with one digit changed. */
  | { kind: 'bad-echo'; times: number }
  /** Decrypt the next session key with one bit changed (its MAC and PIN blocks go wrong). */
  | { kind: 'corrupt-key'; times: number };

export interface VerifoneEmulatorOptions {
  /** The PIN its scripted cardholder types; none: PIN entry times out (EOT). */
  typedPin?: string;
  /** Packet 06 fields. */
  version?: string;
  serial?: string;
  /** Master key lengths it takes, in bytes (PINpad 1000SE: 8 and 16). */
  masterKeyLengths?: number[];
}

interface Awaiting {
  raw: Buffer;
  resent: number;
  onAck(): void;
}

/**
 * The VeriFone PINpad 1000-family personality, as strict as the public manuals: a packet with a
 * bad LRC gets NAK (three in a row: EOT); an unknown packet, a malformed one, a wrong key length
 * or a packet in the wrong state (PIN entry before a master key was selected, or under an empty
 * address) gets EOT; responses wait for the host's ACK (NAK: sent again, three times); the master
 * key transfer is echoed and stored only when the host ACKs the echo.
 */
export class VerifoneEmulator {
  readonly commands: string[] = [];
  private readonly masters = new Map<number, SecretKey>();
  private readonly faults: VerifoneFault[] = [];
  private readonly decoder = new VerifoneDecoder();
  private side: PinPadByteSide;
  private badInRow = 0;
  private awaiting: Awaiting | null = null;
  private selected: number | null = null;
  private macSession: { seq: number; data: Buffer[] } | null = null;

  constructor(side: PinPadByteSide, private readonly options: VerifoneEmulatorOptions = {}) {
    this.side = side;
    this.listen(side);
  }

  attach(side: PinPadByteSide): void {
    this.side = side;
    this.decoder.reset();
    this.awaiting = null;
    this.listen(side);
  }

  private listen(side: PinPadByteSide): void {
    side.on('data', (chunk) => {
      if (this.side !== side) return;
      this.decoder.push(chunk, (e) => {
        switch (e.type) {
          case 'packet':
            this.badInRow = 0;
            this.awaiting = null;
            this.onPacket(e.framing, e.body.toString('latin1'));
            break;
          case 'error':
            this.write(++this.badInRow >= 3 ? EOT : NAK);
            if (this.badInRow >= 3) this.badInRow = 0;
            break;
          case 'ack': {
            const a = this.awaiting;
            this.awaiting = null;
            a?.onAck();
            break;
          }
          case 'nak':
            if (this.awaiting && this.awaiting.resent < 3) {
              this.awaiting.resent++;
              this.side.write(this.awaiting.raw);
            } else if (this.awaiting) {
              this.awaiting = null;
              this.write(EOT);
            }
            break;
          case 'eot':
            this.awaiting = null; // the host cancelled: an echoed master key is not stored
            break;
          case 'noise':
            break;
        }
      });
    });
  }

  holdMasterKey(index: number, key: SecretKey): void {
    this.masters.get(index)?.destroy();
    this.masters.set(index, SecretKey.fromBytes(key.reveal()));
  }

  hasMasterKey(index: number): boolean {
    return this.masters.has(index);
  }

  /** Check value of the master key at an address (tests). */
  masterCheckValue(index: number): string | null {
    const key = this.masters.get(index);
    return key ? toHex(key.checkValue()) : null;
  }

  inject(fault: VerifoneFault): void {
    this.faults.push({ ...fault });
  }

  private takeFault(kind: VerifoneFault['kind']): boolean {
    const fault = this.faults.find((f) => f.kind === kind && f.times > 0);
    if (fault) fault.times--;
    return fault !== undefined;
  }

  private write(byte: number): void {
    this.side.write(Buffer.from([byte]));
  }

  /** Send a response and wait for the host's ACK; `closing` sends EOT after it. */
  private respond(framing: VerifoneFraming, body: string, closing: boolean, onAck: () => void = () => undefined): void {
    const raw = encodeVerifonePacket(framing, body);
    const sent = this.takeFault('corrupt-response') ? Buffer.from(raw) : raw;
    if (sent !== raw) sent[sent.length - 1] ^= 0xff;
    this.awaiting = {
      raw,
      resent: 0,
      onAck: () => {
        onAck();
        if (closing) this.write(EOT);
      },
    };
    this.side.write(sent);
  }

  private onPacket(framing: VerifoneFraming, body: string): void {
    const type = framing === 'SI' ? body.slice(0, 2) : body.startsWith('Z') ? body.slice(0, 3) : body.slice(0, 2);
    this.commands.push(type);
    log('packet %s', type);
    if (this.takeFault('silent')) return;
    if (this.takeFault('nak')) {
      this.write(NAK);
      return;
    }
    const handlers: Record<string, (() => void) | undefined> = {
      'SI:02': () => this.transferMasterKey(body),
      'SI:04': () => this.checkMasterKey(body),
      'SI:06': () => this.serialNumber(body),
      'SI:08': () => this.selectMasterKey(body),
      'STX:Z60': () => this.pinEntry(body),
      'STX:Z66': () => this.macPacket(body),
      'STX:72': () => {
        this.macSession = null;
        this.write(ACK);
      },
    };
    const handler = handlers[`${framing}:${type}`];
    if (!handler) {
      this.write(EOT); // not a packet this pad knows (or in the wrong framing)
      return;
    }
    handler();
  }

  private transferMasterKey(body: string): void {
    const m = /^02(\d)([0-9A-F]*)$/.exec(body);
    const lengths = this.options.masterKeyLengths ?? [8, 16];
    if (!m || !lengths.includes(m[2].length / 2) || m[2].length % 2 !== 0) {
      this.write(EOT); // format error or a key length the pad does not take
      return;
    }
    this.write(ACK);
    let echo = body;
    if (this.takeFault('bad-echo')) echo = body.slice(0, -1) + (body.endsWith('0') ? '1' : '0');
    const index = Number(m[1]);
    this.respond('SI', echo, true, () => {
      if (echo !== body) return; // an ACK of a wrong echo stores nothing either
      const key = SecretKey.fromHex(m[2], 'master key');
      this.masters.get(index)?.destroy();
      this.masters.set(index, key);
      if (this.selected === index) this.macSession = null;
    });
  }

  private checkMasterKey(body: string): void {
    const m = /^04(\d)1?$/.exec(body);
    if (!m) return this.write(EOT);
    this.write(ACK);
    this.respond('SI', '04' + (this.masters.has(Number(m[1])) ? 'F' : '0'), true);
  }

  private serialNumber(body: string): void {
    if (body !== '06') return this.write(EOT);
    this.write(ACK);
    // [vvv] version, [dddddd] release date YYMMDD, [p] facility, [bb] batch, [nnnn] serial
    this.respond('SI', '06' + (this.options.version ?? 'S12').slice(0, 3).padEnd(3) + '260115' + 'N' + '01' + (this.options.serial ?? '0001').slice(0, 4).padStart(4, '0'), true);
  }

  private selectMasterKey(body: string): void {
    const m = /^08(\d)$/.exec(body);
    if (!m) return this.write(EOT);
    this.write(ACK); // as the manuals say: no check that the address holds a key
    this.selected = Number(m[1]);
  }

  /** The clear session key under a master key, or null for a bad length / not hex. */
  private sessionKey(master: SecretKey, hex: string): SecretKey | null {
    if (!/^([0-9A-F]{16}|[0-9A-F]{32})$/.test(hex)) return null;
    const clear = master.decrypt(fromHex(hex));
    if (this.takeFault('corrupt-key')) clear[0] ^= 0x02;
    const key = SecretKey.fromBytes(clear);
    clear.fill(0);
    return key;
  }

  private pinEntry(body: string): void {
    const m = /^Z60\.([^\x1c]*)\x1c([^\x1c]*)(?:\x1c([1-9]))?$/.exec(body);
    if (!m) return this.write(EOT);
    const master = this.selected === null ? undefined : this.masters.get(this.selected);
    if (master === undefined) return this.write(EOT); // wrong state: no master key selected, or none at that address
    const key = this.sessionKey(master, m[2]);
    if (key === null) return this.write(EOT); // wrong session key length
    this.write(ACK);
    const account = m[1];
    const error = account.length === 0 ? '0' : !/^\d*$/.test(account) ? '4' : account.length < 8 ? '2' : account.length > 19 ? '3' : null;
    if (error !== null) {
      key.destroy();
      this.respond('STX', '71' + error, false);
      return;
    }
    const typed = this.options.typedPin;
    if (typed === undefined) {
      key.destroy();
      this.write(EOT); // nobody typed: timed out
      return;
    }
    const pinField = fromHex(('0' + typed.length.toString(16) + typed).padEnd(16, 'F'));
    const panField = fromHex('0000' + account.slice(-13, -1));
    for (let i = 0; i < 8; i++) pinField[i] ^= panField[i];
    const block = key.encrypt(pinField);
    pinField.fill(0);
    key.destroy();
    this.respond('STX', '71.0' + String(typed.length).padStart(2, '0') + '01' + toHex(block), false);
  }

  private macPacket(body: string): void {
    const m = /^Z66(\d)(\d{2})(\d)\x1c([^\x1c]*)\x1c(\d?)\x1c([^\x1c]*)$/.exec(body);
    if (!m) {
      this.write(ACK);
      this.respond('STX', 'Z675', true); // packet frame error
      return;
    }
    this.write(ACK);
    const [, flag, seqText, pointer, sessionHex, , message] = m;
    const answer = (status: string, mac = '') => this.respond('STX', 'Z67' + status + mac, true);
    if (!'4567'.includes(flag)) return answer('6');
    const binary = flag === '6' || flag === '7';
    const last = flag === '4' || flag === '6';
    const master = this.masters.get(Number(pointer));
    if (!master) return answer('3');
    if (binary && (message.length % 2 !== 0 || !/^[0-9A-F]*$/.test(message))) return answer('7');
    if (message.length > 224) return answer('5');
    const seq = Number(seqText);
    const expected = this.macSession ? this.macSession.seq + 1 : 0;
    if (seq !== expected) {
      this.macSession = null;
      return answer('2');
    }
    const part = binary ? fromHex(message) : Buffer.from(message, 'latin1');
    this.macSession = { seq, data: [...(this.macSession?.data ?? []), part] };
    if (!last) return answer('1');
    let data = Buffer.concat(this.macSession.data);
    this.macSession = null;
    // ASCII messages are padded with '0' characters (30h) to a whole block; binary with zeros.
    if (!binary && data.length % 8 !== 0) data = Buffer.concat([data, Buffer.alloc(8 - (data.length % 8), 0x30)]);
    const key = this.sessionKey(master, sessionHex);
    if (key === null) return answer('8');
    try {
      // Algorithm 1 (single-length key) or 3 (double-length), zero padding, zero IV.
      answer('0', toHex(key.length === 8 ? x99Mac(key, data) : x919Mac(key, data)));
    } finally {
      key.destroy();
    }
  }

  close(): void {
    for (const m of this.masters.values()) m.destroy();
    this.masters.clear();
  }
}
