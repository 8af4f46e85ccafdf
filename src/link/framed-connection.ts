import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import createDebug from 'debug';
import type { Clock, TimerHandle } from '../clock';
import type { CodecError } from '../errors';
import { NacbridgeError } from '../errors';
import { IdleTimer } from '../lazy-timers';
import { LengthPrefixedDecoder, keepAliveFrame, encodeLengthPrefixed, type LengthPrefix } from '../codec/length-prefix';
import type { DecodeEvent } from '../codec/decoder';

const log = createDebug('nacbridge:link');

/** Why a connection ended: every end has a reason, for logs and counters. */
export type CloseReason =
  | 'closed-by-us'
  | 'closed-by-peer'
  | 'socket-error'
  | 'idle-timeout'
  | 'framing-error'
  | 'replaced'
  | 'connect-timeout'
  | 'write-stalled'
  | 'unanswered';

export interface ConnectionCounters {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  keepalivesIn: number;
  keepalivesOut: number;
  framingErrors: number;
  discardedBytes: number;
}

export function zeroConnectionCounters(): ConnectionCounters {
  return { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, keepalivesIn: 0, keepalivesOut: 0, framingErrors: 0, discardedBytes: 0 };
}

export interface FramedConnectionOptions {
  prefix: LengthPrefix;
  maxLength?: number;
  /** Send a keep-alive after this long without sending anything (R-IDLE-1/2); 0 = never. */
  heartbeatMs: number;
  /** Close after this long without receiving anything (R-IDLE-1/2); 0 = never. */
  idleTimeoutMs: number;
  /**
   * Close as 'write-stalled' when bytes are queued for the peer and it has taken none of them for
   * this long: a peer that accepts but stops reading would otherwise hold every frame sent to it,
   * in memory without bound, while its TCP stack still acknowledges keep-alives. 0 = never.
   */
  writeStallMs?: number;
  clock: Clock;
  /** For logs: "link cups-1", "port 5001 from 127.0.0.1". */
  label: string;
  /**
   * True when the socket reads with `onread` and its owner passes the bytes to receive(): a client
   * link, read into a reused buffer instead of a new one per read (Node offers `onread` only to
   * sockets it connects, so accepted sockets read with 'data' events).
   */
  externalReads?: boolean;
  /**
   * Whether a keep-alive received keeps the connection from its idle timeout (default true, as
   * the platform spec says for links). A terminal listener says false: a terminal that sends
   * only keep-alives must not hold its line address for ever.
   */
  keepalivesAreActivity?: boolean;
}

export interface FramedConnectionEvents {
  frame: [payload: Buffer];
  keepalive: [];
  close: [reason: CloseReason];
  'framing-error': [error: CodecError];
  /** Everything queued for the peer has been handed to the system after a write had to wait. */
  drain: [];
}

/**
 * One framed TCP connection: the part shared by a client link and a server's accepted socket.
 * Every frame leaves in one socket.write through this one writer (keep-alives too), so frames
 * never interleave. The outbound-idle timer is reset by every frame sent and the inbound-idle
 * timer by every frame received, keep-alives included; neither has anything to do with
 * reconnecting (R-IDLE-4). A keep-alive is never answered with one.
 */
export class FramedConnection extends EventEmitter<FramedConnectionEvents> {
  readonly counters: ConnectionCounters = zeroConnectionCounters();
  readonly remoteAddress: string;
  readonly openedAt: number;
  private readonly socket: Socket;
  private readonly options: FramedConnectionOptions;
  private readonly decoder: LengthPrefixedDecoder;
  private readonly keepAlive: Buffer;
  /** Outbound idle (R-IDLE-1/2): touched by every write. */
  private readonly heartbeat: IdleTimer;
  /** Inbound idle (R-IDLE-1/2): touched by every frame and keep-alive received. */
  private readonly idle: IdleTimer;
  private closeReason: CloseReason | null = null;
  /** Armed when a write leaves more queued than the socket's high-water mark; cancelled by 'drain'. */
  private stallTimer: TimerHandle | null = null;
  /** The decoder's sink, made once rather than per chunk. */
  private readonly decoded = (event: DecodeEvent): void => this.onDecoded(event);

  constructor(socket: Socket, options: FramedConnectionOptions) {
    super();
    this.socket = socket;
    this.options = options;
    this.remoteAddress = normalizeAddress(socket.remoteAddress ?? '');
    this.openedAt = options.clock.now();
    this.decoder = new LengthPrefixedDecoder(options.prefix, { maxLength: options.maxLength });
    this.keepAlive = keepAliveFrame(options.prefix);
    socket.setNoDelay(true);
    // The terminal format has only the client send keep-alives: TCP keep-alive is how a client
    // notices a dead server.
    socket.setKeepAlive(true, 30_000);
    if (!options.externalReads) socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => {
      log('%s socket error: %s', options.label, error.message);
      this.finish('socket-error');
    });
    socket.on('close', () => this.finish('closed-by-peer'));
    socket.on('end', () => socket.end());
    socket.on('drain', () => {
      this.stallTimer?.cancel();
      this.stallTimer = null;
      if (this.isOpen) this.emit('drain');
    });
    this.heartbeat = new IdleTimer(options.clock, options.heartbeatMs, () => {
      if (!this.isOpen) return;
      this.counters.keepalivesOut++;
      this.write(this.keepAlive);
    });
    this.idle = new IdleTimer(options.clock, options.idleTimeoutMs, () => {
      log('%s idle for %d ms: closing', this.options.label, this.options.idleTimeoutMs);
      this.close('idle-timeout');
    });
  }

  get isOpen(): boolean {
    return this.closeReason === null;
  }

  get label(): string {
    return this.options.label;
  }

  /** Bytes written and not yet taken by the system: what a slow or stalled peer leaves behind. */
  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  /** A backlog of at least this many bytes is followed by a 'drain' event once it has gone. */
  get drainThreshold(): number {
    return this.socket.writableHighWaterMark;
  }

  /** Send one frame; false when the connection is closed (the caller picks another). */
  send(payload: Uint8Array): boolean {
    if (!this.isOpen) return false;
    const frame = encodeLengthPrefixed(this.options.prefix, payload, this.options.maxLength);
    this.write(frame);
    this.counters.framesOut++;
    return true;
  }

  private write(frame: Buffer): void {
    const belowHighWater = this.socket.write(frame);
    this.counters.bytesOut += frame.length;
    this.heartbeat.touch();
    if (!belowHighWater && this.stallTimer === null) this.watchForStall();
  }

  /**
   * Once per backlog, not per frame: 'drain' cancels it. A peer that took nothing of the backlog
   * for writeStallMs is closed; one that took some (it reads, if slowly) gets another period.
   */
  private watchForStall(): void {
    const ms = this.options.writeStallMs ?? 0;
    if (ms <= 0) return;
    const takenBefore = this.bytesTaken;
    this.stallTimer = this.options.clock.setTimeout(() => {
      this.stallTimer = null;
      if (this.bytesTaken > takenBefore) return this.watchForStall();
      log('%s: %d bytes queued for the peer, none taken for %d ms: closing', this.options.label, this.queuedBytes, ms);
      this.close('write-stalled');
    }, ms);
  }

  /**
   * Bytes the system has taken from us so far: everything written but what is still queued. Node
   * counts a write as queued until all of it is taken, so this moves a write at a time.
   */
  private get bytesTaken(): number {
    return this.counters.bytesOut - this.socket.writableLength;
  }

  /** Bytes read from the socket; they are decoded (and frames copied out) before this returns. */
  receive(chunk: Uint8Array): void {
    this.counters.bytesIn += chunk.length;
    this.decoder.push(chunk, this.decoded);
  }

  private onDecoded(event: DecodeEvent): void {
    if (!this.isOpen) return;
    switch (event.type) {
      case 'frame':
        this.counters.framesIn++;
        this.idle.touch();
        this.emit('frame', event.frame);
        break;
      case 'keepalive':
        this.counters.keepalivesIn++;
        if (this.options.keepalivesAreActivity !== false) this.idle.touch();
        this.emit('keepalive');
        break;
      case 'discarded':
        this.counters.discardedBytes += event.bytes;
        break;
      case 'error':
        // The stream has no frame boundary left to resume from: drop the connection.
        this.counters.framingErrors++;
        log('%s framing error: %s', this.options.label, event.error.describe());
        this.emit('framing-error', event.error);
        this.close('framing-error');
        break;
    }
  }

  /** Close with a reason; the 'close' event reports it once. */
  close(reason: CloseReason = 'closed-by-us'): void {
    if (!this.isOpen) return;
    this.finish(reason);
    this.socket.destroy();
  }

  /** Resolves when the socket is fully closed. */
  closed(): Promise<void> {
    if (this.socket.closed) return Promise.resolve();
    return new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  private finish(reason: CloseReason): void {
    if (this.closeReason !== null) return;
    this.closeReason = reason;
    this.heartbeat.stop();
    this.idle.stop();
    this.stallTimer?.cancel();
    this.stallTimer = null;
    this.decoder.reset();
    log('%s closed: %s', this.options.label, reason);
    this.emit('close', reason);
  }
}

/** "::ffff:127.0.0.1" -> "127.0.0.1": allow-lists and logs speak plain IPv4. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export class LinkError extends NacbridgeError {}
