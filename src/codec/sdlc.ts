import { Buffer } from 'node:buffer';
import { CodecError } from '../errors';

/**
 * SDLC frames as synchronous POS terminals use them (R-MDM-7), inside V.80 frames (the modem
 * adds flags and the FCS): address (0x30, the terminal), control, information. Control, modulo 8:
 *   I-frame  N(R)<<5 | P/F<<4 | N(S)<<1 | 0
 *   S-frame  N(R)<<5 | P/F<<4 | type<<2 | 01   (RR 00, RNR 01, REJ 10)
 *   U-frame  code | P/F<<4 | 11                (SNRM 0x83, UA 0x63, DISC/RD 0x43, DM 0x0F, FRMR 0x87 ...)
 */
export const SDLC_TERMINAL_ADDRESS = 0x30;
export const SDLC_MODULUS = 8;

export type SupervisoryType = 'RR' | 'RNR' | 'REJ' | 'SREJ';
const S_TYPES: readonly SupervisoryType[] = ['RR', 'RNR', 'REJ', 'SREJ'];

export type UnnumberedType = 'SNRM' | 'UA' | 'DISC' | 'DM' | 'FRMR' | 'UI' | 'XID' | 'TEST' | 'SIM' | 'UP';
/** Code points with the P/F bit (0x10) clear. DISC from a secondary is RD (request disconnect). */
const U_CODES: Readonly<Record<UnnumberedType, number>> = { SNRM: 0x83, UA: 0x63, DISC: 0x43, DM: 0x0f, FRMR: 0x87, UI: 0x03, XID: 0xaf, TEST: 0xe3, SIM: 0x07, UP: 0x23 };
const U_BY_CODE: ReadonlyMap<number, UnnumberedType> = new Map(Object.entries(U_CODES).map(([k, v]) => [v, k as UnnumberedType]));

export type SdlcFrame =
  | { kind: 'I'; address: number; ns: number; nr: number; pf: boolean; info: Buffer }
  | { kind: 'S'; address: number; type: SupervisoryType; nr: number; pf: boolean }
  | { kind: 'U'; address: number; type: UnnumberedType; pf: boolean; info: Buffer };

function seq(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n >= SDLC_MODULUS) throw new CodecError('SDLC_BAD_SEQUENCE', `${what} ${n} is not 0..7`);
  return n;
}

export function controlByte(frame: SdlcFrame): number {
  const p = frame.pf ? 0x10 : 0;
  switch (frame.kind) {
    case 'I':
      return (seq(frame.nr, 'N(R)') << 5) | p | (seq(frame.ns, 'N(S)') << 1);
    case 'S':
      return (seq(frame.nr, 'N(R)') << 5) | p | (S_TYPES.indexOf(frame.type) << 2) | 0x01;
    case 'U':
      return U_CODES[frame.type] | p;
  }
}

export function encodeSdlcFrame(frame: SdlcFrame): Buffer {
  const info = frame.kind === 'S' ? Buffer.alloc(0) : frame.info;
  const out = Buffer.allocUnsafe(2 + info.length);
  out[0] = frame.address;
  out[1] = controlByte(frame);
  out.set(info, 2);
  return out;
}

/** Parse one SDLC frame (address, control, information) as the V.80 layer delivered it. */
export function decodeSdlcFrame(bytes: Uint8Array): SdlcFrame {
  if (bytes.length < 2) throw new CodecError('SDLC_SHORT_FRAME', `SDLC frame of ${bytes.length} byte(s): needs address and control`, { length: bytes.length });
  const address = bytes[0] ?? 0;
  const c = bytes[1] ?? 0;
  const info = Buffer.from(bytes.subarray(2));
  const pf = (c & 0x10) !== 0;
  if ((c & 0x01) === 0) return { kind: 'I', address, ns: (c >> 1) & 7, nr: (c >> 5) & 7, pf, info };
  if ((c & 0x03) === 0x01) {
    if (info.length > 0) throw new CodecError('SDLC_S_FRAME_WITH_INFO', `supervisory frame 0x${c.toString(16)} carries ${info.length} information byte(s)`, { control: c });
    return { kind: 'S', address, type: S_TYPES[(c >> 2) & 3] ?? 'RR', nr: (c >> 5) & 7, pf };
  }
  const type = U_BY_CODE.get(c & ~0x10);
  if (type === undefined) throw new CodecError('SDLC_UNKNOWN_CONTROL', `unnumbered control 0x${c.toString(16).padStart(2, '0')} is not one SDLC defines`, { control: c });
  return { kind: 'U', address, type, pf, info };
}

/** One line for traces: `I ns=1 nr=2 P 40 bytes`, `RR nr=3 F`, `SNRM P`. */
export function describeSdlcFrame(frame: SdlcFrame, primary: boolean): string {
  const pf = frame.pf ? (primary ? ' P' : ' F') : '';
  switch (frame.kind) {
    case 'I':
      return `I ns=${frame.ns} nr=${frame.nr}${pf} ${frame.info.length} bytes`;
    case 'S':
      return `${frame.type} nr=${frame.nr}${pf}`;
    case 'U':
      return `${frame.type}${pf}`;
  }
}
