import type { FieldNumber } from './message';

/**
 * Whether `response` is the answer class of `request`, both MTIs as their two BCD bytes read as
 * one number (0x0200): the same version and class, the function one step on (0200 -> 0210,
 * 0220 -> 0230, 0400 -> 0410, 0800 -> 0810), any origin digit (a repeat 0401 is answered by
 * 0410).
 */
export function answersMti(request: number, response: number): boolean {
  return response >> 8 === request >> 8 && (response & 0xf0) === (request & 0xf0) + 0x10;
}

/**
 * The fields an answer carries back unchanged from its request, where both carry them: the STAN
 * (a reversal repeats its sale's, R-MSG-8, which is why the MTI is checked too) and the terminal
 * ID (terminals restart their STANs, so a STAN alone can match another terminal's answer).
 */
export const ECHOED_FIELDS: readonly { readonly field: FieldNumber; readonly name: string }[] = [
  { field: 11, name: 'STAN' },
  { field: 41, name: 'terminal ID' },
];

/** An MTI as text ("0210") to the number answersMti() takes (0x0210); NaN when not 4 digits. */
export function mtiValue(mti: string): number {
  return /^\d{4}$/.test(mti) ? parseInt(mti, 16) : NaN;
}
