import { Buffer } from 'node:buffer';

/**
 * The telnet byte stream (RFC 854/855) as far as a serial server needs it: 0xFF (IAC) starts a
 * command, so a data byte 0xFF is sent doubled; option negotiation is IAC WILL/WONT/DO/DONT
 * <option>; subnegotiation is IAC SB <option> <bytes, IAC doubled> IAC SE.
 */
export const IAC = 0xff;
export const DONT = 0xfe;
export const DO = 0xfd;
export const WONT = 0xfc;
export const WILL = 0xfb;
export const SB = 0xfa;
export const SE = 0xf0;

export const OPTION = { BINARY: 0, ECHO: 1, SGA: 3, COM_PORT: 44 } as const;

export type Negotiation = typeof WILL | typeof WONT | typeof DO | typeof DONT;

export interface TelnetSink {
  data(bytes: Buffer): void;
  negotiation(verb: Negotiation, option: number): void;
  subnegotiation(option: number, bytes: Buffer): void;
}

/** True when `chunk` opens with telnet negotiation (IAC WILL/WONT/DO/DONT): a telnet-mode server. */
export function opensWithNegotiation(chunk: Uint8Array): boolean {
  return chunk.length >= 2 && chunk[0] === IAC && chunk[1] >= WILL && chunk[1] <= DONT;
}

/** Data bytes for the wire: every 0xFF doubled. */
export function escapeIac(data: Uint8Array): Buffer {
  let count = 0;
  for (const b of data) if (b === IAC) count++;
  if (count === 0) return Buffer.from(data);
  const out = Buffer.alloc(data.length + count);
  let j = 0;
  for (const b of data) {
    out[j++] = b;
    if (b === IAC) out[j++] = IAC;
  }
  return out;
}

export function negotiation(verb: Negotiation, option: number): Buffer {
  return Buffer.from([IAC, verb, option]);
}

export function subnegotiation(option: number, bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([IAC, SB, option]), escapeIac(bytes), Buffer.from([IAC, SE])]);
}

type ParserState = 'data' | 'iac' | 'option' | 'sb-option' | 'sb' | 'sb-iac' | 'cr';

/**
 * Splits a received telnet stream into data (IAC IAC undoubled), negotiations and
 * subnegotiations, across chunk boundaries. Other commands (NOP, GA, ...) are dropped. When the
 * peer sends in NVT (not BINARY) mode, CR NUL is read as CR.
 */
export class TelnetParser {
  private state: ParserState = 'data';
  private verb: Negotiation = WILL;
  private sbOption = 0;
  private sb: number[] = [];
  /** Whether the peer sends binary (it agreed to BINARY in its direction). */
  binary = false;

  feed(chunk: Uint8Array, sink: TelnetSink): void {
    const data: number[] = [];
    const flush = (): void => {
      if (data.length > 0) sink.data(Buffer.from(data.splice(0)));
    };
    for (const b of chunk) {
      switch (this.state) {
        case 'cr':
          this.state = 'data';
          if (b === 0) break; // CR NUL is CR
          if (b === IAC) {
            this.state = 'iac';
            break;
          }
          data.push(b);
          if (b === 0x0d && !this.binary) this.state = 'cr';
          break;
        case 'data':
          if (b === IAC) this.state = 'iac';
          else {
            data.push(b);
            if (b === 0x0d && !this.binary) this.state = 'cr';
          }
          break;
        case 'iac':
          if (b === IAC) {
            data.push(IAC);
            this.state = 'data';
          } else if (b >= WILL && b <= DONT) {
            this.verb = b as Negotiation;
            this.state = 'option';
          } else if (b === SB) {
            this.state = 'sb-option';
          } else {
            this.state = 'data'; // NOP, DM, GA, ...: nothing for a serial line
          }
          break;
        case 'option':
          flush();
          sink.negotiation(this.verb, b);
          this.state = 'data';
          break;
        case 'sb-option':
          this.sbOption = b;
          this.sb = [];
          this.state = 'sb';
          break;
        case 'sb':
          if (b === IAC) this.state = 'sb-iac';
          else this.sb.push(b);
          break;
        case 'sb-iac':
          if (b === IAC) {
            this.sb.push(IAC);
            this.state = 'sb';
          } else if (b === SE) {
            flush();
            sink.subnegotiation(this.sbOption, Buffer.from(this.sb));
            this.sb = [];
            this.state = 'data';
          } else {
            // A command inside a subnegotiation: RFC 855 ends it there.
            flush();
            sink.subnegotiation(this.sbOption, Buffer.from(this.sb));
            this.sb = [];
            this.state = 'data';
          }
          break;
      }
    }
    flush();
  }
}
