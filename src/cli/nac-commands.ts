import * as path from 'node:path';
import type { Command } from 'commander';
import { SerialPort } from 'serialport';
import { loadConfigFile } from '../config/load';
import { configWarnings, nacConfigSchema, type NacConfig } from '../nac/config';
import { Nac } from '../nac/nac';
import { startStatusServer, type StatusServer } from '../nac/observability';
import { FrameTrace } from '../nac/trace';
import { MessageCodec } from '../iso8583/codec';
import { unionpayPos } from '../iso8583/specs/unionpay-pos';
import { resolveModemProfile } from '../modem/profile';
import { listSerialPortsFromSys, type PortInfo } from '../serial/sys-ports';
import { EXIT_MISMATCH, logLine, stopSignal } from './io';

/** `run` exit status when SIGTERM left a call that could not be hung up. */
export const EXIT_CALLS_LEFT_UP = 3;

export function loadNacConfig(file: string): NacConfig {
  const config = loadConfigFile(nacConfigSchema, file);
  // Modem profiles are part of the config's meaning: a missing or invalid one is a config error
  // here, named by its key path like any other (with the profiles there are); each line then
  // carries its profile itself, so warnings and the NAC see what the file named.
  config.lines.forEach((line, i) => {
    line.modem = resolveModemProfile(line.modem, path.dirname(path.resolve(file)), `${file}: lines.${i}.modem`);
  });
  return config;
}

/**
 * The debug log's namespaces (the `debug` package, on stderr): every createDebug('nacbridge:...')
 * in src/ and tools/ is listed here; a test holds the list to the sources.
 */
export const DEBUG_NAMESPACES: readonly (readonly [string, string])[] = [
  ['nacbridge:line', 'modem lines: states, retries, rings, missing caller ID'],
  ['nacbridge:modem', 'AT commands sent to each modem and its answers'],
  ['nacbridge:link', 'platform links: connects, idle or stalled, bad frames'],
  ['nacbridge:link-group', 'link groups: silent timeouts, unmatched frames'],
  ['nacbridge:server', 'allow-listed servers: refused, replaced connections'],
  ['nacbridge:access', 'terminal sessions: frame errors, calls without caller ID, TCP terminals'],
  ['nacbridge:sdlc', 'synchronous (SDLC) lines: every frame each way, V.80 rate and indications, bad-FCS frames, resent I-frames (R-MDM-7)'],
  ['nacbridge:nac', 'relay: drops, rejects, unmatched answers'],
  ['nacbridge:status', 'the /metrics and /status endpoint'],
  ['nacbridge:pinpad', 'PIN pad links (signon): NAKs and resends'],
  ['nacbridge:sim-modem', 'sim modem: the AT commands it receives'],
  ['nacbridge:sim-platform', 'sim platform: failed requests, answers left unsent'],
  ['nacbridge:sim-pinpad', 'sim pinpad: the commands it receives'],
];

function debugHelp(): string {
  const width = Math.max(...DEBUG_NAMESPACES.map(([name]) => name.length));
  return [
    '',
    'Debug log on stderr: DEBUG=nacbridge:* for all of it, or a comma-separated list',
    'of the namespaces below. It never shows keys, PINs or full card numbers.',
    ...DEBUG_NAMESPACES.map(([name, what]) => `  ${name.padEnd(width)}  ${what}`),
  ].join('\n');
}

export function registerNacCommands(program: Command): void {
  program
    .command('run')
    .description('run the NAC: modem lines, terminal listener, links to the platform hosts')
    .addHelpText('after', debugHelp())
    .requiredOption('--config <file>', 'NAC configuration (JSON or YAML)')
    .option('--trace <file>', 'write every relayed frame (time, line, host, direction, hex and decoded; redacted) as JSON lines; - for standard output (the NAC\'s own lines then go to standard error)')
    .action(async (options: { config: string; trace?: string }) => {
      const config = loadNacConfig(options.config);
      // Every line starts with its time, as log lines do. With --trace -, standard output carries
      // the trace (JSON lines only), and the NAC's own lines go to standard error.
      const out = options.trace === '-' ? process.stderr : process.stdout;
      const log = (text: string): boolean => out.write(logLine(text));
      const warn = (text: string): boolean => process.stderr.write(logLine(`nacbridge: ${text}`));
      for (const w of configWarnings(config)) warn(`warning: ${w}`);
      const nac = new Nac(config);
      const trace = options.trace
        ? await FrameTrace.open(options.trace, nac.relay, new MessageCodec(unionpayPos), (error) =>
            warn(`trace ${options.trace === '-' ? 'to standard output' : options.trace} stopped: ${error.message}; the NAC goes on relaying`),
          )
        : null;
      for (const { line } of nac.lines) {
        line.on('state', (state, detail) => {
          log(`line ${line.name} ${state}${detail ? ` (${detail})` : ''}`);
          // A line that cannot work with this modem (R-MDM-7: no answer-side synchronous access) is an error to see at once.
          if (state === 'failed') warn(`error: line ${line.name} failed: ${detail ?? 'no reason given'}; it answers no calls until the configuration or the modem changes`);
        });
        line.on('retry', (why, delayMs) => log(`line ${line.name} ${why}; next try in ${(delayMs / 1000).toFixed(1)} s`));
      }
      // Terminals bound to their lines: a mismatch and a terminal seen from a new number get a line each.
      nac.relay.on('binding', (m, session) => log(`binding ${m.action === 'refuse' ? 'refused' : 'flagged'} ${session.label}: ${m.detail}`));
      nac.relay.on('new-number', (seen, session) => log(`terminal ${seen.terminalId} on ${session.label} calls from a new number ${seen.ani} (known: ${seen.known.join(', ')})`));
      for (const [name, route] of nac.relay.hosts) {
        route.group.on('link-state', (link, state, reason) => log(`host ${name} link ${link.name} ${state}${reason ? ` (${reason})` : ''}`));
      }
      let status: StatusServer | null;
      try {
        await nac.start();
        status = config.status ? await startStatusServer(nac, config.status.host, config.status.port) : null;
      } catch (e) {
        // A port already taken: close what did start (links, lines) so the error ends the process.
        await nac.close();
        await trace?.close();
        throw e;
      }
      if (status) log(`status on http://${config.status?.host}:${status.port}/status and /metrics`);
      log(
        `nacbridge NAC running: ${config.lines.length} line(s), ${config.hosts.length} host(s)` +
          (nac.listener ? `, terminals on ${config.terminalListener?.host}:${nac.listener.boundPort}` : ''),
      );
      const signal = await stopSignal();
      log(`nacbridge NAC stopping (${signal}): no new calls, in-flight requests get ${config.shutdownSeconds} s`);
      const drained = await nac.drain(config.shutdownSeconds * 1000);
      await status?.close();
      await trace?.close();
      log(
        `drain: ${drained.inFlightAtStart} request(s) in flight at ${signal}; ${drained.answered} answered, ` +
          `${drained.refused} refused as shutting down (not relayed), ${drained.dropped} dropped without an answer` +
          (drained.leftAtDeadline > 0 ? ` (${drained.leftAtDeadline} still in flight at the ${config.shutdownSeconds} s deadline)` : ''),
      );
      log(`relay: ${JSON.stringify(nac.relay.counters)}`);
      // Every call hung up, or said not to be: a modem left off-hook blocks its line until someone looks.
      const leftUp = nac.lines.filter((l) => l.line.shutdownOutcome === 'not-hung-up');
      for (const { line } of nac.lines) {
        if (line.shutdownOutcome === 'hung-up') log(`line ${line.name}: call hung up`);
        if (line.shutdownOutcome === 'not-hung-up') warn(`line ${line.name}: call NOT hung up (${line.hangupError ?? 'a failed hang-up was still being recovered'}); the modem may still be off-hook`);
      }
      if (trace?.failed) {
        // The NAC relayed on, but the trace asked for is incomplete: the exit status says so.
        log(`trace: ${trace.counts.written} record(s) written, ${trace.counts.lost} lost after the file failed`);
        process.exitCode = EXIT_MISMATCH;
      }
      if (leftUp.length > 0) process.exitCode = EXIT_CALLS_LEFT_UP;
    });

  program
    .command('ports')
    .description('list serial ports with USB vendor, product and serial number')
    .option('--json', 'print JSON', false)
    .action(async (options: { json: boolean }) => {
      let ports: PortInfo[];
      try {
        ports = (await SerialPort.list()).map((p) => ({
          path: p.path,
          vendorId: p.vendorId,
          productId: p.productId,
          manufacturer: p.manufacturer,
          serialNumber: p.serialNumber,
          byId: p.pnpId ? `/dev/serial/by-id/${p.pnpId}` : undefined,
        }));
      } catch {
        ports = listSerialPortsFromSys(); // serialport lists through udevadm, which containers and small boxes lack
      }
      if (options.json) {
        process.stdout.write(JSON.stringify(ports) + '\n');
        return;
      }
      if (ports.length === 0) {
        process.stdout.write('no serial ports found (USB modems show up as /dev/ttyUSB* or /dev/ttyACM*; modem banks behind serial servers are tcp://host:port)\n');
        return;
      }
      for (const p of ports) {
        const usb = p.vendorId ? ` usb ${p.vendorId}:${p.productId ?? '????'}` : '';
        process.stdout.write(`${p.path}${usb}${p.manufacturer ? ` ${p.manufacturer}` : ''}${p.serialNumber ? ` serial ${p.serialNumber}` : ''}${p.byId ? ` (${p.byId})` : ''}\n`);
      }
    });
}
