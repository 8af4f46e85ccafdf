import { createServer, type Server } from 'node:http';
import createDebug from 'debug';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { NacbridgeError } from '../errors';
import { listenTcp } from '../link/listen';
import type { Nac } from './nac';
import type { TerminalListener } from '../access/tcp-terminals';
import type { SdlcCounters } from '../access/sdlc-framing';
import type { RejectReason, RequestOutcome } from './relay';
import type { TerminalBindings } from './bindings';

const log = createDebug('nacbridge:status');

/**
 * What a field box shows from afar: /metrics in Prometheus format and /status as JSON. Counters
 * that nacbridge already keeps are read at scrape time, so the relay's hot path does no extra work
 * beyond one histogram observation per response.
 */
export function nacRegistry(nac: Nac): Registry {
  const registry = new Registry();
  const lineLabels = ['line'] as const;

  const fromCounters = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => [Record<L, string>, number][],
  ): Counter<L> =>
    new Counter<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.inc(labels as never, value);
      },
    });

  /** The TCP terminal listener's figures each way, as rows of frames_total and bytes_total. */
  const listenerFigures = (read: (listener: TerminalListener) => { in: number; out: number }): [Record<'where' | 'name' | 'direction', string>, number][] => {
    if (!nac.listener) return [];
    const figures = read(nac.listener);
    return [
      [{ where: 'listener', name: 'terminals', direction: 'in' }, figures.in],
      [{ where: 'listener', name: 'terminals', direction: 'out' }, figures.out],
    ];
  };

  fromCounters('nacbridge_calls_offered_total', 'Incoming calls (first RING)', lineLabels, () => nac.lines.map((l) => [{ line: l.line.name }, l.line.counters.callsOffered]));
  fromCounters('nacbridge_calls_answered_total', 'Calls answered (CONNECT)', lineLabels, () => nac.lines.map((l) => [{ line: l.line.name }, l.line.counters.callsAnswered]));
  fromCounters('nacbridge_caller_id_total', 'Answered calls by caller ID presence', ['line', 'present'] as const, () =>
    nac.lines.flatMap((l) => [
      [{ line: l.line.name, present: 'true' }, l.line.counters.callerIdPresent],
      [{ line: l.line.name, present: 'false' }, l.line.counters.callerIdAbsent],
    ]),
  );
  fromCounters('nacbridge_frames_total', 'Frames by where (line, link, listener) and direction', ['where', 'name', 'direction'] as const, () => [
    ...nac.lines.flatMap((l) => [
      [{ where: 'line', name: l.line.name, direction: 'in' }, l.counters.framesIn] as [Record<'where' | 'name' | 'direction', string>, number],
      [{ where: 'line', name: l.line.name, direction: 'out' }, l.counters.framesOut] as [Record<'where' | 'name' | 'direction', string>, number],
    ]),
    ...[...nac.relay.hosts.values()].flatMap((h) =>
      h.group.links.flatMap((link) => [
        [{ where: 'link', name: link.name, direction: 'in' }, link.counters.framesIn] as [Record<'where' | 'name' | 'direction', string>, number],
        [{ where: 'link', name: link.name, direction: 'out' }, link.counters.framesOut] as [Record<'where' | 'name' | 'direction', string>, number],
      ]),
    ),
    ...listenerFigures((l) => ({ in: l.counters.framesIn, out: l.counters.framesOut })),
  ]);
  fromCounters('nacbridge_bytes_total', 'Bytes by where (line, link, listener) and direction', ['where', 'name', 'direction'] as const, () => [
    ...nac.lines.flatMap((l) => [
      [{ where: 'line', name: l.line.name, direction: 'in' }, l.line.counters.bytesIn] as [Record<'where' | 'name' | 'direction', string>, number],
      [{ where: 'line', name: l.line.name, direction: 'out' }, l.line.counters.bytesOut] as [Record<'where' | 'name' | 'direction', string>, number],
    ]),
    ...[...nac.relay.hosts.values()].flatMap((h) =>
      h.group.links.flatMap((link) => [
        [{ where: 'link', name: link.name, direction: 'in' }, link.counters.bytesIn] as [Record<'where' | 'name' | 'direction', string>, number],
        [{ where: 'link', name: link.name, direction: 'out' }, link.counters.bytesOut] as [Record<'where' | 'name' | 'direction', string>, number],
      ]),
    ),
    ...listenerFigures((l) => l.bytes),
  ]);
  fromCounters('nacbridge_link_reconnects_total', 'Link connections made after the first', ['link'] as const, () =>
    [...nac.relay.hosts.values()].flatMap((h) => h.group.links.map((l) => [{ link: l.name }, Math.max(0, l.counters.connects - 1)] as [Record<'link', string>, number])),
  );
  fromCounters('nacbridge_keepalives_total', 'Keep-alives by link and direction', ['link', 'direction'] as const, () =>
    [...nac.relay.hosts.values()].flatMap((h) =>
      h.group.links.flatMap((l) => [
        [{ link: l.name, direction: 'sent' }, l.counters.keepalivesOut] as [Record<'link' | 'direction', string>, number],
        [{ link: l.name, direction: 'received' }, l.counters.keepalivesIn] as [Record<'link' | 'direction', string>, number],
      ]),
    ),
  );
  fromCounters('nacbridge_responses_total', 'How relayed requests ended, by host', ['host', 'outcome'] as const, () =>
    [...nac.relay.hosts.values()].flatMap((h) => [
      [{ host: h.config.name, outcome: 'answered' }, h.counters.responses] as [Record<'host' | 'outcome', string>, number],
      [{ host: h.config.name, outcome: 'unmatched' }, h.group.counters.unmatched] as [Record<'host' | 'outcome', string>, number],
      ...Object.entries(h.counters.dropped).map(([reason, n]) => [{ host: h.config.name, outcome: `dropped:${reason}` }, n ?? 0] as [Record<'host' | 'outcome', string>, number]),
    ]),
  );
  fromCounters('nacbridge_frames_rejected_total', 'Terminal frames never relayed, by reason (bad-frame, no-route, shutting-down, binding-mismatch)', ['reason'] as const, () =>
    // Every reason from the start (0 until it happens), so increase() in an alert sees its first one.
    REJECT_REASONS.map((reason) => [{ reason }, nac.relay.counters.rejected[reason] ?? 0]),
  );
  fromCounters('nacbridge_line_retries_total', 'Failed port opens and modem inits, each retried with backoff', ['line', 'kind'] as const, () =>
    nac.lines.flatMap((l) => [
      [{ line: l.line.name, kind: 'reopen' }, l.line.counters.reopens] as [Record<'line' | 'kind', string>, number],
      [{ line: l.line.name, kind: 'reinit' }, l.line.counters.reinits] as [Record<'line' | 'kind', string>, number],
    ]),
  );
  lineMetrics(nac, fromCounters, registry);
  const listener = nac.listener;
  if (listener) {
    fromCounters('nacbridge_terminal_connections_total', 'TCP terminal connections: accepted, refused by the allow-list, reset before they could be looked at, over the per-source limit, from a source that flooded, with no line address left, or failed in the system\'s accept', ['outcome'] as const, () => [
      [{ outcome: 'accepted' }, listener.counters.calls],
      [{ outcome: 'refused' }, listener.counters.refused],
      [{ outcome: 'gone-at-once' }, listener.counters.goneAtOnce],
      [{ outcome: 'source-limited' }, listener.counters.sourceLimited],
      [{ outcome: 'penalized' }, listener.counters.penalized],
      [{ outcome: 'no-address' }, listener.counters.poolExhausted],
      [{ outcome: 'accept-error' }, listener.counters.acceptErrors],
    ]);
    fromCounters('nacbridge_terminal_drops_total', 'Open TCP terminal connections the NAC closed: its address reclaimed for a newcomer (longest without a message), or over maxFramesPerSecond', ['reason'] as const, () => [
      [{ reason: 'reclaimed' }, listener.counters.reclaimed],
      [{ reason: 'rate-limited' }, listener.counters.rateLimited],
    ]);
  }
  new Gauge({
    name: 'nacbridge_line_state',
    help: 'Line state: 1 for the state the line is in',
    labelNames: ['line', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const l of nac.lines) this.set({ line: l.line.name, state: l.line.state }, 1);
    },
  });
  new Gauge({
    name: 'nacbridge_link_up',
    help: 'Link state: 1 up, 0 otherwise',
    labelNames: ['host', 'link', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const h of nac.relay.hosts.values()) for (const l of h.group.links) this.set({ host: h.config.name, link: l.name, state: l.state }, l.isUp ? 1 : 0);
    },
  });
  fromCounters(
    'nacbridge_link_disconnects_total',
    'Link connections ended, by how: closed-by-peer, socket-error, idle-timeout, framing-error, write-stalled (the host stopped reading), unanswered (requests timed out with nothing received)',
    ['link', 'reason'] as const,
    () =>
      [...nac.relay.hosts.values()].flatMap((h) =>
        h.group.links.flatMap((l) => Object.entries(l.counters.disconnectsBy).map(([reason, n]) => [{ link: l.name, reason }, n ?? 0] as [Record<'link' | 'reason', string>, number])),
      ),
  );
  new Gauge({
    name: 'nacbridge_link_queued_bytes',
    help: 'Bytes sent to a link and not yet taken by the system: a backlog that grows means the host is not reading',
    labelNames: ['host', 'link'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const h of nac.relay.hosts.values()) for (const l of h.group.links) this.set({ host: h.config.name, link: l.name }, l.queuedBytes);
    },
  });
  const latency = new Histogram({
    name: 'nacbridge_relay_latency_seconds',
    help: 'Time from a request leaving for the host to its response reaching the terminal',
    labelNames: ['host'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  nac.relay.on('response', (_s, host, _p, ms) => latency.observe({ host }, ms / 1000));
  requestMetrics(nac, registry);
  bindingMetrics(nac, fromCounters);
  return registry;
}

const REJECT_REASONS: readonly RejectReason[] = ['bad-frame', 'no-route', 'shutting-down', 'binding-mismatch'];

/** Answer-time buckets (seconds), as the relay latency's. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A relayed request's end as a metric label: answered, timeout, line-gone (the terminal hung up first), or failed (any other drop). */
const outcomeLabel = (outcome: RequestOutcome): 'answered' | 'timeout' | 'line-gone' | 'failed' =>
  outcome === 'answered' || outcome === 'timeout' || outcome === 'line-gone' ? outcome : 'failed';
/** TCP terminals share one `line` label: their addresses come from a pool and would each be a series. */
export const TCP_TERMINALS_LINE = 'tcp';
/** Requests to an NII no host names, which went to the default host. */
export const DEFAULT_NII = 'default';

/**
 * Issue 24 item 5: per-line and per-NII success and answer times, as two histograms rather than one
 * with line x NII x outcome, so the series grow with lines plus NIIs, not their product. Lines are
 * the configured modem lines and `tcp` for every TCP terminal; NIIs are the configured ones and
 * `default` for any other (an NII is the terminal's to choose, so it is never a label as sent).
 */
function requestMetrics(nac: Nac, registry: Registry): void {
  const byLine = new Histogram({
    name: 'nacbridge_line_request_seconds',
    help: 'Relayed requests by line (modem line name, or tcp for TCP terminals) and outcome (answered, timeout, line-gone, failed): time from relaying to the end',
    labelNames: ['line', 'outcome'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });
  const byNii = new Histogram({
    name: 'nacbridge_nii_request_seconds',
    help: 'Relayed requests by host, NII (configured, or default) and outcome (answered, timeout, line-gone, failed): time from relaying to the end',
    labelNames: ['host', 'nii', 'outcome'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });
  const lineByAddress = new Map(nac.lines.map((l) => [l.address, l.line.name]));
  const niiLabel = new Map<number, string>();
  for (const h of nac.relay.hosts.values()) for (const nii of h.config.nii) niiLabel.set(parseInt(nii, 16), nii);
  // Every configured line and NII shows from the start, so a rule over them has series before the first call.
  for (const line of [...lineByAddress.values(), ...(nac.listener ? [TCP_TERMINALS_LINE] : [])]) byLine.zero({ line, outcome: 'answered' });
  for (const h of nac.relay.hosts.values()) {
    for (const nii of h.config.nii) byNii.zero({ host: h.config.name, nii, outcome: 'answered' });
    if (h.config.default) byNii.zero({ host: h.config.name, nii: DEFAULT_NII, outcome: 'answered' });
  }
  nac.relay.on('settled', (session, host, nii, outcome, ms) => {
    const label = outcomeLabel(outcome);
    const seconds = ms / 1000;
    byLine.observe({ line: lineByAddress.get(session.address) ?? TCP_TERMINALS_LINE, outcome: label }, seconds);
    byNii.observe({ host, nii: niiLabel.get(nii) ?? DEFAULT_NII, outcome: label }, seconds);
  });
  const ringing = new Map<string, number>();
  const answer = new Histogram({
    name: 'nacbridge_line_call_answer_seconds',
    help: 'Time from a call\'s first ring to CONNECT, by line',
    labelNames: ['line'] as const,
    buckets: [1, 2, 5, 10, 15, 20, 30, 45, 60],
    registers: [registry],
  });
  for (const { line } of nac.lines) {
    answer.zero({ line: line.name });
    line.on('state', (state) => {
      if (state === 'ringing') {
        if (!ringing.has(line.name)) ringing.set(line.name, nac.clock.now());
      } else if (state === 'connected') {
        const since = ringing.get(line.name);
        if (since !== undefined) answer.observe({ line: line.name }, (nac.clock.now() - since) / 1000);
        ringing.delete(line.name);
      } else if (state !== 'answering') {
        ringing.delete(line.name);
      }
    });
  }
}

/** Issue 24 item 4: binding mismatches by action and kind, and terminals seen from new numbers. */
function bindingMetrics(nac: Nac, fromCounters: FromCounters): void {
  const bindings = nac.relay.bindings;
  if (bindings === null) return;
  fromCounters('nacbridge_binding_mismatches_total', 'Frames from a terminal or line calling from or to a number it is not bound to, by action (refused: not relayed; flagged: relayed) and kind (ani, dnis, no-caller-id)', ['action', 'kind'] as const, () => {
    const rows: [Record<'action' | 'kind', string>, number][] = [];
    for (const [action, label] of [['refuse', 'refused'], ['flag', 'flagged']] as const) {
      for (const kind of ['ani', 'dnis', 'no-caller-id'] as const) rows.push([{ action: label, kind }, bindings.counters.byKind[action][kind]]);
    }
    return rows;
  });
  fromCounters('nacbridge_terminal_new_numbers_total', 'Terminals seen calling from a number they are neither bound to nor were seen from before', [] as const, () => [[{}, bindings.counters.newNumbers]]);
}

type FromCounters = <L extends string>(name: string, help: string, labelNames: readonly L[], read: () => [Record<L, string>, number][]) => Counter<L>;

/** Decoder codes as metric label values. */
const FRAME_ERROR_REASON: Readonly<Record<string, string>> = {
  BAD_LRC: 'bad-lrc',
  MISSING_ETX: 'missing-etx',
  LENGTH_OVER_MAX: 'over-long',
  BAD_LENGTH_PREFIX: 'bad-length',
};

/**
 * Per-line modem figures: framing errors on the line by reason, optional init commands refused,
 * hang-up fallbacks and failures, and the re-inits after calls with their time.
 */
function lineMetrics(nac: Nac, fromCounters: FromCounters, registry: Registry): void {
  fromCounters('nacbridge_line_frame_errors_total', 'Async frames from a modem line dropped, by reason: bad-lrc, missing-etx, over-long, bad-length', ['line', 'reason'] as const, () =>
    nac.lines.flatMap((l) =>
      Object.entries(FRAME_ERROR_REASON).map(([code, reason]) => [{ line: l.line.name, reason }, l.counters.frameErrorsBy[code] ?? 0] as [Record<'line' | 'reason', string>, number]),
    ),
  );
  fromCounters('nacbridge_line_optional_init_refused_total', 'Optional init commands the modem answered ERROR, by command', ['line', 'command'] as const, () =>
    nac.lines.flatMap((l) => Object.entries(l.line.counters.optionalRefusedBy).map(([command, n]) => [{ line: l.line.name, command }, n] as [Record<'line' | 'command', string>, number])),
  );
  fromCounters('nacbridge_line_hangups_total', 'How hang-ups went: dtr-fallback (DTR could not be set: escape and ATH instead), failed (the port was reopened)', ['line', 'outcome'] as const, () =>
    nac.lines.flatMap((l) => [
      [{ line: l.line.name, outcome: 'dtr-fallback' }, l.line.counters.hangupFallbacks] as [Record<'line' | 'outcome', string>, number],
      [{ line: l.line.name, outcome: 'failed' }, l.line.counters.hangupFailures] as [Record<'line' | 'outcome', string>, number],
    ]),
  );
  const sdlcLines = (): Array<{ name: string; c: SdlcCounters }> => nac.lines.flatMap((l) => (l.sdlc ? [{ name: l.line.name, c: l.sdlc }] : []));
  fromCounters('nacbridge_line_sdlc_frames_total', 'SDLC frames on synchronous lines (R-MDM-7), by kind: poll, i-in, i-out, retransmit-in (terminal resent, not relayed), retransmit-out, rej-in, rej-out, rnr-in, bad-fcs (EM B2, dropped), abort, frmr', ['line', 'kind'] as const, () =>
    sdlcLines().flatMap(({ name, c }) =>
      (
        [
          ['poll', c.polls],
          ['i-in', c.iFramesIn],
          ['i-out', c.iFramesOut],
          ['retransmit-in', c.retransmissionsIn],
          ['retransmit-out', c.retransmissionsOut],
          ['rej-in', c.rejIn],
          ['rej-out', c.rejOut],
          ['rnr-in', c.rnrIn],
          ['bad-fcs', c.badFcs],
          ['abort', c.aborts],
          ['frmr', c.frmr],
        ] as const
      ).map(([kind, n]) => [{ line: name, kind }, n] as [Record<'line' | 'kind', string>, number]),
    ),
  );
  fromCounters('nacbridge_line_sdlc_link_events_total', 'SDLC link events on synchronous lines: up (UA to the first SNRM of a call), reset (SNRM again: poll lost N2 times, DM, FRMR, bad N(R)), poll-timeout (T1), mid-window-hangup (the call ended with an I-frame unacknowledged)', ['line', 'event'] as const, () =>
    sdlcLines().flatMap(({ name, c }) => [
      [{ line: name, event: 'up' }, c.linksUp] as [Record<'line' | 'event', string>, number],
      [{ line: name, event: 'mid-window-hangup' }, c.midWindowHangups] as [Record<'line' | 'event', string>, number],
      [{ line: name, event: 'reset' }, c.linkResets] as [Record<'line' | 'event', string>, number],
      [{ line: name, event: 'poll-timeout' }, c.pollTimeouts] as [Record<'line' | 'event', string>, number],
    ]),
  );
  new Gauge({
    name: 'nacbridge_line_sdlc_connect_rate_bps',
    help: "The last call's receive rate from the modem's V.80 rate indication (0: none yet)",
    labelNames: ['line'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { name, c } of sdlcLines()) this.set({ line: name }, c.connectRateBps);
    },
  });
  fromCounters('nacbridge_line_post_call_reinits_total', 'Re-inits of the modem after a call, before the line answers again', ['line'] as const, () =>
    nac.lines.map((l) => [{ line: l.line.name }, l.line.counters.postCallReinits]),
  );
  fromCounters('nacbridge_line_post_call_reinit_seconds_total', 'Time spent re-initialising the modem after calls', ['line'] as const, () =>
    nac.lines.map((l) => [{ line: l.line.name }, l.line.counters.postCallReinitMs / 1000]),
  );
}

export function nacStatus(nac: Nac): unknown {
  return {
    lines: nac.lines.map((l) => {
      const call = l.line.currentCall;
      return {
        name: l.line.name,
        address: l.address,
        dnis: l.dnis,
        state: l.line.state,
        call: call ? { callerId: call.callerId?.number ?? null, callerIdAbsent: call.callerId?.absent ?? null, connect: call.connect, since: new Date(call.startedAt).toISOString() } : null,
        counters: { ...l.line.counters, ...l.counters },
        ...(l.sdlc ? { sdlc: { ...l.sdlc } } : {}),
      };
    }),
    hosts: [...nac.relay.hosts.values()].map((h) => ({
      name: h.config.name,
      pending: h.group.pendingCount,
      links: h.group.links.map((l) => ({
        name: l.name,
        address: l.address,
        state: l.state,
        uptimeSeconds: l.uptimeMs === null ? null : Math.round(l.uptimeMs / 1000),
        queuedBytes: l.queuedBytes,
        counters: l.counters,
      })),
      counters: { ...h.counters, group: h.group.counters },
    })),
    terminalListener: nac.listener ? listenerStatus(nac.listener) : null,
    relay: { ...nac.relay.counters, inFlight: nac.relay.inFlight },
    bindings: nac.relay.bindings ? bindingsStatus(nac.relay.bindings) : null,
  };
}

/** Bindings in /status: how many, what a mismatch does, the counters and the last mismatches and new numbers. */
function bindingsStatus(bindings: TerminalBindings): unknown {
  return {
    onMismatch: bindings.onMismatch,
    terminals: bindings.terminalCount,
    lines: bindings.lineCount,
    counters: bindings.counters,
    recent: bindings.recent.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
  };
}

/** The TCP terminal listener in /status: the terminals connected now, and its counters with bytes each way. */
function listenerStatus(listener: TerminalListener): unknown {
  const bytes = listener.bytes;
  return { port: listener.boundPort, connections: listener.connections, counters: { ...listener.counters, bytesIn: bytes.in, bytesOut: bytes.out } };
}

let processRegistry: Registry | null = null;

/**
 * The process's own figures, under their usual names so existing dashboards read them: resident
 * memory, CPU, open file descriptors, heap, GC and event-loop lag (process_*, nodejs_*). Made
 * once per process: the event-loop monitor and GC observer behind them cannot be stopped, and
 * every status endpoint shares them.
 */
function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** The running /metrics and /status endpoint. */
export interface StatusServer {
  port: number;
  close(): Promise<void>;
}

/** The HTTP endpoint of config `status`: GET /metrics and GET /status. */
export async function startStatusServer(nac: Nac, host: string, port: number): Promise<StatusServer> {
  const registry = Registry.merge([nacRegistry(nac), processMetrics()]);
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && url === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
      return;
    }
    if (req.method === 'GET' && url === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(nacStatus(nac)));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('try /metrics or /status\n');
  });
  let acceptErrors = 0;
  new Counter({
    name: 'nacbridge_status_accept_errors_total',
    help: 'Connections to this endpoint that the system failed to accept',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(acceptErrors);
    },
  });
  const onAcceptError = (error: Error) => {
    acceptErrors++;
    log('status endpoint: accept failed (%s); still listening', error.message);
  };
  let bound: number;
  try {
    bound = await listenTcp(server, port, host, onAcceptError);
  } catch (e) {
    throw new NacbridgeError('STATUS_LISTEN', `status endpoint cannot listen: ${(e as Error).message}`, { host, port });
  }
  return {
    port: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
