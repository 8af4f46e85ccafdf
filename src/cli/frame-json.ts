import { dialMonitorToJson, parseDialTail } from '../codec/dial-monitor';
import { encodeLengthPrefixed, lengthPrefix, payloadStart, type FramingName } from '../codec/length-prefix';
import { tpduFromHex, tpduToHex } from '../codec/tpdu';
import { CodecError } from '../errors';
import type { MessageCodec } from '../iso8583/codec';
import { fieldsFromJson, fieldsToJson, type JsonFields } from '../iso8583/json';
import { buildTerminalMessage, readTerminalMessage, type TerminalMessage } from '../iso8583/terminal-message';
import type { PadNibble } from '../codec/bcd';

/** The JSON form of a terminal frame: the `nacbridge decode` / `encode` contract. */
export interface FrameJson {
  length: number;
  tpdu: string;
  dialMonitor: { ani: string; dnis: string; tail: string } | null;
  header: string;
  mti: string;
  fields: JsonFields;
}

export type CliFraming = FramingName | 'none';

/** Length-prefix errors that hex without a prefix (copied from a --trace file) runs into. */
const PREFIX_ERRORS = new Set(['LENGTH_OVER_MAX', 'LENGTH_MISMATCH', 'BAD_LENGTH_PREFIX']);

/** Where the payload starts; a prefix that does not fit says how to read hex that has none. */
function framedStart(frame: Buffer, framing: CliFraming): number {
  if (framing === 'none') return 0;
  try {
    return payloadStart(lengthPrefix(framing), frame);
  } catch (e) {
    if (!(e instanceof CodecError) || !PREFIX_ERRORS.has(e.code)) throw e;
    throw new CodecError(e.code, `${e.message}; hex without a length prefix (as a --trace file holds it) decodes with --framing none`, e.context);
  }
}

export function decodeFrame(codec: MessageCodec, frame: Buffer, framing: CliFraming, reveal: boolean): FrameJson {
  const start = framedStart(frame, framing);
  const terminal = readTerminalMessage(codec, frame, start);
  return {
    length: frame.length - start,
    tpdu: tpduToHex(terminal.tpdu),
    dialMonitor: terminal.dialMonitor ? dialMonitorToJson(terminal.dialMonitor) : null,
    header: terminal.header,
    mti: terminal.message.mti,
    fields: fieldsToJson(codec, terminal.message, reveal),
  };
}

function need<T>(value: T | undefined, key: string, type: string): T {
  if (value === undefined || typeof value !== type) {
    throw new CodecError('BAD_JSON', `"${key}" must be a ${type}`);
  }
  return value;
}

export function terminalFromJson(codec: MessageCodec, json: unknown): TerminalMessage {
  if (typeof json !== 'object' || json === null) throw new CodecError('BAD_JSON', 'input must be a JSON object');
  const o = json as Record<string, unknown>;
  const dial = o.dialMonitor;
  let dialMonitor: TerminalMessage['dialMonitor'] = null;
  if (dial !== null && dial !== undefined) {
    if (typeof dial !== 'object') throw new CodecError('BAD_JSON', '"dialMonitor" must be null or an object');
    const d = dial as Record<string, unknown>;
    dialMonitor = {
      ani: need(d.ani as string | undefined, 'dialMonitor.ani', 'string'),
      dnis: need(d.dnis as string | undefined, 'dialMonitor.dnis', 'string'),
      tail: parseDialTail(need(d.tail as string | undefined, 'dialMonitor.tail', 'string')),
    };
  }
  return {
    tpdu: tpduFromHex(need(o.tpdu as string | undefined, 'tpdu', 'string')),
    dialMonitor,
    header: need(o.header as string | undefined, 'header', 'string').toUpperCase(),
    message: { mti: need(o.mti as string | undefined, 'mti', 'string'), fields: fieldsFromJson(codec, o.fields) },
  };
}

export function encodeFrame(codec: MessageCodec, terminal: TerminalMessage, framing: CliFraming, pad: PadNibble): Buffer {
  const payload = buildTerminalMessage(codec, terminal, { pad });
  return framing === 'none' ? payload : encodeLengthPrefixed(lengthPrefix(framing), payload);
}
