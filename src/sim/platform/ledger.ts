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

/**
 * Balance inquiries move no money and are in no reconciliation: they are counted, not kept. Every
 * other transaction is kept (reconciliation lists them all), and found through indexes rather
 * than by scanning, so a long run stays fast.
 */
export class Ledger {
  readonly cards = new Map<string, Card>();
  readonly transactions: Transaction[] = [];
  balanceInquiries = 0;
  private readonly sales = new Map<string, Transaction>();
  private readonly byRrn = new Map<string, Transaction>();
  private readonly newestByStan = new Map<string, Transaction>();
  private readonly byBatch = new Map<string, Transaction[]>();

  constructor(cards: { pan: string; pin: string; balance: string }[]) {
    for (const c of cards) this.cards.set(c.pan, { pan: c.pan, pin: c.pin, balance: BigInt(c.balance) });
  }

  record(t: Transaction): Transaction {
    if (t.kind === 'balance') {
      this.balanceInquiries++;
      return t;
    }
    this.transactions.push(t);
    const saleKey = `${t.terminalId}|${t.batch}|${t.stan}`;
    if (t.kind === 'sale' && !this.sales.has(saleKey)) this.sales.set(saleKey, t);
    if ((t.kind === 'sale' || t.kind === 'void') && !this.byRrn.has(t.rrn)) this.byRrn.set(t.rrn, t);
    if (t.kind !== 'reversal') this.newestByStan.set(`${t.terminalId}|${t.stan}`, t);
    const batchKey = `${t.terminalId}|${t.batch}`;
    const batch = this.byBatch.get(batchKey);
    if (batch) batch.push(t);
    else this.byBatch.set(batchKey, [t]);
    return t;
  }

  /** The approved sale a void names by batch and STAN (61.1, 61.2) on the same terminal. */
  findSale(terminalId: string, batch: string, stan: string): Transaction | undefined {
    return this.sales.get(`${terminalId}|${batch}|${stan}`);
  }

  findByRrn(rrn: string): Transaction | undefined {
    return this.byRrn.get(rrn);
  }

  /** The transaction a reversal undoes: same terminal and STAN (R-MSG-8), newest first. */
  findForReversal(terminalId: string, stan: string): Transaction | undefined {
    return this.newestByStan.get(`${terminalId}|${stan}`);
  }

  /** Approved, not undone, in a batch: for settlement. */
  totals(terminalId: string, batch: string): { debits: number; debitAmount: bigint; credits: number; creditAmount: bigint } {
    const totals = { debits: 0, debitAmount: 0n, credits: 0, creditAmount: 0n };
    for (const t of this.byBatch.get(`${terminalId}|${batch}`) ?? []) {
      if (t.status !== 'approved') continue;
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
