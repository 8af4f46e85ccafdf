import { connect, type Socket } from 'node:net';
import { NacbridgeError } from '../../errors';
import { SecretKey } from '../../crypto/secret-key';
import { SoftwareKeyStore } from '../../crypto/software-key-store';
import type { KeyMode } from '../../crypto/work-keys';
import type { MacAlgorithm } from '../../crypto/mac';
import { MessageCodec } from '../../iso8583/codec';
import { unionpayPos } from '../../iso8583/specs/unionpay-pos';
import { Terminal, type TransactionResult } from '../../terminal/terminal';
import { asyncFrameChannel, awaitAnswer, binary2Channel } from '../../terminal/channels';
import { SdlcSecondary, type SdlcFaults, type SdlcSecondaryCounters } from '../../terminal/sdlc-secondary';

/**
 * nacbridge sim pos: a terminal that signs on, keeps its keys in a software key store, and runs a
 * script of transactions, checking the MAC of every response. A sale that gets no answer is
 * reversed (0400, reason 98), as terminals do.
 */
export type PosStep = { kind: 'signon' } | { kind: 'echo' } | { kind: 'balance' } | { kind: 'sale'; amount: string } | { kind: 'void' } | { kind: 'settle' };

export function parseScript(script: string): PosStep[] {
  const steps = script.split(',').map((raw): PosStep => {
    const [name, arg] = raw.trim().split(':');
    switch (name) {
      case 'signon':
      case 'echo':
      case 'balance':
      case 'void':
      case 'settle':
        return { kind: name };
      case 'sale':
        if (!/^\d{1,12}$/.test(arg ?? '')) throw new NacbridgeError('BAD_SCRIPT', `sale needs an amount in fen: sale:1234`);
        return { kind: 'sale', amount: arg };
      default:
        throw new NacbridgeError('BAD_SCRIPT', `unknown step ${JSON.stringify(raw)} (signon, echo, balance, sale:AMOUNT, void, settle)`);
    }
  });
  // Found here, before anything is sent, rather than half way through the script.
  const firstVoid = steps.findIndex((s) => s.kind === 'void');
  if (firstVoid >= 0 && !steps.slice(0, firstVoid).some((s) => s.kind === 'sale')) {
    throw new NacbridgeError('BAD_SCRIPT', 'void needs a sale before it in the script');
  }
  return steps;
}

export interface PosOptions {
  /** 'dial': a modem's POS port (async frames); 'tcp': the NAC's terminal listener (binary2). */
  via: 'dial' | 'tcp';
  host: string;
  port: number;
  terminalId: string;
  merchantId: string;
  tmk: SecretKey;
  keyMode: KeyMode;
  macAlgorithm: MacAlgorithm;
  card: { pan: string; pin?: string };
  responseTimeoutMs: number;
  /** 'dial': how long to wait for the call to be answered (a modem's wait for carrier); default 60 s. */
  answerTimeoutMs?: number;
  /**
   * 'dial' only: a synchronous terminal (R-MDM-7), the SDLC secondary at address 0x30 in V.80
   * frames, instead of async STX/ETX frames; with the faults it plays (each once).
   */
  sync?: { faults: SdlcFaults };
  /** Hears the SDLC secondary's counters at the end of a synchronous run. */
  onSdlc?: (counters: SdlcSecondaryCounters) => void;
}

/** `--fault` names of `sim pos --sync`, as the SDLC secondary's faults. */
export const SDLC_FAULT_NAMES = ['lost-ack', 'duplicate', 'bad-fcs', 'slow-poll', 'hangup-mid-window'] as const;

/** `lost-ack`, `duplicate`, `bad-fcs`, `slow-poll[:MS]` (default 500 ms), `hangup-mid-window`. */
export function parseSdlcFault(text: string, into: SdlcFaults = {}): SdlcFaults {
  const [name, arg] = text.trim().split(':');
  const out = { ...into };
  switch (name) {
    case 'lost-ack':
      out.lostAck = true;
      break;
    case 'duplicate':
      out.duplicate = true;
      break;
    case 'bad-fcs':
      out.badFcs = true;
      break;
    case 'hangup-mid-window':
      out.hangupMidWindow = true;
      break;
    case 'slow-poll': {
      if (arg !== undefined && !/^\d{1,5}$/.test(arg)) throw new NacbridgeError('BAD_FAULT', 'slow-poll takes a delay in ms: slow-poll:500');
      out.slowPollMs = arg === undefined ? 500 : Number(arg);
      break;
    }
    default:
      throw new NacbridgeError('BAD_FAULT', `unknown fault ${JSON.stringify(text.slice(0, 40))} (${SDLC_FAULT_NAMES.join(', ')})`);
  }
  return out;
}

export interface StepResult {
  step: string;
  /** Field 39 of the answer; absent when the step was not sent. */
  responseCode?: string;
  macOk?: boolean;
  /** Whether the step did what it was for: approved (39 = 00) with a good MAC, keys proved. */
  ok: boolean;
  note?: string;
  /** Sent, and no answer came back (the call ended first). */
  unanswered?: boolean;
}

/** One line of `sim pos` output for a step. */
export function stepLine(r: StepResult): string {
  if (r.responseCode === undefined) return `${r.step.padEnd(14)} ${r.unanswered ? 'no answer' : 'not sent'}${r.note ? `: ${r.note}` : ''}`;
  return `${r.step.padEnd(14)} 39=${r.responseCode.padEnd(3)} ${r.macOk ? 'MAC ok' : 'MAC FAILED'}${r.note ? `  ${r.note}` : ''}`;
}

/**
 * Runs the steps in order; `onResult` hears each result as soon as it is known, so what was done
 * before a step that throws (a connection lost half way) is still reported.
 */
export async function runPos(options: PosOptions, steps: PosStep[], onResult: (r: StepResult) => void = () => undefined): Promise<StepResult[]> {
  const store = new SoftwareKeyStore('POS key store');
  let socket: Socket;
  try {
    await store.loadMasterKey(1, options.tmk);
    socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: options.host, port: options.port }, () => resolve(s));
      s.once('error', (e) => reject(new NacbridgeError('POS_CONNECT', `cannot reach ${options.host}:${options.port}: ${e.message}`)));
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  socket.on('error', () => undefined);
  // Listening from the first byte: a call nobody answers may end at once. Destroying the socket
  // (finally, below) ends the wait.
  const answered = options.via === 'dial' ? awaitAnswer(socket, options.answerTimeoutMs ?? 60_000) : Promise.resolve('');
  answered.catch(() => undefined);
  // A synchronous terminal listens from the first byte too: the NAC's SNRM follows CONNECT at once.
  const sdlc = options.via === 'dial' && options.sync ? new SdlcSecondary(socket, { timeoutMs: options.responseTimeoutMs, faults: options.sync.faults, afterConnect: true }) : null;
  const channel = sdlc ?? (options.via === 'dial' ? asyncFrameChannel(socket, options.responseTimeoutMs) : binary2Channel(socket, options.responseTimeoutMs));
  const terminal = new Terminal({
    codec: new MessageCodec(unionpayPos),
    channel,
    store,
    terminalId: options.terminalId,
    merchantId: options.merchantId,
    keyMode: options.keyMode,
    macAlgorithm: options.macAlgorithm,
    masterIndex: 1,
    slots: { pin: 0, mac: 4, track: 2 },
    tpdu: { id: 0x60, destination: '0003', originator: '0000' },
    header: '603100310000',
  });
  const results: StepResult[] = [];
  const card = { pan: options.card.pan };
  let lastSale: { result: TransactionResult; amount: string } | null = null;
  const report = (r: StepResult): void => {
    results.push(r);
    onResult(r);
  };
  const approved = (r: TransactionResult): boolean => r.responseCode === '00' && r.macOk;
  const note = (step: string, r: TransactionResult, ok = approved(r), extra?: string) =>
    report({ step, responseCode: r.responseCode, macOk: r.macOk, ok, ...(extra ? { note: extra } : {}) });
  try {
    // As a POS does: nothing is sent before the call is answered, and a call nobody answers is
    // reported as that, not as a connection that closed.
    await answered.catch((e: unknown) => {
      if (!(e instanceof NacbridgeError) || e.code !== 'NO_ANSWER') throw e;
      throw new NacbridgeError(e.code, `${e.message}; dialled ${options.host}:${options.port}: is a NAC attached to the modem's serial side, with its line idle?`);
    });
    for (const step of steps) {
      try {
        await runStep(step);
      } catch (e) {
        // A synchronous terminal's call is gone (a hang-up mid-window, as asked): the step got no
        // answer and what is left cannot be sent. Elsewhere a closed connection is an error (exit 2).
        if (sdlc === null || !(e instanceof NacbridgeError) || e.code !== 'CALL_ENDED') throw e;
        report({ step: step.kind, ok: false, unanswered: true, note: e.message });
        break;
      }
    }
  } finally {
    if (sdlc) options.onSdlc?.({ ...sdlc.counters });
    socket.destroy();
    await store.close();
  }
  return results;

  async function runStep(step: PosStep): Promise<void> {
    {
      switch (step.kind) {
        case 'signon': {
          const r = await terminal.signOn();
          // Signed on is not enough: every work key must have loaded and matched its check value.
          const keysOk = r.keys.length > 0 && r.keys.every((k) => k.pass);
          note('sign-on', r, approved(r) && keysOk, r.keys.map((k) => `${k.type} ${k.pass ? 'PASS' : 'FAIL'}`).join(', '));
          break;
        }
        case 'echo':
          note('echo', await terminal.echo());
          break;
        case 'balance':
          note('balance', await terminal.balance(card, options.card.pin));
          break;
        case 'settle':
          note('settlement', await terminal.settle());
          break;
        case 'void':
          // parseScript saw a sale before it; that sale got no answer and was reversed.
          if (!lastSale) report({ step: 'void', ok: false, note: 'the sale before it got no answer and was reversed: nothing to void' });
          else note('void', await terminal.voidSale(card, lastSale.amount, lastSale.result, options.card.pin));
          break;
        case 'sale': {
          const request = { amount: step.amount };
          lastSale = null;
          try {
            const r = await terminal.sale(card, request.amount, options.card.pin);
            lastSale = { result: r, amount: request.amount };
            note(`sale ${request.amount}`, r);
          } catch (e) {
            // No answer, or a frame that was not its answer: reverse it with the same STAN (R-MSG-8).
            if (!(e instanceof NacbridgeError) || (e.code !== 'REQUEST_TIMEOUT' && e.code !== 'RESPONSE_MISMATCH')) throw e;
            const sent = terminal.lastRequest;
            if (sent === null) throw e;
            const reversal = await terminal.reverse(sent, '98');
            const why = e.code === 'REQUEST_TIMEOUT' ? 'no response' : `no usable response (${e.message})`;
            // The sale did not happen, however well the reversal went.
            note(`sale ${request.amount}`, reversal, false, `${why}: reversed (0400, 98)`);
          }
          break;
        }
      }
    }
  }
}
