/**
 * End-to-end books for one test run: what each terminal sent and got back, what the NAC said
 * became of each request, and what the platform journaled. Every request is named by its
 * identity `terminalId/STAN` (unique in a run), and `reconcile` matches the three sides one to
 * one. A problem is a sentence; an empty list means the books balance.
 */

/** An answer as a terminal decoded it. */
export interface SeenAnswer {
  key: string;
  mti: string;
  responseCode: string | null;
  rrn: string | null;
}

export interface TerminalRecord {
  key: string;
  line: number;
  /** Answers to this request that arrived while the terminal was waiting for it. */
  answers: SeenAnswer[];
  /**
   * The terminal hung up with this request in flight. The NAC may then have written the answer
   * to the line in the same moment the carrier went (a race no NAC can see): an answer the NAC
   * delivered and the terminal never read is allowed for such a request, and counted.
   */
  hungUp?: boolean;
}

export interface NacRecord {
  /** Times the relay sent it toward the platform ('request' events). */
  relayed: number;
  /** Times the relay delivered its answer to the terminal ('response' events). */
  answered: number;
  /** Reasons the relay dropped it ('drop' events). */
  drops: string[];
}

export interface PlatformRecord {
  key: string;
  responseMti: string | null;
  responseCode: string | null;
  /** The retrieval reference number the platform gave, when its journal keeps one. */
  rrn: string | null;
}

export interface Books {
  terminal: Map<string, TerminalRecord>;
  nac: Map<string, NacRecord>;
  platform: PlatformRecord[];
  /** Answers a terminal got while waiting for nothing or for another request: wrong or late. */
  strays: string[];
  /** Filled by reconcile: requests answered into a hang-up (see TerminalRecord.hungUp). */
  answeredIntoHangUp?: string[];
  /** The request MTI every terminal sent, and the answer MTI it must get. */
  responseMti: string;
}

export function emptyBooks(responseMti: string): Books {
  return { terminal: new Map(), nac: new Map(), platform: [], strays: [], responseMti };
}

export function nacRecord(books: Books, key: string): NacRecord {
  let r = books.nac.get(key);
  if (r === undefined) {
    r = { relayed: 0, answered: 0, drops: [] };
    books.nac.set(key, r);
  }
  return r;
}

/** Whether the NAC has said how a request ended (answered or dropped). */
export function settled(books: Books, key: string): boolean {
  const r = books.nac.get(key);
  return r !== undefined && r.answered + r.drops.length > 0;
}

export function reconcile(books: Books): string[] {
  const problems: string[] = [...books.strays.map((s) => `wrong or late answer: ${s}`)];
  const journaled = new Map<string, PlatformRecord[]>();
  for (const p of books.platform) journaled.set(p.key, [...(journaled.get(p.key) ?? []), p]);
  for (const [key, entries] of journaled) {
    if (!books.terminal.has(key)) problems.push(`${key}: the platform journaled a request no terminal sent`);
    if (entries.length > 1) problems.push(`${key}: the platform received it ${entries.length} times`);
  }
  for (const key of books.nac.keys()) if (!books.terminal.has(key)) problems.push(`${key}: the NAC accounted for a request no terminal sent`);
  for (const t of books.terminal.values()) {
    const n = books.nac.get(t.key);
    const ends = n === undefined ? 0 : n.answered + n.drops.length;
    if (n === undefined || ends === 0) {
      problems.push(`${t.key} (line ${t.line + 1}): sent, but neither answered nor dropped with a reason`);
      continue;
    }
    if (n.relayed > 1) problems.push(`${t.key}: relayed ${n.relayed} times`);
    if (ends > 1) problems.push(`${t.key}: ended ${ends} times (answered ${n.answered}, dropped ${n.drops.join(', ') || 0})`);
    if (n.answered > 0) {
      if (t.answers.length === 0 && t.hungUp === true) (books.answeredIntoHangUp ??= []).push(t.key);
      else if (t.answers.length === 0) problems.push(`${t.key}: counted as answered, but the terminal never got an answer`);
      if (t.answers.length > 1) problems.push(`${t.key}: the terminal got ${t.answers.length} answers`);
      const platform = journaled.get(t.key) ?? [];
      if (platform.length === 0) problems.push(`${t.key}: answered, but the platform never journaled it`);
      for (const a of t.answers.slice(0, 1)) {
        if (a.mti !== books.responseMti) problems.push(`${t.key}: answered with MTI ${a.mti}`);
        const p = platform[0];
        if (p !== undefined && (p.responseCode !== a.responseCode || (p.rrn !== null && p.rrn !== a.rrn) || p.responseMti !== a.mti)) {
          problems.push(`${t.key}: the terminal got ${a.mti}/${a.responseCode}/${a.rrn}, the platform answered ${p.responseMti}/${p.responseCode}/${p.rrn}`);
        }
      }
    } else if (t.answers.length > 0) {
      problems.push(`${t.key}: dropped (${n.drops.join(', ')}) and yet the terminal got an answer`);
    }
  }
  return problems;
}
