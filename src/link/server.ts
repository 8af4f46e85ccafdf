import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import createDebug from 'debug';
import { systemClock, type Clock } from '../clock';
import { lengthPrefix, DEFAULT_MAX_FRAME_LENGTH, type FramingName } from '../codec/length-prefix';
import { AllowList } from './allow-list';
import { FramedConnection, normalizeAddress, type CloseReason } from './framed-connection';
import { listenTcp } from './listen';

const log = createDebug('nacbridge:server');

export interface ListenSpec {
  host: string;
  /** 0 picks a free port (tests); `ports` tells which. */
  port: number;
  allow: readonly string[];
}

export type SecondConnectionPolicy = 'replace' | 'refuse';

export interface LinkServerOptions {
  name: string;
  listen: readonly ListenSpec[];
  framing: FramingName;
  maxLength?: number;
  /** Send keep-alives after this much silence (0 = never; ascii4 servers send, R-IDLE-2). */
  heartbeatMs?: number;
  /** Close a client silent this long (R-IDLE-1: 180 s). */
  idleTimeoutMs?: number;
  onSecondConnection?: SecondConnectionPolicy;
  /**
   * With 'replace', when a newcomer takes the port from the open connection: 'on-frame' (default)
   * at its first frame that carries a message (a keep-alive does not count), 'by-caller' when
   * the owner calls confirm() (after checking the frame makes sense). Until then both are open
   * and frames from either are delivered; a newcomer that sends nothing or garbage never
   * displaces the connection that works.
   */
  confirmNewcomers?: 'on-frame' | 'by-caller';
  clock?: Clock;
}

/** Newcomers waiting to prove themselves on a port; past this many the oldest is closed. */
export const MAX_NEWCOMERS_PER_PORT = 4;

export type RefusalReason = 'not-allowed' | 'port-busy';

export interface ServerCounters {
  accepted: number;
  /** Connections the system failed to accept; the port goes on listening. */
  acceptErrors: number;
  refused: Record<RefusalReason, number>;
  replaced: number;
  /** Allowed clients that were gone (reset) before they could be looked at: not refusals. */
  goneAtOnce: number;
  closed: Partial<Record<CloseReason, number>>;
}

export interface LinkServerEvents {
  connection: [connection: FramedConnection, port: number];
  frame: [payload: Buffer, connection: FramedConnection, port: number];
  refused: [address: string, port: number, reason: RefusalReason];
  disconnect: [connection: FramedConnection, port: number, reason: CloseReason];
}

interface Listener {
  spec: ListenSpec;
  allow: AllowList;
  server: Server;
  port: number;
  current: FramedConnection | null;
  /** Allowed newcomers that have not yet sent a message, oldest first. */
  newcomers: FramedConnection[];
}

/**
 * The server side of long connections (R-CONN-4, R-CONN-6): several ports, each with its own
 * allow-list checked on the normalized remote address before a single byte is read (sockets are
 * accepted paused), and one socket per port: an allowed newcomer replaces the open one once it has
 * sent a message (so a half-open old socket cannot lock a client out, and a client that sends
 * nothing or garbage cannot push a working one off) or is refused, by configuration.
 */
export class LinkServer extends EventEmitter<LinkServerEvents> {
  readonly name: string;
  readonly counters: ServerCounters = { accepted: 0, acceptErrors: 0, refused: { 'not-allowed': 0, 'port-busy': 0 }, replaced: 0, goneAtOnce: 0, closed: {} };
  private readonly options: LinkServerOptions;
  private readonly clock: Clock;
  private readonly bound: Listener[] = [];
  private readonly owner = new WeakMap<FramedConnection, Listener>();

  constructor(options: LinkServerOptions) {
    super();
    this.name = options.name;
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  /** The ports actually listened on, in the order of `listen`. */
  get ports(): number[] {
    return this.bound.map((l) => l.port);
  }

  /** The open connection of each port, in the order of `listen`. */
  get connections(): (FramedConnection | null)[] {
    return this.bound.map((l) => l.current);
  }

  async start(): Promise<void> {
    for (const spec of this.options.listen) {
      const allow = new AllowList(spec.allow);
      const server = createServer({ pauseOnConnect: true });
      const listener: Listener = { spec, allow, server, port: spec.port, current: null, newcomers: [] };
      server.on('connection', (socket) => this.onConnection(listener, socket));
      try {
        listener.port = await listenTcp(server, spec.port, spec.host, (error) => {
          this.counters.acceptErrors++;
          log('%s port %d: accept failed (%s); still listening', this.name, listener.port, error.message);
        });
      } catch (e) {
        // All ports or none: the ports bound so far would keep the process alive after the error.
        await this.close();
        throw e;
      }
      this.bound.push(listener);
      log('%s listening on %s:%d, allowing %s', this.name, spec.host, listener.port, spec.allow.join(', '));
    }
  }

  private onConnection(listener: Listener, socket: Socket): void {
    if (socket.remoteAddress === undefined) {
      // Reset before we looked: there is no address to judge, so it is no refusal either.
      this.counters.goneAtOnce++;
      socket.destroy();
      return;
    }
    const remote = normalizeAddress(socket.remoteAddress);
    if (!listener.allow.allows(remote)) {
      this.refuse(listener, socket, remote, 'not-allowed');
      return;
    }
    const busy = listener.current !== null && listener.current.isOpen;
    if (busy && (this.options.onSecondConnection ?? 'replace') === 'refuse') {
      this.refuse(listener, socket, remote, 'port-busy');
      return;
    }
    this.counters.accepted++;
    const connection = new FramedConnection(socket, {
      prefix: lengthPrefix(this.options.framing),
      maxLength: this.options.maxLength ?? DEFAULT_MAX_FRAME_LENGTH,
      heartbeatMs: this.options.heartbeatMs ?? (this.options.framing === 'ascii4' ? 120_000 : 0),
      idleTimeoutMs: this.options.idleTimeoutMs ?? 180_000,
      clock: this.clock,
      label: `${this.name} port ${listener.port} from ${remote}`,
    });
    this.owner.set(connection, listener);
    if (busy) {
      listener.newcomers.push(connection);
      if (listener.newcomers.length > MAX_NEWCOMERS_PER_PORT) listener.newcomers.shift()?.close('replaced');
      log('%s port %d: %s connected beside the open connection; it takes the port once it sends a message', this.name, listener.port, remote);
    } else {
      listener.current = connection;
    }
    connection.on('frame', (payload) => {
      if ((this.options.confirmNewcomers ?? 'on-frame') === 'on-frame') this.confirm(connection);
      this.emit('frame', payload, connection, listener.port);
    });
    connection.once('close', (reason) => {
      this.counters.closed[reason] = (this.counters.closed[reason] ?? 0) + 1;
      if (listener.current === connection) listener.current = null;
      const waiting = listener.newcomers.indexOf(connection);
      if (waiting >= 0) listener.newcomers.splice(waiting, 1);
      this.owner.delete(connection);
      this.emit('disconnect', connection, listener.port, reason);
    });
    socket.resume();
    this.emit('connection', connection, listener.port);
  }

  /**
   * `connection` has shown it is the real client (it sent a message that makes sense): it takes
   * its port, and the connection open there before is closed as replaced. No-op for the current
   * connection or a closed one.
   */
  confirm(connection: FramedConnection): void {
    const listener = this.owner.get(connection);
    if (listener === undefined || listener.current === connection || !connection.isOpen) return;
    const waiting = listener.newcomers.indexOf(connection);
    if (waiting >= 0) listener.newcomers.splice(waiting, 1);
    const old = listener.current;
    listener.current = connection;
    if (old !== null && old.isOpen) {
      this.counters.replaced++;
      log('%s port %d: %s replaces the open connection', this.name, listener.port, connection.remoteAddress);
      old.close('replaced');
    }
  }

  private refuse(listener: Listener, socket: Socket, remote: string, reason: RefusalReason): void {
    this.counters.refused[reason]++;
    log('%s port %d: refused %s (%s)', this.name, listener.port, remote, reason);
    socket.destroy();
    this.emit('refused', remote, listener.port, reason);
  }

  async close(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const listener of this.bound) {
      closing.push(new Promise((resolve) => listener.server.close(() => resolve())));
      for (const connection of [listener.current, ...listener.newcomers]) {
        if (connection === null) continue;
        closing.push(connection.closed());
        connection.close('closed-by-us');
      }
    }
    await Promise.all(closing);
    this.bound.length = 0;
  }
}
