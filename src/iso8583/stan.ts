import { CodecError } from '../errors';

/**
 * Field 11, the system trace audit number (R-MSG-8): 000001..999999, wrapping back to 000001.
 * A reversal repeats the STAN of the transaction it reverses, so it does not draw a new one.
 */
export const STAN_MAX = 999999;

export function formatStan(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > STAN_MAX) {
    throw new CodecError('BAD_STAN', `STAN must be 1..${STAN_MAX}, got ${n}`, { field: 11 });
  }
  return String(n).padStart(6, '0');
}

export class StanSequence {
  private last: number;

  /** `last` is the STAN most recently used (0 for none yet), e.g. restored from storage. */
  constructor(last = 0) {
    if (!Number.isInteger(last) || last < 0 || last > STAN_MAX) {
      throw new CodecError('BAD_STAN', `STAN must be 0..${STAN_MAX}, got ${last}`, { field: 11 });
    }
    this.last = last;
  }

  next(): string {
    this.last = this.last >= STAN_MAX ? 1 : this.last + 1;
    return formatStan(this.last);
  }

  get current(): number {
    return this.last;
  }
}
