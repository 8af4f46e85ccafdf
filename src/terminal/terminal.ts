import type { DialMonitor } from '../codec/dial-monitor';
import { readTerminalEnvelope } from '../codec/terminal-envelope';
import type { Tpdu } from '../codec/tpdu';
import { loadWorkKeys, type KeyLoadResult, type SlotMap } from '../crypto/key-loading';
import type { ProofPlan } from '../crypto/key-proof';
import type { KeyStore } from '../crypto/key-store';
import type { MacAlgorithm } from '../crypto/mac';
import { applyMac, applyPin, verifyMac } from '../crypto/message-security';
import { layoutFor, type KeyMode } from '../crypto/work-keys';
import { NacbridgeError } from '../errors';
import type { MessageCodec } from '../iso8583/codec';
import type { IsoMessage } from '../iso8583/message';
import { answersMti, ECHOED_FIELDS, mtiValue } from '../iso8583/mti';
import { StanSequence } from '../iso8583/stan';
import { field60Layout, splitSubfields } from '../iso8583/subfields';
import { buildTerminalMessage, readTerminalMessage } from '../iso8583/terminal-message';
import type { PendingKeys } from '../link/link-group';
import * as build from './messages';

/** Anything that sends a request payload and resolves with its response payload (a link group). */
export interface RequestChannel {
  request(payload: Buffer): Promise<Buffer>;
}

/**
 * The terminal role's pending key: MTI class + terminal id + STAN, read from request and
 * response alike (0200 and 0210 share class "02").
 */
export function terminalRoleKeys(codec: MessageCodec): PendingKeys {
  const key = (payload: Buffer): string | null => {
    try {
      const envelope = readTerminalEnvelope(payload);
      const m = codec.unpack(payload, envelope.messageOffset, payload.length, { copy: false });
      return `${m.mti.slice(0, 2)}:${m.getString(41) ?? ''}:${m.getString(11) ?? ''}`;
    } catch {
      return null;
    }
  };
  return { request: key, response: key };
}

export interface TerminalOptions extends build.TerminalIdentity {
  codec: MessageCodec;
  channel: RequestChannel;
  store: KeyStore;
  keyMode: KeyMode;
  macAlgorithm: MacAlgorithm;
  /** Where the TMK sits in the key store. */
  masterIndex: number;
  slots: SlotMap;
  /** How each key's load is proven (default: the check value the holder answers the load with). */
  proofs?: ProofPlan;
  tpdu: Tpdu;
  /** 12 hex digits (R-MSG-2). */
  header: string;
  dialMonitor?: DialMonitor | null;
  stan?: StanSequence;
}

export interface TransactionResult {
  request: IsoMessage;
  response: IsoMessage;
  responseCode: string;
  /** The response's MAC verified with our MAC key (true for responses without one). */
  macOk: boolean;
  stan: string;
  rrn?: string;
  authCode?: string;
}

export interface SignOnResult extends TransactionResult {
  batch: string;
  keys: KeyLoadResult[];
}

export class TerminalError extends NacbridgeError {}

/**
 * Why `response` is not the answer to `request`, or null when it is: its MTI must answer the
 * request's, and its STAN and terminal ID must be the request's where both carry them.
 */
export function responseMismatch(request: IsoMessage, response: IsoMessage): string | null {
  if (!answersMti(mtiValue(request.mti), mtiValue(response.mti))) return `a ${response.mti} came back for a ${request.mti}`;
  for (const { field, name } of ECHOED_FIELDS) {
    const asked = request.getString(field);
    const answered = response.getString(field);
    if (asked !== undefined && answered !== undefined && asked !== answered) {
      return `the ${response.mti} carries ${name} ${answered}, the ${request.mti} had ${asked}`;
    }
  }
  return null;
}

/**
 * A POS terminal's side of the conversation, for benches and simulators. Keys stay in the key
 * store: sign-on loads field 62's keys there still encrypted (R-KEY-3), MACs and PIN blocks are
 * computed there.
 */
export class Terminal {
  batch = '000000';
  /** The last request sent (with its MAC): what a reversal repeats when no answer came. */
  lastRequest: IsoMessage | null = null;
  private readonly o: TerminalOptions;
  private readonly stan: StanSequence;

  constructor(options: TerminalOptions) {
    this.o = options;
    this.stan = options.stan ?? new StanSequence();
  }

  private get id(): build.TerminalIdentity {
    return { terminalId: this.o.terminalId, merchantId: this.o.merchantId };
  }

  /** Send a message, return the response (MAC checked when `signed`). */
  async exchange(message: IsoMessage, signed: boolean): Promise<TransactionResult> {
    const macSlot = this.o.slots.mac;
    const mac = (data: Buffer): Promise<Buffer> => {
      if (macSlot === undefined) throw new TerminalError('NO_SLOT', 'no MAC slot configured');
      return this.o.store.mac({ slot: macSlot, algorithm: this.o.macAlgorithm, data });
    };
    if (signed) await applyMac(this.o.codec, message, mac);
    this.lastRequest = message;
    const payload = buildTerminalMessage(this.o.codec, {
      tpdu: this.o.tpdu,
      dialMonitor: this.o.dialMonitor ?? null,
      header: this.o.header,
      message,
    });
    const answer = await this.o.channel.request(payload);
    const response = readTerminalMessage(this.o.codec, answer, 0, answer.length, { copy: false }).message;
    const mismatch = responseMismatch(message, response);
    // As a POS does: a frame that is not this request's answer is never taken for it.
    if (mismatch !== null) throw new TerminalError('RESPONSE_MISMATCH', mismatch, { request: message.mti, response: response.mti });
    const macOk = !response.has(64) || (await verifyMac(this.o.codec, response, mac));
    return {
      request: message,
      response,
      responseCode: response.getString(39) ?? '',
      macOk,
      stan: message.getString(11) ?? '',
      rrn: response.getString(37)?.trim(),
      authCode: response.getString(38)?.trim(),
    };
  }

  /** 0800 with 60.3 from the key mode; on 00, load and prove field 62's keys. */
  async signOn(): Promise<SignOnResult> {
    const result = await this.exchange(build.signOn(this.id, this.stan.next(), this.o.keyMode), false);
    if (result.responseCode !== '00') return { ...result, batch: this.batch, keys: [] };
    const f60 = result.response.getString(60);
    if (f60) this.batch = splitSubfields(field60Layout, f60, 60).batch ?? this.batch;
    const field62 = result.response.get(62);
    if (!(field62 instanceof Buffer)) throw new TerminalError('NO_KEYS', 'the sign-on response has no field 62');
    const keys = await loadWorkKeys(this.o.store, field62, layoutFor(this.o.keyMode), this.o.slots, this.o.masterIndex, this.o.proofs);
    return { ...result, batch: this.batch, keys };
  }

  private async withPin(message: IsoMessage, pin: string | undefined, pan: string): Promise<IsoMessage> {
    if (pin === undefined) return message;
    const slot = this.o.slots.pin;
    if (slot === undefined) throw new TerminalError('NO_SLOT', 'no PIN slot configured');
    const pinBlock = await this.o.store.pinBlock({ slot, pin, pan });
    return applyPin(message, { pinBlock, doubleLengthKey: this.o.keyMode !== '001' });
  }

  private request(card: build.CardData, amount: string | undefined, pin: string | undefined): build.FinancialRequest {
    return { id: this.id, stan: this.stan.next(), batch: this.batch, card, amount, withPin: pin !== undefined };
  }

  async sale(card: build.CardData, amount: string, pin?: string): Promise<TransactionResult> {
    return this.exchange(await this.withPin(build.sale(this.request(card, amount, pin)), pin, card.pan), true);
  }

  async balance(card: build.CardData, pin?: string): Promise<TransactionResult> {
    return this.exchange(await this.withPin(build.balanceInquiry(this.request(card, undefined, pin)), pin, card.pan), true);
  }

  async voidSale(card: build.CardData, amount: string, original: TransactionResult, pin?: string): Promise<TransactionResult> {
    const message = build.voidSale(this.request(card, amount, pin), {
      batch: this.batch,
      stan: original.stan,
      rrn: original.rrn ?? '',
      authCode: original.authCode,
    });
    return this.exchange(await this.withPin(message, pin, card.pan), true);
  }

  async refund(card: build.CardData, amount: string, original: TransactionResult): Promise<TransactionResult> {
    return this.exchange(build.refund(this.request(card, amount, undefined), { batch: this.batch, stan: original.stan, rrn: original.rrn ?? '' }), true);
  }

  /** 0400 for a request that got no (usable) answer: same STAN (R-MSG-8). */
  async reverse(original: IsoMessage, reason: build.ReversalReason = '98'): Promise<TransactionResult> {
    return this.exchange(build.reversal(original, reason), true);
  }

  async settle(totals = '0'.repeat(62)): Promise<TransactionResult> {
    return this.exchange(build.settlement(this.id, this.stan.next(), this.batch, totals), true);
  }

  async echo(): Promise<TransactionResult> {
    return this.exchange(build.echoTest(this.id, this.stan.next()), false);
  }
}
