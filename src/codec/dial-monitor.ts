import { Buffer } from 'node:buffer';
import { CodecError } from '../errors';
import { readBcd, writeBcd } from './bcd';
import { fromHex, toHex } from './hex';

/**
 * The dial-monitor block (R-DIAL-1..4), placed right after the TPDU of a terminal message:
 * "LRI" 00 1C, ANI (8 bytes BCD, right-aligned, zero-filled), DNIS (same), a 12-byte tail.
 */
export interface DialMonitor {
  /** Calling number, digits without leading zeros ("" when the call had no caller ID). */
  ani: string;
  /** Called number: the line the modem sits on. */
  dnis: string;
  /** The 12 bytes after DNIS, platform specific (R-DIAL-3). */
  tail: Buffer;
}

export const DIAL_MONITOR_LENGTH = 33;
export const DIAL_MONITOR_MARKER = Buffer.from([0x4c, 0x52, 0x49, 0x00, 0x1c]);
const NUMBER_BYTES = 8;
const NUMBER_DIGITS = NUMBER_BYTES * 2;
const TAIL_LENGTH = 12;
/** The spec's example tail; deployments differ in the last 6 bytes (R-DIAL-3). */
export const DEFAULT_DIAL_TAIL_HEX = '580009490006000000220030';

/** True when the dial-monitor marker starts at `offset` (the header after it never can: its first byte is BCD). */
export function hasDialMonitor(bytes: Uint8Array, offset: number): boolean {
  if (bytes.length - offset < DIAL_MONITOR_MARKER.length) return false;
  for (let i = 0; i < DIAL_MONITOR_MARKER.length; i++) {
    if (bytes[offset + i] !== DIAL_MONITOR_MARKER[i]) return false;
  }
  return true;
}

export function parseDialTail(hex: string): Buffer {
  const tail = fromHex(hex, 'dial-monitor tail');
  if (tail.length !== TAIL_LENGTH) {
    throw new CodecError('BAD_DIAL_TAIL', `dial-monitor tail must be ${TAIL_LENGTH} bytes, got ${tail.length}`);
  }
  return tail;
}

function checkNumber(digits: string, what: string): void {
  if (!/^\d*$/.test(digits)) throw new CodecError('NON_DIGIT', `${what} must be digits`);
  if (digits.length > NUMBER_DIGITS) {
    throw new CodecError('TOO_LONG', `${what} has ${digits.length} digits, at most ${NUMBER_DIGITS} fit`);
  }
}

export function writeDialMonitor(target: Uint8Array, offset: number, block: DialMonitor): number {
  checkNumber(block.ani, 'ANI');
  checkNumber(block.dnis, 'DNIS');
  if (block.tail.length !== TAIL_LENGTH) {
    throw new CodecError('BAD_DIAL_TAIL', `dial-monitor tail must be ${TAIL_LENGTH} bytes`);
  }
  target.set(DIAL_MONITOR_MARKER, offset);
  let o = offset + DIAL_MONITOR_MARKER.length;
  o = writeBcd(target, o, block.ani.padStart(NUMBER_DIGITS, '0'), { align: 'right' });
  o = writeBcd(target, o, block.dnis.padStart(NUMBER_DIGITS, '0'), { align: 'right' });
  target.set(block.tail, o);
  return o + TAIL_LENGTH;
}

export function buildDialMonitor(block: DialMonitor): Buffer {
  const out = Buffer.alloc(DIAL_MONITOR_LENGTH);
  writeDialMonitor(out, 0, block);
  return out;
}

function stripLeadingZeros(digits: string): string {
  return digits.replace(/^0+/, '');
}

export function readDialMonitor(bytes: Uint8Array, offset = 0): DialMonitor {
  if (!hasDialMonitor(bytes, offset)) {
    throw new CodecError('NO_DIAL_MONITOR', 'no dial-monitor marker (4C 52 49 00 1C)', { offset });
  }
  if (bytes.length - offset < DIAL_MONITOR_LENGTH) {
    throw new CodecError('TRUNCATED', `dial-monitor block needs ${DIAL_MONITOR_LENGTH} bytes`, {
      offset: bytes.length,
    });
  }
  const aniAt = offset + DIAL_MONITOR_MARKER.length;
  const dnisAt = aniAt + NUMBER_BYTES;
  const tailAt = dnisAt + NUMBER_BYTES;
  return {
    ani: stripLeadingZeros(readBcd(bytes, aniAt, NUMBER_DIGITS, 'right')),
    dnis: stripLeadingZeros(readBcd(bytes, dnisAt, NUMBER_DIGITS, 'right')),
    tail: Buffer.from(bytes.subarray(tailAt, tailAt + TAIL_LENGTH)),
  };
}

export function dialMonitorToJson(block: DialMonitor): { ani: string; dnis: string; tail: string } {
  return { ani: block.ani, dnis: block.dnis, tail: toHex(block.tail) };
}
