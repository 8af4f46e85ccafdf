import { Buffer } from 'node:buffer';
import type { Clock, TimerHandle } from '../clock';
import { systemClock } from '../clock';
import { decodeSdlcFrame, encodeSdlcFrame, SDLC_TERMINAL_ADDRESS, type SdlcFrame } from '../codec/sdlc';
import { encodeV80Frame, V80_ERR, V80Decoder } from '../codec/v80';
import { NacbridgeError } from '../errors';
import type { ByteStream } from './channels';
import type { RequestChannel } from './terminal';

/**
 * Faults a synchronous test terminal can play, each once (the next time it applies):
 * - lostAck: it ignores the acknowledgement of its request and sends the I-frame again;
 * - duplicate: it sends its request I-frame twice in the same turn;
 * - badFcs: its request's first copy reaches the NAC's modem with a bad FCS (EM B2);
 * - slowPollMs: it answers each poll this much later (still inside T1 when below it);
 * - hangupMidWindow: it closes the call right after sending its request.
 */
export interface SdlcFaults {
  lostAck?: boolean;
  duplicate?: boolean;
  badFcs?: boolean;
  slowPollMs?: number;
  hangupMidWindow?: boolean;
}

export interface SdlcSecondaryCounters {
  snrm: number;
  polls: number;
  iFramesIn: number;
  iFramesOut: number;
  duplicatesIn: number;
}

const mod8 = (n: number): number => ((n % 8) + 8) % 8;

/**
 * A synchronous POS terminal's SDLC secondary station (address 0x30) over a V.80 modem stream
 * (R-MDM-7): answers SNRM with UA, speaks only when polled and sets F on its last frame, sends
 * one request at a time as an I-frame, resends from a poll's N(R) when it shows frames were missed.
 * As a RequestChannel it serves the terminal role (src/terminal) like the async channel.
 */
export class SdlcSecondary implements RequestChannel {
  readonly counters: SdlcSecondaryCounters = { snrm: 0, polls: 0, iFramesIn: 0, iFramesOut: 0, duplicatesIn: 0 };
  private readonly decoder = new V80Decoder();
  private vs = 0;
  private vr = 0;
  private up = false;
  private closed = false;
  private pending: Buffer | null = null;
  /** The request I-frame sent and not yet acknowledged. */
  private unacked: { ns: number; info: Buffer } | null = null;
  private waiting: { resolve(p: Buffer): void; reject(e: Error): void; timer: TimerHandle } | null = null;
  private slowTimer: TimerHandle | null = null;
  private readonly faults: SdlcFaults;

  constructor(
    private readonly stream: ByteStream & { end?(): unknown; destroy?(): unknown },
    private readonly options: { clock?: Clock; timeoutMs?: number; faults?: SdlcFaults; onLinkUp?: () => void; afterConnect?: boolean } = {},
  ) {
    this.faults = { ...(options.faults ?? {}) };
    // On a dialled call the calling modem's result text (CONNECT ...) comes first: skipped.
    let text = options.afterConnect ? '' : null;
    stream.on('data', (data) => {
      if (this.closed) return;
      let chunk = data;
      if (text !== null) {
        text += data.toString('latin1');
        const m = /CONNECT[^\r\n]*\r\n/.exec(text);
        if (!m) return;
        chunk = Buffer.from(text.slice(m.index + m[0].length), 'latin1');
        text = null;
      }
      this.decoder.push(chunk, (e) => {
        if (e.type === 'frame') this.onFrame(e.frame);
      });
    });
    stream.on('close', () => {
      this.closed = true;
      this.slowTimer?.cancel();
      const w = this.waiting;
      this.waiting = null;
      if (w) {
        w.timer.cancel();
        w.reject(new NacbridgeError('CALL_ENDED', 'the call ended before the response came'));
      }
    });
  }

  get clock(): Clock {
    return this.options.clock ?? systemClock;
  }

  /** Arm more faults (each plays once), e.g. between transactions of one call. */
  inject(faults: SdlcFaults): void {
    Object.assign(this.faults, faults);
  }

  /** Sequence state, for tests: after SNRM both are 0. */
  get sequence(): { vs: number; vr: number; up: boolean } {
    return { vs: this.vs, vr: this.vr, up: this.up };
  }

  request(payload: Buffer): Promise<Buffer> {
    if (this.waiting !== null) return Promise.reject(new NacbridgeError('BUSY', 'a request is already waiting for its response'));
    if (this.closed) return Promise.reject(new NacbridgeError('CALL_ENDED', 'the call has ended'));
    const timeoutMs = this.options.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.waiting = null;
        this.pending = null;
        reject(new NacbridgeError('REQUEST_TIMEOUT', `no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = { resolve, reject, timer };
      this.pending = Buffer.from(payload);
    });
  }

  private onFrame(bytes: Buffer): void {
    let frame: SdlcFrame;
    try {
      frame = decodeSdlcFrame(bytes);
    } catch {
      return;
    }
    if (frame.address !== SDLC_TERMINAL_ADDRESS) return;
    if (frame.kind === 'U') {
      if (frame.type === 'SNRM') {
        this.counters.snrm++;
        this.vs = this.vr = 0;
        this.unacked = null;
        this.up = true;
        this.send({ kind: 'U', address: SDLC_TERMINAL_ADDRESS, type: 'UA', pf: true, info: Buffer.alloc(0) });
        this.options.onLinkUp?.();
      } else if (frame.type === 'DISC') {
        this.up = false;
        this.send({ kind: 'U', address: SDLC_TERMINAL_ADDRESS, type: 'UA', pf: true, info: Buffer.alloc(0) });
      }
      return;
    }
    if (!this.up) {
      if (frame.pf) this.send({ kind: 'U', address: SDLC_TERMINAL_ADDRESS, type: 'DM', pf: true, info: Buffer.alloc(0) });
      return;
    }
    this.takeAck(frame.nr);
    if (frame.kind === 'I') {
      if (frame.ns === this.vr) {
        this.vr = mod8(this.vr + 1);
        this.counters.iFramesIn++;
        const w = this.waiting;
        this.waiting = null;
        if (w) {
          w.timer.cancel();
          w.resolve(frame.info);
        }
      } else this.counters.duplicatesIn++;
    }
    if (!frame.pf) return;
    this.counters.polls++;
    const slow = this.faults.slowPollMs ?? 0;
    if (slow > 0) {
      this.slowTimer = this.clock.setTimeout(() => {
        this.slowTimer = null;
        this.answerPoll();
      }, slow);
    } else this.answerPoll();
  }

  private takeAck(nr: number): void {
    if (this.unacked === null) return;
    if (nr === mod8(this.unacked.ns + 1)) {
      if (this.faults.lostAck) {
        // The acknowledgement "did not arrive": send the request again from our old N(S).
        this.faults.lostAck = false;
        this.vs = this.unacked.ns;
        return;
      }
      this.unacked = null;
    } else if (nr === this.unacked.ns) {
      // The poll's N(R) shows the NAC missed it: resend from N(R).
      this.vs = this.unacked.ns;
    }
  }

  private answerPoll(): void {
    if (this.closed) return;
    if (this.unacked !== null && this.vs === this.unacked.ns) {
      this.sendI(this.unacked.ns, this.unacked.info);
      return;
    }
    if (this.pending !== null && this.unacked === null) {
      const info = this.pending;
      this.pending = null;
      const ns = this.vs;
      this.unacked = { ns, info };
      if (this.faults.badFcs) {
        this.faults.badFcs = false;
        this.sendI(ns, info, true);
        return;
      }
      if (this.faults.duplicate) {
        this.faults.duplicate = false;
        this.write(encodeV80Frame(encodeSdlcFrame({ kind: 'I', address: SDLC_TERMINAL_ADDRESS, ns, nr: this.vr, pf: false, info })));
        this.counters.iFramesOut++;
      }
      this.sendI(ns, info);
      if (this.faults.hangupMidWindow) {
        this.faults.hangupMidWindow = false;
        this.closed = true;
        this.stream.end?.();
      }
      return;
    }
    this.send({ kind: 'S', address: SDLC_TERMINAL_ADDRESS, type: 'RR', nr: this.vr, pf: true });
  }

  private sendI(ns: number, info: Buffer, corrupt = false): void {
    this.vs = mod8(ns + 1);
    this.counters.iFramesOut++;
    const wire = encodeV80Frame(encodeSdlcFrame({ kind: 'I', address: SDLC_TERMINAL_ADDRESS, ns, nr: this.vr, pf: true, info }));
    // A frame damaged on the line: the NAC's modem reports it with EM B2 instead of a good flag.
    if (corrupt) wire[wire.length - 1] = V80_ERR;
    this.write(wire);
  }

  private send(frame: SdlcFrame): void {
    this.write(encodeV80Frame(encodeSdlcFrame(frame)));
  }

  private write(bytes: Buffer): void {
    if (!this.closed) this.stream.write(bytes);
  }
}
