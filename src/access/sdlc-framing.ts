import { Buffer } from 'node:buffer';
import createDebug from 'debug';
import type { TimerHandle } from '../clock';
import { decodeSdlcFrame, describeSdlcFrame, encodeSdlcFrame, SDLC_MODULUS, SDLC_TERMINAL_ADDRESS, type SdlcFrame, type UnnumberedType } from '../codec/sdlc';
import { encodeV80Frame, V80Decoder, type V80Event } from '../codec/v80';
import { CodecError, NacbridgeError } from '../errors';
import type { LineFraming, LineFramingContext, LineFramingFactory } from './line-framing';

const log = createDebug('nacbridge:sdlc');

/** What an SDLC line counts, across its calls (R-MDM-7); shown in /metrics and /status. */
export interface SdlcCounters {
  /** Polls sent (RR / REJ / RNR with P, and I-frames with P). */
  polls: number;
  /** I-frames received in sequence (relayed once each) and I-frames sent, retransmissions included. */
  iFramesIn: number;
  iFramesOut: number;
  /** I-frames the terminal sent again (same N(S)): acknowledged, not relayed. */
  retransmissionsIn: number;
  /** I-frames the NAC sent again (REJ, or a checkpoint N(R) showing they were lost). */
  retransmissionsOut: number;
  rejIn: number;
  rejOut: number;
  /** RNR received (the terminal asked the NAC to hold its sends). */
  rnrIn: number;
  /** Frames the modem marked received with a bad FCS (EM B2), and aborted frames (EM B0). */
  badFcs: number;
  aborts: number;
  /** FRMR received from the terminal. */
  frmr: number;
  /** SNRM sent after the first of a call: poll lost N2 times, DM, FRMR or a bad N(R). */
  linkResets: number;
  /** Polls that went unanswered for T1. */
  pollTimeouts: number;
  /** Calls whose link came up (UA to the first SNRM). */
  linksUp: number;
  /**
   * Calls that ended (hang-up, carrier lost) mid-window: an I-frame received and not yet
   * acknowledged, or one sent (or queued) that the terminal had not acknowledged.
   */
  midWindowHangups: number;
  /** The receive rate of the last call, from the modem's V.80 rate indication (0: none yet). */
  connectRateBps: number;
}

export const zeroSdlcCounters = (): SdlcCounters => ({
  polls: 0,
  iFramesIn: 0,
  iFramesOut: 0,
  retransmissionsIn: 0,
  retransmissionsOut: 0,
  rejIn: 0,
  rejOut: 0,
  rnrIn: 0,
  badFcs: 0,
  aborts: 0,
  frmr: 0,
  linkResets: 0,
  pollTimeouts: 0,
  linksUp: 0,
  midWindowHangups: 0,
  connectRateBps: 0,
});

export interface SdlcOptions {
  /** Shared by the line's calls. */
  counters?: SdlcCounters;
  /** Terminal address (0x30). */
  address?: number;
  /** How long a poll (or SNRM) waits for the frame with F (T1). */
  t1Ms?: number;
  /** Unanswered polls in a row before the link is reset with SNRM (N2). */
  n2?: number;
  /** Idle time between the terminal's final frame and the next poll. */
  pollIntervalMs?: number;
  /** Largest information field sent in one I-frame. */
  maxInfo?: number;
}

export const SDLC_DEFAULTS = { t1Ms: 3000, n2: 5, pollIntervalMs: 200, maxInfo: 2048 } as const;

type Phase = 'setup' | 'up' | 'disconnecting' | 'down';

interface Outstanding {
  ns: number;
  info: Buffer;
}

const mod = (n: number): number => ((n % SDLC_MODULUS) + SDLC_MODULUS) % SDLC_MODULUS;

/**
 * The NAC as the SDLC primary station for one call (R-MDM-7), over a V.80 modem: SNRM at once,
 * then RR polls with P; the terminal speaks only when polled and sets F on its last frame. Its
 * I-frames (TPDU + data) go to events.frame once each; answers go out as I-frames with P. A resent
 * I-frame (same N(S)) is acknowledged, never relayed twice and never a reason to reset the link.
 * Everything runs on the context's clock; nothing is written after end().
 */
export class SdlcPrimary implements LineFraming {
  readonly counters: SdlcCounters;
  private readonly address: number;
  private readonly t1Ms: number;
  private readonly n2: number;
  private readonly pollIntervalMs: number;
  private readonly maxInfo: number;
  private readonly decoder = new V80Decoder();
  private phase: Phase = 'setup';
  /** Next N(S) to send; next N(S) expected. */
  private vs = 0;
  private vr = 0;
  /** N(R) last sent to the terminal: what it knows we have. */
  private ackSent = 0;
  private unacked: Outstanding[] = [];
  private queue: Buffer[] = [];
  private remoteBusy = false;
  /** A poll is out: the terminal has the turn until a frame with F (or T1). */
  private awaitingFinal = false;
  private rejectPending = false;
  private tries = 0;
  private timer: TimerHandle | null = null;

  constructor(private readonly context: LineFramingContext, options: SdlcOptions = {}) {
    this.counters = options.counters ?? zeroSdlcCounters();
    this.address = options.address ?? SDLC_TERMINAL_ADDRESS;
    this.t1Ms = options.t1Ms ?? SDLC_DEFAULTS.t1Ms;
    this.n2 = options.n2 ?? SDLC_DEFAULTS.n2;
    this.pollIntervalMs = options.pollIntervalMs ?? SDLC_DEFAULTS.pollIntervalMs;
    this.maxInfo = options.maxInfo ?? SDLC_DEFAULTS.maxInfo;
    this.sendSnrm();
  }

  /** For /status and tests: where the link is. */
  get state(): { phase: Phase; vs: number; vr: number; unacked: number; queued: number; remoteBusy: boolean } {
    return { phase: this.phase, vs: this.vs, vr: this.vr, unacked: this.unacked.length, queued: this.queue.length, remoteBusy: this.remoteBusy };
  }

  receive(chunk: Buffer): void {
    if (this.phase === 'down') return;
    this.decoder.push(chunk, (e) => this.onV80(e));
  }

  send(payload: Buffer): boolean {
    if (this.phase === 'down' || this.phase === 'disconnecting') return false;
    if (payload.length > this.maxInfo) {
      this.context.events.error(new CodecError('LENGTH_OVER_MAX', `SDLC information field of ${payload.length} bytes exceeds ${this.maxInfo}`, { length: payload.length }));
      return false;
    }
    this.queue.push(Buffer.from(payload));
    // The answer goes out at once when the NAC has the turn; else when the terminal's F comes back.
    if (this.phase === 'up' && !this.awaitingFinal) this.takeTurn();
    return true;
  }

  end(): void {
    if (this.phase === 'down') return;
    if (this.phase === 'up' && (this.ackSent !== this.vr || this.unacked.length > 0 || this.queue.length > 0)) {
      this.counters.midWindowHangups++;
      log('call ended mid-window: N(R) %d received, %d acknowledged; %d sent unacknowledged, %d queued', this.vr, this.ackSent, this.unacked.length, this.queue.length);
    }
    this.phase = 'down';
    this.cancelTimer();
    const partial = this.decoder.reset();
    if (partial > 0) this.context.events.discarded(partial);
    this.queue = [];
    this.unacked = [];
  }

  private onV80(e: V80Event): void {
    const { events } = this.context;
    switch (e.type) {
      case 'frame':
        this.onFrame(e.frame);
        return;
      case 'bad-fcs':
        // Dropped and counted; the next poll's N(R) brings the good copy.
        this.counters.badFcs++;
        events.discarded(e.bytes);
        log('frame with a bad FCS dropped (%d bytes)', e.bytes);
        return;
      case 'abort':
        this.counters.aborts++;
        events.discarded(e.bytes);
        return;
      case 'discarded':
        events.discarded(e.bytes);
        return;
      case 'error':
        events.error(e.error);
        return;
      case 'indication':
        if (e.indication.kind === 'rate') {
          const bps = e.indication.rxBps ?? e.indication.txBps;
          if (bps !== null) this.counters.connectRateBps = bps;
          log('V.80 rate: tx %s rx %s bps', e.indication.txBps, e.indication.rxBps);
        } else log('V.80 indication %s', e.indication.name);
        return;
    }
  }

  private onFrame(bytes: Buffer): void {
    let frame: SdlcFrame;
    try {
      frame = decodeSdlcFrame(bytes);
    } catch (e) {
      if (e instanceof NacbridgeError) this.context.events.error(e);
      else throw e;
      return;
    }
    if (frame.address !== this.address) {
      this.context.events.error(new CodecError('SDLC_WRONG_ADDRESS', `SDLC frame for address 0x${frame.address.toString(16)}, not 0x${this.address.toString(16)}`, { address: frame.address }));
      this.context.events.discarded(bytes.length);
      return;
    }
    log('<- %s', describeSdlcFrame(frame, false));
    if (this.phase === 'setup' || this.phase === 'disconnecting') {
      if (frame.kind === 'U' && frame.type === 'UA') {
        this.cancelTimer();
        this.awaitingFinal = false;
        this.tries = 0;
        if (this.phase === 'disconnecting') {
          this.phase = 'down';
          return;
        }
        this.phase = 'up';
        this.counters.linksUp++;
        this.vs = this.vr = this.ackSent = 0;
        this.unacked = [];
        this.remoteBusy = false;
        this.schedulePoll(this.queue.length > 0 ? 0 : this.pollIntervalMs);
      } else if (frame.kind === 'U' && frame.type === 'DM' && this.phase === 'disconnecting') {
        this.cancelTimer();
        this.phase = 'down';
      }
      // Anything else before UA is ignored; T1 sends SNRM again.
      return;
    }
    switch (frame.kind) {
      case 'I':
        if (!this.acknowledge(frame.nr)) return;
        this.onInformation(frame.ns, frame.info);
        break;
      case 'S':
        if (!this.acknowledge(frame.nr)) return;
        if (frame.type === 'RR') this.remoteBusy = false;
        else if (frame.type === 'RNR') {
          this.remoteBusy = true;
          this.counters.rnrIn++;
        } else if (frame.type === 'REJ') {
          this.remoteBusy = false;
          this.counters.rejIn++;
          this.retransmitUnacked();
        }
        break;
      case 'U':
        this.onUnnumbered(frame.type);
        return;
    }
    if (frame.pf) this.onFinal();
  }

  /** Take the terminal's N(R): our I-frames before it are acknowledged. False when it made no sense (the link was reset). */
  private acknowledge(nr: number): boolean {
    const oldest = this.unacked[0]?.ns ?? this.vs;
    const span = mod(this.vs - oldest);
    const k = mod(nr - oldest);
    if (k > span) {
      this.context.events.error(new NacbridgeError('SDLC_BAD_NR', `terminal acknowledged N(R)=${nr}, outside ${oldest}..${this.vs}`, { nr }));
      this.resetLink();
      return false;
    }
    this.unacked.splice(0, k);
    return true;
  }

  private onInformation(ns: number, info: Buffer): void {
    const d = mod(ns - this.ackSent);
    const expected = mod(this.vr - this.ackSent);
    if (d === expected) {
      this.vr = mod(this.vr + 1);
      this.counters.iFramesIn++;
      this.context.events.frame(info);
    } else if (d < expected || d === SDLC_MODULUS - 1) {
      // Sent before: acknowledged with the next N(R), relayed only the first time.
      this.counters.retransmissionsIn++;
      log('I-frame N(S)=%d received again: not relayed', ns);
    } else {
      // A gap: an earlier frame was lost (bad FCS). REJ asks for it again.
      this.rejectPending = true;
      this.context.events.discarded(info.length + 2);
      log('I-frame N(S)=%d out of sequence (expected %d)', ns, this.vr);
    }
  }

  private onUnnumbered(type: UnnumberedType): void {
    switch (type) {
      case 'DM':
        // The terminal is in disconnected mode: bring the link up again.
        this.resetLink();
        return;
      case 'FRMR':
        this.counters.frmr++;
        this.resetLink();
        return;
      case 'DISC':
        // RD from the secondary: it asks to disconnect. The primary sends DISC, then the line idles until hang-up.
        this.phase = 'disconnecting';
        this.cancelTimer();
        this.write({ kind: 'U', address: this.address, type: 'DISC', pf: true, info: Buffer.alloc(0) });
        this.awaitingFinal = true;
        this.timer = this.context.clock.setTimeout(() => {
          this.timer = null;
          this.phase = 'down';
        }, this.t1Ms);
        return;
      default:
        log('unnumbered %s ignored', type);
    }
  }

  /** The terminal's turn is over: the NAC sends what it has at once, else polls again after the interval. */
  private onFinal(): void {
    this.cancelTimer();
    this.awaitingFinal = false;
    this.tries = 0;
    if (this.unacked.length > 0 && !this.remoteBusy) this.retransmitUnacked();
    else if (this.remoteBusy) this.schedulePoll(this.pollIntervalMs);
    else if (this.queue.length > 0 || this.rejectPending) this.takeTurn();
    else this.schedulePoll(this.pollIntervalMs);
  }

  /** The NAC has the turn: send what is queued (the last with P), or a poll. */
  private takeTurn(): void {
    if (this.phase !== 'up' || this.awaitingFinal) return;
    this.cancelTimer();
    if (this.rejectPending) {
      this.rejectPending = false;
      this.counters.rejOut++;
      this.poll('REJ');
      return;
    }
    if (!this.remoteBusy && this.queue.length > 0 && this.unacked.length < SDLC_MODULUS - 1) {
      const room = SDLC_MODULUS - 1 - this.unacked.length;
      const batch = this.queue.splice(0, room);
      batch.forEach((info, i) => {
        const ns = this.vs;
        this.vs = mod(this.vs + 1);
        this.unacked.push({ ns, info });
        this.sendI(ns, info, i === batch.length - 1);
      });
      this.startT1();
      return;
    }
    this.poll('RR');
  }

  private poll(type: 'RR' | 'REJ'): void {
    this.write({ kind: 'S', address: this.address, type, nr: this.vr, pf: true });
    this.ackSent = this.vr;
    this.counters.polls++;
    this.startT1();
  }

  private sendI(ns: number, info: Buffer, final: boolean): void {
    this.write({ kind: 'I', address: this.address, ns, nr: this.vr, pf: final, info });
    this.ackSent = this.vr;
    this.counters.iFramesOut++;
    if (final) this.counters.polls++;
  }

  /** Send again every I-frame not yet acknowledged, the last with P. */
  private retransmitUnacked(): void {
    if (this.unacked.length === 0) return;
    if (this.awaitingFinal) {
      // REJ inside the terminal's turn: resend once the turn comes back (onFinal).
      return;
    }
    this.cancelTimer();
    this.unacked.forEach((o, i) => {
      this.counters.retransmissionsOut++;
      this.sendI(o.ns, o.info, i === this.unacked.length - 1);
    });
    this.startT1();
  }

  private startT1(): void {
    this.awaitingFinal = true;
    this.cancelTimer();
    this.timer = this.context.clock.setTimeout(() => this.onT1(), this.t1Ms);
  }

  private onT1(): void {
    this.timer = null;
    this.awaitingFinal = false;
    if (this.phase === 'setup') {
      this.tries++;
      if (this.tries >= this.n2) this.context.events.error(new NacbridgeError('SDLC_NO_UA', `terminal did not answer SNRM ${this.tries} times`, { tries: this.tries }));
      this.sendSnrm();
      return;
    }
    this.counters.pollTimeouts++;
    this.tries++;
    if (this.tries > this.n2) {
      this.context.events.error(new NacbridgeError('SDLC_POLL_LOST', `terminal poll lost: ${this.n2} polls unanswered`, { n2: this.n2 }));
      this.resetLink();
      return;
    }
    // Poll again; the terminal's N(R) then says which of our I-frames it has (onFinal resends the rest).
    this.poll('RR');
  }

  private schedulePoll(ms: number): void {
    this.cancelTimer();
    this.timer = this.context.clock.setTimeout(() => {
      this.timer = null;
      this.takeTurn();
    }, ms);
  }

  private resetLink(): void {
    this.counters.linkResets++;
    this.phase = 'setup';
    this.tries = 0;
    // Unacknowledged answers are kept and go again after UA.
    this.queue = [...this.unacked.map((o) => o.info), ...this.queue];
    this.unacked = [];
    this.sendSnrm();
  }

  private sendSnrm(): void {
    this.write({ kind: 'U', address: this.address, type: 'SNRM', pf: true, info: Buffer.alloc(0) });
    this.startT1();
  }

  private write(frame: SdlcFrame): void {
    if (this.phase === 'down') return;
    log('-> %s', describeSdlcFrame(frame, true));
    this.context.write(encodeV80Frame(encodeSdlcFrame(frame)));
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}

/** The factory a line with `framing: "sdlc"` uses: one primary per call, the line's counters shared. */
export function sdlcFraming(options: SdlcOptions = {}): LineFramingFactory & { counters: SdlcCounters } {
  const counters = options.counters ?? zeroSdlcCounters();
  const factory = (context: LineFramingContext): LineFraming => new SdlcPrimary(context, { ...options, counters });
  return Object.assign(factory, { counters });
}
