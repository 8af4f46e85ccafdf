import { CodecError } from '../errors';

/**
 * Named views of the structured numeric fields 22, 53, 60 and 61 (docs/wire-rules.md §5). A layout lists
 * subfields in wire order with their widths; a value may stop after any whole subfield
 * (field 60 is sent with 11, 13, 17 or 19 digits).
 */
export interface Subfield {
  readonly name: string;
  readonly length: number;
}
export type SubfieldLayout = readonly Subfield[];

export const field22Layout: SubfieldLayout = [
  { name: 'panEntryMode', length: 2 },
  { name: 'pinEntryCapability', length: 1 },
];

export const field53Layout: SubfieldLayout = [
  { name: 'pinFormat', length: 1 },
  /** 0 single DES, 6 double-length 3DES */
  { name: 'encryptionAlgorithm', length: 1 },
  /** 53.3: 1 = track data encrypted with the track key */
  { name: 'trackEncryption', length: 1 },
  { name: 'reserved', length: 13 },
];

export const field60Layout: SubfieldLayout = [
  { name: 'transactionType', length: 2 },
  { name: 'batch', length: 6 },
  /** 001/003/004 sign-on key modes, 002 sign-off, 201 settlement, 301 echo test */
  { name: 'networkManagementCode', length: 3 },
  { name: 'terminalReadCapability', length: 1 },
  { name: 'icConditionCode', length: 1 },
  { name: 'partialAmountFlag', length: 1 },
  { name: 'accountType', length: 3 },
  /** Digits 18-19, sent by newer editions (R-MSG-10); their meaning is platform specific. */
  { name: 'extension', length: 2 },
];

export const field61Layout: SubfieldLayout = [
  { name: 'originalBatch', length: 6 },
  { name: 'originalStan', length: 6 },
  { name: 'originalDate', length: 4 },
  { name: 'originalAuthorizationMethod', length: 2 },
  { name: 'originalAuthorizationInstitution', length: 11 },
];

export type Subfields = Record<string, string>;

export function splitSubfields(layout: SubfieldLayout, value: string, field?: number): Subfields {
  const out: Subfields = {};
  let at = 0;
  for (const { name, length } of layout) {
    if (at >= value.length) break;
    if (at + length > value.length) {
      throw new CodecError('PARTIAL_SUBFIELD', `subfield ${name} is cut short (value has ${value.length} digits)`, {
        field,
        offset: at,
      });
    }
    out[name] = value.slice(at, at + length);
    at += length;
  }
  if (at < value.length) {
    throw new CodecError('TRAILING_BYTES', `${value.length - at} digits after the last subfield`, { field, offset: at });
  }
  return out;
}

/** Join subfields in wire order; stops at the first one absent, and none may follow a gap. */
export function joinSubfields(layout: SubfieldLayout, parts: Partial<Subfields>, field?: number): string {
  let out = '';
  let gap: string | undefined;
  for (const { name, length } of layout) {
    const part = parts[name];
    if (part === undefined) {
      gap ??= name;
      continue;
    }
    if (gap !== undefined) {
      throw new CodecError('SUBFIELD_GAP', `subfield ${name} given without ${gap} before it`, { field });
    }
    if (part.length !== length || !/^\d*$/.test(part)) {
      throw new CodecError('BAD_SUBFIELD', `subfield ${name} must be ${length} digits`, { field });
    }
    out += part;
  }
  return out;
}
