import type { FaultRule } from './config';

/** What a request looks like to the fault rules. */
export interface FaultTarget {
  terminalId: string;
  mti: string;
  processingCode: string;
  stan: string;
}

/** Scripted faults: the first rule that matches and has uses left applies, and uses one up. */
export class FaultBook {
  private readonly rules: { rule: FaultRule; left: number }[];

  constructor(rules: readonly FaultRule[]) {
    this.rules = rules.map((rule) => ({ rule, left: rule.times ?? Infinity }));
  }

  /** Add a rule while running (tests, an operator poking a live bench). */
  add(rule: FaultRule): void {
    this.rules.push({ rule, left: rule.times ?? Infinity });
  }

  take(target: FaultTarget): FaultRule | undefined {
    for (const entry of this.rules) {
      const r = entry.rule;
      if (entry.left <= 0) continue;
      if (r.terminalId !== undefined && r.terminalId !== target.terminalId) continue;
      if (r.mti !== undefined && r.mti !== target.mti) continue;
      if (r.processingCode !== undefined && r.processingCode !== target.processingCode) continue;
      if (r.stan !== undefined && r.stan !== target.stan) continue;
      entry.left--;
      return r;
    }
    return undefined;
  }
}
