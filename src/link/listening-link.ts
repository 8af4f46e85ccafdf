import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:net';
import createDebug from 'debug';
import { systemClock, type Clock } from '../clock';
import { DEFAULT_MAX_FRAME_LENGTH, lengthPrefix, type FramingName } from '../codec/length-prefix';
import { AllowList } from './allow-list';
import { FramedConnection, normalizeAddress, zeroConnectionCounters, type CloseReason, type ConnectionCounters } from './framed-connection';
import type { GroupLink, GroupLinkEvents, LinkCounters, LinkState } from './group-link';
import { DEFAULT_MAX_QUEUED_BYTES, DEFAULT_WRITE_STALL_MS } from './link';
import { listenTcp } from './listen';

const log = createDebug('nacbridge:link');

export interface ListeningLinkOptions {
  name: string;
  /** Where to listen; port 0 picks one (tests), `port` then tells which. */
  host: string;
  port: number;
  /** Remote addresses (IPs or CIDR) that may connect; any other is refused unread (R-CONN-6). */
  allow: readonly string[];
  framing: FramingName;
  /** Send keep-alives after this much silence (0 = never: on the terminal format only the client does). */
  heartbeatMs: number;
  /** Drop a peer silent this long (R-IDLE-1: the server drops a silent client; 0 = never). */
  idleTimeoutMs: number;
  writeStallMs?: number;
  maxQueuedBytes?: number;
  clock?: Clock;
}

/**
 * One duplex long connection that the host opens (R-CONN-7: for merchants the platform is the
 * client): a port with its allow-list, checked before a byte is read, holding one connection at a
 * time (R-CONN-6); an allowed newcomer replaces the open one, so a half-open old socket cannot
 * lock the host out. Up while a connection is open; after a break it waits for the host to dial
 * again (R-CONN-3: the server goes back to listening).
 */
export class ListeningLink extends EventEmitter<GroupLinkEvents> implements GroupLink {
  readonly name: string;
  /** Connections refused by the allow-list. */
  refused = 0;
  private readonly o: ListeningLinkOptions;
  private readonly clock: Clock;
  private readonly allow: AllowList;
  private server: Server | null = null;
  private bound: Promise<number> | null = null;
  private connection: FramedConnection | null = null;
  private peer = '';
  private boundPort = 0;
  private currentState: LinkState = 'down';
  private upSince: number | null = null;
  private readonly totals: LinkCounters = { ...zeroConnectionCounters(), connects: 0, connectFailures: 0, disconnects: 0, disconnectsBy: {} };

  constructor(options: ListeningLinkOptions) {
    super();
    this.name = options.name;
    this.o = options;
    this.clock = options.clock ?? systemClock;
    this.allow = new AllowList(options.allow);
  }

  /** The port listened on, once started. */
  get port(): number {
    return this.boundPort;
  }

  get host(): string {
    return this.peer || this.o.allow.join(',');
  }

  get address(): string {
    return `listening on ${this.o.host}:${this.boundPort || this.o.port}`;
  }

  get state(): LinkState {
    return this.currentState;
  }

  get isUp(): boolean {
    return this.currentState === 'up';
  }

  get isReady(): boolean {
    const c = this.connection;
    return c !== null && this.isUp && c.queuedBytes < Math.max(this.o.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES, c.drainThreshold);
  }

  get framesReceived(): number {
    const live = this.connection?.counters;
    return live === undefined ? 0 : live.framesIn + live.keepalivesIn;
  }

  get connectionNumber(): number {
    return this.totals.connects;
  }

  get queuedBytes(): number {
    return this.connection?.queuedBytes ?? 0;
  }

  get uptimeMs(): number | null {
    return this.upSince === null ? null : this.clock.now() - this.upSince;
  }

  get counters(): LinkCounters {
    const live = this.connection?.counters;
    const sum = { ...this.totals, disconnectsBy: { ...this.totals.disconnectsBy } };
    if (live) for (const key of Object.keys(live) as (keyof ConnectionCounters)[]) sum[key] += live[key];
    return sum;
  }

  /**
   * Listen (once; later calls return the same promise): the port once it is bound, or the error
   * that kept it from binding (EADDRINUSE...).
   */
  listen(): Promise<number> {
    this.bound ??= this.bind();
    return this.bound;
  }

  private bind(): Promise<number> {
    const server = createServer({ pauseOnConnect: true }, (socket) => {
      if (socket.remoteAddress === undefined) {
        // Reset before we looked: gone, not refused (the allow-list never saw an address).
        socket.destroy();
        return;
      }
      const remote = normalizeAddress(socket.remoteAddress);
      if (!this.allow.allows(remote)) {
        this.refused++;
        log('link %s: refused %s (not in its allow-list)', this.name, remote);
        socket.destroy();
        return;
      }
      // Newest wins: the old connection may be half-open and would lock the host out.
      this.connection?.close('replaced');
      this.attach(new FramedConnection(socket, this.connectionOptions()), remote);
      socket.resume();
    });
    this.server = server;
    return listenTcp(server, this.o.port, this.o.host, (error) => log('link %s: accept failed (%s); still listening', this.name, error.message)).then((port) => {
      this.boundPort = port;
      return port;
    });
  }

  /** For the group: listen; whoever must know that the port is bound awaits listen(). */
  start(): void {
    this.listen().catch((error: Error) => log('link %s: cannot listen: %s', this.name, error.message));
  }

  send(payload: Uint8Array): boolean {
    return this.connection?.send(payload) ?? false;
  }

  drop(reason: CloseReason = 'closed-by-us'): void {
    this.connection?.close(reason);
  }

  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    this.setState('closed');
    const closing: Promise<void>[] = [];
    const server = this.server;
    if (server !== null) closing.push(new Promise((resolve) => server.close(() => resolve())));
    const connection = this.connection;
    if (connection !== null) {
      connection.close('closed-by-us');
      closing.push(connection.closed());
    }
    await Promise.all(closing);
  }

  private connectionOptions(): ConstructorParameters<typeof FramedConnection>[1] {
    return {
      prefix: lengthPrefix(this.o.framing),
      maxLength: DEFAULT_MAX_FRAME_LENGTH,
      heartbeatMs: this.o.heartbeatMs,
      idleTimeoutMs: this.o.idleTimeoutMs,
      writeStallMs: this.o.writeStallMs ?? DEFAULT_WRITE_STALL_MS,
      clock: this.clock,
      label: `link ${this.name}`,
    };
  }

  private attach(connection: FramedConnection, remote: string): void {
    this.connection = connection;
    this.peer = remote;
    this.totals.connects++;
    this.upSince = this.clock.now();
    connection.on('frame', (payload) => this.emit('frame', payload, this));
    connection.on('drain', () => this.emit('drain', this));
    connection.once('close', (reason) => {
      for (const key of Object.keys(connection.counters) as (keyof ConnectionCounters)[]) this.totals[key] += connection.counters[key];
      this.totals.disconnects++;
      this.totals.disconnectsBy[reason] = (this.totals.disconnectsBy[reason] ?? 0) + 1;
      // A replaced connection's successor is already attached: the link stays up.
      if (this.connection !== connection) return;
      this.connection = null;
      this.upSince = null;
      if (this.currentState !== 'closed') this.setState('down', reason);
    });
    this.setState('up');
  }

  private setState(state: LinkState, reason?: string): void {
    if (this.currentState === state) return;
    this.currentState = state;
    log('link %s (%s) %s%s', this.name, this.address, state, reason ? `: ${reason}` : '');
    this.emit('state', state, reason);
  }
}
