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
  /** The last bytes received: a dialled call's NO CARRIER comes just before the line closes. */
  private tail = '';

  constructor(
    private readonly stream: ByteStream,
    decoder: IncrementalDecoder,
    private readonly frame: (payload: Buffer) => Buffer,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
  ) {
    stream.on('data', (chunk) => {
      this.tail = (this.tail + chunk.toString('latin1', Math.max(0, chunk.length - TAIL))).slice(-TAIL);
      decoder.push(chunk, (e) => {
        if (e.type !== 'frame' || this.waiting === null) return;
        const w = this.waiting;
        this.waiting = null;
        w.timer.cancel();
        w.resolve(e.frame);
      });
    });
    // The call ended (carrier lost, socket closed): no answer can come any more.
    stream.on('close', () => {
      const w = this.waiting;
      this.waiting = null;
      if (!w) return;
      w.timer.cancel();
      w.reject(callEnded(lastResult(this.tail)));
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

/** Enough of the last bytes to hold a result code and the line breaks around it. */
const TAIL = 32;

/** What a calling modem reports about its call (verbose result codes). */
export type CallResult = 'CONNECT' | 'NO ANSWER' | 'BUSY' | 'NO CARRIER' | 'NO DIALTONE';

/** The result code that `text` ends with, or null. */
function lastResult(text: string): CallResult | null {
  const m = /\r\n(CONNECT|NO ANSWER|BUSY|NO CARRIER|NO DIALTONE)[^\r\n]*\r\n$/.exec(text);
  return m ? (m[1] as CallResult) : null;
}

/** Why a call ended before an answer came, from the result code its modem gave (if any). */
function callEnded(result: CallResult | null): NacbridgeError {
  switch (result) {
    case 'NO CARRIER':
      return new NacbridgeError('NO_CARRIER', 'the carrier was lost (NO CARRIER) before the response came');
    case 'NO ANSWER':
      return new NacbridgeError('NO_ANSWER', 'the call was not answered (NO ANSWER)');
    case 'BUSY':
      return new NacbridgeError('LINE_BUSY', 'the line is busy (BUSY): another call is in progress on it');
    default:
      return new NacbridgeError('CALL_ENDED', 'the connection closed before the response came');
  }
}

/**
 * A dialled call, as a POS terminal places it: wait for the calling modem's CONNECT before
 * sending anything. NO ANSWER, BUSY or NO CARRIER, a line that closes with no result code, or no
 * CONNECT within `timeoutMs` (a modem's wait for carrier) reject with NO_ANSWER, LINE_BUSY or
 * NO_CARRIER; resolves with the CONNECT line (its speed).
 */
export function awaitAnswer(stream: ByteStream, timeoutMs = 60_000, clock: Clock = systemClock): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    let done = false;
    const finish = (error: NacbridgeError | null, connect = ''): void => {
      if (done) return;
      done = true;
      timer.cancel();
      if (error) reject(error);
      else resolve(connect);
    };
    const timer = clock.setTimeout(() => finish(new NacbridgeError('NO_ANSWER', `the call was not answered: no CONNECT within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    stream.on('data', (chunk) => {
      if (done) return;
      text = (text + chunk.toString('latin1')).slice(-256);
      for (const m of text.matchAll(/\r\n((CONNECT|NO ANSWER|BUSY|NO CARRIER|NO DIALTONE)[^\r\n]*)\r\n/g)) {
        if (m[2] === 'CONNECT') finish(null, m[1]);
        else finish(m[2] === 'NO CARRIER' ? new NacbridgeError('NO_ANSWER', 'the call was not answered (NO CARRIER)') : callEnded(m[2] as CallResult));
      }
    });
    stream.on('close', () => finish(new NacbridgeError('NO_ANSWER', 'the call was not answered: the line closed with no CONNECT')));
  });
}

/** Async STX/ETX/LRC frames over a dialled modem line (R-MDM-6). */
export function asyncFrameChannel(stream: ByteStream, timeoutMs = 60_000, clock: Clock = systemClock): RequestChannel {
  return new FramedChannel(stream, new AsyncFrameDecoder(), encodeAsyncFrame, timeoutMs, clock);
}

/** Two-byte length frames over TCP (the NAC's terminal listener, R-FRAME-1). */
export function binary2Channel(stream: ByteStream, timeoutMs = 60_000, clock: Clock = systemClock): RequestChannel {
  return new FramedChannel(stream, new LengthPrefixedDecoder(binary2), (p) => encodeLengthPrefixed(binary2, p), timeoutMs, clock);
}
