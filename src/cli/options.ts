import { InvalidArgumentError } from 'commander';

/**
 * Argument parsers for commander options. A bad value is a usage error that commander reports
 * with the option's name (exit 2, nothing started), instead of a NaN that a simulator would run
 * with: a ring every millisecond, timeouts that fire at once, a listen() that throws after the
 * serial side is already up.
 */

/** A whole number from `min` to `max`. */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `a whole number, ${min} or more` : `a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** A TCP port to listen on; 0 lets the system pick one. */
export const listenPort = wholeNumber(0, 65535);

export interface HostPort {
  host: string;
  port: number;
}

/** HOST:PORT to connect to (an IPv6 host in brackets: [::1]:7000). */
export function hostPort(value: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) throw new InvalidArgumentError('HOST:PORT, with a port from 1 to 65535');
  return { host: m[1] ?? m[2], port };
}

/**
 * Fixed-length ISO 8583 text (ans): exactly `length` printable ASCII characters, as field 41
 * (terminal ID, ans8) and field 42 (merchant ID, ans15) must be, or the message cannot be packed.
 */
export function ansField(field: number, length: number): (value: string) => string {
  return (value) => {
    if (value.length !== length || !/^[\x20-\x7e]*$/.test(value)) {
      throw new InvalidArgumentError(`field ${field} is ans${length}: exactly ${length} printable ASCII characters (this has ${value.length})`);
    }
    return value;
  };
}
