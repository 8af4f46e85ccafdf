import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import createDebug from 'debug';
import { systemClock, type Clock, type TimerHandle } from '../clock';
import { lengthPrefix, DEFAULT_MAX_FRAME_LENGTH, type FramingName } from '../codec/length-prefix';
import { Backoff } from './backoff';
import { FramedConnection, zeroConnectionCounters, type CloseReason, type ConnectionCounters } from './framed-connection';

const log = createDebug('nacbridge:link');

import type { GroupLink, GroupLinkEvents, LinkCounters, LinkState } from './group-link';

export type { LinkState, LinkCounters } from './group-link';

export interface LinkOptions {
  name: string;
  host: string;
  port: number;
  framing: FramingName;
  maxLength?: number;
  connectTimeoutMs?: number;
  /** Outbound idle: send a keep-alive after this much silence (R-IDLE-1/2, default 120 s). */
  heartbeatMs?: number;
  /**
   * Inbound idle: drop and reconnect after this much silence from the peer (default 180 s for
   * ascii4, where the peer sends keep-alives; 0 = off for binary2, where only the client does).
   */
  idleTimeoutMs?: number;
  /** Drop and reconnect when the host has taken none of the bytes queued for it for this long (default 30 s; 0 = never). */
  writeStallMs?: number;
  /**
   * Bytes queued for the host beyond which the link takes no new requests until they drain
   * (default 1 MiB): a slow or stalled host must not fill memory.
   */
  maxQueuedBytes?: number;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  clock?: Clock;
  random?: () => number;
}

export type LinkEvents = GroupLinkEvents;

export const DEFAULT_WRITE_STALL_MS = 30_000;
/** Bytes of a link's read buffer: more than a frame (2 + 2048), so a read holds several. */
const READ_BUFFER_BYTES = 64 * 1024;
export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

/**
 * One duplex long connection to one host, as a client (R-CONN-2, R-CONN-3): once up it stays up;
 * after any break it closes its socket and reconnects by itself with backoff. Counters add up
 * over every connection the link has had.
 */
export class Link extends EventEmitter<LinkEvents> implements GroupLink {
  readonly name: string;
  readonly options: Readonly<LinkOptions>;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private currentState: LinkState = 'down';
  private connection: FramedConnection | null = null;
  private pendingSocket: Socket | null = null;
  private timer: TimerHandle | null = null;
  private connectTimer: TimerHandle | null = null;
  private upSince: number | null = null;
  /** One reused read buffer per link (the socket's onread), instead of a Buffer per read. */
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private readonly totals: LinkCounters = { ...zeroConnectionCounters(), connects: 0, connectFailures: 0, disconnects: 0, disconnectsBy: {} };

  constructor(options: LinkOptions) {
    super();
    this.name = options.name;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.backoff = new Backoff({ initialMs: options.reconnectInitialMs, maxMs: options.reconnectMaxMs, random: options.random });
  }

  get state(): LinkState {
    return this.currentState;
  }

  get isUp(): boolean {
    return this.currentState === 'up';
  }

  /** Frames and keep-alives received on the current connection (0 while down). */
  get framesReceived(): number {
    const live = this.connection?.counters;
    return live === undefined ? 0 : live.framesIn + live.keepalivesIn;
  }

  /** Which connection the link is on (1 for its first); it changes with every reconnect. */
  get connectionNumber(): number {
    return this.totals.connects;
  }

  /** Bytes sent and not yet taken by the system, on the current connection. */
  get queuedBytes(): number {
    return this.connection?.queuedBytes ?? 0;
  }

  /**
   * Up, with no more queued than maxQueuedBytes: new requests may go this way. A limit below the
   * socket's drain threshold counts as that threshold, so a backlog always ends with a 'drain'
   * event (which is what sends the requests held back meanwhile).
   */
  get isReady(): boolean {
    const connection = this.connection;
    if (connection === null || !this.isUp) return false;
    return connection.queuedBytes < Math.max(this.options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES, connection.drainThreshold);
  }

  get host(): string {
    return this.options.host;
  }

  get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /** Milliseconds the current connection has been up, or null. */
  get uptimeMs(): number | null {
    return this.upSince === null ? null : this.clock.now() - this.upSince;
  }

  get counters(): LinkCounters {
    const live = this.connection?.counters;
    const sum = { ...this.totals, disconnectsBy: { ...this.totals.disconnectsBy } };
    if (!live) return sum;
    for (const key of Object.keys(live) as (keyof ConnectionCounters)[]) sum[key] += live[key];
    return sum;
  }

  start(): void {
    if (this.currentState !== 'down' || this.timer !== null) return;
    this.connectNow();
  }

  /** Send one frame now; false when the link is not up. */
  send(payload: Uint8Array): boolean {
    return this.connection?.send(payload) ?? false;
  }

  private setState(state: LinkState, reason?: string): void {
    if (this.currentState === state) return;
    this.currentState = state;
    log('link %s (%s) %s%s', this.name, this.address, state, reason ? `: ${reason}` : '');
    this.emit('state', state, reason);
  }

  private connectNow(): void {
    this.timer = null;
    this.setState('connecting');
    // One read buffer for the link's life: the decoder copies every frame out of it.
    const socket = connect({
      host: this.options.host,
      port: this.options.port,
      onread: {
        buffer: this.readBuffer,
        callback: (bytes) => {
          this.connection?.receive(this.readBuffer.subarray(0, bytes));
          return true;
        },
      },
    });
    this.pendingSocket = socket;
    const timeout = this.clock.setTimeout(() => {
      socket.destroy();
      failed('connect-timeout');
    }, this.options.connectTimeoutMs ?? 10_000);
    this.connectTimer = timeout;
    const failed = (reason: string): void => {
      timeout.cancel();
      if (this.pendingSocket !== socket) return;
      this.pendingSocket = null;
      this.totals.connectFailures++;
      this.scheduleReconnect(reason);
    };
    socket.once('error', (error) => failed(`connect failed: ${error.message}`));
    socket.once('connect', () => {
      timeout.cancel();
      if (this.pendingSocket !== socket) return;
      this.pendingSocket = null;
      socket.removeAllListeners('error');
      this.attach(socket);
    });
  }

  private attach(socket: Socket): void {
    const framing = this.options.framing;
    const connection = new FramedConnection(socket, {
      prefix: lengthPrefix(framing),
      maxLength: this.options.maxLength ?? DEFAULT_MAX_FRAME_LENGTH,
      heartbeatMs: this.options.heartbeatMs ?? 120_000,
      idleTimeoutMs: this.options.idleTimeoutMs ?? (framing === 'ascii4' ? 180_000 : 0),
      writeStallMs: this.options.writeStallMs ?? DEFAULT_WRITE_STALL_MS,
      clock: this.clock,
      label: `link ${this.name}`,
      externalReads: true,
    });
    this.connection = connection;
    this.totals.connects++;
    this.backoff.reset();
    this.upSince = this.clock.now();
    connection.on('frame', (payload) => this.emit('frame', payload, this));
    connection.on('drain', () => this.emit('drain', this));
    connection.once('close', (reason) => {
      for (const key of Object.keys(connection.counters) as (keyof ConnectionCounters)[]) {
        this.totals[key] += connection.counters[key];
      }
      this.connection = null;
      this.upSince = null;
      if (this.currentState === 'closed') return;
      this.totals.disconnects++;
      this.totals.disconnectsBy[reason] = (this.totals.disconnectsBy[reason] ?? 0) + 1;
      this.scheduleReconnect(reason);
    });
    this.setState('up');
  }

  private scheduleReconnect(reason: string): void {
    if (this.currentState === 'closed') return;
    this.setState('down', reason);
    const delay = this.backoff.next();
    log('link %s reconnects in %d ms', this.name, delay);
    this.timer = this.clock.setTimeout(() => this.connectNow(), delay);
  }

  /** Drop the current connection, which reconnects: when it looks dead, and for fault injection. */
  drop(reason: CloseReason = 'closed-by-us'): void {
    this.connection?.close(reason);
  }

  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    this.setState('closed');
    this.timer?.cancel();
    this.timer = null;
    this.connectTimer?.cancel();
    this.pendingSocket?.destroy();
    this.pendingSocket = null;
    const connection = this.connection;
    if (connection) {
      connection.close('closed-by-us');
      await connection.closed();
    }
  }
}
