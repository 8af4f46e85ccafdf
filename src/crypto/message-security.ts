import { Buffer } from 'node:buffer';
import { CryptoError } from '../errors';
import type { MessageCodec } from '../iso8583/codec';
import { IsoMessage, type MessageData } from '../iso8583/message';
import { joinSubfields, field53Layout } from '../iso8583/subfields';
import type { SecretKey } from './secret-key';
import { decryptTrack, encryptTrack } from './track';

/**
 * The MAC and PIN fields of a message (R-MSG-9, R-PIN-1). The MAC function is given by the
 * caller, so a software key, a key store or a PIN pad can compute it.
 */
export type MacFunction = (data: Buffer) => Buffer | Promise<Buffer>;

const MAC_FIELD = 64;
const MAC_LENGTH = 8;
const PLACEHOLDER = Buffer.alloc(MAC_LENGTH);

/**
 * R-MSG-9: the bytes the MAC covers: the message from the MTI through the last field before 64,
 * with bit 64 set in the bitmap. An unpacked message keeps its fields' original bytes, so the
 * input of a received message is exactly what the sender covered.
 */
export function macInput(codec: MessageCodec, message: IsoMessage | MessageData): Buffer {
  const withPlaceholder = IsoMessage.from(message instanceof IsoMessage ? message : { mti: message.mti, fields: { ...message.fields } });
  const previous = withPlaceholder.get(MAC_FIELD);
  withPlaceholder.set(MAC_FIELD, PLACEHOLDER);
  try {
    const packed = codec.pack(withPlaceholder);
    return packed.subarray(0, packed.length - MAC_LENGTH);
  } finally {
    if (message instanceof IsoMessage) {
      if (previous === undefined) message.delete(MAC_FIELD);
      else message.set(MAC_FIELD, previous);
    }
  }
}

/** Compute the MAC and set field 64. */
export async function applyMac(codec: MessageCodec, message: IsoMessage, mac: MacFunction): Promise<IsoMessage> {
  const value = await mac(macInput(codec, message));
  if (value.length !== MAC_LENGTH) throw new CryptoError('BAD_MAC_LENGTH', `a MAC must be ${MAC_LENGTH} bytes, got ${value.length}`);
  return message.set(MAC_FIELD, value);
}

/** True when field 64 is present and matches the MAC computed over the message. */
export async function verifyMac(codec: MessageCodec, message: IsoMessage, mac: MacFunction): Promise<boolean> {
  const received = message.get(MAC_FIELD);
  if (!(received instanceof Buffer)) return false;
  return received.equals(await mac(macInput(codec, message)));
}

export interface PinFields {
  /** The encrypted PIN block. */
  pinBlock: Buffer;
  /** True for a double-length (3DES) PIN key: 53.2 = 6, else 0. */
  doubleLengthKey: boolean;
  /** 53.3: track data encrypted with the track key. */
  trackEncrypted?: boolean;
}

/** Fill 52 (PIN block) and 53 (security control: format 2 = X9.8 with PAN, algorithm, track flag). */
export function applyPin(message: IsoMessage, pin: PinFields): IsoMessage {
  const security = joinSubfields(field53Layout, {
    pinFormat: '2',
    encryptionAlgorithm: pin.doubleLengthKey ? '6' : '0',
    trackEncryption: pin.trackEncrypted ? '1' : '0',
    reserved: '0'.repeat(13),
  });
  return message.set(52, pin.pinBlock).set(53, security);
}

const TRACK_FIELDS = [35, 36] as const;

/** 53.3 = 1: encrypt the track data of 35 and 36 with the track key (the sender's side). */
export function encryptTrackFields(message: IsoMessage, trackKey: SecretKey): IsoMessage {
  for (const field of TRACK_FIELDS) {
    const track = message.getString(field);
    if (track !== undefined) message.set(field, encryptTrack(trackKey, track));
  }
  return message;
}

/** The receiver's side: clear track data back from 35 and 36 when 53.3 says it is encrypted. */
export function decryptTrackFields(message: IsoMessage, trackKey: SecretKey): IsoMessage {
  const security = message.getString(53);
  if (security === undefined || security[2] !== '1') return message;
  for (const field of TRACK_FIELDS) {
    const track = message.getString(field);
    if (track !== undefined) message.set(field, decryptTrack(trackKey, track));
  }
  return message;
}
