import { fromHex } from '../codec/hex';
import { CodecError } from '../errors';
import type { MessageCodec } from './codec';
import { isFieldNumber, messageEntries, type FieldValues, type IsoMessage, type MessageData } from './message';
import { HIDDEN, presentValue } from './redact';

/**
 * The JSON form of fields used by the CLI and traces: keys are field numbers as strings; numeric
 * and track values are digit strings ('=' separator), text as text, binary as uppercase hex.
 */
export type JsonFields = Record<string, string>;

export function fieldsToJson(codec: MessageCodec, message: IsoMessage | MessageData, reveal: boolean): JsonFields {
  const out: JsonFields = {};
  for (const [number, value] of messageEntries(message)) {
    const spec = codec.field(number);
    if (spec === undefined) continue;
    out[String(number)] = presentValue(spec, value, reveal);
  }
  return out;
}

export function fieldsFromJson(codec: MessageCodec, json: unknown): FieldValues {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CodecError('BAD_JSON', '"fields" must be an object of field number -> string');
  }
  const fields: FieldValues = {};
  for (const [key, value] of Object.entries(json)) {
    const number = /^\d+$/.test(key) ? Number(key) : NaN;
    const spec = isFieldNumber(number) ? codec.field(number) : undefined;
    if (spec === undefined || !isFieldNumber(number)) {
      throw new CodecError('UNKNOWN_FIELD', `field ${JSON.stringify(key)} is not defined by spec ${codec.spec.name}`, {
        field: Number.isInteger(number) ? number : undefined,
      });
    }
    if (typeof value !== 'string') {
      throw new CodecError('BAD_VALUE', `field ${number}: value must be a string`, { field: number });
    }
    // What decode prints without --reveal cannot be packed: say so, rather than "odd hex".
    if (spec.redaction !== 'none' && value.includes('*')) {
      const what = spec.redaction === 'pan' ? 'masked' : `hidden as ${JSON.stringify(HIDDEN)}`;
      throw new CodecError('REDACTED', `field ${number} is ${what} by decode; encode needs the JSON of \`nacbridge decode --reveal\``, { field: number });
    }
    if (spec.kind === 'binary') {
      try {
        fields[number] = fromHex(value, `field ${number}`);
      } catch (e) {
        throw e instanceof CodecError ? new CodecError(e.code, e.message, { field: number }) : e;
      }
    } else {
      fields[number] = value;
    }
  }
  return fields;
}
