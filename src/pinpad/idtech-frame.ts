import { Buffer } from 'node:buffer';
import { CodecError } from '../errors';

/**
 * Frames of the ID TECH SmartPIN L100 / K100 family, as the L100 user manual shows them (R-PAD-1):
 *
 *   <STX 02> <LenL> <LenH> body <LRC> <SUM> <ETX 03>
 *
 * Len is the body's length, little-endian; LRC is the XOR and SUM the 8-bit sum of the body's
 * bytes (manual example "Get Firmware Release Version": 02 03 00 78 46 01 3F BF 03). Bytes outside
 * frames are key-press echoes ("*" per digit, "B" backspace, "C" cancel) or a lone NAK (0x15,
 * nacbridge's reading: the frame did not check, send again).
 */
export const STX = 0x02;
export const ETX = 0x03;
export const NAK = 0x15;
const MAX_BODY = 4096;

export function lrcAndSum(body: Uint8Array): [number, number] {
  let x = 0;
  let s = 0;
  for (const b of body) {
    x ^= b;
    s = (s + b) & 0xff;
  }
  return [x, s];
}

export function encodeIdtechFrame(body: Uint8Array): Buffer {
  if (body.length > MAX_BODY) throw new CodecError('LENGTH_OVER_MAX', `PIN pad frame body of ${body.length} bytes exceeds ${MAX_BODY}`);
  const out = Buffer.allocUnsafe(body.length + 6);
  out[0] = STX;
  out.writeUInt16LE(body.length, 1);
  out.set(body, 3);
  const [x, s] = lrcAndSum(body);
  out[3 + body.length] = x;
  out[4 + body.length] = s;
  out[5 + body.length] = ETX;
  return out;
}

export type IdtechEvent = { type: 'frame'; body: Buffer } | { type: 'nak' } | { type: 'key'; byte: number } | { type: 'error'; error: CodecError };

/** Incremental: frames, NAKs, key presses and typed errors, whatever the chunking. */
export class IdtechDecoder {
  private buffer = Buffer.alloc(0);

  push(chunk: Uint8Array, emit: (e: IdtechEvent) => void): void {
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length === 0) return;
      const first = this.buffer[0];
      if (first !== STX) {
        this.buffer = this.buffer.subarray(1);
        emit(first === NAK ? { type: 'nak' } : { type: 'key', byte: first });
        continue;
      }
      if (this.buffer.length < 3) return;
      const length = this.buffer.readUInt16LE(1);
      if (length > MAX_BODY) {
        this.buffer = this.buffer.subarray(1);
        emit({ type: 'error', error: new CodecError('LENGTH_OVER_MAX', `PIN pad frame length ${length} exceeds ${MAX_BODY}`) });
        continue;
      }
      if (this.buffer.length < length + 6) return;
      const frame = this.buffer.subarray(0, length + 6);
      this.buffer = this.buffer.subarray(length + 6);
      const body = Buffer.from(frame.subarray(3, 3 + length));
      if (frame[5 + length] !== ETX) {
        emit({ type: 'error', error: new CodecError('MISSING_ETX', 'no ETX where the frame length says') });
        continue;
      }
      const [x, s] = lrcAndSum(body);
      if (frame[3 + length] !== x || frame[4 + length] !== s) {
        emit({ type: 'error', error: new CodecError('BAD_LRC', 'PIN pad frame LRC or SUM does not match') });
        continue;
      }
      emit({ type: 'frame', body });
    }
  }

  reset(): void {
    this.buffer = Buffer.alloc(0);
  }
}
