/**
 * R-MDM-7: whether a modem can answer synchronous (SDLC) terminals, read from its V.80 test
 * queries. `AT+ES=?` lists the values of <orig_rqst>,<orig_fbk>,<ans_fbk>; 8 in the third list is
 * "synchronous access mode on answer". `AT+ESA=?` must be accepted, and where it lists <crc_type>
 * (its fifth parameter) that list must hold 1: the profiles have the modem make and check the
 * CRC-16 FCS. Some chipsets offer synchronous access when calling only: they fail here.
 */
export const SYNC_QUERIES = ['AT+ES=?', 'AT+ESA=?'] as const;

/** A query as the modem answered it: its final result and its information lines, joined. */
export interface QueryAnswer {
  final: string;
  answer: string;
}

export interface SyncVerdict {
  ok: boolean;
  /** For people: what was looked at and what it showed. */
  why: string;
}

/**
 * The value lists of a `=?` answer: `+ES: (0-4,6),(0-4),(0-4,8)` -> ['0-4,6', '0-4', '0-4,8'].
 * An answer without brackets has one value per list.
 */
export function testLists(answer: string): string[] {
  const body = answer.replace(/^\s*\+\w+:\s*/, '');
  if (body.includes('(')) return [...body.matchAll(/\(([^)]*)\)/g)].map((m) => m[1].trim());
  return body.split(',').map((s) => s.trim());
}

/** Whether a value list (`0-4,6`) holds n; an empty list holds nothing. */
export function listHolds(list: string | undefined, n: number): boolean {
  if (list === undefined) return false;
  return list.split(',').some((part) => {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (!m) return false;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    return n >= lo && n <= hi;
  });
}

/** Quoted for a message: the answer, or that there was none. */
function shown(q: QueryAnswer): string {
  return q.answer === '' ? q.final : `"${q.answer}" ${q.final}`;
}

/** The verdict on AT+ES=? and AT+ESA=? as answered. */
export function answerSyncVerdict(es: QueryAnswer, esa: QueryAnswer): SyncVerdict {
  if (es.final !== 'OK') return { ok: false, why: `AT+ES=? answered ${shown(es)}: no V.80 synchronous access` };
  const esLists = testLists(es.answer);
  if (!listHolds(esLists[2], 8)) {
    const calling = listHolds(esLists[0], 6);
    return {
      ok: false,
      why: `AT+ES=? answered ${shown(es)}: the third list (answer side) has no 8${calling ? ': synchronous access on the calling side only' : ''}`,
    };
  }
  if (esa.final !== 'OK') return { ok: false, why: `AT+ESA=? answered ${shown(esa)}: the synchronous access parameters cannot be set` };
  const esaLists = testLists(esa.answer);
  if (esaLists.length >= 5 && !listHolds(esaLists[4], 1)) {
    return { ok: false, why: `AT+ESA=? answered ${shown(esa)}: the fifth list (crc_type) has no 1: the modem cannot make and check the CRC-16 FCS` };
  }
  return { ok: true, why: `AT+ES=? answered ${shown(es)} (8: synchronous access on answer); AT+ESA=? answered ${shown(esa)}` };
}
