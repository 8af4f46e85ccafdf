import type { Alignment } from '../codec/bcd';

/**
 * A field is described by orthogonal parts, in the manner of moov-io/iso8583: what a value is
 * (its kind, which fixes the encoding), how its length travels (prefix), how short values are
 * aligned, and how it is shown to people. A message spec is a table of these that reads against
 * the paper spec line by line.
 *
 *   kind     | paper type | value in code     | on the wire
 *   numeric  | n          | digit string      | packed BCD
 *   track    | z          | digits and '='    | packed BCD, '=' as nibble D (R-MSG-6)
 *   text     | an, ans    | string (latin1)   | one byte per character
 *   binary   | b          | Buffer            | raw bytes
 */
export type FieldKind = 'numeric' | 'track' | 'text' | 'binary';

/** Length prefixes of variable fields are BCD: LL one byte, LLL two bytes (R-MSG-5). */
export type LengthPrefixKind = 'fixed' | 'LL' | 'LLL';

/** How describe() and JSON output treat a value unless the caller asks to reveal it. */
export type Redaction = 'none' | 'pan' | 'hidden';

export interface FieldSpec {
  readonly description: string;
  readonly kind: FieldKind;
  readonly prefix: LengthPrefixKind;
  /** Exact length (fixed) or maximum (variable): digits for numeric/track, characters for text, bytes for binary. */
  readonly length: number;
  /** BCD alignment for numeric/track values (R-MSG-4). */
  readonly align: Alignment;
  readonly redaction: Redaction;
  /** The value is BER-TLV (R-MSG-7). */
  readonly tlv: boolean;
}

export type FieldOptions = {
  description: string;
  length: number;
  prefix?: LengthPrefixKind;
  align?: Alignment;
  redaction?: Redaction;
  tlv?: boolean;
};

export const prefix = {
  fixed: 'fixed',
  LL: 'LL',
  LLL: 'LLL',
} as const satisfies Record<string, LengthPrefixKind>;

function field(kind: FieldKind, options: FieldOptions, defaultAlign: Alignment): FieldSpec {
  const variable = (options.prefix ?? 'fixed') !== 'fixed';
  return {
    description: options.description,
    kind,
    prefix: options.prefix ?? 'fixed',
    length: options.length,
    // R-MSG-4: fixed numeric values are right-aligned, variable ones left-aligned.
    align: options.align ?? (variable ? 'left' : defaultAlign),
    redaction: options.redaction ?? 'none',
    tlv: options.tlv ?? false,
  };
}

/** n: digits, packed BCD. */
export const numeric = (options: FieldOptions): FieldSpec => field('numeric', options, 'right');
/** z: track data, packed BCD with '=' as D. */
export const track = (options: FieldOptions): FieldSpec => field('track', options, 'left');
/** an / ans: characters, one byte each. */
export const text = (options: FieldOptions): FieldSpec => field('text', options, 'left');
/** b: raw bytes. */
export const binary = (options: FieldOptions): FieldSpec => field('binary', options, 'left');

/** The paper-spec notation of a field: n6, n..19, ans...163, b64 (b lengths in bits when fixed). */
export function formatOf(spec: FieldSpec): string {
  const type = { numeric: 'n', track: 'z', text: 'ans', binary: 'b' }[spec.kind];
  if (spec.prefix === 'fixed') return `${type}${spec.kind === 'binary' ? spec.length * 8 : spec.length}`;
  return `${type}${spec.prefix === 'LL' ? '..' : '...'}${spec.length}`;
}
