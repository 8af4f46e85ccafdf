import { Buffer } from 'node:buffer';
import createDebug from 'debug';
import type { Clock, TimerHandle } from '../clock';
import { NacbridgeError } from '../errors';
import type { SerialLine } from '../serial/port';
import { encodeSzztFrame, SzztFrameDecoder } from './szzt-frame';

const log = createDebug('nacbridge:pinpad');

export class PinPadError extends NacbridgeError {}

export interface SzztLinkOptions {
  /** For errors: "ZT588 on /dev/ttyUSB1". */
  device: string;
  clock: Clock;
  /** Per attempt (default 1 s). */
  timeoutMs?: number;
  /** Retransmissions after the first attempt (default 3). */
  retries?: number;
}

export interface SzztLinkCounters {
  commands: number;
  retransmissions: number;
  naks: number;
  badFrames: number;
  timeouts: number;
  keyPresses: number;
}

/**
 * One command at a time to a PIN pad: frame, send, wait for the answer frame; a NAK, a bad frame
 * or silence retransmits, up to `retries` times, then a typed error naming device and command.
 * Command texts are never logged: they carry encrypted keys.
 */
export class SzztLink {
  readonly counters: SzztLinkCounters = { commands: 0, retransmissions: 0, naks: 0, badFrames: 0, timeouts: 0, keyPresses: 0 };
  private readonly decoder = new SzztFrameDecoder();
  private queue: Promise<unknown> = Promise.resolve();
  private waiting: { onFrame(text: Buffer): void; onRetry(why: string): void } | null = null;

  constructor(
    private readonly port: SerialLine,
    private readonly o: SzztLinkOptions,
  ) {
    port.on('data', (chunk) =>
      this.decoder.push(chunk, (e) => {
        switch (e.type) {
          case 'frame':
            this.waiting?.onFrame(e.text);
            break;
          case 'nak':
            this.counters.naks++;
            this.waiting?.onRetry('NAK');
            break;
          case 'error':
            this.counters.badFrames++;
            this.waiting?.onRetry(e.error.code);
            break;
          case 'key':
            this.counters.keyPresses++;
            break;
        }
      }),
    );
  }

  /** Send `text` (command letter + parameters) and resolve with the answer's text. */
  command(text: string, name: string): Promise<Buffer> {
    const run = () => this.attempt(Buffer.from(text, 'latin1'), name);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private attempt(text: Buffer, name: string): Promise<Buffer> {
    this.counters.commands++;
    const frame = encodeSzztFrame(text);
    const retries = this.o.retries ?? 3;
    const timeoutMs = this.o.timeoutMs ?? 1000;
    return new Promise<Buffer>((resolve, reject) => {
      let tries = 0;
      let timer: TimerHandle | null = null;
      const finish = (): void => {
        timer?.cancel();
        this.waiting = null;
      };
      const send = (): void => {
        tries++;
        timer?.cancel();
        timer = this.o.clock.setTimeout(() => {
          this.counters.timeouts++;
          retry('no answer');
        }, timeoutMs);
        this.port.write(frame);
      };
      const retry = (why: string): void => {
        if (tries > retries) {
          finish();
          reject(new PinPadError('PINPAD_NO_ANSWER', `${this.o.device}: ${name} failed after ${tries} attempt(s): ${why}`, { device: this.o.device, command: name }));
          return;
        }
        this.counters.retransmissions++;
        log('%s: %s: %s, sending again', this.o.device, name, why);
        send();
      };
      this.waiting = {
        onFrame: (answer) => {
          finish();
          resolve(answer);
        },
        onRetry: retry,
      };
      send();
    });
  }
}
