import { Buffer } from 'node:buffer';
import { NacbridgeError } from '../errors';

/**
 * Caller ID as modems report it (R-MDM-2), in the forms chipsets use:
 * - formatted lines (+VCID=1): `DATE = MMDD`, `TIME = HHMM`, `NMBR = digits | P | O`, `NAME = ...`,
 *   `MESG = hex`; some omit the spaces or use other tags (`DDN_NMBR`, `CALLER NUMBER:`);
 * - raw hex (+VCID=2): an SDMF (0x04) or MDMF (0x80) packet, checksum verified when present;
 * - DTMF (`A<digits>#` or `...C`; `D1#` private, `D2#`/`D3#` unavailable).
 * A private or unavailable number is its own result, distinct from no caller ID at all.
 */
export type CallerIdAbsence = 'private' | 'unavailable';

export interface CallerId {
  /** The calling number's digits, or null when withheld or unavailable. */
  number: string | null;
  absent?: CallerIdAbsence;
  /** MMDD */
  date?: string;
  /** HHMM */
  time?: string;
  name?: string;
  format: 'formatted' | 'sdmf' | 'mdmf' | 'dtmf';
}

export class CallerIdError extends NacbridgeError {}

const SDMF = 0x04;
const MDMF = 0x80;
const PARAM_DATE_TIME = 0x01;
const PARAM_NUMBER = 0x02;
const PARAM_NUMBER_ABSENT = 0x04;
const PARAM_NAME = 0x07;
const PARAM_NAME_ABSENT = 0x08;

function absence(code: string): CallerIdAbsence | undefined {
  if (code === 'P') return 'private';
  if (code === 'O') return 'unavailable';
  return undefined;
}

/** Parse a raw SDMF/MDMF packet given as hex (the +VCID=2 form, or MESG = ...). */
export function parseCallerIdPacket(hex: string): CallerId {
  const clean = hex.replace(/\s+/g, '');
  if (!/^([0-9A-Fa-f]{2})+$/.test(clean)) throw new CallerIdError('BAD_CALLER_ID', 'caller ID packet is not hex');
  const bytes = Buffer.from(clean, 'hex');
  if (bytes.length < 2) throw new CallerIdError('BAD_CALLER_ID', 'caller ID packet too short');
  const type = bytes[0];
  const length = bytes[1];
  const body = 2 + length;
  if (bytes.length !== body && bytes.length !== body + 1) {
    throw new CallerIdError('BAD_CALLER_ID', `caller ID packet says ${length} bytes, has ${bytes.length - 2}`);
  }
  if (bytes.length === body + 1) {
    let sum = 0;
    for (const b of bytes) sum = (sum + b) & 0xff;
    if (sum !== 0) throw new CallerIdError('BAD_CALLER_ID_CHECKSUM', 'caller ID checksum does not match');
  }
  const data = bytes.subarray(2, body);
  if (type === SDMF) {
    if (data.length < 8) throw new CallerIdError('BAD_CALLER_ID', 'SDMF packet without date and time');
    const stamp = data.subarray(0, 8).toString('latin1');
    const rest = data.subarray(8).toString('latin1');
    const absent = rest.length === 1 ? absence(rest) : undefined;
    return { format: 'sdmf', date: stamp.slice(0, 4), time: stamp.slice(4, 8), number: absent ? null : digitsOrNull(rest), ...(absent ? { absent } : {}) };
  }
  if (type !== MDMF) throw new CallerIdError('BAD_CALLER_ID', `caller ID packet type 0x${type.toString(16)} is neither SDMF nor MDMF`);
  const result: CallerId = { format: 'mdmf', number: null };
  for (let i = 0; i < data.length; ) {
    const param = data[i];
    const size = data[i + 1];
    if (size === undefined || i + 2 + size > data.length) throw new CallerIdError('BAD_CALLER_ID', 'MDMF parameter runs past the packet');
    const value = data.subarray(i + 2, i + 2 + size).toString('latin1');
    if (param === PARAM_DATE_TIME && value.length === 8) {
      result.date = value.slice(0, 4);
      result.time = value.slice(4, 8);
    } else if (param === PARAM_NUMBER) {
      result.number = digitsOrNull(value);
    } else if (param === PARAM_NUMBER_ABSENT) {
      result.absent = absence(value) ?? 'unavailable';
    } else if (param === PARAM_NAME) {
      result.name = value;
    } else if (param === PARAM_NAME_ABSENT && result.name === undefined) {
      // a name withheld says nothing about the number
    }
    i += 2 + size;
  }
  return result;
}

function digitsOrNull(value: string): string | null {
  const digits = value.replace(/[^0-9]/g, '');
  return digits.length > 0 ? digits : null;
}

const DTMF = /^([AD])([0-9]*)[#C]$/;

/** Parse a DTMF caller ID line, or null when the line is not one. */
export function parseDtmfCallerId(line: string): CallerId | null {
  const m = DTMF.exec(line.trim());
  if (!m) return null;
  if (m[1] === 'A') return { format: 'dtmf', number: m[2].length > 0 ? m[2] : null };
  // D + code: special information (ETSI): 1 = withheld, others = unavailable.
  return { format: 'dtmf', number: null, absent: m[2] === '1' ? 'private' : 'unavailable' };
}

const TAGGED = /^\s*(DATE|TIME|NMBR|DDN_NMBR|CALLER\s+NUMBER|NAME|CALLER\s+NAME|MESG)\s*[=:]\s*(.*?)\s*$/i;
const RAW_PACKET = /^(04|80)([0-9A-Fa-f]{2})+$/;

/**
 * Collects caller ID between rings: feed every unsolicited modem line; take() returns what was
 * gathered (or null) and starts over for the next call.
 */
export class CallerIdCollector {
  private current: CallerId | null = null;

  /** True when the line was caller ID (formatted, raw or DTMF). */
  feed(line: string): boolean {
    const tagged = TAGGED.exec(line);
    if (tagged) {
      this.applyTag(tagged[1].toUpperCase().replace(/\s+/g, ' '), tagged[2]);
      return true;
    }
    const trimmed = line.trim();
    if (RAW_PACKET.test(trimmed)) {
      try {
        this.current = parseCallerIdPacket(trimmed);
        return true;
      } catch {
        return false;
      }
    }
    const dtmf = parseDtmfCallerId(trimmed);
    if (dtmf) {
      this.current = dtmf;
      return true;
    }
    return false;
  }

  private applyTag(tag: string, value: string): void {
    const c = (this.current ??= { format: 'formatted', number: null });
    switch (tag) {
      case 'DATE':
        c.date = value;
        break;
      case 'TIME':
        c.time = value;
        break;
      case 'NMBR':
      case 'DDN_NMBR':
      case 'CALLER NUMBER': {
        const absent = absence(value.toUpperCase());
        if (absent) {
          c.number = null;
          c.absent = absent;
        } else {
          c.number = digitsOrNull(value);
          if (c.number === null) c.absent = 'unavailable';
        }
        break;
      }
      case 'NAME':
      case 'CALLER NAME':
        c.name = value;
        break;
      case 'MESG':
        try {
          const packet = parseCallerIdPacket(value);
          if (c.number === null && packet.number !== null) c.number = packet.number;
          if (packet.absent && c.number === null) c.absent = packet.absent;
        } catch {
          // A MESG the chipset could not decode either: the tagged lines still stand.
        }
        break;
    }
  }

  get hasNumberOrAbsence(): boolean {
    return this.current !== null && (this.current.number !== null || this.current.absent !== undefined);
  }

  take(): CallerId | null {
    const c = this.current;
    this.current = null;
    return c;
  }
}

/** Parse a block of modem output (several lines), as the vectors give it. */
export function parseCallerIdText(text: string): CallerId | null {
  const collector = new CallerIdCollector();
  for (const line of text.split(/\r?\n|\r/)) if (line.trim()) collector.feed(line);
  return collector.take();
}
