import createDebug from 'debug';
import { systemClock, type Clock, type TimerHandle } from '../../src/clock';
import { readBcd, writeBcd } from '../../src/codec/bcd';
import { locateMessage } from '../../src/codec/terminal-envelope';
import { MessageCodec } from '../../src/iso8583/codec';
import { maskPan } from '../../src/iso8583/redact';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import type { FramedConnection } from '../../src/link/framed-connection';
import { LinkServer } from '../../src/link/server';
import type { FaultRule, PlatformConfig } from './config';
import { FaultBook } from './faults';
import { Journal, reconciliationCsv, testReport, writeText } from './journal';
import { PlatformCore } from './platform';

const log = createDebug('nacbridge:sim-platform');

export interface PlatformSimulatorOptions {
  clock?: Clock;
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

  constructor(config: PlatformConfig, options: PlatformSimulatorOptions = {}) {
    this.config = config;
    this.clock = options.clock ?? systemClock;
    this.core = new PlatformCore(config, this.codec, this.clock);
    this.journal = new Journal(config.journal);
    this.faults = new FaultBook(config.faults);
    this.server = new LinkServer({
      name: 'platform-sim',
      listen: config.listen,
      framing: config.framing,
      // Terminal format: only clients send keep-alives (R-IDLE-1); channel format: both (R-IDLE-2).
      heartbeatMs: config.framing === 'ascii4' ? config.heartbeatSeconds * 1000 : 0,
      idleTimeoutMs: config.idleTimeoutSeconds * 1000,
      onSecondConnection: config.onSecondConnection,
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

  async start(): Promise<void> {
    await this.server.start();
  }

  /** Add a fault while running. */
  addFault(rule: FaultRule): void {
    this.faults.add(rule);
  }

  private async onRequest(payload: Buffer, connection: FramedConnection, port: number): Promise<void> {
    const outcome = await this.core.handle(payload);
    const fault = outcome.request ? this.faults.take(outcome.request) : undefined;
    this.journal.add({ ...outcome.entry, port, fault: fault ? describeFault(fault) : null });
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

  reconciliation(): string {
    return reconciliationCsv(this.core.ledger, maskPan);
  }

  report(): string {
    return testReport(this.journal.entries);
  }

  async close(): Promise<void> {
    for (const t of this.delayed) t.cancel();
    this.delayed.clear();
    await this.server.close();
    await Promise.all(this.inFlight);
    if (this.config.reconciliation) writeText(this.config.reconciliation, this.reconciliation());
    if (this.config.report) writeText(this.config.report, this.report());
    await this.journal.close();
    this.core.destroy();
  }
}

function describeFault(f: FaultRule): string {
  return f.action === 'delay' ? `delay ${f.seconds ?? 0} s` : f.action;
}
