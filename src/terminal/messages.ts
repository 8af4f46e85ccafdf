import { joinSubfields, field60Layout, field61Layout } from '../iso8583/subfields';
import { IsoMessage } from '../iso8583/message';
import type { KeyMode } from '../crypto/work-keys';

/**
 * Terminal-side request messages of the UnionPay POS transactions (docs/wire-rules.md §5). Each takes what
 * differs per transaction; MAC and PIN fields are added by the caller (message-security).
 */
export interface TerminalIdentity {
  terminalId: string;
  merchantId: string;
}

export interface CardData {
  pan: string;
  /** Track 2 when the card was swiped (field 35). */
  track2?: string;
  expiry?: string;
}

/** 60: type + batch + network management code (+ read capability, IC condition for financial ones). */
function field60(type: string, batch: string, code: string, financial: boolean): string {
  return joinSubfields(field60Layout, {
    transactionType: type,
    batch,
    networkManagementCode: code,
    ...(financial ? { terminalReadCapability: '5', icConditionCode: '0' } : {}),
  });
}

export function signOn(id: TerminalIdentity, stan: string, keyMode: KeyMode, operator = '01 '): IsoMessage {
  return new IsoMessage('0800', {
    11: stan,
    41: id.terminalId,
    42: id.merchantId,
    60: field60('00', '000000', keyMode, false),
    63: operator,
  });
}

export function echoTest(id: TerminalIdentity, stan: string): IsoMessage {
  return new IsoMessage('0800', { 11: stan, 41: id.terminalId, 42: id.merchantId, 60: field60('00', '000000', '301', false) });
}

export function signOff(id: TerminalIdentity, stan: string, batch: string): IsoMessage {
  return new IsoMessage('0820', { 11: stan, 41: id.terminalId, 42: id.merchantId, 60: field60('00', batch, '002', false) });
}

function cardFields(card: CardData, withPin: boolean): IsoMessage['fields'] {
  return {
    2: card.pan,
    ...(card.expiry ? { 14: card.expiry } : {}),
    22: card.track2 ? (withPin ? '021' : '022') : withPin ? '011' : '012',
    ...(withPin ? { 26: '12' } : {}),
    ...(card.track2 ? { 35: card.track2 } : {}),
  };
}

export interface FinancialRequest {
  id: TerminalIdentity;
  stan: string;
  batch: string;
  card: CardData;
  /** Amount in fen, up to 12 digits. */
  amount?: string;
  withPin: boolean;
}

export function sale(r: FinancialRequest): IsoMessage {
  return new IsoMessage('0200', {
    ...cardFields(r.card, r.withPin),
    3: '000000',
    4: (r.amount ?? '0').padStart(12, '0'),
    11: r.stan,
    25: '00',
    41: r.id.terminalId,
    42: r.id.merchantId,
    49: '156',
    60: field60('22', r.batch, '000', true),
  });
}

export function balanceInquiry(r: FinancialRequest): IsoMessage {
  return new IsoMessage('0200', {
    ...cardFields(r.card, r.withPin),
    3: '310000',
    11: r.stan,
    25: '00',
    41: r.id.terminalId,
    42: r.id.merchantId,
    49: '156',
    60: field60('01', r.batch, '000', true),
  });
}

export interface OriginalTransaction {
  batch: string;
  stan: string;
  /** Retrieval reference number from the original response (37). */
  rrn: string;
  /** Authorization code from the original response (38), when it had one. */
  authCode?: string;
  /** MMDD of the original, for refunds. */
  date?: string;
}

export function voidSale(r: FinancialRequest, original: OriginalTransaction): IsoMessage {
  return new IsoMessage('0200', {
    ...cardFields(r.card, r.withPin),
    3: '200000',
    4: (r.amount ?? '0').padStart(12, '0'),
    11: r.stan,
    25: '00',
    37: original.rrn,
    ...(original.authCode ? { 38: original.authCode } : {}),
    41: r.id.terminalId,
    42: r.id.merchantId,
    49: '156',
    60: field60('23', r.batch, '000', true),
    61: joinSubfields(field61Layout, { originalBatch: original.batch, originalStan: original.stan }),
  });
}

export function refund(r: FinancialRequest, original: OriginalTransaction): IsoMessage {
  return new IsoMessage('0220', {
    ...cardFields(r.card, false),
    3: '200000',
    4: (r.amount ?? '0').padStart(12, '0'),
    11: r.stan,
    25: '00',
    37: original.rrn,
    41: r.id.terminalId,
    42: r.id.merchantId,
    49: '156',
    60: field60('25', r.batch, '000', true),
    61: joinSubfields(field61Layout, {
      originalBatch: '000000',
      originalStan: '000000',
      originalDate: original.date ?? '0000',
    }),
  });
}

/** Reasons a terminal reverses (39 of the 0400, R-MSG-8: same STAN as the original). */
export type ReversalReason = '98' | '96' | 'A0' | '06';

export function reversal(original: IsoMessage, reason: ReversalReason): IsoMessage {
  const copy = new IsoMessage('0400');
  for (const n of [2, 3, 4, 11, 14, 22, 23, 25, 38, 41, 42, 49, 55, 60, 61] as const) {
    const value = original.get(n);
    if (value !== undefined) copy.set(n, value);
  }
  return copy.set(39, reason);
}

export function settlement(id: TerminalIdentity, stan: string, batch: string, totals: string): IsoMessage {
  return new IsoMessage('0500', {
    11: stan,
    41: id.terminalId,
    42: id.merchantId,
    48: totals,
    49: '156',
    60: field60('00', batch, '201', false),
  });
}

/** PAN of a request: field 2, or the track 2 digits before '='. */
export function panOf(message: IsoMessage): string | undefined {
  return message.getString(2) ?? message.getString(35)?.split('=')[0];
}
