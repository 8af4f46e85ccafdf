import { createServer, type Server } from 'node:net';
import createDebug from 'debug';
import type { Clock } from '../clock';
import { binary2 } from '../codec/length-prefix';
import { AllowList } from '../link/allow-list';
import { FramedConnection, normalizeAddress } from '../link/framed-connection';
import { listenTcp } from '../link/listen';
import { zeroAccessCounters, type OwnedSession, type SessionSink } from './session';

const log = createDebug('nacbridge:access');

export interface TerminalListenerOptions {
  host: string;
  port: number;
  allow: readonly string[];
  addressFrom: string;
  addressTo: string;
  idleTimeoutSeconds: number;
  clock: Clock;
}

/**
 * TCP terminals (Ethernet/GPRS, binary2 framing, allow-listed): each connection is a session with
 * a line address from the pool, handed to the same sink (the relay) as the modem lines.
 */
export class TerminalListener {
  /**
   * acceptErrors: connections the system failed to accept (the listener goes on listening).
   */
  readonly counters = { ...zeroAccessCounters(), refused: 0, poolExhausted: 0, acceptErrors: 0 };
  private server: Server | null = null;
  /** Settles once the listening socket is closed and every connection it accepted has ended. */
  private serverClosed: Promise<void> | null = null;
  private readonly free: string[] = [];
  private readonly open = new Set<FramedConnection>();
  /** Bytes of the connections that have ended; those still open are added when asked. */
  private readonly endedBytes = { in: 0, out: 0 };
  private readonly allow: AllowList;
  boundPort = 0;

  constructor(
    private readonly o: TerminalListenerOptions,
    private readonly sink: SessionSink,
  ) {
    this.allow = new AllowList(o.allow);
    const from = parseInt(o.addressFrom, 16);
    const to = parseInt(o.addressTo, 16);
    for (let a = from; a <= to; a++) this.free.push(a.toString(16).toUpperCase().padStart(4, '0'));
  }

  async start(): Promise<void> {
    const server = createServer({ pauseOnConnect: true }, (accepted) => {
      const remote = normalizeAddress(accepted.remoteAddress ?? '');
      if (!this.allow.allows(remote)) {
        this.counters.refused++;
        accepted.destroy();
        return;
      }
      const address = this.free.shift();
      if (address === undefined) {
        this.counters.poolExhausted++;
        log('terminal listener: no line address left for %s', remote);
        accepted.destroy();
        return;
      }
      this.counters.calls++;
      const connection = new FramedConnection(accepted, {
        prefix: binary2,
        heartbeatMs: 0,
        idleTimeoutMs: this.o.idleTimeoutSeconds * 1000,
        clock: this.o.clock,
        label: `terminal ${remote} (${address})`,
      });
      this.open.add(connection);
      const counters = this.counters;
      const session: OwnedSession = {
        address,
        label: connection.label,
        ani: null,
        dnis: '',
        isOpen: true,
        send(payload: Buffer) {
          if (connection.send(payload)) counters.framesOut++;
        },
      };
      connection.on('frame', (frame) => {
        this.counters.framesIn++;
        this.sink.request(session, frame);
      });
      connection.on('framing-error', () => this.counters.frameErrors++);
      connection.once('close', () => {
        session.isOpen = false;
        this.sink.endSession(session);
        this.open.delete(connection);
        this.endedBytes.in += connection.counters.bytesIn;
        this.endedBytes.out += connection.counters.bytesOut;
        this.free.push(address);
      });
      // Accepted paused (pauseOnConnect), so nothing is read before the allow-list and the handlers.
      accepted.resume();
    });
    this.server = server;
    this.boundPort = await listenTcp(server, this.o.port, this.o.host, (error) => {
      this.counters.acceptErrors++;
      log('terminal listener: accept failed (%s); still listening', error.message);
    });
  }

  /** Terminal connections open now. */
  get connections(): number {
    return this.open.size;
  }

  /** Bytes each way over every terminal connection so far, open ones included. */
  get bytes(): { in: number; out: number } {
    let bytesIn = this.endedBytes.in;
    let bytesOut = this.endedBytes.out;
    for (const c of this.open) {
      bytesIn += c.counters.bytesIn;
      bytesOut += c.counters.bytesOut;
    }
    return { in: bytesIn, out: bytesOut };
  }

  /**
   * Shutdown: close the listening socket, so a terminal that connects now is refused at once
   * (and can try another NAC) rather than accepted by a NAC about to close; the connections
   * already open carry on until close().
   */
  stopAccepting(): void {
    const server = this.server;
    if (server === null || this.serverClosed !== null) return;
    this.serverClosed = new Promise((resolve) => server.close(() => resolve()));
  }

  async close(): Promise<void> {
    this.stopAccepting();
    const closing = [...this.open].map((c) => {
      const done = c.closed();
      c.close();
      return done;
    });
    if (this.serverClosed) closing.push(this.serverClosed);
    await Promise.all(closing);
  }
}
