import { tpduToHex } from '../codec/tpdu';
import { fromHex, toHex } from '../codec/hex';
import { parseMessageHeader, PROCESSING_REQUIREMENTS } from '../codec/message-header';
import type { MessageCodec } from './codec';
import { formatOf } from './field';
import { messageEntries, type IsoMessage, type MessageData } from './message';
import { presentValue } from './redact';
import type { TerminalMessage } from './terminal-message';

export interface DescribeOptions {
  /** Show PAN, track data, PIN block, ICC data and keys in clear. For a bench's eyes only. */
  reveal?: boolean;
}

const MTI_NAMES: Readonly<Record<string, string>> = {
  '0200': 'financial request',
  '0210': 'financial response',
  '0220': 'advice (refund)',
  '0230': 'advice response',
  '0400': 'reversal',
  '0410': 'reversal response',
  '0500': 'settlement',
  '0510': 'settlement response',
  '0800': 'network management (sign-on, echo)',
  '0810': 'network management response',
  '0820': 'sign-off',
  '0830': 'sign-off response',
};

/** A message for people: one line per field, sensitive values redacted unless revealed. */
export function describeMessage(codec: MessageCodec, message: IsoMessage | MessageData, options: DescribeOptions = {}): string {
  const lines = [`MTI ${message.mti}${MTI_NAMES[message.mti] ? `  (${MTI_NAMES[message.mti]})` : ''}`];
  // As wide as the longest label in this message: a label is never cut short.
  const entries = messageEntries(message);
  const labelWidth = Math.max(44, ...entries.map(([number]) => codec.field(number)?.description.length ?? 0));
  for (const [number, value] of entries) {
    const key = String(number);
    const spec = codec.field(number);
    if (spec === undefined) continue;
    const size = typeof value === 'string' ? `${value.length}` : `${value.length} bytes`;
    const shown = presentValue(spec, value, options.reveal === true);
    lines.push(
      `  ${key.padStart(2)}  ${spec.description.padEnd(labelWidth)} ${formatOf(spec).padEnd(9)} [${size}] ${shown}`,
    );
  }
  return lines.join('\n');
}

/** The header's processing requirement in words (R-MSG-2), when the header is BCD. */
function headerNote(header: string): string {
  try {
    const requirement = parseMessageHeader(fromHex(header)).processingRequirement;
    return `  (processing requirement ${requirement}: ${PROCESSING_REQUIREMENTS[requirement] ?? 'platform specific'})`;
  } catch {
    return '';
  }
}

export function describeTerminalMessage(codec: MessageCodec, terminal: TerminalMessage, options: DescribeOptions = {}): string {
  const dial = terminal.dialMonitor
    ? `dial monitor  ANI ${terminal.dialMonitor.ani || '(none)'}  DNIS ${terminal.dialMonitor.dnis}  tail ${toHex(terminal.dialMonitor.tail)}\n`
    : '';
  const { id, destination, originator } = terminal.tpdu;
  return (
    `TPDU ${tpduToHex(terminal.tpdu)}  (id ${id.toString(16).toUpperCase()}, destination ${destination}, originator ${originator})\n` +
    dial +
    `header ${terminal.header}${headerNote(terminal.header)}\n` +
    describeMessage(codec, terminal.message, options)
  );
}
