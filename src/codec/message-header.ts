import { CodecError } from '../errors';
import { encodeBcd, readBcd } from './bcd';

/**
 * The 6-byte BCD message header after the TPDU (R-MSG-2). Frames carry it as raw bytes so that a
 * host's odd header never stops a relay; this is the named view for people and terminals.
 */
export interface MessageHeader {
  /** n2: 60 magstripe, 61 IC, ... */
  applicationCategory: string;
  /** n2 */
  softwareVersion: string;
  /** n1 */
  terminalStatus: string;
  /** n1, set by the host: 0 none, 1 download parameters, 3 sign on again, 4 CA keys, 5 IC params */
  processingRequirement: string;
  /** n6 */
  reserved: string;
}

export const MESSAGE_HEADER_LENGTH = 6;

export const PROCESSING_REQUIREMENTS: Readonly<Record<string, string>> = {
  '0': 'none',
  '1': 'download terminal parameters',
  '2': 'upload terminal status',
  '3': 'sign on again',
  '4': 'download CA public keys',
  '5': 'download IC parameters',
  '6': 'TMS parameter download',
};

export function parseMessageHeader(bytes: Uint8Array, offset = 0): MessageHeader {
  if (bytes.length - offset < MESSAGE_HEADER_LENGTH) {
    throw new CodecError('TRUNCATED', `message header needs ${MESSAGE_HEADER_LENGTH} bytes`, {
      offset: bytes.length,
    });
  }
  const digits = readBcd(bytes, offset, 12, 'right');
  return {
    applicationCategory: digits.slice(0, 2),
    softwareVersion: digits.slice(2, 4),
    terminalStatus: digits.slice(4, 5),
    processingRequirement: digits.slice(5, 6),
    reserved: digits.slice(6, 12),
  };
}

export function buildMessageHeader(header: MessageHeader): Buffer {
  const parts: [string, number][] = [
    [header.applicationCategory, 2],
    [header.softwareVersion, 2],
    [header.terminalStatus, 1],
    [header.processingRequirement, 1],
    [header.reserved, 6],
  ];
  for (const [value, width] of parts) {
    if (value.length !== width) {
      throw new CodecError('BAD_HEADER', `message header part ${JSON.stringify(value)} must be ${width} digits`);
    }
  }
  return encodeBcd(parts.map(([v]) => v).join(''), { align: 'right' });
}
