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
  if (end - start < TPDU_LENGTH) {
    throw new CodecError('TRUNCATED', `TPDU needs ${TPDU_LENGTH} bytes, have ${end - start}`, { offset: end });
  }
  const tpdu = readTpdu(payload, start);
  let at = start + TPDU_LENGTH;
  let dialMonitor: DialMonitor | null = null;
  if (hasDialMonitor(payload, at)) {
    if (end - at < DIAL_MONITOR_LENGTH) {
      throw new CodecError('TRUNCATED', `dial-monitor block needs ${DIAL_MONITOR_LENGTH} bytes`, { offset: end });
    }
    dialMonitor = readDialMonitor(payload, at);
    at += DIAL_MONITOR_LENGTH;
  }
  if (end - at < MESSAGE_HEADER_LENGTH) {
    throw new CodecError('TRUNCATED', `message header needs ${MESSAGE_HEADER_LENGTH} bytes, ${end - at} left`, {
      offset: end,
    });
  }
  return { tpdu, dialMonitor, headerOffset: at, messageOffset: at + MESSAGE_HEADER_LENGTH };
}
