import { toHex } from '../codec/hex';
import type { FieldSpec } from './field';
import type { FieldValue } from './message';

/** What replaces a hidden value (track data, PIN block, ICC data, keys). */
export const HIDDEN = '***';

/** A PAN as people may see it: first 6 and last 4 digits (R-MSG field 2 policy, DESIGN.md). */
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
