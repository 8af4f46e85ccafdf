import type { Buffer } from 'node:buffer';
import type { Clock } from '../clock';
import type { NacbridgeError } from '../errors';

/**
 * How a call's bytes become terminal frames on a modem line, and back: async STX/LL/ETX/LRC
 * today (R-MDM-6), SDLC over V.80 for synchronous terminals (R-MDM-7). One instance per call.
 * A framing may write on its own (an SDLC primary polls), which is why it gets the line's writer
 * and a clock rather than only turning bytes into frames.
 */
export interface LineFraming {
  /** Bytes the modem delivered in data mode. */
  receive(chunk: Buffer): void;
  /** Send a payload (TPDU + data) to the terminal; false when the line would not take it. */
  send(payload: Buffer): boolean;
  /** The call is over: drop anything partial, stop timers. */
  end(): void;
}

export interface LineFramingEvents {
  /** A whole terminal frame (TPDU + data). */
  frame(frame: Buffer): void;
  /** A frame that could not be decoded; counted and logged, never relayed. */
  error(error: NacbridgeError): void;
  /** Bytes outside any frame, skipped. */
  discarded(bytes: number): void;
}

export interface LineFramingContext {
  /** Write to the line (the modem is in data mode); false when the port is gone. */
  write(bytes: Buffer): boolean;
  clock: Clock;
  events: LineFramingEvents;
}

/** Makes the framing for one call. */
export type LineFramingFactory = (context: LineFramingContext) => LineFraming;
