import type { z } from 'zod';

/**
 * A schema check for values that must be unique in a list (line addresses, host names, terminal
 * IDs): every value met again is an issue at `pathOf(i)`, with a message naming its first entry.
 * Messages never quote the value, which may be a card number.
 */
export function flagRepeats(ctx: z.RefinementCtx, values: readonly string[], pathOf: (i: number) => (string | number)[], message: (first: number) => string): void {
  const first = new Map<string, number>();
  values.forEach((value, i) => {
    const seen = first.get(value);
    if (seen === undefined) first.set(value, i);
    else ctx.addIssue({ code: 'custom', path: pathOf(i), message: message(seen) });
  });
}
