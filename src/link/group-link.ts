import type { EventEmitter } from 'node:events';
import type { CloseReason, ConnectionCounters } from './framed-connection';

export type LinkState = 'connecting' | 'up' | 'down' | 'closed';

export interface LinkCounters extends ConnectionCounters {
  connects: number;
  connectFailures: number;
  disconnects: number;
  /** The disconnects by how each connection ended. */
  disconnectsBy: Partial<Record<CloseReason, number>>;
}

export interface GroupLinkEvents {
  state: [state: LinkState, reason?: CloseReason | string];
  frame: [payload: Buffer, link: GroupLink];
  /** A backlog of queued bytes has drained: the link takes requests again. */
  drain: [link: GroupLink];
}

/**
 * One duplex long connection of a link group, whichever side opened it (R-CONN-7): a Link that
 * dials the host (terminals and channels are clients), or a ListeningLink that the host dials
 * (for merchants the platform is the client). The group sends on either and takes answers from
 * either the same way (R-CONN-5).
 */
export interface GroupLink extends EventEmitter<GroupLinkEvents> {
  readonly name: string;
  /** The peer, for R-CONN-1's different-hosts check and for logs. */
  readonly host: string;
  /** host:port (a client link) or the listening address (a listening link). */
  readonly address: string;
  readonly state: LinkState;
  readonly isUp: boolean;
  /** Up and not backlogged: new requests may go this way. */
  readonly isReady: boolean;
  /** Frames and keep-alives received on the current connection (0 while down). */
  readonly framesReceived: number;
  /** Which connection the link is on (1 for its first); it changes with every new connection. */
  readonly connectionNumber: number;
  readonly queuedBytes: number;
  readonly uptimeMs: number | null;
  readonly counters: LinkCounters;
  start(): void;
  send(payload: Uint8Array): boolean;
  /** Drop the current connection (it comes back: reconnect, or the host dials again). */
  drop(reason?: CloseReason): void;
  close(): Promise<void>;
}
