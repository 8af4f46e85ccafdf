import type { CodecError } from '../errors';

/**
 * What an incremental decoder reports while bytes arrive in any chunking. Nothing is lost
 * silently: bytes skipped while hunting for a frame are reported as `discarded`.
 */
export type DecodeEvent =
  | { type: 'frame'; frame: Buffer }
  | { type: 'keepalive' }
  | { type: 'discarded'; bytes: number; reason: string }
  | { type: 'error'; error: CodecError };

export type DecodeSink = (event: DecodeEvent) => void;

export interface IncrementalDecoder {
  /** Feed the next bytes of the stream; events are reported synchronously through `emit`. */
  push(chunk: Uint8Array, emit: DecodeSink): void;
  /** Forget a partial frame (on a line reset or a socket close); returns the bytes forgotten. */
  reset(): number;
  /** Bytes held waiting for the rest of a frame. */
  readonly pendingBytes: number;
}

/** Collect every event of pushing `chunks` in order: for tests and one-shot decoding. */
export function decodeAll(decoder: IncrementalDecoder, chunks: Iterable<Uint8Array>): DecodeEvent[] {
  const events: DecodeEvent[] = [];
  const sink: DecodeSink = (e) => events.push(e);
  for (const chunk of chunks) decoder.push(chunk, sink);
  return events;
}
