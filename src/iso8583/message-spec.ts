import { NacbridgeError } from '../errors';
import type { FieldSpec } from './field';

/** A message spec: a name and a field table (fields 2..64; field 1 is the absent secondary bitmap). */
export interface MessageSpec {
  readonly name: string;
  readonly fields: Readonly<Record<number, FieldSpec>>;
}

export const FIRST_FIELD = 2;
export const LAST_FIELD = 64;

/**
 * A platform profile: the base table with some fields replaced or removed (R-MSG-10: editions
 * differ, e.g. field 60 at 11, 13, 17 or 19 digits). `null` removes a field.
 */
export function withOverrides(
  base: MessageSpec,
  name: string,
  overrides: Readonly<Record<number, Partial<FieldSpec> | null>>,
): MessageSpec {
  const fields: Record<number, FieldSpec> = { ...base.fields };
  for (const [key, override] of Object.entries(overrides)) {
    const number = Number(key);
    if (!Number.isInteger(number) || number < FIRST_FIELD || number > LAST_FIELD) {
      throw new NacbridgeError('BAD_SPEC', `profile ${name}: field ${key} is outside ${FIRST_FIELD}..${LAST_FIELD}`);
    }
    if (override === null) {
      delete fields[number];
      continue;
    }
    const current = fields[number];
    if (current === undefined && (override.kind === undefined || override.length === undefined)) {
      throw new NacbridgeError('BAD_SPEC', `profile ${name}: new field ${number} needs at least kind and length`);
    }
    const defaults = { description: `field ${number}`, prefix: 'fixed', align: 'right', redaction: 'none', tlv: false };
    fields[number] = { ...defaults, ...current, ...override } as FieldSpec;
  }
  return { name, fields };
}
