import { toHex } from '../codec/hex';
import { readTerminalEnvelope } from '../codec/terminal-envelope';
import type { MessageCodec } from './codec';
import type { FieldSpec } from './field';
import type { FieldValue } from './message';

/** What replaces a hidden value (track data, PIN block, ICC data, keys). */
export const HIDDEN = '***';

/** A PAN as people may see it: first 6 and last 4 digits (docs/design.md, conventions). */
export function maskPan(pan: string): string {
  if (pan.length <= 10) return '*'.repeat(Math.max(0, pan.length - 4)) + pan.slice(-4);
  return pan.slice(0, 6) + '*'.repeat(pan.length - 10) + pan.slice(-4);
}

/** A value as text: digits and characters as they are, bytes as uppercase hex. */
export function valueText(value: FieldValue): string {
  return typeof value === 'string' ? value : toHex(value);
}

/** The value as text, redacted per the field's policy unless `reveal`. */
export function presentValue(spec: FieldSpec, value: FieldValue, reveal: boolean): string {
  if (reveal || spec.redaction === 'none') return valueText(value);
  if (spec.redaction === 'pan' && typeof value === 'string') return maskPan(value);
  return HIDDEN;
}

/**
 * The hex of a terminal payload with the bytes of every redacted field (PAN, tracks, PIN block,
 * ICC data, keys) replaced by '*', for traces. Unreadable payloads are fully starred: they could
 * hold anything.
 */
export function redactedHex(codec: MessageCodec, payload: Buffer): string {
  let hex = toHex(payload);
  try {
    const envelope = readTerminalEnvelope(payload);
    const message = codec.unpack(payload, envelope.messageOffset, payload.length, { copy: false });
    const layout = message.wireLayout ?? [];
    for (let i = 0; layout[i] <= 64; i += 2) {
      const spec = codec.field(layout[i]);
      if (spec === undefined || spec.redaction === 'none') continue;
      const start = layout[i + 1] * 2;
      const end = layout[i + 3] * 2;
      hex = hex.slice(0, start) + '*'.repeat(end - start) + hex.slice(end);
    }
    return hex;
  } catch {
    return '*'.repeat(hex.length);
  }
}
