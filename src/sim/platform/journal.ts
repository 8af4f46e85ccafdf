import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { NacbridgeError, type ErrorCode } from '../../errors';
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

/** The journal file could not be opened or written (missing folder, full disk, permissions...). */
export class JournalError extends NacbridgeError {}

export type JournalFlush = 'write' | 'fsync';

export interface JournalOptions {
  /** The JSONL file, appended to; none: entries are kept in memory only. */
  file?: string;
  /**
   * 'write': each entry is handed to the system (write(2)) before add() returns, so it survives
   * the process being killed (kill -9); 'fsync': also forced to the disk, so it survives the
   * machine stopping too (slower).
   */
  flush?: JournalFlush;
  /** How many of the newest entries stay in memory (`entries`); the file has them all. */
  keep?: number;
}

/** Counts by request MTI and outcome, and the notable events, for the test report: bounded. */
export class JournalSummary {
  requests = 0;
  readonly outcomes = new Map<string, Map<string, number>>();
  /** The newest notable events (faults, notes), at most `keep`; `notableOmitted` counts the rest. */
  readonly notable: string[] = [];
  notableOmitted = 0;

  constructor(private readonly keep = 1000) {}

  add(e: JournalEntry): void {
    this.requests++;
    const key = e.mti ?? '(unreadable)';
    const codes = this.outcomes.get(key) ?? new Map<string, number>();
    const code = e.responseCode ?? (e.fault ? `no response (${e.fault})` : 'no response');
    codes.set(code, (codes.get(code) ?? 0) + 1);
    this.outcomes.set(key, codes);
    if (e.note || e.fault) {
      this.notable.push(`${e.time} ${e.terminalId ?? '?'} ${e.mti ?? '?'} STAN ${e.stan ?? '?'}: ${[e.fault, e.note].filter(Boolean).join('; ')}`);
      if (this.notable.length > this.keep) {
        this.notable.shift();
        this.notableOmitted++;
      }
    }
  }
}

/**
 * The journal: every request, one JSON line each, written synchronously so that an entry is in
 * the file (in the system's hands, or on the disk with flush 'fsync') before the answer it
 * records is sent. Memory stays bounded: only the newest `keep` entries and a summary are held.
 * A failed write is thrown as a JournalError after the partial line (if any) is cut off again,
 * so the file stays whole lines; the simulator decides whether to go on or stop.
 */
export class Journal {
  readonly summary: JournalSummary;
  private recent: JournalEntry[] = [];
  private readonly keep: number;
  private readonly options: JournalOptions;
  private fd: number | null = null;
  /** Entries added that are not in the file (a failed write, or a journal that would not open). */
  unwritten = 0;

  constructor(options: JournalOptions | string = {}) {
    this.options = typeof options === 'string' ? { file: options } : options;
    this.keep = Math.max(1, this.options.keep ?? 1000);
    this.summary = new JournalSummary(this.keep);
  }

  get file(): string | undefined {
    return this.options.file;
  }

  /** Whether the file is open for writing. */
  get isOpen(): boolean {
    return this.fd !== null;
  }

  /** Open the file (append). Throws a JournalError; a journal without a file opens trivially. */
  open(): void {
    const file = this.options.file;
    if (file === undefined || this.fd !== null) return;
    try {
      this.fd = openSync(file, 'a');
    } catch (e) {
      throw journalError('JOURNAL_OPEN', `cannot open the journal ${JSON.stringify(file)}`, e);
    }
  }

  /** The newest entries (at least the last `keep`, fewer if fewer were added). */
  get entries(): readonly JournalEntry[] {
    return this.recent;
  }

  /** How many entries were added in all. */
  get count(): number {
    return this.summary.requests;
  }

  /**
   * Record an entry: in memory, then in the file before returning. Throws a JournalError when the
   * write fails (the entry is then counted as unwritten, and the file is left without it).
   */
  add(entry: JournalEntry): void {
    this.summary.add(entry);
    this.recent.push(entry);
    if (this.recent.length >= 2 * this.keep) this.recent = this.recent.slice(-this.keep);
    if (this.options.file !== undefined && this.fd === null) {
      this.unwritten++;
      return;
    }
    if (this.fd === null) return;
    const line = Buffer.from(JSON.stringify(entry) + '\n', 'utf8');
    let start = -1;
    try {
      start = fstatSync(this.fd).size;
      for (let at = 0; at < line.length; ) at += writeSync(this.fd, line, at, line.length - at);
      if (this.options.flush === 'fsync') fsyncSync(this.fd);
    } catch (e) {
      this.unwritten++;
      if (start >= 0) {
        try {
          ftruncateSync(this.fd, start);
        } catch {
          // A character device (/dev/full) or a file gone read-only: nothing to cut.
        }
      }
      throw journalError('JOURNAL_WRITE', `cannot write to the journal ${JSON.stringify(this.options.file)}`, e);
    }
  }

  /** Stop writing (later entries are counted as unwritten). */
  detach(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      closeSync(fd);
    } catch {
      // Already reported by the write that failed.
    }
  }

  async close(): Promise<void> {
    this.detach();
  }
}

function journalError(code: ErrorCode, message: string, cause: unknown): JournalError {
  const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new JournalError(code, `${message}: ${errno ?? (cause as Error)?.message ?? String(cause)}`, {}, { cause });
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
export function testReport(summary: JournalSummary, title = 'nacbridge platform simulator: test report'): string {
  const lines = [`# ${title}`, '', `Requests: ${summary.requests}`, '', '| MTI | outcome | count |', '| --- | --- | --- |'];
  for (const [mti, codes] of [...summary.outcomes].sort()) for (const [code, n] of codes) lines.push(`| ${mti} | ${code} | ${n} |`);
  if (summary.notable.length > 0) {
    lines.push('', '## Notable', '');
    if (summary.notableOmitted > 0) lines.push(`- (${summary.notableOmitted} earlier notable event(s) are in the journal only)`);
    for (const line of summary.notable) lines.push(`- ${line}`);
  }
  return lines.join('\n') + '\n';
}

export function writeText(file: string, text: string): void {
  writeFileSync(file, text);
}
