import { CodecError } from '../errors';
import { DIAL_MONITOR_LENGTH, hasDialMonitor, readDialMonitor, type DialMonitor } from './dial-monitor';
import { MESSAGE_HEADER_LENGTH } from './message-header';
import { readTpdu, TPDU_LENGTH, type Tpdu } from './tpdu';

/**
 * What precedes the ISO 8583 message in a terminal payload (R-FRAME-3):
 * TPDU (5) + [dial-monitor block (33)] + message header (6). A relay needs only this much; it
 * never has to unpack the message itself.
 */
export interface TerminalEnvelope {
  tpdu: Tpdu;
  dialMonitor: DialMonitor | null;
  /** Offsets into the payload. */
  headerOffset: number;
  messageOffset: number;
}

export function readTerminalEnvelope(payload: Uint8Array, start = 0, end = payload.length): TerminalEnvelope {
  const headerOffset = locateMessageHeader(payload, start, end);
  const dialMonitor = headerOffset - start > TPDU_LENGTH ? readDialMonitor(payload, start + TPDU_LENGTH) : null;
  return { tpdu: readTpdu(payload, start), dialMonitor, headerOffset, messageOffset: headerOffset + MESSAGE_HEADER_LENGTH };
}

/** Where the ISO 8583 message (its MTI) starts: after the header that locateMessageHeader finds. */
export function locateMessage(payload: Uint8Array, start = 0, end = payload.length): number {
  return locateMessageHeader(payload, start, end) + MESSAGE_HEADER_LENGTH;
}

/**
 * Where the message header starts, with every length checked but nothing decoded: what a relay
 * needs to rewrite a payload without reading it (one call per frame on the NAC's hot path).
 */
export function locateMessageHeader(payload: Uint8Array, start = 0, end = payload.length): number {
  if (end - start < TPDU_LENGTH) {
    throw new CodecError('TRUNCATED', `TPDU needs ${TPDU_LENGTH} bytes, have ${end - start}`, { offset: end });
  }
  let at = start + TPDU_LENGTH;
  if (hasDialMonitor(payload, at)) {
    if (end - at < DIAL_MONITOR_LENGTH) {
      throw new CodecError('TRUNCATED', `dial-monitor block needs ${DIAL_MONITOR_LENGTH} bytes`, { offset: end });
    }
    at += DIAL_MONITOR_LENGTH;
  }
  if (end - at < MESSAGE_HEADER_LENGTH) {
    throw new CodecError('TRUNCATED', `message header needs ${MESSAGE_HEADER_LENGTH} bytes, ${end - at} left`, {
      offset: end,
    });
  }
  return at;
}
