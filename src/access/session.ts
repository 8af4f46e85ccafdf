import type { Buffer } from 'node:buffer';

/**
 * One terminal's way in, as the relay sees it, whatever carried it: a call on a modem line
 * (async or SDLC framing) or a TCP terminal connection. The address identifies it to the
 * platform (the TPDU originator, R-MSG-1).
 */
export interface TerminalSession {
  readonly address: string;
  /** For logs and drops: the line or connection and its address. */
  readonly label: string;
  /** The calling number (R-DIAL-4), or null when the call had none. */
  readonly ani: string | null;
  /** The called number: the line's own (R-DIAL-4). */
  readonly dnis: string;
  readonly isOpen: boolean;
  /** Write a payload (TPDU + data) back in the session's own framing. */
  send(payload: Buffer): void;
}

/** Where sessions hand what their terminals send: the relay. */
export interface SessionSink {
  /** A frame (TPDU + data) from a session's terminal. */
  request(session: TerminalSession, frame: Buffer): void;
  /** The session ended (hang-up, closed connection): nothing more can reach its terminal. */
  endSession(session: TerminalSession): void;
}

/** What every access point counts. */
export interface AccessCounters {
  /** Calls answered, or terminal connections accepted. */
  calls: number;
  framesIn: number;
  framesOut: number;
  /** Frames that could not be decoded (bad LRC, missing ETX, over-long...). */
  frameErrors: number;
  /** The same by the decoder's code (BAD_LRC, MISSING_ETX, LENGTH_OVER_MAX, BAD_LENGTH_PREFIX). */
  frameErrorsBy: Record<string, number>;
  /** Bytes outside any frame, skipped by the decoder. */
  discardedBytes: number;
}

export const zeroAccessCounters = (): AccessCounters => ({ calls: 0, framesIn: 0, framesOut: 0, frameErrors: 0, frameErrorsBy: {}, discardedBytes: 0 });

/** A session whose owner says when it has ended. */
export interface OwnedSession extends TerminalSession {
  isOpen: boolean;
}
