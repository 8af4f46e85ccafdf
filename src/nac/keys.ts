import type { Buffer } from 'node:buffer';
import { toHex } from '../codec/hex';
import { MESSAGE_HEADER_LENGTH } from '../codec/message-header';
import { locateMessageHeader } from '../codec/terminal-envelope';
import { TPDU_LENGTH } from '../codec/tpdu';
import { MessageCodec } from '../iso8583/codec';
import { answersMti } from '../iso8583/mti';
import { unionpayPos } from '../iso8583/specs/unionpay-pos';
import type { PendingKeys } from '../link/link-group';

/** Where the TPDU's addresses sit (R-MSG-1). */
export const TPDU_DESTINATION = 1;
export const TPDU_ORIGINATOR = 3;
const MTI_BYTES = 2;
const STAN_FIELD = 11;
const STAN_BYTES = 3;

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
    at = locateMessageHeader(payload) + MESSAGE_HEADER_LENGTH;
  } catch {
    return -1;
  }
  return payload.length >= at + MTI_BYTES ? at : -1;
}

/** Only for finding field 11 (the fields before it): the relay never unpacks a message. */
const posMessages = new MessageCodec(unionpayPos);

const mtiAt = (payload: Buffer, at: number): number => (payload[at] << 8) | payload[at + 1];
const mtiText = (mti: number): string => mti.toString(16).padStart(4, '0');

/** Where field 11 (STAN) is, or -1 when the message has none or does not reach it. */
function stanAt(payload: Buffer, message: number): number {
  const at = posMessages.valueOffset(payload, STAN_FIELD, message);
  return at >= 0 && at + STAN_BYTES <= payload.length ? at : -1;
}

/**
 * Why `response`, addressed to the line `request` came from, is not its answer; null when it is.
 * The line address alone cannot tell a late 0210, for a sale that timed out, from the answer to
 * the reversal the terminal sent next, nor from the answer to the next sale. So the MTI must
 * answer the request's (answersMti), and the STAN must be the request's when both carry one (a
 * reversal repeats its sale's STAN, R-MSG-8, hence the MTI).
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
  const askedStan = stanAt(request, asked);
  const answeredStan = stanAt(response, answered);
  if (askedStan < 0 || answeredStan < 0) return null;
  if (response[answeredStan] === request[askedStan] && response[answeredStan + 1] === request[askedStan + 1] && response[answeredStan + 2] === request[askedStan + 2]) {
    return null;
  }
  return `STAN ${toHex(response, answeredStan, answeredStan + STAN_BYTES)} cannot answer STAN ${toHex(request, askedStan, askedStan + STAN_BYTES)} in flight`;
}

export const nacKeys: PendingKeys = {
  request: (p) => addressAt(p, TPDU_ORIGINATOR),
  response: (p) => addressAt(p, TPDU_DESTINATION),
  mismatch: answerMismatch,
};
