import { Buffer } from 'node:buffer';
import { CodecError } from '../errors';

/**
 * Framing of the SZZT PIN pad family (ZT588 and relatives), as public drivers document it
 * (R-PAD-1):  STX | 3 ASCII digits: text length | text | ETX | 2 uppercase hex digits: XOR of
 * every byte from the length digits through ETX. Bytes outside frames are key presses. A lone NAK
 * (0x15) means "resend" (nacbridge's link convention for this family).
 */
export const STX = 0x02;
export const ETX = 0x03;
export const NAK = 0x15;
const MAX_TEXT = 999;
const HEX = '0123456789ABCDEF';

function xor(bytes: Uint8Array, start: number, end: number): number {
  let x = 0;
  for (let i = start; i < end; i++) x ^= bytes[i];
  return x;
}

export function encodeSzztFrame(text: Uint8Array): Buffer {
  if (text.length > MAX_TEXT) throw new CodecError('LENGTH_OVER_MAX', `PIN pad text of ${text.length} bytes exceeds ${MAX_TEXT}`);
  const out = Buffer.allocUnsafe(text.length + 7);
  out[0] = STX;
  out.write(String(text.length).padStart(3, '0'), 1, 'latin1');
  out.set(text, 4);
  out[4 + text.length] = ETX;
  const lrc = xor(out, 1, 5 + text.length);
  out[5 + text.length] = HEX.charCodeAt(lrc >> 4);
  out[6 + text.length] = HEX.charCodeAt(lrc & 15);
  return out;
}

export type SzztEvent =
  | { type: 'frame'; text: Buffer }
  | { type: 'nak' }
  | { type: 'key'; byte: number }
  | { type: 'error'; error: CodecError };

/** Incremental: frames, NAKs, key presses and typed errors, whatever the chunking. */
export class SzztFrameDecoder {
  private buffer = Buffer.alloc(0);

  push(chunk: Uint8Array, emit: (e: SzztEvent) => void): void {
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length === 0) return;
      const first = this.buffer[0];
      if (first !== STX) {
        this.buffer = this.buffer.subarray(1);
        emit(first === NAK ? { type: 'nak' } : { type: 'key', byte: first });
        continue;
      }
      if (this.buffer.length < 4) return;
      const digits = this.buffer.toString('latin1', 1, 4);
      if (!/^\d{3}$/.test(digits)) {
        this.buffer = this.buffer.subarray(1);
        emit({ type: 'error', error: new CodecError('BAD_LENGTH_PREFIX', 'PIN pad frame length is not 3 digits') });
        continue;
      }
      const length = Number(digits);
      const total = length + 7;
      if (this.buffer.length < total) return;
      const frame = this.buffer.subarray(0, total);
      this.buffer = this.buffer.subarray(total);
      if (frame[4 + length] !== ETX) {
        emit({ type: 'error', error: new CodecError('MISSING_ETX', 'no ETX where the PIN pad frame length says') });
        continue;
      }
      const sent = frame.toString('latin1', 5 + length, 7 + length);
      const lrc = xor(frame, 1, 5 + length);
      if (sent !== HEX[lrc >> 4] + HEX[lrc & 15]) {
        emit({ type: 'error', error: new CodecError('BAD_LRC', 'PIN pad frame LRC does not match') });
        continue;
      }
      emit({ type: 'frame', text: Buffer.from(frame.subarray(4, 4 + length)) });
    }
  }

  reset(): void {
    this.buffer = Buffer.alloc(0);
  }
}

