import { Buffer } from 'node:buffer';
import { CodecError } from '../errors';

/**
 * ITU-T V.80 synchronous access mode, framed sub-mode (R-MDM-7): how HDLC/SDLC frames travel
 * between the NAC and a modem over an asynchronous serial port. In-band codes start with EM
 * (0x19; 0x99 is accepted as EM too). In data, 0x19, 0x99, 0x11 and 0x13 never go raw:
 *   0x19 -> 19 5C, 0x99 -> 19 76, 0x11 -> 19 A0, 0x13 -> 19 A1.
 * `19 B1` (flag) ends a frame; the modem computes and checks the FCS (+ESA crc_type 1), so the
 * frames here carry address + control + information and no FCS. From the modem, `19 B0` reports
 * an abort and `19 B2` a frame received with a bad FCS: both are dropped and their bytes counted.
 */
export const EM = 0x19;
export const EM_P = 0x99;
const DC1 = 0x11;
const DC3 = 0x13;

export const V80_FLAG = 0xb1;
export const V80_MARK = 0xb0;
export const V80_ERR = 0xb2;
export const V80_RATE = 0xbe;
export const V80_EOT = 0xba;

/** The transparency pairs the recommendation defines: EM + code -> the data bytes it stands for. */
const TRANSPARENCY: ReadonlyMap<number, readonly number[]> = new Map<number, readonly number[]>([
  [0x5c, [EM]],
  [0x7c, [EM]],
  [0x5d, [EM, EM]],
  [0x7d, [EM, EM]],
  [0x76, [EM_P]],
  [0x58, [EM_P]],
  [0x77, [EM_P, EM_P]],
  [0x59, [EM_P, EM_P]],
  [0xa0, [DC1]],
  [0xa1, [DC3]],
  [0xa2, [DC1, DC1]],
  [0xa3, [DC3, DC3]],
  [0xa4, [EM, EM_P]],
  [0xa5, [EM, DC1]],
  [0xa6, [EM, DC3]],
  [0xa7, [EM_P, EM]],
  [0xa8, [EM_P, DC1]],
  [0xa9, [EM_P, DC3]],
  [0xaa, [DC1, EM]],
  [0xab, [DC1, EM_P]],
  [0xac, [DC1, DC3]],
  [0xad, [DC3, EM]],
  [0xae, [DC3, EM_P]],
  [0xaf, [DC3, DC1]],
]);

/** The single escape the encoder uses for each byte that may not go raw. */
const ESCAPE_OF: ReadonlyMap<number, number> = new Map([
  [EM, 0x5c],
  [EM_P, 0x76],
  [DC1, 0xa0],
  [DC3, 0xa1],
]);

/** Primary channel rate codes (0x20 = 1200 bps ... 0x2E = 33600 bps). */
const RATES = [1200, 2400, 4800, 7200, 9600, 12000, 14400, 16800, 19200, 21600, 24000, 26400, 28800, 31200, 33600];

export function v80RateBps(code: number): number | null {
  const i = code - 0x20;
  return i >= 0 && i < RATES.length ? (RATES[i] ?? null) : null;
}

export function v80RateCode(bps: number): number {
  const i = RATES.indexOf(bps);
  if (i < 0) throw new CodecError('V80_BAD_RATE', `no V.80 rate code for ${bps} bps`);
  return 0x20 + i;
}

/** Named in-band indications from the modem (DCE to DTE) that carry no octets after the code. */
const INDICATION_NAMES: ReadonlyMap<number, string> = new Map([
  [0x62, 'ct106-off'],
  [0x63, 'ct106-on'],
  [0x64, 'ct107-off'],
  [0x65, 'ct107-on'],
  [0x66, 'ct109-off'],
  [0x67, 'ct109-on'],
  [0x68, 'ct110-off'],
  [0x69, 'ct110-on'],
  [0x6a, 'ct125-off'],
  [0x6b, 'ct125-on'],
  [0x6c, 'ct132-off'],
  [0x6d, 'ct132-on'],
  [0x6e, 'ct142-off'],
  [0x6f, 'ct142-on'],
  [0x78, 'off-line'],
  [0x79, 'on-line'],
  [0x7a, 'flow-off'],
  [0x7b, 'flow-on'],
  [0x7e, 'poll'],
  [0xb3, 'hunt'],
  [0xb4, 'tx-underrun'],
  [0xb5, 'tx-overrun'],
  [0xb6, 'rx-overrun'],
  [0xb7, 'resume'],
  [0xba, 'eot'],
  [0xbb, 'ecs'],
  [0xbc, 'rate-renegotiation'],
  [0xbd, 'retrain'],
  [0xc0, 'control-channel-retrain'],
]);

/** Codes followed by a fixed number of octets (rate <tx><rx>; octet counts; V.34 HD control channel). */
const FIXED_ARGS: ReadonlyMap<number, { name: string; args: number }> = new Map([
  [0xbe, { name: 'rate', args: 2 }],
  [0xb8, { name: 'tx-buffer-octets', args: 2 }],
  [0xb9, { name: 'discarded-octets', args: 2 }],
  [0xbf, { name: 'control-channel', args: 2 }],
]);

/** Codes followed by <length> and then length - 0x1F more octets (manufacturer and extension commands). */
const LENGTH_ARGS = new Set([0x20, 0x30, 0x40, 0x41, 0x60, 0x61]);

export type V80Indication =
  | { kind: 'rate'; txBps: number | null; rxBps: number | null; octets: Buffer }
  | { kind: 'other'; name: string; code: number; octets: Buffer };

export type V80Event =
  /** A whole frame ended by a good flag (the modem checked its FCS). */
  | { type: 'frame'; frame: Buffer }
  /** A frame the modem marked as received with a bad FCS (EM B2): dropped, `bytes` of it. */
  | { type: 'bad-fcs'; bytes: number }
  /** A frame aborted (EM B0): dropped, `bytes` of it. */
  | { type: 'abort'; bytes: number }
  | { type: 'indication'; indication: V80Indication }
  /** Bytes dropped for another reason (unknown escape, over-long frame, partial frame at reset). */
  | { type: 'discarded'; bytes: number; reason: string }
  | { type: 'error'; error: CodecError };

export type V80Sink = (event: V80Event) => void;

/** Escape one frame's bytes for the modem and end it with a flag (EM B1). */
export function encodeV80Frame(frame: Uint8Array): Buffer {
  let extra = 2;
  for (const b of frame) if (ESCAPE_OF.has(b)) extra++;
  const out = Buffer.allocUnsafe(frame.length + extra);
  let o = 0;
  for (const b of frame) {
    const esc = ESCAPE_OF.get(b);
    if (esc === undefined) out[o++] = b;
    else {
      out[o++] = EM;
      out[o++] = esc;
    }
  }
  out[o++] = EM;
  out[o++] = V80_FLAG;
  return out;
}

/** What a modem sends to report its rates: EM, 0xBE, <tx>, <rx>. */
export function encodeV80Rate(txBps: number, rxBps: number): Buffer {
  return Buffer.from([EM, V80_RATE, v80RateCode(txBps), v80RateCode(rxBps)]);
}

export const DEFAULT_V80_MAX_FRAME = 4096;

type State = { at: 'data' } | { at: 'escape' } | { at: 'args'; code: number; need: number; got: number[]; lengthForm: boolean };

/**
 * Incremental V.80 decoder for what the modem sends in synchronous access mode. Any chunking
 * gives the same events. Every byte not delivered in a frame nor consumed by an in-band
 * indication is reported (bad-fcs, abort or discarded), so nothing is lost silently.
 */
export class V80Decoder {
  private readonly maxFrame: number;
  private frame: number[] = [];
  /** Wire bytes the current partial frame took (escapes count two). */
  private frameWire = 0;
  private state: State = { at: 'data' };
  private overLong = false;

  constructor(options: { maxFrame?: number } = {}) {
    this.maxFrame = options.maxFrame ?? DEFAULT_V80_MAX_FRAME;
  }

  get pendingBytes(): number {
    return this.frameWire + (this.state.at === 'escape' ? 1 : this.state.at === 'args' ? 2 + this.state.got.length : 0);
  }

  /** Forget a partial frame or escape; returns the wire bytes forgotten. */
  reset(): number {
    const n = this.pendingBytes;
    this.frame = [];
    this.frameWire = 0;
    this.overLong = false;
    this.state = { at: 'data' };
    return n;
  }

  push(chunk: Uint8Array, emit: V80Sink): void {
    for (const b of chunk) this.byte(b, emit);
  }

  private byte(b: number, emit: V80Sink): void {
    const s = this.state;
    if (s.at === 'data') {
      if (b === EM || b === EM_P) this.state = { at: 'escape' };
      else this.data([b], 1, emit);
      return;
    }
    if (s.at === 'escape') {
      this.state = { at: 'data' };
      this.code(b, emit);
      return;
    }
    s.got.push(b);
    if (s.lengthForm && s.got.length === 1) s.need = 1 + Math.max(0, b - 0x1f);
    if (s.got.length < s.need) return;
    this.state = { at: 'data' };
    const octets = Buffer.from(s.got);
    if (s.code === V80_RATE) emit({ type: 'indication', indication: { kind: 'rate', txBps: v80RateBps(octets[0] ?? 0), rxBps: v80RateBps(octets[1] ?? 0), octets } });
    else emit({ type: 'indication', indication: { kind: 'other', name: FIXED_ARGS.get(s.code)?.name ?? `extension-${s.code.toString(16)}`, code: s.code, octets } });
  }

  private code(c: number, emit: V80Sink): void {
    const data = TRANSPARENCY.get(c);
    if (data !== undefined) {
      this.data(data, 2, emit);
      return;
    }
    switch (c) {
      // State is cleared before each emit, so a sink may push more bytes from inside it.
      case V80_FLAG: {
        const wire = this.frameWire + 2;
        const { overLong, frame } = this;
        this.clearFrame();
        if (overLong) {
          emit({ type: 'discarded', bytes: wire, reason: 'over-long' });
          emit({ type: 'error', error: new CodecError('V80_FRAME_OVER_MAX', `V.80 frame over ${this.maxFrame} bytes dropped`, { max: this.maxFrame }) });
        } else if (frame.length > 0) emit({ type: 'frame', frame: Buffer.from(frame) });
        // A flag with no frame before it is an idle flag: no data, nothing lost.
        return;
      }
      case V80_ERR: {
        const bytes = this.frameWire + 2;
        this.clearFrame();
        emit({ type: 'bad-fcs', bytes });
        return;
      }
      case V80_MARK: {
        const bytes = this.frameWire + 2;
        this.clearFrame();
        emit({ type: 'abort', bytes });
        return;
      }
    }
    const fixed = FIXED_ARGS.get(c);
    if (fixed !== undefined) {
      this.state = { at: 'args', code: c, need: fixed.args, got: [], lengthForm: false };
      return;
    }
    if (LENGTH_ARGS.has(c)) {
      this.state = { at: 'args', code: c, need: 1, got: [], lengthForm: true };
      return;
    }
    const name = INDICATION_NAMES.get(c) ?? ((c >= 0x31 && c <= 0x3f) || (c >= 0x21 && c <= 0x2f) ? `manufacturer-${c.toString(16)}` : null);
    if (name !== null) {
      emit({ type: 'indication', indication: { kind: 'other', name, code: c, octets: Buffer.alloc(0) } });
      return;
    }
    emit({ type: 'discarded', bytes: 2, reason: 'unknown-escape' });
    emit({ type: 'error', error: new CodecError('V80_UNKNOWN_ESCAPE', `EM followed by 0x${c.toString(16).padStart(2, '0')}, which V.80 does not define`, { code: c }) });
  }

  private data(bytes: readonly number[], wire: number, _emit: V80Sink): void {
    this.frameWire += wire;
    if (this.overLong) return;
    if (this.frame.length + bytes.length > this.maxFrame) {
      this.overLong = true;
      this.frame = [];
      return;
    }
    for (const b of bytes) this.frame.push(b);
  }

  private clearFrame(): void {
    this.frame = [];
    this.frameWire = 0;
    this.overLong = false;
  }
}
