import type { ErrorCode } from '../errors';
import { Buffer } from 'node:buffer';
import createDebug from 'debug';
import type { Clock, TimerHandle } from '../clock';
import type { SerialLine } from '../serial/port';
import { ACK, encodeVerifonePacket, EOT, NAK, VerifoneDecoder, type VerifoneEvent, type VerifoneFraming } from './verifone-frame';
import { PinPadError } from './szzt-link';

const log = createDebug('nacbridge:pinpad');

export interface VerifoneLinkOptions {
  device: string;
  clock: Clock;
  /** Wait for ACK / NAK, and for the closing EOT (default 1 s). */
  timeoutMs?: number;
  /** Retransmissions after a NAK or silence (default 3: the pad gives up after three NAKs). */
  retries?: number;
}

export interface VerifoneExchange {
  framing: VerifoneFraming;
  body: string;
  /** For errors and logs ("read serial number"); never the body: it may carry keys. */
  name: string;
  /** What follows the pad's ACK: nothing, a response packet, or an echo of the command (02, 05). */
  response: 'none' | 'packet' | 'echo';
  /** How long the response may take (PIN entry: the cardholder types). */
  responseTimeoutMs?: number;
  /** The pad ends the exchange with EOT after the host's ACK; `required` for the echo handshake. */
  closingEot?: 'required' | 'optional' | 'none';
}

export interface VerifoneLinkCounters {
  exchanges: number;
  retransmissions: number;
  naksReceived: number;
  naksSent: number;
  timeouts: number;
  noise: number;
}

/**
 * The ACK / NAK / EOT handshakes of the VeriFone PINpad family, one exchange at a time:
 * host packet -> ACK (NAK: send again; silence: send again; EOT: refused) -> response packet ->
 * host ACK (NAK when its LRC is bad; EOT when an echo differs) -> the pad's closing EOT.
 */
export class VerifoneLink {
  readonly counters: VerifoneLinkCounters = { exchanges: 0, retransmissions: 0, naksReceived: 0, naksSent: 0, timeouts: 0, noise: 0 };
  private readonly decoder = new VerifoneDecoder();
  private readonly events: VerifoneEvent[] = [];
  private wake: (() => void) | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly port: SerialLine,
    private readonly o: VerifoneLinkOptions,
  ) {
    port.on('data', (chunk) =>
      this.decoder.push(chunk, (e) => {
        if (e.type === 'noise') {
          this.counters.noise++;
          return;
        }
        this.events.push(e);
        this.wake?.();
      }),
    );
  }

  exchange(x: VerifoneExchange): Promise<Buffer | null> {
    const run = () => this.run(x);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private error(code: ErrorCode, x: VerifoneExchange, why: string): PinPadError {
    return new PinPadError(code, `${this.o.device}: ${x.name}: ${why}`, { device: this.o.device, command: x.name });
  }

  /** The next event, or null after `ms`. */
  private next(ms: number): Promise<VerifoneEvent | null> {
    const ready = this.events.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => {
      let timer: TimerHandle | null = null;
      this.wake = () => {
        this.wake = null;
        timer?.cancel();
        resolve(this.events.shift() ?? null);
      };
      timer = this.o.clock.setTimeout(() => {
        this.wake = null;
        resolve(null);
      }, ms);
    });
  }

  private async run(x: VerifoneExchange): Promise<Buffer | null> {
    this.counters.exchanges++;
    this.events.length = 0; // a late EOT of an earlier exchange is not this one's answer
    const timeoutMs = this.o.timeoutMs ?? 1000;
    const retries = this.o.retries ?? 3;
    const packet = encodeVerifonePacket(x.framing, x.body);
    let tries = 1;
    this.port.write(packet);
    for (let acked = false; !acked; ) {
      const e = await this.next(timeoutMs);
      if (e?.type === 'ack') acked = true;
      else if (e?.type === 'eot') throw this.error('PINPAD_EOT', x, 'the pad refused it (EOT)');
      else if (e === null || e.type === 'nak') {
        if (e === null) this.counters.timeouts++;
        else this.counters.naksReceived++;
        if (tries > retries) throw this.error('PINPAD_NO_ANSWER', x, `failed after ${tries} attempt(s): ${e === null ? 'no answer' : 'NAK'}`);
        tries++;
        this.counters.retransmissions++;
        log('%s: %s: %s, sending again', this.o.device, x.name, e === null ? 'no answer' : 'NAK');
        this.port.write(packet);
      }
    }
    if (x.response === 'none') return null;
    let naks = 0;
    let body: Buffer | null = null;
    while (body === null) {
      const e = await this.next(x.responseTimeoutMs ?? timeoutMs);
      if (e === null) throw this.error('PINPAD_NO_ANSWER', x, 'no response after the ACK');
      if (e.type === 'eot') throw this.error('PINPAD_EOT', x, 'the pad ended the exchange without an answer (EOT: refused, cancelled or timed out)');
      if (e.type === 'error') {
        if (++naks > retries) {
          this.port.write(Buffer.from([EOT]));
          throw this.error('PINPAD_BAD_RESPONSE', x, `the response failed its LRC ${naks} times`);
        }
        this.counters.naksSent++;
        this.port.write(Buffer.from([NAK]));
        continue;
      }
      if (e.type !== 'packet') continue;
      if (x.response === 'echo' && !e.raw.equals(packet)) {
        this.port.write(Buffer.from([EOT]));
        throw this.error('PINPAD_ECHO_MISMATCH', x, 'the echo differs from what was sent: cancelled with EOT, nothing stored');
      }
      this.port.write(Buffer.from([ACK]));
      body = e.body;
    }
    if ((x.closingEot ?? 'optional') !== 'none') {
      for (;;) {
        const e = await this.next(timeoutMs);
        if (e?.type === 'eot') break;
        if (e === null) {
          if (x.closingEot === 'required') throw this.error('PINPAD_NO_ANSWER', x, 'no closing EOT (the pad did not confirm)');
          break;
        }
      }
    }
    return body;
  }
}
