import { existsSync } from 'node:fs';
import { z } from 'zod';
import { positiveSeconds, seconds } from '../config/durations';
import { DEFAULT_DIAL_TAIL_HEX } from '../codec/dial-monitor';
import { flagRepeats } from '../config/repeats';
import { AllowList } from '../link/allow-list';
import { checkLinkHosts } from '../link/link-group';
import { modemProfileSchema, modemProfileWarnings, PROFILE_NAME, PROFILE_PATH } from '../modem/profile';

/**
 * `nacbridge run` configuration (issue contract; keys may be added, never renamed):
 * {"lines":[{"name":"line1","port":"/dev/ttyUSB0","baudRate":9600,"modem":"generic",
 *   "dnis":"61651108","address":"0001","framing":"async"}],
 *  "hosts":[{"name":"cups","nii":["0003"],"default":true,"framing":"binary2",
 *   "links":[{"host":"10.0.0.1","port":5001},{"host":"10.0.0.2","port":5001}],
 *   "dialMonitor":{"enabled":true,"tail":"580009490006000000220030"},
 *   "heartbeatSeconds":120,"responseTimeoutSeconds":60}],
 *  "terminalListener":{"host":"0.0.0.0","port":7000,"allow":["192.168.1.0/24"]}}
 */
const address = z.string().regex(/^[0-9A-Fa-f]{4}$/, 'must be 4 hex digits').transform((s) => s.toUpperCase());

export const lineSchema = z
  .object({
    name: z.string().min(1),
    port: z.string().min(1),
    baudRate: z.number().int().positive().default(9600),
    /** Character format, set on the device or, for rfc2217:// ports, through the serial server. */
    dataBits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).default(8),
    parity: z.enum(['none', 'odd', 'even', 'mark', 'space']).default('none'),
    stopBits: z.union([z.literal(1), z.literal(1.5), z.literal(2)]).default(1),
    /** A profile in hardware/modems by name, a profile file by path (from the config's folder), or the profile inline (docs/modem-profiles.md). */
    modem: z
      .union([
        z.string().refine((s) => PROFILE_NAME.test(s) || PROFILE_PATH.test(s), 'must name a profile in hardware/modems or a profile file (a path, or a name ending .json or .yaml)'),
        modemProfileSchema,
      ])
      .default('generic'),
    dnis: z.string().regex(/^\d{0,16}$/, 'must be up to 16 digits').default(''),
    address,
    /** `async` (STX/LL/ETX/LRC, R-MDM-6) or `sdlc` (synchronous terminals through a V.80 modem, R-MDM-7). */
    framing: z.enum(['async', 'sdlc']).default('async'),
  })
  .strict();

export const hostSchema = z
  .object({
    name: z.string().min(1),
    nii: z.array(address).default([]),
    default: z.boolean().default(false),
    framing: z.enum(['binary2', 'ascii4']).default('binary2'),
    /** The NAC dials the host (R-CONN-7: terminals' and channels' way): one link each. */
    links: z.array(z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict()).default([]),
    /**
     * Or the host dials the NAC (R-CONN-7: for merchants the platform is the client): one link per
     * port, each with the remote addresses that may connect (R-CONN-6).
     */
    listen: z
      .array(
        z
          .object({
            host: z.string().min(1).default('0.0.0.0'),
            port: z.number().int().min(0).max(65535),
            allow: z.array(z.string().min(1)).min(1, 'name the platform addresses that may connect (R-CONN-6)'),
          })
          .strict(),
      )
      .default([]),
    allowSingleLink: z.boolean().default(false),
    dialMonitor: z
      .object({
        enabled: z.boolean().default(true),
        tail: z.string().regex(/^[0-9A-Fa-f]{24}$/, 'must be 24 hex digits (12 bytes)').default(DEFAULT_DIAL_TAIL_HEX),
      })
      .strict()
      .default({ enabled: true, tail: DEFAULT_DIAL_TAIL_HEX }),
    heartbeatSeconds: seconds.default(120),
    /**
     * Drop a silent host after this long: on ascii4 always (R-IDLE-2), on binary2 only when the NAC
     * is the server (listen), since on the terminal format only the server drops a silent client.
     */
    idleTimeoutSeconds: seconds.optional(),
    responseTimeoutSeconds: positiveSeconds.default(60),
    reconnectMaxSeconds: positiveSeconds.default(30),
    /** A link whose host has taken none of the bytes queued for it for this long is dropped and reconnected; 0 = never. */
    writeStallSeconds: seconds.default(30),
    /** A link is reconnected after this many requests in a row timed out with nothing received on it; 0 = never. */
    reconnectAfterSilentTimeouts: z.number().int('must be a whole number').nonnegative('must be 0 (never) or more').default(3),
    /** Queued bytes beyond which a link takes no new requests until they drain. */
    maxQueuedBytes: z.number().int().min(16 * 1024, 'must be at least 16384 bytes (a socket\'s write high-water mark)').default(1024 * 1024),
  })
  .strict();

/** A phone number as caller ID and DNIS carry it: digits, at most 16 (the dial-monitor block's width). */
const phoneNumber = z.string().regex(/^\d{1,16}$/, 'must be 1 to 16 digits');
/** What a binding mismatch does: refuse (not relayed, counted as rejected) or flag (relayed, counted, logged). */
const bindingAction = z.enum(['refuse', 'flag']);

/**
 * Terminals bound to their lines (issue 24 item 4, R-DIAL-4): a terminal ID that may call only
 * from the given caller IDs and to the given DNIS, and lines that take calls only from the given
 * caller IDs. Checked before anything reaches the platform; absent, nothing is checked.
 */
export const bindingsSchema = z
  .object({
    /** What a mismatch does unless its binding says: refuse, or flag. */
    onMismatch: bindingAction.default('refuse'),
    terminals: z
      .array(
        z
          .object({
            /** Field 41 as the terminal sends it: 8 printable characters. */
            terminalId: z.string().regex(/^[\x20-\x7e]{8}$/, 'must be 8 printable characters (field 41)'),
            /** The caller IDs it may call from; absent: any, and a call without caller ID too. */
            ani: z.array(phoneNumber).min(1).optional(),
            /** The numbers it may call (the lines' DNIS); absent: any. */
            dnis: z.array(phoneNumber).min(1).optional(),
            onMismatch: bindingAction.optional(),
          })
          .strict()
          .refine((t) => t.ani !== undefined || t.dnis !== undefined, 'needs ani, dnis or both'),
      )
      .default([]),
    lines: z
      .array(
        z
          .object({
            /** A line's name in lines. */
            line: z.string().min(1),
            /** The caller IDs the line takes calls from. */
            ani: z.array(phoneNumber).min(1),
            onMismatch: bindingAction.optional(),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export const nacConfigSchema = z
  .object({
    lines: z.array(lineSchema).default([]),
    hosts: z.array(hostSchema).min(1, 'at least one host'),
    terminalListener: z
      .object({
        host: z.string().min(1),
        port: z.number().int().min(0).max(65535),
        allow: z.array(z.string()).min(1, 'at least one allowed address'),
        /** Line addresses handed to TCP terminals, first..last (hex). */
        addressFrom: address.default('8001'),
        addressTo: address.default('80FF'),
        /** A terminal that sends no message this long is dropped; keep-alives do not count (default 180). */
        idleTimeoutSeconds: seconds.default(180),
        /** Connections one source address may hold at once (0 = no limit). */
        maxConnectionsPerSource: z.number().int().nonnegative().default(16),
        /** Frames, keep-alives included, one connection may send in a second before it is dropped (0 = no limit). */
        maxFramesPerSecond: z.number().int().nonnegative().default(20),
        /** A source whose connection went over maxFramesPerSecond is refused this long (0 = not). */
        rateLimitPenaltySeconds: seconds.default(60),
      })
      .strict()
      .optional(),
    /** HTTP endpoint with /metrics (Prometheus) and /status (JSON). */
    status: z.object({ host: z.string().min(1), port: z.number().int().min(0).max(65535) }).strict().optional(),
    /** SIGTERM lets relayed requests finish for this long before hanging up and closing. */
    shutdownSeconds: seconds.default(10),
    /** Terminals bound to their caller IDs and DNIS, lines to their callers (docs/operations.md). */
    bindings: bindingsSchema.optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    // Two lines on one address would share responses; two on one port would fight over the modem.
    for (const key of ['address', 'port', 'name'] as const) {
      const what = key === 'port' ? 'serial port' : key;
      flagRepeats(ctx, config.lines.map((line) => line[key]), (i) => ['lines', i, key], (first) => `same ${what} as lines.${first}`);
    }
    const pool = config.terminalListener;
    if (pool) {
      const [from, to] = [parseInt(pool.addressFrom, 16), parseInt(pool.addressTo, 16)];
      if (from > to) ctx.addIssue({ code: 'custom', path: ['terminalListener', 'addressTo'], message: `must not be below addressFrom ${pool.addressFrom}` });
      // A TCP terminal handed a modem line's address would get that line's responses.
      config.lines.forEach((line, i) => {
        const a = parseInt(line.address, 16);
        if (a >= from && a <= to) {
          ctx.addIssue({ code: 'custom', path: ['lines', i, 'address'], message: `${line.address} is in the terminal listener's addresses ${pool.addressFrom}-${pool.addressTo}` });
        }
      });
    }
    flagRepeats(ctx, config.hosts.map((host) => host.name), (i) => ['hosts', i, 'name'], (first) => `same name as hosts.${first}`);
    const defaults = config.hosts.filter((h) => h.default).length;
    if (defaults > 1) ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'at most one host may be the default' });
    const niis = new Map<string, string>();
    config.hosts.forEach((host, i) => {
      if ((host.links.length > 0) === (host.listen.length > 0)) {
        ctx.addIssue({ code: 'custom', path: ['hosts', i], message: 'needs exactly one of links (the NAC dials the host) or listen (the host dials the NAC)' });
      } else if (host.listen.length > 0) {
        // As the server the NAC keeps one socket per port (R-CONN-6); the platform keeps two connections (R-CONN-1).
        if (host.listen.length < 2 && !host.allowSingleLink) {
          ctx.addIssue({ code: 'custom', path: ['hosts', i, 'listen'], message: 'one port: the platform keeps two connections (R-CONN-1), so listen on two, or set allowSingleLink' });
        }
        host.listen.forEach((spec, j) => {
          try {
            new AllowList(spec.allow);
          } catch (e) {
            ctx.addIssue({ code: 'custom', path: ['hosts', i, 'listen', j, 'allow'], message: (e as Error).message });
          }
        });
      } else {
        try {
          checkLinkHosts(
            host.links.map((l) => l.host),
            host.allowSingleLink,
          );
        } catch (e) {
          ctx.addIssue({ code: 'custom', path: ['hosts', i, 'links'], message: (e as Error).message });
        }
      }
      host.nii.forEach((nii, j) => {
        const owner = niis.get(nii);
        if (owner) ctx.addIssue({ code: 'custom', path: ['hosts', i, 'nii', j], message: `NII ${nii} already routes to ${owner}` });
        niis.set(nii, host.name);
      });
    });
    checkListeners(config, ctx);
    if (config.bindings) {
      const bindings = config.bindings;
      flagRepeats(ctx, bindings.terminals.map((t) => t.terminalId), (i) => ['bindings', 'terminals', i, 'terminalId'], (first) => `same terminal ID as bindings.terminals.${first}`);
      flagRepeats(ctx, bindings.lines.map((l) => l.line), (i) => ['bindings', 'lines', i, 'line'], (first) => `same line as bindings.lines.${first}`);
      const names = new Set(config.lines.map((l) => l.name));
      bindings.lines.forEach((l, i) => {
        if (!names.has(l.line)) ctx.addIssue({ code: 'custom', path: ['bindings', 'lines', i, 'line'], message: `no line named ${l.line} in lines` });
      });
    }
  });

/**
 * Issue 25 item 4 (check-config catches what `run` would reject): the terminal listener's
 * allow-list entries are valid, and no two listening sockets (terminal listener, status
 * endpoint, hosts' listen ports) share a port number, whatever their host (0 picks a free port).
 */
function checkListeners(
  config: { terminalListener?: { port: number; allow: string[] }; status?: { port: number }; hosts: { listen: { port: number }[] }[] },
  ctx: z.RefinementCtx,
): void {
  const listener = config.terminalListener;
  if (listener) {
    listener.allow.forEach((entry, j) => {
      try {
        new AllowList([entry]);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['terminalListener', 'allow', j], message: (e as Error).message });
      }
    });
  }
  const sockets: { path: (string | number)[]; port: number }[] = [];
  if (listener) sockets.push({ path: ['terminalListener', 'port'], port: listener.port });
  if (config.status) sockets.push({ path: ['status', 'port'], port: config.status.port });
  config.hosts.forEach((host, i) => host.listen.forEach((spec, j) => sockets.push({ path: ['hosts', i, 'listen', j, 'port'], port: spec.port })));
  const first = new Map<number, string>();
  for (const socket of sockets) {
    if (socket.port === 0) continue;
    const owner = first.get(socket.port);
    if (owner !== undefined) ctx.addIssue({ code: 'custom', path: socket.path, message: `port ${socket.port} is already ${owner}'s: each listening socket needs its own port` });
    else first.set(socket.port, socket.path.slice(0, -1).join('.'));
  }
}

export type NacConfig = z.infer<typeof nacConfigSchema>;
export type LineConfig = z.infer<typeof lineSchema>;
export type HostConfig = z.infer<typeof hostSchema>;
export type BindingsConfig = z.infer<typeof bindingsSchema>;

/**
 * Warnings a valid config still deserves: R-CONN-1 opt-outs, and serial devices that are not
 * there (yet: a USB modem not plugged in). `exists` is the file system's, unless a test says.
 */
export function configWarnings(config: NacConfig, exists: (path: string) => boolean = existsSync): string[] {
  const out: string[] = [];
  config.lines.forEach((line, i) => {
    // Device paths only: tcp://host:port is a serial server, reached over the network.
    if (line.port.startsWith('/dev/') && !exists(line.port)) {
      out.push(`lines.${i}.port: ${line.port} does not exist on this machine (a USB modem not plugged in?); nacbridge run keeps trying to open it`);
    }
  });
  for (const host of config.hosts.filter((h) => h.links.length > 0)) {
    const warning = checkLinkHosts(
      host.links.map((l) => l.host),
      host.allowSingleLink,
    );
    if (warning) out.push(`hosts ${host.name}: ${warning}`);
  }
  for (const host of config.hosts) {
    if (host.framing === 'binary2' && host.links.length > 0 && host.idleTimeoutSeconds !== undefined) {
      out.push(`hosts ${host.name}: idleTimeoutSeconds has no effect with binary2 framing: on the terminal format only the platform drops a silent client (R-IDLE-1); the NAC sends keep-alives every heartbeatSeconds`);
    }
  }
  config.lines.forEach((line, i) => {
    if (typeof line.modem === 'object') for (const w of modemProfileWarnings(line.modem)) out.push(`lines.${i}.modem (${line.modem.name}): ${w}`);
  });
  if (!config.hosts.some((h) => h.default) && config.hosts.every((h) => h.nii.length === 0)) {
    out.push('no host has an NII or is the default: every request will be dropped as unroutable');
  }
  return out;
}
