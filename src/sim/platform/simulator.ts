import createDebug from 'debug';
import { systemClock, type Clock, type TimerHandle } from '../../clock';
import { readBcd, writeBcd } from '../../codec/bcd';
import { locateMessage } from '../../codec/terminal-envelope';
import { MessageCodec } from '../../iso8583/codec';
import { maskPan } from '../../iso8583/redact';
import { unionpayPos } from '../../iso8583/specs/unionpay-pos';
import type { FramedConnection } from '../../link/framed-connection';
import { LinkServer } from '../../link/server';
import type { FaultRule, PlatformConfig } from './config';
import { FaultBook } from './faults';
import { Journal, JournalError, reconciliationCsv, testReport, writeText } from './journal';
import { NacbridgeError } from '../../errors';
import { PlatformCore } from './platform';

const log = createDebug('nacbridge:sim-platform');

export interface PlatformSimulatorOptions {
  clock?: Clock;
  /**
   * Told of every journal failure (the first of a kind, then each one after a change of kind):
   * with onJournalError 'continue' the simulator goes on; with 'stop' it has stopped taking
   * requests and `stopped` resolves with the same error.
   */
  onJournalError?: (error: JournalError) => void;
}

/**
 * An offline UnionPay platform: listens on the configured ports (allow-listed, one socket each),
 * answers every request through PlatformCore, applies scripted faults, keeps a journal, and
 * writes a reconciliation file and a test report when asked or when it stops.
 */
export class PlatformSimulator {
  readonly server: LinkServer;
  readonly core: PlatformCore;
  readonly journal: Journal;
  readonly faults: FaultBook;
  private readonly config: PlatformConfig;
  private readonly clock: Clock;
  private readonly codec = new MessageCodec(unionpayPos);
  private readonly delayed = new Set<TimerHandle>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly onJournalError: (error: JournalError) => void;
  private lastJournalError: string | null = null;
  private stopping = false;
  private stopWith: ((error: NacbridgeError) => void) | null = null;
  /** Resolves with the error that stopped the simulator by itself (onJournalError 'stop'). */
  readonly stopped: Promise<NacbridgeError>;

  constructor(config: PlatformConfig, options: PlatformSimulatorOptions = {}) {
    this.config = config;
    this.clock = options.clock ?? systemClock;
    this.core = new PlatformCore(config, this.codec, this.clock);
    this.journal = new Journal({ file: config.journal, flush: config.journalFlush, keep: config.journalMemory });
    this.onJournalError = options.onJournalError ?? ((e) => log('%s', e.describe()));
    this.stopped = new Promise((resolve) => (this.stopWith = resolve));
    this.faults = new FaultBook(config.faults);
    this.server = new LinkServer({
      name: 'platform-sim',
      listen: config.listen,
      framing: config.framing,
      // Terminal format: only clients send keep-alives (R-IDLE-1); channel format: both (R-IDLE-2).
      heartbeatMs: config.framing === 'ascii4' ? config.heartbeatSeconds * 1000 : 0,
      idleTimeoutMs: config.idleTimeoutSeconds * 1000,
      onSecondConnection: config.onSecondConnection,
      // A newcomer takes a port only once it has sent a request the platform can read: an
      // allowed client that sends nothing or garbage cannot push the NAC's link off.
      confirmNewcomers: 'by-caller',
      clock: this.clock,
    });
    this.server.on('frame', (payload, connection, port) => {
      const work = this.onRequest(payload, connection, port).catch((e) => log('request failed: %s', (e as Error).message));
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    });
  }

  get ports(): number[] {
    return this.server.ports;
  }

  /**
   * Open the journal, then listen. A journal that does not open stops the start with a
   * JournalError (onJournalError 'stop') or is reported and done without ('continue').
   */
  async start(): Promise<void> {
    try {
      this.journal.open();
    } catch (e) {
      if (!(e instanceof JournalError) || this.config.onJournalError === 'stop') throw e;
      this.reportJournalError(e);
    }
    await this.server.start();
  }

  private reportJournalError(error: JournalError): void {
    if (error.code === this.lastJournalError) return;
    this.lastJournalError = error.code;
    this.onJournalError(error);
  }

  /** Add a fault while running. */
  addFault(rule: FaultRule): void {
    this.faults.add(rule);
  }

  private async onRequest(payload: Buffer, connection: FramedConnection, port: number): Promise<void> {
    if (this.stopping) return;
    const outcome = await this.core.handle(payload);
    if (this.stopping) return;
    if (outcome.request !== null) this.server.confirm(connection);
    const fault = outcome.request ? this.faults.take(outcome.request) : undefined;
    // Journaled before answered: an approval the terminal sees is in the file first.
    try {
      this.journal.add({ ...outcome.entry, port, fault: fault ? describeFault(fault) : null });
    } catch (e) {
      if (!(e instanceof JournalError)) throw e;
      if (this.config.onJournalError === 'stop') {
        this.stopOnError(e);
        return;
      }
      this.reportJournalError(e);
    }
    if (outcome.response === null) return;
    const response = outcome.response;
    switch (fault?.action) {
      case undefined:
        this.deliver(response, connection, outcome.entry.stan);
        return;
      case 'no-response':
        return;
      case 'close':
        connection.close('closed-by-us');
        return;
      case 'bad-mac':
        response[response.length - 1] ^= 0x01; // field 64 is last when present
        this.deliver(response, connection, outcome.entry.stan);
        return;
      case 'wrong-stan':
        this.shiftStan(response);
        this.deliver(response, connection, outcome.entry.stan);
        return;
      case 'other-connection': {
        const other = this.server.connections.find((c) => c !== null && c !== connection && c.isOpen) ?? connection;
        other.send(response);
        return;
      }
      case 'delay': {
        const timer = this.clock.setTimeout(() => {
          this.delayed.delete(timer);
          this.deliver(response, connection, outcome.entry.stan);
        }, (fault.seconds ?? 0) * 1000);
        this.delayed.add(timer);
        return;
      }
    }
  }

  /**
   * The answer a platform that mixes up its answers sends: field 11 one on (999999 wraps to
   * 000001), so it belongs to the terminal's neighbouring transaction. The MAC is left as it was.
   */
  private shiftStan(response: Buffer): void {
    const at = this.codec.valueOffset(response, 11, locateMessage(response));
    if (at < 0) return;
    const stan = Number(readBcd(response, at, 6, 'right'));
    writeBcd(response, at, String((stan % 999999) + 1).padStart(6, '0'), { align: 'right' });
  }

  /**
   * Send on the connection the request came on; if that one has died meanwhile, on a sibling,
   * as a platform with group return does (R-CONN-5).
   */
  private deliver(response: Buffer, connection: FramedConnection, stan: string | null): void {
    if (connection.send(response)) return;
    const sibling = this.server.connections.find((c) => c !== null && c.isOpen);
    if (sibling?.send(response)) return;
    log('response to STAN %s lost: no connection open', stan ?? '?');
  }

  /** Stop taking requests and close the ports; `stopped` tells the owner, who calls close(). */
  private stopOnError(error: JournalError): void {
    if (this.stopping) return;
    this.stopping = true;
    this.journal.detach();
    log('stopping: %s', error.describe());
    this.onJournalError(error);
    void this.server.close().finally(() => this.stopWith?.(error));
  }

  reconciliation(): string {
    return reconciliationCsv(this.core.ledger, maskPan);
  }

  report(): string {
    return testReport(this.journal.summary);
  }

  /**
   * Stop: close the ports, let requests being worked out finish, write the reconciliation and
   * report files, close the journal, zero the keys. A file that cannot be written is a typed error
   * thrown after everything else was done.
   */
  async close(): Promise<void> {
    this.stopping = true;
    for (const t of this.delayed) t.cancel();
    this.delayed.clear();
    await this.server.close();
    await Promise.all(this.inFlight);
    const failures: string[] = [];
    const write = (file: string | undefined, what: string, text: () => string) => {
      if (!file) return;
      try {
        writeText(file, text());
      } catch (e) {
        failures.push(`cannot write the ${what} ${JSON.stringify(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    };
    write(this.config.reconciliation, 'reconciliation', () => this.reconciliation());
    write(this.config.report, 'report', () => this.report());
    await this.journal.close();
    this.core.destroy();
    if (failures.length > 0) throw new NacbridgeError('SIM_OUTPUT', failures.join('; '));
  }
}

function describeFault(f: FaultRule): string {
  return f.action === 'delay' ? `delay ${f.seconds ?? 0} s` : f.action;
}
