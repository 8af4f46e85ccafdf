import type { Clock } from '../clock';
import { Link } from '../link/link';
import { LinkGroup } from '../link/link-group';
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
  // The terminal format (binary2) has no client-side idle drop (R-IDLE-1); configWarnings says so
  // when a config sets one anyway.
  const idleTimeoutMs = config.framing === 'ascii4' ? ms(config.idleTimeoutSeconds ?? ASCII4_IDLE_TIMEOUT_SECONDS) : 0;
  const links = config.links.map(
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
  const group = new LinkGroup({
    name: config.name,
    links,
    keys: nacKeys,
    allowSingleLink: config.allowSingleLink,
    responseTimeoutMs: ms(config.responseTimeoutSeconds),
    reconnectAfterSilentTimeouts: config.reconnectAfterSilentTimeouts,
    clock,
  });
  return { config, group };
}
