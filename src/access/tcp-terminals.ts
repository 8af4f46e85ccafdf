import { createServer, type Server, type Socket } from 'node:net';
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
  /** A terminal that sends no message this long is dropped; keep-alives do not count. */
  idleTimeoutSeconds: number;
  /** Connections one source address may hold at once (0 = no limit). */
  maxConnectionsPerSource?: number;
  /** Frames, keep-alives included, one connection may send within a second before it is dropped (0 = no limit). */
  maxFramesPerSecond?: number;
  /** A source one of whose connections went over maxFramesPerSecond is refused this long (0 = not). */
  rateLimitPenaltySeconds?: number;
  clock: Clock;
}

/** An open terminal connection and what the listener watches of it. */
interface Terminal {
  connection: FramedConnection;
  session: OwnedSession;
  remote: string;
  /** When it last sent a message (keep-alives do not count); its accept time before that. */
  lastMessageAt: number;
  /** Its address went to a newcomer: it must not go back to the pool when this one closes. */
  reclaimed: boolean;
  /** Frames in the current one-second window, and when that window began. */
  windowStart: number;
  windowFrames: number;
}

/**
 * TCP terminals (Ethernet/GPRS, binary2 framing, allow-listed): each connection is a session with
 * a line address from the pool, handed to the same sink (the relay) as the modem lines.
 *
 * The pool cannot be starved: only messages count as activity (a terminal sending keep-alives
 * alone times out), a newcomer finding the pool empty takes the address of the connection that
 * has gone longest without a message, one source may hold only so many connections, and a
 * connection flooding frames (keep-alives included) is dropped. Each refusal is counted and logged.
 */
export class TerminalListener {
  /**
   * calls: connections given a line address. Turned away: refused (not in the allow-list),
   * goneAtOnce (reset before it could be looked at), penalized (its source flooded within
   * rateLimitPenaltySeconds), sourceLimited (over maxConnectionsPerSource), poolExhausted (no
   * address to give or take). Closed by the listener: reclaimed (its address went to a newcomer),
   * rateLimited (over maxFramesPerSecond). acceptErrors: the system failed to accept.
   */
  readonly counters = { ...zeroAccessCounters(), refused: 0, goneAtOnce: 0, sourceLimited: 0, penalized: 0, reclaimed: 0, poolExhausted: 0, rateLimited: 0, acceptErrors: 0 };
  private server: Server | null = null;
  /** Settles once the listening socket is closed and every connection it accepted has ended. */
  private serverClosed: Promise<void> | null = null;
  private readonly free: string[] = [];
  private readonly open = new Map<FramedConnection, Terminal>();
  private readonly perSource = new Map<string, number>();
  /** Sources that flooded, and until when they are refused. */
  private readonly penalties = new Map<string, number>();
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
      if (accepted.remoteAddress === undefined) {
        // Reset before we looked: gone, not refused (the allow-list never saw an address).
        this.counters.goneAtOnce++;
        accepted.destroy();
        return;
      }
      const remote = normalizeAddress(accepted.remoteAddress);
      const address = this.admit(remote);
      if (address === null) {
        accepted.destroy();
        return;
      }
      this.attach(accepted, remote, address);
      // Accepted paused (pauseOnConnect), so nothing is read before the checks and the handlers.
      accepted.resume();
    });
    this.server = server;
    this.boundPort = await listenTcp(server, this.o.port, this.o.host, (error) => {
      this.counters.acceptErrors++;
      log('terminal listener: accept failed (%s); still listening', error.message);
    });
  }

  /** A line address for a newcomer from `remote`, or null when it is turned away (counted). */
  private admit(remote: string): string | null {
    if (!this.allow.allows(remote)) {
      this.counters.refused++;
      return null;
    }
    const penaltyUntil = this.penalties.get(remote);
    if (penaltyUntil !== undefined) {
      if (this.o.clock.now() < penaltyUntil) {
        this.counters.penalized++;
        return null;
      }
      this.penalties.delete(remote);
    }
    const limit = this.o.maxConnectionsPerSource ?? 0;
    if (limit > 0 && (this.perSource.get(remote) ?? 0) >= limit) {
      this.counters.sourceLimited++;
      log('terminal listener: %s already holds %d connection(s), the most one source may', remote, limit);
      return null;
    }
    const address = this.free.shift() ?? this.reclaimAddress();
    if (address === undefined) {
      this.counters.poolExhausted++;
      log('terminal listener: no line address left for %s', remote);
      return null;
    }
    return address;
  }

  /** The accepted connection as a terminal session with `address`, handed to the sink. */
  private attach(accepted: Socket, remote: string, address: string): void {
    this.counters.calls++;
    this.perSource.set(remote, (this.perSource.get(remote) ?? 0) + 1);
    const connection = new FramedConnection(accepted, {
      prefix: binary2,
      heartbeatMs: 0,
      idleTimeoutMs: this.o.idleTimeoutSeconds * 1000,
      keepalivesAreActivity: false,
      clock: this.o.clock,
      label: `terminal ${remote} (${address})`,
    });
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
    const now = this.o.clock.now();
    const terminal: Terminal = { connection, session, remote, lastMessageAt: now, reclaimed: false, windowStart: now, windowFrames: 0 };
    this.open.set(connection, terminal);
    connection.on('frame', (frame) => {
      if (!this.withinRate(terminal)) return;
      terminal.lastMessageAt = this.o.clock.now();
      this.counters.framesIn++;
      this.sink.request(session, frame);
    });
    connection.on('keepalive', () => this.withinRate(terminal));
    connection.on('framing-error', () => this.counters.frameErrors++);
    connection.once('close', () => {
      session.isOpen = false;
      this.sink.endSession(session);
      this.open.delete(connection);
      const held = (this.perSource.get(remote) ?? 1) - 1;
      if (held > 0) this.perSource.set(remote, held);
      else this.perSource.delete(remote);
      this.endedBytes.in += connection.counters.bytesIn;
      this.endedBytes.out += connection.counters.bytesOut;
      if (!terminal.reclaimed) this.free.push(address);
    });
  }

  /**
   * The address of the open connection that has gone longest without a message, taken for a
   * newcomer: that connection is closed (a request of its in flight ends as line-gone).
   */
  private reclaimAddress(): string | undefined {
    let oldest: Terminal | null = null;
    for (const t of this.open.values()) if (!t.reclaimed && (oldest === null || t.lastMessageAt < oldest.lastMessageAt)) oldest = t;
    if (oldest === null) return undefined;
    oldest.reclaimed = true;
    this.counters.reclaimed++;
    log('terminal listener: %s had sent no message for %d ms; its address %s goes to a newcomer', oldest.session.label, this.o.clock.now() - oldest.lastMessageAt, oldest.session.address);
    oldest.connection.close('closed-by-us');
    return oldest.session.address;
  }

  /** Counts a frame against its connection's rate; false (and the connection dropped) when over it. */
  private withinRate(t: Terminal): boolean {
    const max = this.o.maxFramesPerSecond ?? 0;
    if (max <= 0) return true;
    const now = this.o.clock.now();
    if (now - t.windowStart >= 1000) {
      t.windowStart = now;
      t.windowFrames = 0;
    }
    if (++t.windowFrames <= max) return true;
    if (t.connection.isOpen) {
      this.counters.rateLimited++;
      const penaltyMs = (this.o.rateLimitPenaltySeconds ?? 0) * 1000;
      log('terminal listener: %s sent more than %d frames in a second: dropped%s', t.session.label, max, penaltyMs > 0 ? `, and ${t.remote} refused for ${penaltyMs / 1000} s` : '');
      if (penaltyMs > 0) {
        // Expired penalties go when a source comes back; past a thousand, sweep them now.
        if (this.penalties.size >= 1000) for (const [source, until] of this.penalties) if (until <= now) this.penalties.delete(source);
        this.penalties.set(t.remote, now + penaltyMs);
      }
      t.connection.close('closed-by-us');
    }
    return false;
  }

  /** Terminal connections open now. */
  get connections(): number {
    return this.open.size;
  }

  /** Bytes each way over every terminal connection so far, open ones included. */
  get bytes(): { in: number; out: number } {
    let bytesIn = this.endedBytes.in;
    let bytesOut = this.endedBytes.out;
    for (const c of this.open.keys()) {
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
    const closing = [...this.open.keys()].map((c) => {
      const done = c.closed();
      c.close();
      return done;
    });
    if (this.serverClosed) closing.push(this.serverClosed);
    await Promise.all(closing);
  }
}
