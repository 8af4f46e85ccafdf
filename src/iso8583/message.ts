/** A field value: digits or text as a string, binary fields (b) as bytes. */
export type FieldValue = string | Buffer;

/** Field number -> value. Integer keys iterate in ascending order, which is bitmap order. */
export type FieldValues = { [field: number]: FieldValue };

/** An ISO 8583 message: MTI (4 digits) and its fields. The bitmap is derived, never stored. */
export interface IsoMessage {
  mti: string;
  fields: FieldValues;
}

export function fieldNumbers(message: IsoMessage): number[] {
  return Object.keys(message.fields).map(Number);
}
