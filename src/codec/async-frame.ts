import { Buffer } from 'node:buffer';
import { CodecError } from '../errors';
import { readBcd, writeBcd } from './bcd';
import type { DecodeSink, IncrementalDecoder } from './decoder';
import { DEFAULT_MAX_FRAME_LENGTH } from './length-prefix';
import { lrc } from './lrc';

/**
 * Async POS framing over a dial line (R-MDM-6):
 *   STX | length (2 bytes BCD, of what follows up to ETX) | TPDU + data | ETX | LRC
 * with LRC = XOR of every byte from the length through ETX.
 */
export const STX = 0x02;
export const ETX = 0x03;
const LENGTH_BYTES = 2;
const LENGTH_DIGITS = 4;
/** STX + length + ETX + LRC */
const OVERHEAD = 1 + LENGTH_BYTES + 2;
/** Four BCD digits cannot say more. */
const BCD_LIMIT = 9999;

export function encodeAsyncFrame(body: Uint8Array): Buffer {
  if (body.length > BCD_LIMIT) {
    throw new CodecError('LENGTH_OVER_MAX', `async frame body of ${body.length} bytes exceeds ${BCD_LIMIT}`);
  }
  const out = Buffer.allocUnsafe(body.length + OVERHEAD);
  out[0] = STX;
  writeBcd(out, 1, String(body.length).padStart(LENGTH_DIGITS, '0'), { align: 'right' });
  out.set(body, 1 + LENGTH_BYTES);
  const etxAt = 1 + LENGTH_BYTES + body.length;
  out[etxAt] = ETX;
  out[etxAt + 1] = lrc(out, 1, etxAt + 1);
  return out;
}

export interface AsyncFrameDecoderOptions {
  maxLength?: number;
}

/**
 * Incremental decoder that never gives up on a line: bytes before an STX are reported as
 * discarded, and a bad length, a missing ETX or a wrong LRC is a typed error event after which
 * the hunt for a frame resumes at the byte after the failed STX. Memory is bounded by the
 * maximum frame plus one chunk.
 */
export class AsyncFrameDecoder implements IncrementalDecoder {
  private readonly maxLength: number;
  private buffer: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  /** Stream offset of buffer[0], so that errors name a position in the whole stream. */
  private bufferBase = 0;

  constructor(options: AsyncFrameDecoderOptions = {}) {
    this.maxLength = Math.min(options.maxLength ?? DEFAULT_MAX_FRAME_LENGTH, BCD_LIMIT);
  }

  get pendingBytes(): number {
    return this.end - this.start;
  }

  reset(): number {
    const forgotten = this.pendingBytes;
    this.bufferBase += this.end;
    this.start = this.end = 0;
    return forgotten;
  }

  push(chunk: Uint8Array, emit: DecodeSink): void {
    this.append(chunk);
    while (this.start < this.end) {
      const stxAt = this.buffer.indexOf(STX, this.start);
      if (stxAt < 0 || stxAt >= this.end) {
        this.discard(this.end - this.start, emit);
        return;
      }
      if (stxAt > this.start) this.discard(stxAt - this.start, emit);
      if (this.end - stxAt < 1 + LENGTH_BYTES) return;

      const length = this.readLength(stxAt + 1);
      if (length === null || length > this.maxLength) {
        const error =
          length === null
            ? new CodecError('BAD_LENGTH_PREFIX', 'async frame length is not BCD', { offset: this.at(stxAt + 1) })
            : new CodecError('LENGTH_OVER_MAX', `async frame length ${length} exceeds the maximum ${this.maxLength}`, {
                offset: this.at(stxAt + 1),
                length,
              });
        this.resyncAfter(stxAt, error, emit);
        continue;
      }
      const total = length + OVERHEAD;
      if (this.end - stxAt < total) return;

      const etxAt = stxAt + 1 + LENGTH_BYTES + length;
      if (this.buffer[etxAt] !== ETX) {
        this.resyncAfter(stxAt, new CodecError('MISSING_ETX', 'no ETX where the length says the frame ends', {
          offset: this.at(etxAt),
        }), emit);
        continue;
      }
      const expected = lrc(this.buffer, stxAt + 1, etxAt + 1);
      if (this.buffer[etxAt + 1] !== expected) {
        this.resyncAfter(stxAt, new CodecError('BAD_LRC', 'async frame LRC does not match', {
          offset: this.at(etxAt + 1),
        }), emit);
        continue;
      }
      this.start = stxAt + total;
      emit({ type: 'frame', frame: Buffer.from(this.buffer.subarray(stxAt + 1 + LENGTH_BYTES, etxAt)) });
    }
  }

  private readLength(at: number): number | null {
    try {
      return Number(readBcd(this.buffer, at, LENGTH_DIGITS, 'right'));
    } catch {
      return null;
    }
  }

  private at(index: number): number {
    return this.bufferBase + index;
  }

  private discard(bytes: number, emit: DecodeSink): void {
    this.start += bytes;
    emit({ type: 'discarded', bytes, reason: 'outside a frame' });
  }

  /** Drop the failed STX only: a real STX may sit inside what the bad length claimed. */
  private resyncAfter(stxAt: number, error: CodecError, emit: DecodeSink): void {
    emit({ type: 'error', error });
    this.start = stxAt + 1;
  }

  private append(chunk: Uint8Array): void {
    const held = this.end - this.start;
    if (this.end + chunk.length > this.buffer.length) {
      const needed = held + chunk.length;
      const next =
        needed > this.buffer.length
          ? Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2, 256))
          : this.buffer; // compacting in place is enough
      this.buffer.copy(next, 0, this.start, this.end);
      this.buffer = next;
      this.bufferBase += this.start;
      this.start = 0;
      this.end = held;
    }
    this.buffer.set(chunk, this.end);
    this.end += chunk.length;
  }
}

