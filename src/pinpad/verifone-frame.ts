import { Buffer } from 'node:buffer';
import { CodecError } from '../errors';

/**
 * Packets of the VeriFone PINpad 1000 family (PINpad 101/201/1000/2000, 1000SE, and pads that
 * speak its protocol such as the Uniform PP791), as the public programmer's manuals describe them
 * (R-PAD-1):
 *
 *   <SI> type + data <SO> LRC       management packets ("02" master key, "06" serial number ...)
 *   <STX> type + data <ETX> LRC     transaction packets ("Z60" PIN entry, "71" PIN block, "Z66" MAC)
 *
 * LRC = XOR of every byte after SI / STX up to and including SO / ETX. Single control bytes
 * answer packets: ACK (LRC good), NAK (LRC bad: send again), EOT (refused, or the end of an
 * exchange; sent after three NAKs).
 */
export const SI = 0x0f;
export const SO = 0x0e;
export const STX = 0x02;
export const ETX = 0x03;
export const ACK = 0x06;
export const NAK = 0x15;
export const EOT = 0x04;
export const FS = 0x1c;
const MAX_BODY = 512;

export type VerifoneFraming = 'SI' | 'STX';

export function lrc(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let x = 0;
  for (let i = start; i < end; i++) x ^= bytes[i];
  return x;
}

export function encodeVerifonePacket(framing: VerifoneFraming, body: string | Uint8Array): Buffer {
  const text = typeof body === 'string' ? Buffer.from(body, 'latin1') : Buffer.from(body);
  if (text.length > MAX_BODY) throw new CodecError('LENGTH_OVER_MAX', `PIN pad packet of ${text.length} bytes exceeds ${MAX_BODY}`);
  const end = framing === 'SI' ? SO : ETX;
  if (text.includes(end)) throw new CodecError('BAD_PACKET', 'a packet body cannot hold its own end byte');
  const out = Buffer.allocUnsafe(text.length + 3);
  out[0] = framing === 'SI' ? SI : STX;
  out.set(text, 1);
  out[text.length + 1] = end;
  out[text.length + 2] = lrc(out, 1, text.length + 2);
  return out;
}

export type VerifoneEvent =
  | { type: 'packet'; framing: VerifoneFraming; body: Buffer; raw: Buffer }
  | { type: 'ack' }
  | { type: 'nak' }
  | { type: 'eot' }
  /** A byte outside any packet that is none of the control bytes. */
  | { type: 'noise'; byte: number }
  | { type: 'error'; error: CodecError };

/** Incremental: packets and control bytes in order, whatever the chunking. */
export class VerifoneDecoder {
  private buffer = Buffer.alloc(0);

  push(chunk: Uint8Array, emit: (e: VerifoneEvent) => void): void {
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length === 0) return;
      const first = this.buffer[0];
      if (first !== SI && first !== STX) {
        this.buffer = this.buffer.subarray(1);
        emit(first === ACK ? { type: 'ack' } : first === NAK ? { type: 'nak' } : first === EOT ? { type: 'eot' } : { type: 'noise', byte: first });
        continue;
      }
      const end = first === SI ? SO : ETX;
      const at = this.buffer.indexOf(end, 1);
      if (at < 0) {
        if (this.buffer.length > MAX_BODY + 2) {
          this.buffer = this.buffer.subarray(1);
          emit({ type: 'error', error: new CodecError('LENGTH_OVER_MAX', 'PIN pad packet has no end byte within the maximum length') });
          continue;
        }
        return;
      }
      if (this.buffer.length < at + 2) return;
      const raw = Buffer.from(this.buffer.subarray(0, at + 2));
      this.buffer = this.buffer.subarray(at + 2);
      if (lrc(raw, 1, at + 1) !== raw[at + 1]) {
        emit({ type: 'error', error: new CodecError('BAD_LRC', 'PIN pad packet LRC does not match') });
        continue;
      }
      emit({ type: 'packet', framing: first === SI ? 'SI' : 'STX', body: Buffer.from(raw.subarray(1, at)), raw });
    }
  }

  reset(): void {
    this.buffer = Buffer.alloc(0);
  }
}
