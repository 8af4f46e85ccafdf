import { Buffer } from 'node:buffer';
import { CodecError } from '../errors';
import { copyBytes, sliceCopy } from './bytes';
import type { DecodeSink, IncrementalDecoder } from './decoder';

/**
 * Length prefixes of the platform connections: binary2 (terminal format, R-FRAME-1) and ascii4
 * (channel and merchant format, R-FRAME-2). A zero length is a keep-alive (R-IDLE-1/2).
 */
export type FramingName = 'binary2' | 'ascii4';

/** R-FRAME-1: the terminal format's maximum message length. */
export const DEFAULT_MAX_FRAME_LENGTH = 2048;

export interface LengthPrefix {
  readonly name: FramingName;
  readonly size: number;
  /** Largest length the prefix can express at all. */
  readonly limit: number;
  write(target: Uint8Array, offset: number, length: number): void;
  /** The length in `bytes[offset..offset+size)`, or a CodecError for a malformed prefix. */
  read(bytes: Uint8Array, offset: number): number | CodecError;
}

const ASCII_ZERO = 48;

export const binary2: LengthPrefix = {
  name: 'binary2',
  size: 2,
  limit: 0xffff,
  write(target, offset, length) {
    target[offset] = length >> 8;
    target[offset + 1] = length & 0xff;
  },
  read(bytes, offset) {
    return (bytes[offset] << 8) | bytes[offset + 1];
  },
};

export const ascii4: LengthPrefix = {
  name: 'ascii4',
  size: 4,
  limit: 9999,
  write(target, offset, length) {
    let n = length;
    for (let i = 3; i >= 0; i--) {
      target[offset + i] = ASCII_ZERO + (n % 10);
      n = Math.floor(n / 10);
    }
  },
  read(bytes, offset) {
    let n = 0;
    for (let i = 0; i < 4; i++) {
      const d = bytes[offset + i] - ASCII_ZERO;
      if (d < 0 || d > 9) {
        return new CodecError('BAD_LENGTH_PREFIX', `ascii4 length prefix has a non-digit byte`, {
          offset: offset + i,
        });
      }
      n = n * 10 + d;
    }
    return n;
  },
};

export function lengthPrefix(name: FramingName): LengthPrefix {
  return name === 'binary2' ? binary2 : ascii4;
}

/** A whole frame on the wire: prefix + payload. */
export function encodeLengthPrefixed(prefix: LengthPrefix, payload: Uint8Array, maxLength = prefix.limit): Buffer {
  if (payload.length > Math.min(maxLength, prefix.limit)) {
    throw new CodecError('LENGTH_OVER_MAX', `payload of ${payload.length} bytes exceeds ${Math.min(maxLength, prefix.limit)}`);
  }
  const out = Buffer.allocUnsafe(prefix.size + payload.length);
  prefix.write(out, 0, payload.length);
  copyBytes(payload, 0, payload.length, out, prefix.size);
  return out;
}

/** The keep-alive: a zero length and nothing after it. */
export function keepAliveFrame(prefix: LengthPrefix): Buffer {
  const out = Buffer.allocUnsafe(prefix.size);
  prefix.write(out, 0, 0);
  return out;
}

export interface LengthPrefixedDecoderOptions {
  maxLength?: number;
}

/**
 * Incremental decoder for prefix + payload frames. A malformed prefix or a length over the maximum
 * leaves the stream without a frame boundary to resume from: the decoder reports the error once,
 * then counts and discards everything until reset() (the owner closes the connection).
 */
export class LengthPrefixedDecoder implements IncrementalDecoder {
  private readonly prefix: LengthPrefix;
  private readonly maxLength: number;
  private readonly header: Buffer;
  private headerFill = 0;
  private body: Buffer | null = null;
  private bodyFill = 0;
  private failed = false;
  /** Bytes of the stream consumed so far: error offsets are stream offsets. */
  private streamOffset = 0;

  constructor(prefix: LengthPrefix, options: LengthPrefixedDecoderOptions = {}) {
    this.prefix = prefix;
    this.maxLength = Math.min(options.maxLength ?? DEFAULT_MAX_FRAME_LENGTH, prefix.limit);
    this.header = Buffer.alloc(prefix.size);
  }

  get pendingBytes(): number {
    return this.headerFill + this.bodyFill;
  }

  get isFailed(): boolean {
    return this.failed;
  }

  reset(): number {
    const forgotten = this.pendingBytes;
    this.headerFill = 0;
    this.body = null;
    this.bodyFill = 0;
    this.failed = false;
    return forgotten;
  }

  push(chunk: Uint8Array, emit: DecodeSink): void {
    if (this.failed) {
      if (chunk.length > 0) emit({ type: 'discarded', bytes: chunk.length, reason: 'after a framing error' });
      return;
    }
    const base = this.streamOffset;
    this.streamOffset += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      if (this.body === null) {
        const take = Math.min(this.prefix.size - this.headerFill, chunk.length - i);
        for (let k = 0; k < take; k++) this.header[this.headerFill + k] = chunk[i + k];
        this.headerFill += take;
        i += take;
        if (this.headerFill < this.prefix.size) return;
        const length = this.prefix.read(this.header, 0);
        const prefixAt = base + i - this.prefix.size;
        if (typeof length !== 'number') {
          const offset = prefixAt + (length.context.offset ?? 0);
          this.fail(emit, new CodecError(length.code, length.message, { offset }), chunk.length - i);
          return;
        }
        if (length > this.maxLength) {
          const error = new CodecError('LENGTH_OVER_MAX', `frame length ${length} exceeds the maximum ${this.maxLength}`, {
            offset: prefixAt,
            length,
          });
          this.fail(emit, error, chunk.length - i);
          return;
        }
        this.headerFill = 0;
        if (length === 0) {
          emit({ type: 'keepalive' });
          continue;
        }
        if (chunk.length - i >= length) {
          // The whole payload is in this chunk: one copy, no partial buffer.
          emit({ type: 'frame', frame: sliceCopy(chunk, i, i + length) });
          i += length;
          continue;
        }
        this.body = Buffer.allocUnsafe(length);
        this.bodyFill = 0;
      }
      const body = this.body;
      const take = Math.min(body.length - this.bodyFill, chunk.length - i);
      body.set(chunk.subarray(i, i + take), this.bodyFill);
      this.bodyFill += take;
      i += take;
      if (this.bodyFill === body.length) {
        this.body = null;
        this.bodyFill = 0;
        emit({ type: 'frame', frame: body });
      }
    }
  }

  private fail(emit: DecodeSink, error: CodecError, rest: number): void {
    this.failed = true;
    this.headerFill = 0;
    emit({ type: 'error', error });
    if (rest > 0) emit({ type: 'discarded', bytes: rest, reason: 'after a framing error' });
  }
}

/**
 * For one complete frame held in memory (a CLI argument, a test vector): check that the prefix
 * agrees with the bytes after it and return where the payload starts.
 */
export function payloadStart(prefix: LengthPrefix, frame: Uint8Array, maxLength = DEFAULT_MAX_FRAME_LENGTH): number {
  if (frame.length < prefix.size) {
    throw new CodecError('TRUNCATED', `frame shorter than its ${prefix.name} length prefix`, { offset: frame.length });
  }
  const length = prefix.read(frame, 0);
  if (typeof length !== 'number') throw length;
  if (length > Math.min(maxLength, prefix.limit)) {
    throw new CodecError('LENGTH_OVER_MAX', `frame length ${length} exceeds the maximum ${maxLength}`, { offset: 0, length });
  }
  const actual = frame.length - prefix.size;
  if (length !== actual) {
    throw new CodecError('LENGTH_MISMATCH', `length prefix says ${length} bytes, ${actual} follow`, { offset: 0, length });
  }
  return prefix.size;
}
