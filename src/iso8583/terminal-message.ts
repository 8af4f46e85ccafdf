import { Buffer } from 'node:buffer';
import { writeDialMonitor, DIAL_MONITOR_LENGTH, type DialMonitor } from '../codec/dial-monitor';
import { sliceCopy } from '../codec/bytes';
import { toHex, writeHex } from '../codec/hex';
import { MESSAGE_HEADER_LENGTH } from '../codec/message-header';
import { readTerminalEnvelope } from '../codec/terminal-envelope';
import { TPDU_LENGTH, writeTpdu, type Tpdu } from '../codec/tpdu';
import { CodecError } from '../errors';
import type { MessageCodec, PackOptions, UnpackOptions } from './codec';
import type { IsoMessage, MessageData } from './message';

/** A whole terminal payload, parsed: envelope + header + message (R-FRAME-3). */
export interface TerminalMessage<M extends IsoMessage | MessageData = IsoMessage | MessageData> {
  tpdu: Tpdu;
  dialMonitor: DialMonitor | null;
  /** The 6-byte BCD message header as 12 hex digits, kept as sent (parseMessageHeader names its parts). */
  header: string;
  message: M;
}

export function readTerminalMessage(
  codec: MessageCodec,
  payload: Uint8Array,
  start = 0,
  end = payload.length,
  options: UnpackOptions = {},
): TerminalMessage<IsoMessage> {
  const envelope = readTerminalEnvelope(payload, start, end);
  return {
    tpdu: envelope.tpdu,
    dialMonitor: envelope.dialMonitor,
    header: toHex(payload, envelope.headerOffset, envelope.messageOffset),
    message: codec.unpack(payload, envelope.messageOffset, end, options),
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
  if (terminal.header.length !== MESSAGE_HEADER_LENGTH * 2) {
    throw new CodecError('BAD_HEADER', `message header must be ${MESSAGE_HEADER_LENGTH * 2} hex digits, got ${terminal.header.length}`);
  }
  let o = writeTpdu(target, offset, terminal.tpdu);
  if (terminal.dialMonitor) o = writeDialMonitor(target, o, terminal.dialMonitor);
  o = writeHex(target, o, terminal.header, 'message header');
  return codec.write(terminal.message, target, o, options);
}

export function buildTerminalMessage(codec: MessageCodec, terminal: TerminalMessage, options: PackOptions = {}): Buffer {
  const scratch = Buffer.allocUnsafe(maxTerminalPayload(codec));
  const end = writeTerminalMessage(codec, terminal, scratch, 0, options);
  return sliceCopy(scratch, 0, end);
}
