import { createWriteStream, writeFileSync, type WriteStream } from 'node:fs';
import type { Ledger } from './ledger';

/** One line of the JSONL journal: every request the platform saw and what became of it. PANs masked. */
export interface JournalEntry {
  time: string;
  port: number;
  terminalId: string | null;
  mti: string | null;
  responseMti: string | null;
  processingCode: string | null;
  stan: string | null;
  batch: string | null;
  amount: string | null;
  pan: string | null;
  rrn: string | null;
  responseCode: string | null;
  dialMonitor: { ani: string; dnis: string } | null;
  fault: string | null;
  /** Why a request got no response or an error code, in words. */
  note: string | null;
}

export class Journal {
  readonly entries: JournalEntry[] = [];
  private stream: WriteStream | null;

  constructor(file?: string) {
    this.stream = file ? createWriteStream(file, { flags: 'a' }) : null;
  }

  add(entry: JournalEntry): void {
    this.entries.push(entry);
    this.stream?.write(JSON.stringify(entry) + '\n');
  }

  async close(): Promise<void> {
    const stream = this.stream;
    this.stream = null;
    if (stream) await new Promise<void>((resolve) => stream.end(() => resolve()));
  }
}

const csvCell = (v: string | number | bigint): string => {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The reconciliation file: one row per financial transaction, as an acquirer would compare. */
export function reconciliationCsv(ledger: Ledger, maskPan: (pan: string) => string): string {
  const header = ['date', 'time', 'terminal_id', 'batch', 'stan', 'kind', 'pan', 'amount_fen', 'rrn', 'auth_code', 'response_code', 'status'];
  const rows = ledger.transactions
    .filter((t) => t.kind !== 'balance')
    .map((t) => [t.date, t.time, t.terminalId, t.batch, t.stan, t.kind, maskPan(t.pan), t.amount, t.rrn, t.authCode, t.responseCode, t.status].map(csvCell).join(','));
  return [header.join(','), ...rows].join('\n') + '\n';
}

/** A short Markdown test report: counts by transaction and response code, then notable events. */
export function testReport(journal: JournalEntry[], title = 'nacbridge platform simulator: test report'): string {
  const byMti = new Map<string, Map<string, number>>();
  for (const e of journal) {
    const key = e.mti ?? '(unreadable)';
    const codes = byMti.get(key) ?? new Map<string, number>();
    const code = e.responseCode ?? (e.fault ? `no response (${e.fault})` : 'no response');
    codes.set(code, (codes.get(code) ?? 0) + 1);
    byMti.set(key, codes);
  }
  const lines = [`# ${title}`, '', `Requests: ${journal.length}`, '', '| MTI | outcome | count |', '| --- | --- | --- |'];
  for (const [mti, codes] of [...byMti].sort()) for (const [code, n] of codes) lines.push(`| ${mti} | ${code} | ${n} |`);
  const notes = journal.filter((e) => e.note || e.fault);
  if (notes.length > 0) {
    lines.push('', '## Notable', '');
    for (const e of notes) lines.push(`- ${e.time} ${e.terminalId ?? '?'} ${e.mti ?? '?'} STAN ${e.stan ?? '?'}: ${[e.fault, e.note].filter(Boolean).join('; ')}`);
  }
  return lines.join('\n') + '\n';
}

export function writeText(file: string, text: string): void {
  writeFileSync(file, text);
}
