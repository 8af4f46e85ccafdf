import type { Buffer } from 'node:buffer';
import { toHex } from '../codec/hex';
import { locateMessage } from '../codec/terminal-envelope';
import { TPDU_DESTINATION, TPDU_LENGTH, TPDU_ORIGINATOR } from '../codec/tpdu';
import { MessageCodec, MTI_BYTES, wireBytes } from '../iso8583/codec';
import { answersMti, ECHOED_FIELDS } from '../iso8583/mti';
import { unionpayPos } from '../iso8583/specs/unionpay-pos';
import type { PendingKeys } from '../link/link-group';
import { NacbridgeError } from '../errors';


/** A field a response must echo of its request, as found on the wire without unpacking. */
interface EchoedField {
  field: number;
  name: string;
  bytes: number;
  /** The value as the drop detail shows it. */
  text: (b: Buffer, at: number, end: number) => string;
}

/** Only for finding the echoed fields (and the fields before them): the relay never unpacks a message. */
const posMessages = new MessageCodec(unionpayPos);

/** ECHOED_FIELDS with their widths in the POS spec: both are fixed-length (n6 and ans8). */
const ECHOED: readonly EchoedField[] = ECHOED_FIELDS.map(({ field, name }) => {
  const spec = unionpayPos.fields[field];
  if (spec === undefined || spec.prefix !== 'fixed') throw new NacbridgeError('BAD_SPEC', `field ${field} must be fixed-length in the POS spec to be matched on the wire`);
  return {
    field,
    name,
    bytes: wireBytes(spec, spec.length),
    text: spec.kind === 'text' ? (b, at, end) => b.toString('latin1', at, end) : (b, at, end) => toHex(b, at, end),
  };
});

/** A line address as the pending keys spell it (uppercase hex). */
export const addressText = (address: number): string => address.toString(16).toUpperCase().padStart(4, '0');

/** The line address a payload is keyed by: originator of a request, destination of a response. */
export function addressAt(payload: Buffer, offset: number): string | null {
  return payload.length >= TPDU_LENGTH ? toHex(payload, offset, offset + 2) : null;
}

/** Where the ISO 8583 message (its MTI) starts in a payload, or -1 when it has none. */
function messageOffset(payload: Buffer): number {
  let at: number;
  try {
    at = locateMessage(payload);
  } catch {
    return -1;
  }
  return payload.length >= at + MTI_BYTES ? at : -1;
}

const mtiAt = (payload: Buffer, at: number): number => (payload[at] << 8) | payload[at + 1];
const mtiText = (mti: number): string => mti.toString(16).padStart(4, '0');

/** Where a fixed-length field's value is, or -1 when the message has none or does not reach it. */
function fieldAt(payload: Buffer, message: number, field: number, bytes: number): number {
  const at = posMessages.valueOffset(payload, field, message);
  return at >= 0 && at + bytes <= payload.length ? at : -1;
}

function sameBytes(a: Buffer, aAt: number, b: Buffer, bAt: number, bytes: number): boolean {
  for (let i = 0; i < bytes; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}

/**
 * Why `response`, addressed to the line `request` came from, is not its answer; null when it is.
 * The line address alone cannot tell a late 0210, for a sale that timed out, from the answer to
 * the reversal the terminal sent next, nor from the answer to the next sale, nor from an answer
 * meant for the last caller on the line. So the MTI must answer the request's (answersMti), and
 * the STAN and terminal ID must be the request's where both carry them (a reversal repeats its
 * sale's STAN, R-MSG-8, hence the MTI; terminals restart their STANs, hence the terminal ID).
 */
function answerMismatch(request: Buffer, response: Buffer): string | null {
  const asked = messageOffset(request);
  const answered = messageOffset(response);
  // Unreadable messages are left to the response path, which drops what it cannot rewrite.
  if (asked < 0 || answered < 0) return null;
  const askedMti = mtiAt(request, asked);
  const answeredMti = mtiAt(response, answered);
  if (!answersMti(askedMti, answeredMti)) {
    return `${mtiText(answeredMti)} cannot answer the ${mtiText(askedMti)} in flight`;
  }
  for (const { field, bytes, name, text } of ECHOED) {
    const askedAt = fieldAt(request, asked, field, bytes);
    const answeredAt = fieldAt(response, answered, field, bytes);
    if (askedAt < 0 || answeredAt < 0 || sameBytes(request, askedAt, response, answeredAt, bytes)) continue;
    return `${name} ${text(response, answeredAt, answeredAt + bytes)} cannot answer ${name} ${text(request, askedAt, askedAt + bytes)} in flight`;
  }
  return null;
}

/**
 * A reversal (0400, 0420 and their repeats) replaces what its line holds: a terminal that sends
 * one has given up on the request in question (it timed out and reverses it, R-MSG-8), so that
 * request must not be sent late, nor the reversal refused as a duplicate.
 */
function isReversal(request: Buffer): boolean {
  const at = messageOffset(request);
  if (at < 0) return false;
  const mti = mtiAt(request, at);
  return mti >> 8 === 0x04 && ((mti & 0xf0) === 0x00 || (mti & 0xf0) === 0x20);
}

export const nacKeys: PendingKeys = {
  request: (p) => addressAt(p, TPDU_ORIGINATOR),
  response: (p) => addressAt(p, TPDU_DESTINATION),
  mismatch: answerMismatch,
  supersedes: (request) => isReversal(request),
};

/** Field 41 (card acceptor terminal ID, ans8) in the POS spec. */
const TERMINAL_ID_FIELD = 41;
const TERMINAL_ID_BYTES = (() => {
  const spec = unionpayPos.fields[TERMINAL_ID_FIELD];
  if (spec === undefined || spec.prefix !== 'fixed') throw new NacbridgeError('BAD_SPEC', `field ${TERMINAL_ID_FIELD} must be fixed-length in the POS spec to be found on the wire`);
  return wireBytes(spec, spec.length);
})();

/**
 * A terminal's frame's terminal ID (field 41), found as the response matching finds it: by the
 * bitmap and the widths of the fields before it, without unpacking the message. Null when the
 * message has no field 41 or does not reach it.
 */
export function terminalIdOf(payload: Buffer): string | null {
  const message = messageOffset(payload);
  if (message < 0) return null;
  const at = fieldAt(payload, message, TERMINAL_ID_FIELD, TERMINAL_ID_BYTES);
  return at < 0 ? null : payload.toString('latin1', at, at + TERMINAL_ID_BYTES);
}
