import type { Clock } from '../clock';
import type { GroupLink } from '../link/group-link';
import { Link } from '../link/link';
import { LinkGroup } from '../link/link-group';
import { ListeningLink } from '../link/listening-link';
import type { HostConfig } from './config';
import { nacKeys } from './keys';
import type { RelayHost } from './relay';

/** R-IDLE-2: on the channel format each side drops the other after 180 s of silence. */
export const ASCII4_IDLE_TIMEOUT_SECONDS = 180;

const ms = (seconds: number): number => seconds * 1000;

/**
 * A host's link group from its config: every default of a link is settled in the config schema
 * and every unit converted here, once, so a link never falls back to a default of its own.
 */
export function buildHost(config: HostConfig, clock: Clock): RelayHost {
  const links = config.listen.length > 0 ? listeningLinks(config, clock) : dialingLinks(config, clock);
  const group = new LinkGroup({
    name: config.name,
    links,
    keys: nacKeys,
    // R-CONN-1 is checked in the config: on dialled links by host, on listening ones by port count.
    allowSingleLink: config.allowSingleLink || config.listen.length > 0,
    responseTimeoutMs: ms(config.responseTimeoutSeconds),
    reconnectAfterSilentTimeouts: config.reconnectAfterSilentTimeouts,
    clock,
  });
  return { config, group };
}

/**
 * The host dials the NAC (R-CONN-7, merchants): the NAC is the server, so on the terminal format
 * it sends no keep-alives and drops a client silent for idleTimeoutSeconds (R-IDLE-1); on the
 * channel/merchant format both sides send them (R-IDLE-2, R-IDLE-3).
 */
function listeningLinks(config: HostConfig, clock: Clock): GroupLink[] {
  return config.listen.map(
    (spec, i) =>
      new ListeningLink({
        name: `${config.name}-${i + 1}`,
        host: spec.host,
        port: spec.port,
        allow: spec.allow,
        framing: config.framing,
        heartbeatMs: config.framing === 'ascii4' ? ms(config.heartbeatSeconds) : 0,
        idleTimeoutMs: ms(config.idleTimeoutSeconds ?? ASCII4_IDLE_TIMEOUT_SECONDS),
        writeStallMs: ms(config.writeStallSeconds),
        maxQueuedBytes: config.maxQueuedBytes,
        clock,
      }),
  );
}

/** The NAC dials the host (R-CONN-7, terminals and channels): the client's keep-alive and idle rules. */
function dialingLinks(config: HostConfig, clock: Clock): GroupLink[] {
  // The terminal format (binary2) has no client-side idle drop (R-IDLE-1); configWarnings says so
  // when a config sets one anyway.
  const idleTimeoutMs = config.framing === 'ascii4' ? ms(config.idleTimeoutSeconds ?? ASCII4_IDLE_TIMEOUT_SECONDS) : 0;
  return config.links.map(
    (l, i) =>
      new Link({
        name: `${config.name}-${i + 1}`,
        host: l.host,
        port: l.port,
        framing: config.framing,
        heartbeatMs: ms(config.heartbeatSeconds),
        idleTimeoutMs,
        reconnectMaxMs: ms(config.reconnectMaxSeconds),
        writeStallMs: ms(config.writeStallSeconds),
        maxQueuedBytes: config.maxQueuedBytes,
        clock,
      }),
  );
}
