import { randomBytes } from 'node:crypto';
import { parseDialTail } from '../../codec/dial-monitor';
import { toHex } from '../../codec/hex';
import { swapTpdu } from '../../codec/tpdu';
import { computeMac, type MacAlgorithm } from '../../crypto/mac';
import { decryptTrackFields, macInput, verifyMac } from '../../crypto/message-security';
import { verifyPin } from '../../crypto/pin-block';
import { SecretKey } from '../../crypto/secret-key';
import { layoutFor, wrapWorkKeys, type KeyMode, type WorkKeys } from '../../crypto/work-keys';
import { NacbridgeError } from '../../errors';
import type { MessageCodec } from '../../iso8583/codec';
import { IsoMessage, type FieldNumber } from '../../iso8583/message';
import { maskPan } from '../../iso8583/redact';
import { field60Layout, field61Layout, joinSubfields, splitSubfields } from '../../iso8583/subfields';
import { buildTerminalMessage, readTerminalMessage, type TerminalMessage } from '../../iso8583/terminal-message';
import { panOf } from '../../terminal/messages';
import type { Clock } from '../../clock';
import type { PlatformConfig } from './config';
import type { JournalEntry } from './journal';
import { Ledger, type Transaction, type TransactionKind } from './ledger';

/** Response codes the simulator gives (UnionPay POS meanings). */
export const RC = {
  approved: '00',
  invalidTransaction: '12',
  invalidCard: '14',
  originalNotFound: '25',
  formatError: '30',
  insufficientFunds: '51',
  wrongPin: '55',
  signOnAgain: '77',
  terminalUnknown: '97',
  macError: 'A0',
} as const;

interface TerminalState {
  terminalId: string;
  merchantId: string;
  tmk: SecretKey;
  keyMode: KeyMode;
  macAlgorithm: MacAlgorithm;
  keys: WorkKeys | null;
  batch: number;
}

export interface Outcome {
  /** The response payload (TPDU + [dial block] + header + message), or null for none. */
  response: Buffer | null;
  /** The request as understood, for fault rules; null when it could not be read. */
  request: { terminalId: string; mti: string; processingCode: string; stan: string } | null;
  entry: Omit<JournalEntry, 'port' | 'fault'>;
}

const FINANCIAL_RESPONSE_ECHO: readonly FieldNumber[] = [2, 3, 4, 11, 14, 22, 23, 25, 41, 42, 49, 60, 61];
const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * The simulated UnionPay platform's decisions: one request payload in, one response payload (or
 * none) out, with a journal entry. No I/O: the simulator around it owns sockets and timing.
 */
export class PlatformCore {
  readonly ledger: Ledger;
  private readonly terminals = new Map<string, TerminalState>();
  private readonly codec: MessageCodec;
  private readonly config: PlatformConfig;
  private readonly clock: Clock;
  private sequence = 0;

  constructor(config: PlatformConfig, codec: MessageCodec, clock: Clock) {
    this.config = config;
    this.codec = codec;
    this.clock = clock;
    this.ledger = new Ledger(config.cards);
    parseDialTail(config.dialTail);
    for (const t of config.terminals) {
      this.terminals.set(t.terminalId, {
        terminalId: t.terminalId,
        merchantId: t.merchantId,
        tmk: SecretKey.fromHex(t.tmk, `tmk of terminal ${t.terminalId}`),
        keyMode: t.keyMode,
        macAlgorithm: t.macAlgorithm,
        keys: null,
        batch: 1,
      });
    }
  }

  /** Zero every key. */
  destroy(): void {
    for (const t of this.terminals.values()) {
      t.tmk.destroy();
      this.dropKeys(t);
    }
  }

  private dropKeys(t: TerminalState): void {
    if (!t.keys) return;
    t.keys.pin.destroy();
    t.keys.mac.destroy();
    t.keys.track?.destroy();
    t.keys = null;
  }

  private now(): { date: string; time: string; iso: string } {
    const d = new Date(this.clock.now());
    return {
      date: pad2(d.getUTCMonth() + 1) + pad2(d.getUTCDate()),
      time: pad2(d.getUTCHours()) + pad2(d.getUTCMinutes()) + pad2(d.getUTCSeconds()),
      iso: d.toISOString(),
    };
  }

  private nextReference(time: string): { rrn: string; auth: string } {
    this.sequence = (this.sequence % 999_999) + 1;
    const seq = String(this.sequence).padStart(6, '0');
    return { rrn: time + seq, auth: seq };
  }

  async handle(payload: Buffer): Promise<Outcome> {
    const when = this.now();
    const entry: Outcome['entry'] = {
      time: when.iso,
      terminalId: null,
      mti: null,
      responseMti: null,
      processingCode: null,
      stan: null,
      batch: null,
      amount: null,
      pan: null,
      rrn: null,
      responseCode: null,
      dialMonitor: null,
      note: null,
    };
    let request: TerminalMessage<IsoMessage>;
    try {
      request = readTerminalMessage(this.codec, payload, 0, payload.length, { copy: false });
    } catch (e) {
      entry.note = `unreadable request: ${e instanceof NacbridgeError ? e.describe() : String(e)}`;
      return { response: null, request: null, entry };
    }
    const m = request.message;
    entry.mti = m.mti;
    entry.terminalId = m.getString(41) ?? null;
    entry.processingCode = m.getString(3) ?? null;
    entry.stan = m.getString(11) ?? null;
    entry.amount = m.getString(4) ?? null;
    entry.dialMonitor = request.dialMonitor ? { ani: request.dialMonitor.ani, dnis: request.dialMonitor.dnis } : null;
    const target = {
      terminalId: entry.terminalId ?? '',
      mti: m.mti,
      processingCode: entry.processingCode ?? '',
      stan: entry.stan ?? '',
    };
    if (this.config.requireDialMonitor && request.dialMonitor === null) {
      entry.note = 'dropped: no dial-monitor block, and this platform requires one';
      return { response: null, request: target, entry };
    }
    const reply = await this.respond(request, entry, when);
    if (reply === null) return { response: null, request: target, entry };
    entry.responseMti = reply.mti;
    entry.responseCode = reply.getString(39) ?? null;
    entry.rrn = reply.getString(37) ?? null;
    const response: TerminalMessage = {
      tpdu: swapTpdu(request.tpdu),
      dialMonitor: this.config.echoDialMonitor ? request.dialMonitor : null,
      header: request.header,
      message: reply,
    };
    return { response: buildTerminalMessage(this.codec, response), request: target, entry };
  }

  private async respond(request: TerminalMessage<IsoMessage>, entry: Outcome['entry'], when: { date: string; time: string }): Promise<IsoMessage | null> {
    const m = request.message;
    const terminalId = m.getString(41);
    const terminal = terminalId === undefined ? undefined : this.terminals.get(terminalId);
    const responseMti = m.mti.slice(0, 2) + String(Number(m.mti[2]) + 1) + m.mti[3];
    const reply = new IsoMessage(responseMti);
    for (const n of [11, 41, 42] as const) {
      const v = m.get(n);
      if (v !== undefined) reply.set(n, v);
    }
    reply.set(12, when.time).set(13, when.date).set(32, this.config.acquirer);
    if (terminal === undefined) {
      entry.note = `terminal ${terminalId ?? '(no field 41)'} is not registered`;
      return reply.set(39, RC.terminalUnknown);
    }
    const f60 = m.getString(60);
    const management = f60 ? safeSplit60(f60) : {};
    switch (m.mti) {
      case '0800':
        return this.networkManagement(terminal, reply, management.networkManagementCode ?? '', entry, when);
      case '0820':
        this.dropKeys(terminal);
        return reply.set(39, RC.approved);
      case '0200':
      case '0220':
      case '0400':
      case '0500':
        return this.financial(terminal, m, reply, management.transactionType ?? '', entry, when);
      default:
        entry.note = `MTI ${m.mti} is not a request this platform knows`;
        return reply.set(39, RC.invalidTransaction);
    }
  }

  private networkManagement(
    terminal: TerminalState,
    reply: IsoMessage,
    code: string,
    entry: Outcome['entry'],
    when: { time: string },
  ): IsoMessage {
    const batch = String(terminal.batch).padStart(6, '0');
    entry.batch = batch;
    reply.set(37, this.nextReference(when.time).rrn);
    if (code === '301') return reply.set(39, RC.approved).set(60, joinSubfields(field60Layout, { transactionType: '00', batch, networkManagementCode: code }));
    if (code !== '001' && code !== '003' && code !== '004') {
      entry.note = `network management code ${JSON.stringify(code)} unknown`;
      return reply.set(39, RC.invalidTransaction);
    }
    // Sign-on: fresh work keys for the requested mode (or the configured one), under the TMK.
    this.dropKeys(terminal);
    const mode = code as KeyMode;
    const layout = layoutFor(mode);
    const keys: Partial<WorkKeys> = {};
    for (const place of layout.keys) keys[place.type] = SecretKey.fromBytes(randomBytes(place.keyLength));
    terminal.keys = keys as WorkKeys;
    terminal.keyMode = mode;
    return reply
      .set(39, RC.approved)
      .set(60, joinSubfields(field60Layout, { transactionType: '00', batch, networkManagementCode: mode }))
      .set(62, wrapWorkKeys(terminal.keys, terminal.tmk, layout));
  }

  private async financial(
    terminal: TerminalState,
    m: IsoMessage,
    reply: IsoMessage,
    type: string,
    entry: Outcome['entry'],
    when: { date: string; time: string },
  ): Promise<IsoMessage> {
    for (const n of FINANCIAL_RESPONSE_ECHO) {
      const v = m.get(n);
      if (v !== undefined && !reply.has(n)) reply.set(n, v);
    }
    reply.set(15, when.date);
    const keys = terminal.keys;
    if (keys === null) {
      entry.note = 'terminal is not signed on';
      return reply.set(39, RC.signOnAgain);
    }
    const macOf = (data: Buffer) => computeMac(terminal.macAlgorithm, keys.mac, data);
    const finish = (code: string): IsoMessage => {
      reply.set(39, code);
      reply.set(64, computeMac(terminal.macAlgorithm, keys.mac, macInput(this.codec, reply)));
      return reply;
    };
    if (!(await verifyMac(this.codec, m, macOf))) {
      entry.note = m.has(64) ? 'MAC does not verify' : 'no MAC (field 64)';
      return finish(RC.macError);
    }
    if (keys.track) decryptTrackFields(m, keys.track);
    const batch = String(terminal.batch).padStart(6, '0');
    entry.batch = batch;
    const proc = m.getString(3) ?? '';
    const pan = panOf(m) ?? '';
    entry.pan = pan ? maskPan(pan) : null;
    const amount = BigInt(m.getString(4) ?? '0');
    const ref = this.nextReference(when.time);
    const record = (kind: TransactionKind, code: string, status: Transaction['status'] = code === RC.approved ? 'approved' : 'declined') =>
      this.ledger.record({
        kind,
        terminalId: terminal.terminalId,
        batch,
        stan: m.getString(11) ?? '',
        pan,
        amount,
        rrn: ref.rrn,
        authCode: code === RC.approved ? ref.auth : '',
        responseCode: code,
        status,
        date: when.date,
        time: when.time,
      });

    if (m.mti === '0500') {
      const t = this.ledger.totals(terminal.terminalId, batch);
      terminal.batch = (terminal.batch % 999_999) + 1;
      entry.note = `settled batch ${batch}: ${t.debits} debits ${t.debitAmount} fen, ${t.credits} credits ${t.creditAmount} fen`;
      return finish(RC.approved);
    }
    if (m.mti === '0400') {
      const original = this.ledger.findForReversal(terminal.terminalId, m.getString(11) ?? '');
      if (original && original.status === 'approved') this.undo(original, 'reversed');
      entry.note = original ? `reversed ${original.kind} ${original.rrn}` : 'nothing to reverse (accepted)';
      return finish(RC.approved);
    }
    const kind = kindOf(m.mti, proc, type);
    if (kind === null) {
      entry.note = `processing code ${proc} with 60.1 ${type} is not a transaction this platform knows`;
      return finish(RC.invalidTransaction);
    }
    const card = this.ledger.cards.get(pan);
    if (card === undefined) {
      record(kind, RC.invalidCard);
      return finish(RC.invalidCard);
    }
    const pinBlock = m.get(52);
    if (pinBlock instanceof Buffer && !verifyPin(keys.pin, pinBlock, pan, card.pin)) {
      record(kind, RC.wrongPin);
      entry.note = 'wrong PIN';
      return finish(RC.wrongPin);
    }
    switch (kind) {
      case 'balance':
        record('balance', RC.approved);
        reply.set(54, `1002156C${card.balance.toString().padStart(12, '0')}`);
        return finish(RC.approved);
      case 'sale':
        if (card.balance < amount) {
          record('sale', RC.insufficientFunds);
          return finish(RC.insufficientFunds);
        }
        card.balance -= amount;
        record('sale', RC.approved);
        return this.approve(reply, ref, finish);
      case 'void': {
        const f61 = splitSubfieldsSafe(m.getString(61));
        const original = this.ledger.findSale(terminal.terminalId, f61.originalBatch ?? '', f61.originalStan ?? '');
        if (original === undefined || original.status !== 'approved') {
          record('void', original ? RC.invalidTransaction : RC.originalNotFound);
          entry.note = original ? `original is ${original.status}` : 'original sale not found';
          return finish(original ? RC.invalidTransaction : RC.originalNotFound);
        }
        this.undo(original, 'voided');
        record('void', RC.approved).original = original;
        return this.approve(reply, ref, finish);
      }
      case 'refund': {
        const original = this.ledger.findByRrn(m.getString(37) ?? '');
        if (original === undefined) {
          record('refund', RC.originalNotFound);
          return finish(RC.originalNotFound);
        }
        card.balance += amount;
        record('refund', RC.approved);
        return this.approve(reply, ref, finish);
      }
      default:
        entry.note = `${kind} cannot be sent as ${m.mti}`;
        return finish(RC.invalidTransaction);
    }
  }

  private approve(reply: IsoMessage, ref: { rrn: string; auth: string }, finish: (code: string) => IsoMessage): IsoMessage {
    reply.set(37, ref.rrn).set(38, ref.auth).set(44, '01020000   ' + this.config.acquirer.padEnd(11, ' '));
    return finish(RC.approved);
  }

  /** Put the books back as if `t` had not happened (void of a sale, reversal of anything). */
  private undo(t: Transaction, status: 'voided' | 'reversed'): void {
    const card = this.ledger.cards.get(t.pan);
    if (card && t.kind === 'sale') card.balance += t.amount;
    if (card && t.kind === 'refund') card.balance -= t.amount;
    if (t.kind === 'void' && t.original) {
      // Reversing a void brings its sale back.
      if (card) card.balance -= t.original.amount;
      t.original.status = 'approved';
    }
    t.status = status;
  }

  /** Check values of the work keys a terminal holds now (tests compare them with a PIN pad's). */
  checkValues(terminalId: string): Record<string, string> | null {
    const keys = this.terminals.get(terminalId)?.keys;
    if (!keys) return null;
    return Object.fromEntries(Object.entries(keys).map(([type, key]) => [type, toHex((key as SecretKey).checkValue())]));
  }
}

function kindOf(mti: string, proc: string, type: string): TransactionKind | null {
  if (mti === '0220') return 'refund';
  if (proc === '310000') return 'balance';
  if (proc === '200000' && (type === '23' || type === '')) return 'void';
  if (proc === '000000') return 'sale';
  return null;
}

function safeSplit60(value: string): Record<string, string> {
  try {
    return splitSubfields(field60Layout, value, 60);
  } catch {
    return {};
  }
}

function splitSubfieldsSafe(value: string | undefined): Record<string, string> {
  if (value === undefined) return {};
  try {
    return splitSubfields(field61Layout, value, 61);
  } catch {
    return {};
  }
}

