import { Buffer } from 'node:buffer';
import { CodecError } from '../errors';
import { hexDigitValue, toHex } from './hex';

/**
 * TPDU (R-MSG-1): ID (0x60), destination address (the NII, selects the host), originator
 * address (where the message entered; a NAC writes the line address here). Addresses are kept
 * as 4 uppercase hex digits ("0003") because routing tables are written that way.
 */
export interface Tpdu {
  id: number;
  destination: string;
  originator: string;
}

export const TPDU_LENGTH = 5;
export const TPDU_ID = 0x60;
/** Where the two addresses sit in the 5 bytes. */
export const TPDU_DESTINATION = 1;
export const TPDU_ORIGINATOR = 3;

const ADDRESS = /^[0-9A-F]{4}$/;

export function readTpdu(bytes: Uint8Array, offset = 0): Tpdu {
  if (bytes.length - offset < TPDU_LENGTH) {
    throw new CodecError('TRUNCATED', `TPDU needs ${TPDU_LENGTH} bytes, have ${bytes.length - offset}`, {
      offset: bytes.length,
    });
  }
  return {
    id: bytes[offset],
    destination: toHex(bytes, offset + 1, offset + 3),
    originator: toHex(bytes, offset + 3, offset + 5),
  };
}

export function checkAddress(address: string, what: string): string {
  const upper = address.toUpperCase();
  if (!ADDRESS.test(upper)) {
    throw new CodecError('BAD_ADDRESS', `${what} must be 4 hex digits, got ${JSON.stringify(address)}`);
  }
  return upper;
}

/** The 16-bit value of a 4-hex-digit address; a hot path, so no regex and no parseInt. */
function addressValue(address: string, what: string): number {
  let v = address.length === 4 ? 0 : -1;
  for (let i = 0; i < 4 && v >= 0; i++) {
    const d = hexDigitValue(address.charCodeAt(i));
    v = d < 0 ? -1 : (v << 4) | d;
  }
  if (v < 0) checkAddress(address, what); // throws the descriptive error
  return v;
}

export function writeTpdu(target: Uint8Array, offset: number, tpdu: Tpdu): number {
  target[offset] = tpdu.id;
  const dst = addressValue(tpdu.destination, 'TPDU destination');
  const src = addressValue(tpdu.originator, 'TPDU originator');
  target[offset + 1] = dst >> 8;
  target[offset + 2] = dst & 0xff;
  target[offset + 3] = src >> 8;
  target[offset + 4] = src & 0xff;
  return offset + TPDU_LENGTH;
}

export function encodeTpdu(tpdu: Tpdu): Buffer {
  const out = Buffer.alloc(TPDU_LENGTH);
  writeTpdu(out, 0, tpdu);
  return out;
}

/**
 * A request's TPDU as a NAC forwards it (R-MSG-1): `from`'s ID and destination, the originator
 * replaced by the line address. Bytes only: it runs once per relayed request.
 */
export function writeTpduFromLine(from: Uint8Array, lineAddress: number, target: Uint8Array, offset: number): number {
  target[offset] = from[0];
  target[offset + TPDU_DESTINATION] = from[TPDU_DESTINATION];
  target[offset + TPDU_DESTINATION + 1] = from[TPDU_DESTINATION + 1];
  target[offset + TPDU_ORIGINATOR] = lineAddress >> 8;
  target[offset + TPDU_ORIGINATOR + 1] = lineAddress & 0xff;
  return offset + TPDU_LENGTH;
}

/**
 * The TPDU a terminal gets back (R-MSG-1): the ID from the host's answer, and the terminal's own
 * request addresses swapped. Bytes only, like writeTpduFromLine.
 */
export function writeSwappedTpdu(id: number, request: Uint8Array, target: Uint8Array, offset: number): number {
  target[offset] = id;
  target[offset + TPDU_DESTINATION] = request[TPDU_ORIGINATOR];
  target[offset + TPDU_DESTINATION + 1] = request[TPDU_ORIGINATOR + 1];
  target[offset + TPDU_ORIGINATOR] = request[TPDU_DESTINATION];
  target[offset + TPDU_ORIGINATOR + 1] = request[TPDU_DESTINATION + 1];
  return offset + TPDU_LENGTH;
}

/** The TPDU of a response: addresses swapped (R-MSG-1). Explicit, never implied by a send. */
export function swapTpdu(tpdu: Tpdu): Tpdu {
  return { id: tpdu.id, destination: tpdu.originator, originator: tpdu.destination };
}

export function tpduToHex(tpdu: Tpdu): string {
  return toHex(encodeTpdu(tpdu));
}

export function tpduFromHex(hex: string): Tpdu {
  if (!/^[0-9a-fA-F]{10}$/.test(hex)) {
    throw new CodecError('BAD_TPDU', `TPDU must be 10 hex digits, got ${hex.length} characters`);
  }
  return readTpdu(Buffer.from(hex, 'hex'));
}
