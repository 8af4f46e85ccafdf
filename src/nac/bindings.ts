import type { Buffer } from 'node:buffer';
import type { TerminalSession } from '../access/session';
import type { BindingsConfig } from './config';
import { terminalIdOf } from './keys';

export type BindingAction = 'refuse' | 'flag';
/** What did not match: the caller ID, the number called, or a caller ID the call did not have. */
export type BindingMismatchKind = 'ani' | 'dnis' | 'no-caller-id';

/** A terminal or line calling from (or to) a number it is not bound to. */
export interface BindingMismatch {
  kind: BindingMismatchKind;
  action: BindingAction;
  /** Which binding: the terminal's (by field 41) or the line's. */
  binding: 'terminal' | 'line';
  terminalId: string | null;
  ani: string | null;
  dnis: string;
  /** The numbers the binding allows. */
  allowed: readonly string[];
  /** In words, for the drop detail and the log. */
  detail: string;
}

/** A terminal seen calling from a number it was not seen from before, nor is bound to. */
export interface NewNumber {
  terminalId: string;
  ani: string;
  /** The numbers it is bound to or was seen from before. */
  known: readonly string[];
}

export interface BindingCounters {
  /** Sessions and terminal IDs checked (once per session and terminal ID, not per frame). */
  checked: number;
  refused: number;
  flagged: number;
  /** Mismatched frames by what the binding did and what did not match. */
  byKind: Record<BindingAction, Record<BindingMismatchKind, number>>;
  newNumbers: number;
}

/** A recent mismatch or new number, as /status shows it. */
export interface BindingEvent {
  at: number;
  event: 'mismatch' | 'new-number';
  terminalId: string | null;
  ani: string | null;
  dnis: string;
  kind?: BindingMismatchKind;
  action?: BindingAction;
  session: string;
}

interface Rule {
  ani: ReadonlySet<string> | null;
  dnis: ReadonlySet<string> | null;
  action: BindingAction;
}

/** What one session's terminal was found to be: checked once, reused for its next frames. */
interface Checked {
  terminalId: string | null;
  mismatch: BindingMismatch | null;
}

/** How many terminals' numbers are remembered for new-number events; the oldest is forgotten first. */
export const MAX_REMEMBERED_TERMINALS = 50_000;
/** How many numbers each: a terminal moved more often than this raises events again. */
const MAX_NUMBERS_PER_TERMINAL = 8;
const RECENT_EVENTS = 20;

/**
 * Terminals bound to their lines (issue 24 item 4, R-DIAL-4). A terminal (field 41) may be bound
 * to the caller IDs it calls from and the DNIS it calls; a line to the caller IDs it takes calls
 * from. The relay asks before it relays a frame; the answer for a session and terminal ID is
 * worked out once and reused for the session's next frames, so a bound NAC's hot path costs a
 * field-41 lookup and a string compare per frame. A terminal seen from a number neither bound nor
 * seen before is reported (once per terminal and number).
 */
export class TerminalBindings {
  readonly counters: BindingCounters = { checked: 0, refused: 0, flagged: 0, byKind: { refuse: zeroKinds(), flag: zeroKinds() }, newNumbers: 0 };
  readonly onMismatch: BindingAction;
  private readonly terminals = new Map<string, Rule>();
  /** Line rules by line address (the session's address: unique per line, R-MSG-1). */
  private readonly lines = new Map<string, Rule>();
  private readonly checkedSessions = new WeakMap<TerminalSession, Checked>();
  private readonly seen = new Map<string, string[]>();
  private readonly recentEvents: BindingEvent[] = [];

  /** `lineAddresses`: each configured line's address by name. */
  constructor(
    config: BindingsConfig,
    lineAddresses: ReadonlyMap<string, string>,
    private readonly now: () => number,
    private readonly maxRemembered = MAX_REMEMBERED_TERMINALS,
  ) {
    this.onMismatch = config.onMismatch;
    for (const t of config.terminals) {
      this.terminals.set(t.terminalId, { ani: t.ani ? new Set(t.ani) : null, dnis: t.dnis ? new Set(t.dnis) : null, action: t.onMismatch ?? config.onMismatch });
    }
    for (const l of config.lines) {
      const address = lineAddresses.get(l.line);
      // The config schema refuses a binding for a line it does not have.
      if (address !== undefined) this.lines.set(address, { ani: new Set(l.ani), dnis: null, action: l.onMismatch ?? config.onMismatch });
    }
  }

  get terminalCount(): number {
    return this.terminals.size;
  }

  get lineCount(): number {
    return this.lines.size;
  }

  /** The last mismatches and new numbers, newest last. */
  get recent(): readonly BindingEvent[] {
    return this.recentEvents;
  }

  /**
   * The session's frame against its bindings: null when it may go on (no binding, or all match),
   * else the mismatch (counted here; refused or flagged as the binding says). `newNumber` hears of
   * a terminal seen from a new number.
   */
  check(session: TerminalSession, frame: Buffer, newNumber: (n: NewNumber, session: TerminalSession) => void): BindingMismatch | null {
    const terminalId = terminalIdOf(frame);
    let checked = this.checkedSessions.get(session);
    if (checked === undefined || checked.terminalId !== terminalId) {
      checked = { terminalId, mismatch: this.evaluate(session, terminalId) };
      this.checkedSessions.set(session, checked);
      this.counters.checked++;
      if (terminalId !== null && session.ani !== null) this.remember(session, terminalId, session.ani, newNumber);
    }
    const mismatch = checked.mismatch;
    if (mismatch !== null) {
      // Every frame of a mismatched session counts: each one is refused (or flagged) alone.
      if (mismatch.action === 'refuse') this.counters.refused++;
      else this.counters.flagged++;
      this.counters.byKind[mismatch.action][mismatch.kind]++;
      this.note({ at: this.now(), event: 'mismatch', terminalId, ani: session.ani, dnis: session.dnis, kind: mismatch.kind, action: mismatch.action, session: session.label });
    }
    return mismatch;
  }

  private evaluate(session: TerminalSession, terminalId: string | null): BindingMismatch | null {
    const line = this.lines.get(session.address);
    if (line !== undefined) {
      const m = mismatchOf(line, 'line', session, terminalId);
      if (m !== null) return m;
    }
    const terminal = terminalId === null ? undefined : this.terminals.get(terminalId);
    return terminal === undefined ? null : mismatchOf(terminal, 'terminal', session, terminalId);
  }

  private remember(session: TerminalSession, terminalId: string, ani: string, newNumber: (n: NewNumber, session: TerminalSession) => void): void {
    let numbers = this.seen.get(terminalId);
    if (numbers?.includes(ani)) return;
    const bound = this.terminals.get(terminalId)?.ani;
    const known = [...(bound ?? []), ...(numbers ?? [])];
    if (numbers === undefined) {
      if (this.seen.size >= this.maxRemembered) {
        const oldest = this.seen.keys().next();
        if (oldest.done !== true) this.seen.delete(oldest.value);
      }
      numbers = [];
      this.seen.set(terminalId, numbers);
    }
    numbers.push(ani);
    if (numbers.length > MAX_NUMBERS_PER_TERMINAL) numbers.shift();
    // A first sighting is new only against the numbers the terminal is bound to.
    if (known.length === 0 || known.includes(ani)) return;
    this.counters.newNumbers++;
    this.note({ at: this.now(), event: 'new-number', terminalId, ani, dnis: session.dnis, session: session.label });
    newNumber({ terminalId, ani, known }, session);
  }

  private note(event: BindingEvent): void {
    this.recentEvents.push(event);
    if (this.recentEvents.length > RECENT_EVENTS) this.recentEvents.shift();
  }
}

const zeroKinds = (): Record<BindingMismatchKind, number> => ({ ani: 0, dnis: 0, 'no-caller-id': 0 });

function mismatchOf(rule: Rule, binding: 'terminal' | 'line', session: TerminalSession, terminalId: string | null): BindingMismatch | null {
  const who = binding === 'terminal' ? `terminal ${terminalId ?? '?'}` : session.label;
  const base = { action: rule.action, binding, terminalId, ani: session.ani, dnis: session.dnis };
  if (rule.ani !== null) {
    if (session.ani === null) {
      return { ...base, kind: 'no-caller-id', allowed: [...rule.ani], detail: `${who} called without caller ID; bound to ${[...rule.ani].join(', ')}` };
    }
    if (!rule.ani.has(session.ani)) {
      return { ...base, kind: 'ani', allowed: [...rule.ani], detail: `${who} called from ${session.ani}; bound to ${[...rule.ani].join(', ')}` };
    }
  }
  if (rule.dnis !== null && !rule.dnis.has(session.dnis)) {
    return { ...base, kind: 'dnis', allowed: [...rule.dnis], detail: `${who} called ${session.dnis || 'no number (TCP)'}; bound to ${[...rule.dnis].join(', ')}` };
  }
  return null;
}
