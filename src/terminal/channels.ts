import type { Clock, TimerHandle } from '../clock';
import { systemClock } from '../clock';
import { AsyncFrameDecoder, encodeAsyncFrame } from '../codec/async-frame';
import type { IncrementalDecoder } from '../codec/decoder';
import { binary2, encodeLengthPrefixed, LengthPrefixedDecoder } from '../codec/length-prefix';
import { NacbridgeError } from '../errors';
import type { RequestChannel } from './terminal';

/** A byte stream a POS terminal talks over: a modem call, or a TCP socket. */
export interface ByteStream {
  write(data: Uint8Array): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

/**
 * One request at a time over a stream, as a POS terminal works: frame the request, wait for the
 * next frame back, give up after the response timeout.
 */
class FramedChannel implements RequestChannel {
  private waiting: { resolve(p: Buffer): void; reject(e: Error): void; timer: TimerHandle } | null = null;

  constructor(
    private readonly stream: ByteStream,
    decoder: IncrementalDecoder,
    private readonly frame: (payload: Buffer) => Buffer,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
  ) {
    stream.on('data', (chunk) =>
      decoder.push(chunk, (e) => {
        if (e.type !== 'frame' || this.waiting === null) return;
        const w = this.waiting;
        this.waiting = null;
        w.timer.cancel();
        w.resolve(e.frame);
      }),
    );
    // The call ended (carrier lost, socket closed): no answer can come any more.
    stream.on('close', () => {
      const w = this.waiting;
      this.waiting = null;
      if (!w) return;
      w.timer.cancel();
      w.reject(new NacbridgeError('CALL_ENDED', 'the connection closed before the response came'));
    });
  }

  request(payload: Buffer): Promise<Buffer> {
    if (this.waiting) return Promise.reject(new NacbridgeError('BUSY', 'a request is already waiting for its response'));
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.waiting = null;
        reject(new NacbridgeError('REQUEST_TIMEOUT', `no response within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting = { resolve, reject, timer };
      this.stream.write(this.frame(payload));
    });
  }
}

/** Async STX/ETX/LRC frames over a dialled modem line (R-MDM-6). */
export function asyncFrameChannel(stream: ByteStream, timeoutMs = 60_000, clock: Clock = systemClock): RequestChannel {
  return new FramedChannel(stream, new AsyncFrameDecoder(), encodeAsyncFrame, timeoutMs, clock);
}

/** Two-byte length frames over TCP (the NAC's terminal listener, R-FRAME-1). */
export function binary2Channel(stream: ByteStream, timeoutMs = 60_000, clock: Clock = systemClock): RequestChannel {
  return new FramedChannel(stream, new LengthPrefixedDecoder(binary2), (p) => encodeLengthPrefixed(binary2, p), timeoutMs, clock);
}
