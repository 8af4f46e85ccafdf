import { createServer, type Server, type Socket } from 'node:net';
import createDebug from 'debug';
import type { Clock } from '../clock';
import { AsyncFrameDecoder, encodeAsyncFrame } from '../codec/async-frame';
import type { DecodeEvent } from '../codec/decoder';
import { binary2 } from '../codec/length-prefix';
import { AllowList } from '../link/allow-list';
import { FramedConnection, normalizeAddress } from '../link/framed-connection';
import { listenTcp } from '../link/listen';
import { READ_BUFFER_BYTES, readIntoSharedBuffer } from '../link/shared-read-buffer';
import type { Call, ModemLine } from '../modem/line';
import type { Relay, TerminalSession } from './relay';

const log = createDebug('nacbridge:nac');

export interface SessionCounters {
  calls: number;
  framesIn: number;
  framesOut: number;
  frameErrors: number;
  /** Frame errors by the decoder's code (BAD_LRC, MISSING_ETX, LENGTH_OVER_MAX, BAD_LENGTH_PREFIX). */
  frameErrorsBy: Record<string, number>;
  discardedBytes: number;
}

const zero = (): SessionCounters => ({ calls: 0, framesIn: 0, framesOut: 0, frameErrors: 0, frameErrorsBy: {}, discardedBytes: 0 });

/**
 * A modem line as the NAC sees it: each connected call is a session with the line's address and
 * DNIS and the call's caller ID; async frames in (R-MDM-6), responses framed back out.
 */
export class LineSessions {
  readonly counters = zero();
  private session: (TerminalSession & { isOpen: boolean }) | null = null;
  private readonly decoder = new AsyncFrameDecoder();

  constructor(
    readonly line: ModemLine,
    readonly address: string,
    readonly dnis: string,
    private readonly relay: Relay,
  ) {
    line.on('connected', (call) => this.onCall(call));
    line.on('data', (chunk) => this.decoder.push(chunk, (e) => this.onDecoded(e)));
    line.on('hangup', () => this.onHangup());
  }

  get current(): TerminalSession | null {
    return this.session;
  }

  private onCall(call: Call): void {
    this.counters.calls++;
    this.decoder.reset();
    const line = this.line;
    const counters = this.counters;
    const session = {
      address: this.address,
      label: `${line.name} (${this.address})`,
      ani: call.callerId?.number ?? null,
      dnis: this.dnis,
      isOpen: true,
      send(payload: Buffer) {
        if (line.write(encodeAsyncFrame(payload))) counters.framesOut++;
      },
    };
    if (session.ani === null) log('%s: call without caller ID (%s): ANI will be zeros', line.name, call.callerId?.absent ?? 'none');
    this.session = session;
  }

  private onDecoded(event: DecodeEvent): void {
    switch (event.type) {
      case 'frame':
        this.counters.framesIn++;
        if (this.session) this.relay.request(this.session, event.frame);
        break;
      case 'error':
        this.counters.frameErrors++;
        this.counters.frameErrorsBy[event.error.code] = (this.counters.frameErrorsBy[event.error.code] ?? 0) + 1;
        log('%s: %s', this.line.name, event.error.describe());
        break;
      case 'discarded':
        this.counters.discardedBytes += event.bytes;
        break;
      case 'keepalive':
        break;
    }
  }

  private onHangup(): void {
    if (this.session) {
      this.session.isOpen = false;
      this.relay.endSession(this.session);
    }
    this.session = null;
    this.counters.discardedBytes += this.decoder.reset();
  }
}

export interface TerminalListenerOptions {
  host: string;
  port: number;
  allow: readonly string[];
  addressFrom: string;
  addressTo: string;
  idleTimeoutSeconds: number;
  clock: Clock;
  /**
   * False reads every terminal with 'data' events, as on a Node that does not let an accepted
   * socket move to the shared read buffer: for tests of that path. Default true.
   */
  sharedReadBuffer?: boolean;
}

/**
 * Ethernet/GPRS terminals on a bench (binary2, allow-listed): each connection gets a line address
 * from the pool and shares the relay with the modem lines.
 */
export class TerminalListener {
  /**
   * acceptErrors: connections the system failed to accept (the listener goes on listening).
   * movedToSharedBuffer: connections read through the shared buffer; the other calls were read
   * with 'data' events (this Node refused the move, or sharedReadBuffer is false).
   */
  readonly counters = { ...zero(), refused: 0, poolExhausted: 0, acceptErrors: 0, movedToSharedBuffer: 0 };
  private server: Server | null = null;
  /** Settles once the listening socket is closed and every connection it accepted has ended. */
  private serverClosed: Promise<void> | null = null;
  private readonly free: string[] = [];
  private readonly open = new Set<FramedConnection>();
  /** Bytes of the connections that have ended; those still open are added when asked. */
  private readonly endedBytes = { in: 0, out: 0 };
  private readonly allow: AllowList;
  /**
   * Every terminal connection reads into this one buffer (readIntoSharedBuffer): a read is
   * decoded, its frames copied out, before the next read of any socket.
   */
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  /** Whether the log has said, once, that this Node refuses the move. */
  private saidNoMove = false;
  boundPort = 0;

  constructor(
    private readonly o: TerminalListenerOptions,
    private readonly relay: Relay,
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
      let reader: FramedConnection | null = null;
      const shared = this.moveToSharedBuffer(accepted, (bytes) => reader?.receive(bytes));
      const connection = new FramedConnection(shared ?? accepted, {
        prefix: binary2,
        heartbeatMs: 0,
        idleTimeoutMs: this.o.idleTimeoutSeconds * 1000,
        clock: this.o.clock,
        label: `terminal ${remote} (${address})`,
        externalReads: shared !== null,
      });
      reader = connection;
      this.open.add(connection);
      const counters = this.counters;
      const session: TerminalSession & { isOpen: boolean } = {
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
        this.relay.request(session, frame);
      });
      connection.on('framing-error', () => this.counters.frameErrors++);
      connection.once('close', () => {
        session.isOpen = false;
        this.relay.endSession(session);
        this.open.delete(connection);
        this.endedBytes.in += connection.counters.bytesIn;
        this.endedBytes.out += connection.counters.bytesOut;
        this.free.push(address);
      });
      // A socket moved to the shared buffer is reading already; one left as accepted starts now.
      if (shared === null) accepted.resume();
    });
    this.server = server;
    this.boundPort = await listenTcp(server, this.o.port, this.o.host, (error) => {
      this.counters.acceptErrors++;
      log('terminal listener: accept failed (%s); still listening', error.message);
    });
  }

  /**
   * `accepted` moved to the shared read buffer (readIntoSharedBuffer), counted; null when it is to
   * be read with 'data' events, because sharedReadBuffer is false or this Node refuses the move
   * (logged once).
   */
  private moveToSharedBuffer(accepted: Socket, onBytes: (bytes: Buffer) => void): Socket | null {
    if (this.o.sharedReadBuffer === false) return null;
    const moved = readIntoSharedBuffer(accepted, this.readBuffer, onBytes);
    if (moved !== null) {
      this.counters.movedToSharedBuffer++;
    } else if (!this.saidNoMove) {
      this.saidNoMove = true;
      log("terminal listener: this Node does not let an accepted socket read into the shared buffer; reading terminals with 'data' events");
    }
    return moved;
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
