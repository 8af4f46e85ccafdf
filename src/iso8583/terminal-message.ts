import { writeDialMonitor, DIAL_MONITOR_LENGTH, type DialMonitor } from '../codec/dial-monitor';
import { MESSAGE_HEADER_LENGTH } from '../codec/message-header';
import { readTerminalEnvelope } from '../codec/terminal-envelope';
import { TPDU_LENGTH, writeTpdu, type Tpdu } from '../codec/tpdu';
import { CodecError } from '../errors';
import type { MessageCodec, PackOptions } from './codec';
import type { IsoMessage } from './message';

/** A whole terminal payload, parsed: envelope + header (raw 6 bytes) + message (R-FRAME-3). */
export interface TerminalMessage {
  tpdu: Tpdu;
  dialMonitor: DialMonitor | null;
  header: Buffer;
  message: IsoMessage;
}

export function readTerminalMessage(codec: MessageCodec, payload: Uint8Array, start = 0, end = payload.length): TerminalMessage {
  const bytes = payload.subarray(0, end);
  const envelope = readTerminalEnvelope(bytes, start);
  return {
    tpdu: envelope.tpdu,
    dialMonitor: envelope.dialMonitor,
    header: Buffer.from(bytes.subarray(envelope.headerOffset, envelope.messageOffset)),
    message: codec.unpack(bytes, envelope.messageOffset, end),
  };
}

/** Bytes a terminal payload of this codec's messages can take at most. */
export function maxTerminalPayload(codec: MessageCodec): number {
  return TPDU_LENGTH + DIAL_MONITOR_LENGTH + MESSAGE_HEADER_LENGTH + codec.maxMessageBytes;
}

/** Write the payload into `target` at `offset` (room: maxTerminalPayload); returns the end offset. */
export function writeTerminalMessage(
  codec: MessageCodec,
  terminal: TerminalMessage,
  target: Buffer,
  offset: number,
  options: PackOptions = {},
): number {
  if (terminal.header.length !== MESSAGE_HEADER_LENGTH) {
    throw new CodecError('BAD_HEADER', `message header must be ${MESSAGE_HEADER_LENGTH} bytes, got ${terminal.header.length}`);
  }
  let o = writeTpdu(target, offset, terminal.tpdu);
  if (terminal.dialMonitor) o = writeDialMonitor(target, o, terminal.dialMonitor);
  target.set(terminal.header, o);
  return codec.write(terminal.message, target, o + MESSAGE_HEADER_LENGTH, options);
}

export function buildTerminalMessage(codec: MessageCodec, terminal: TerminalMessage, options: PackOptions = {}): Buffer {
  const scratch = Buffer.allocUnsafe(maxTerminalPayload(codec));
  const end = writeTerminalMessage(codec, terminal, scratch, 0, options);
  return Buffer.from(scratch.subarray(0, end));
}
