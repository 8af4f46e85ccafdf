/**
 * The simulated platform's books: card balances and every transaction, so voids, refunds and
 * reversals can find what they undo, and settlement and reconciliation can add things up.
 */
export type TransactionKind = 'sale' | 'void' | 'refund' | 'balance' | 'reversal' | 'settlement';
export type TransactionStatus = 'approved' | 'declined' | 'voided' | 'reversed' | 'refunded';

export interface Transaction {
  kind: TransactionKind;
  terminalId: string;
  batch: string;
  stan: string;
  pan: string;
  /** Fen. */
  amount: bigint;
  rrn: string;
  authCode: string;
  responseCode: string;
  status: TransactionStatus;
  date: string;
  time: string;
  /** For a void: the sale it voided. */
  original?: Transaction;
}

export interface Card {
  pan: string;
  pin: string;
  balance: bigint;
}

export class Ledger {
  readonly cards = new Map<string, Card>();
  readonly transactions: Transaction[] = [];

  constructor(cards: { pan: string; pin: string; balance: string }[]) {
    for (const c of cards) this.cards.set(c.pan, { pan: c.pan, pin: c.pin, balance: BigInt(c.balance) });
  }

  record(t: Transaction): Transaction {
    this.transactions.push(t);
    return t;
  }

  /** The approved sale a void names by batch and STAN (61.1, 61.2) on the same terminal. */
  findSale(terminalId: string, batch: string, stan: string): Transaction | undefined {
    return this.transactions.find((t) => t.kind === 'sale' && t.terminalId === terminalId && t.batch === batch && t.stan === stan);
  }

  findByRrn(rrn: string): Transaction | undefined {
    return this.transactions.find((t) => t.rrn === rrn && (t.kind === 'sale' || t.kind === 'void'));
  }

  /** The transaction a reversal undoes: same terminal and STAN (R-MSG-8), newest first. */
  findForReversal(terminalId: string, stan: string): Transaction | undefined {
    for (let i = this.transactions.length - 1; i >= 0; i--) {
      const t = this.transactions[i];
      if (t.terminalId === terminalId && t.stan === stan && t.kind !== 'reversal' && t.kind !== 'balance') return t;
    }
    return undefined;
  }

  /** Approved, not undone, in a batch: for settlement. */
  totals(terminalId: string, batch: string): { debits: number; debitAmount: bigint; credits: number; creditAmount: bigint } {
    const totals = { debits: 0, debitAmount: 0n, credits: 0, creditAmount: 0n };
    for (const t of this.transactions) {
      if (t.terminalId !== terminalId || t.batch !== batch || t.status !== 'approved') continue;
      if (t.kind === 'sale') {
        totals.debits++;
        totals.debitAmount += t.amount;
      } else if (t.kind === 'refund') {
        totals.credits++;
        totals.creditAmount += t.amount;
      }
    }
    return totals;
  }
}
