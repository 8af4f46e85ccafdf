import createDebug from 'debug';
import type { Clock } from '../clock';
import type { Call, ModemLine } from '../modem/line';
import type { LineFraming, LineFramingFactory } from './line-framing';
import type { SdlcCounters } from './sdlc-framing';
import { zeroAccessCounters, type OwnedSession, type SessionSink, type TerminalSession } from './session';

const log = createDebug('nacbridge:access');

export interface ModemLineAccessOptions {
  /** The line's address in the TPDU originator (R-MSG-1). */
  address: string;
  /** The line's own number (R-DIAL-4). */
  dnis: string;
  /** How calls on this line are framed (asyncFraming, or SDLC for synchronous terminals). */
  framing: LineFramingFactory;
  /** The SDLC primary's counters, for a line with `framing: "sdlc"` (R-MDM-7). */
  sdlc?: SdlcCounters;
  clock: Clock;
}

/**
 * A modem line as the NAC sees it: each connected call is a session with the line's address and
 * DNIS and the call's caller ID. The call's bytes go through the line's framing; its frames go to
 * the sink (the relay), and the sink's answers go back through the same framing.
 */
export class ModemLineAccess {
  readonly counters = zeroAccessCounters();
  private session: OwnedSession | null = null;
  private framing: LineFraming | null = null;

  constructor(
    readonly line: ModemLine,
    private readonly o: ModemLineAccessOptions,
    private readonly sink: SessionSink,
  ) {
    line.on('connected', (call) => this.onCall(call));
    line.on('data', (chunk) => this.framing?.receive(chunk));
    line.on('hangup', () => this.onHangup());
  }

  get address(): string {
    return this.o.address;
  }

  get dnis(): string {
    return this.o.dnis;
  }

  /** SDLC counters (polls, I-frames, retransmissions, REJ, bad FCS, FRMR, link resets, connect rate), or null on an async line. */
  get sdlc(): SdlcCounters | null {
    return this.o.sdlc ?? null;
  }

  /** The call in progress, if any. */
  get current(): TerminalSession | null {
    return this.session;
  }

  private onCall(call: Call): void {
    this.counters.calls++;
    this.framing?.end();
    const { line, counters } = this;
    const framing = this.o.framing({
      write: (bytes) => line.write(bytes),
      clock: this.o.clock,
      events: {
        frame: (frame) => {
          counters.framesIn++;
          if (this.session !== null) this.sink.request(this.session, frame);
        },
        error: (error) => {
          counters.frameErrors++;
          counters.frameErrorsBy[error.code] = (counters.frameErrorsBy[error.code] ?? 0) + 1;
          log('%s: %s', line.name, error.describe());
        },
        discarded: (bytes) => {
          counters.discardedBytes += bytes;
        },
      },
    });
    const session: OwnedSession = {
      address: this.o.address,
      label: `${line.name} (${this.o.address})`,
      ani: call.callerId?.number ?? null,
      dnis: this.o.dnis,
      isOpen: true,
      send(payload) {
        if (framing.send(payload)) counters.framesOut++;
      },
    };
    if (session.ani === null) log('%s: call without caller ID (%s): ANI will be zeros', line.name, call.callerId?.absent ?? 'none');
    this.framing = framing;
    this.session = session;
  }

  private onHangup(): void {
    const session = this.session;
    this.session = null;
    this.framing?.end();
    this.framing = null;
    if (session !== null) {
      session.isOpen = false;
      this.sink.endSession(session);
    }
  }
}
