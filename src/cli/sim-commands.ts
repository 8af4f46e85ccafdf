import { createInterface } from 'node:readline';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfigFile } from '../config/load';
import { SecretKey } from '../crypto/secret-key';
import { isKeyMode } from '../crypto/work-keys';
import { isMacAlgorithm } from '../crypto/mac';
import { startModemSim, type ModemSim } from '../sim/modem/runner';
import { V80_SUPPORT, type CallerIdFormat, type ModemPersonality, type V80Support } from '../sim/modem/emulator';
import { parseScript, parseSdlcFault, runPos, SDLC_FAULT_NAMES, stepLine } from '../sim/pos/runner';
import type { SdlcFaults } from '../terminal/sdlc-secondary';
import { EXIT_BAD_INPUT, EXIT_MISMATCH, stopSignal, UsageError } from './io';
import { ansField, hostPort, listenPort, wholeNumber, type HostPort } from './options';
import { readFileCapped, readSecret, SECRET_FILE_CAP, secretOption, secretSources } from './secrets';
import { platformConfigSchema } from '../sim/platform/config';
import { PlatformSimulator } from '../sim/platform/simulator';

/**
 * Operator commands for a running modem simulator, one per line on stdin. `drop` drops the
 * carrier of the call in progress, as a dead telephone line does: the NAC must see the carrier
 * loss and hang up (R-MDM-4). Returns what stops reading.
 */
function acceptModemCommands(sim: ModemSim): () => void {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const command = line.trim();
    if (command === '') return;
    if (command === 'drop') process.stdout.write(sim.dropCarrier() ? 'carrier dropped\n' : 'no call connected: no carrier to drop\n');
    else process.stdout.write(`unknown command ${JSON.stringify(command.slice(0, 40))}; commands: drop\n`);
  });
  return () => lines.close();
}

/** `sim pos` options as commander hands them over, parsed values included. */
interface PosOptions {
  dial?: HostPort;
  tcp?: HostPort;
  terminalId: string;
  merchantId: string;
  tmkEnv?: string;
  tmkFile?: string;
  keyMode?: string;
  mac?: string;
  pan?: string;
  panEnv?: string;
  panFile?: string;
  pinEnv?: string;
  pinFile?: string;
  script: string;
  timeout: number;
  sync: boolean;
  fault: SdlcFaults;
}

export function registerSimCommands(program: Command): Command {
  const sim = program.command('sim').description('simulators of the other parties');
  sim
    .command('platform')
    .description('an offline UnionPay platform: sign-on with work keys, financial transactions, scripted faults')
    .requiredOption('--config <file>', 'simulator configuration (JSON or YAML)')
    .action(async (options: { config: string }) => {
      const config = loadConfigFile(platformConfigSchema, options.config);
      const simulator = new PlatformSimulator(config, {
        onJournalError: (e) => process.stderr.write(`nacbridge: ${e.describe()}${config.onJournalError === 'stop' ? '; stopping' : '; answering without the journal'}\n`),
      });
      await simulator.start();
      const where = config.listen.map((l, i) => `${l.host}:${simulator.ports[i]}`).join(', ');
      process.stdout.write(`platform simulator listening on ${where} (${config.framing}, ${config.terminals.length} terminal(s))\n`);
      const why = await Promise.race([stopSignal(), simulator.stopped]);
      await simulator.close();
      const { count, unwritten } = simulator.journal;
      const missing = unwritten > 0 ? `, ${unwritten} of them not in the journal` : '';
      if (typeof why !== 'string') {
        process.stdout.write(`platform simulator stopped (journal failed) after ${count} request(s)${missing}\n`);
        process.exitCode = EXIT_BAD_INPUT;
        return;
      }
      process.stdout.write(`platform simulator stopped (${why}) after ${count} request(s)${missing}\n`);
    });
  sim
    .command('modem')
    .description('an emulated Hayes modem: serial side on a pty or a raw TCP serial server, line side on a TCP port; "drop" on stdin drops the carrier of the call in progress')
    .option('--tcp <port>', 'serve the serial side as tcp://127.0.0.1:PORT (0 picks one)', listenPort)
    .option('--pty <dir>', 'open a pty and link it as DIR/NAME; the NAC opens that path')
    .option('--name <name>', 'name of the pty link in DIR', 'line1')
    .option('--pos-port <port>', 'TCP port where POS terminals "dial in" (0 picks one)', listenPort, 0)
    .option('--caller-id <number>', 'calling number presented on every call', '50582613')
    .addOption(
      new Option('--cid-format <format>', 'how caller ID is presented')
        .choices(['formatted', 'mdmf', 'sdmf', 'dtmf', 'private', 'unavailable', 'none'])
        .default('formatted'),
    )
    .option('--ring-interval-ms <ms>', 'time between RINGs', wholeNumber(100), 5000)
    .option('--drop-after-ms <ms>', 'drop the carrier this long after every CONNECT, for unattended carrier-loss runs (0: never)', wholeNumber(0), 0)
    .addOption(new Option('--personality <kind>', 'v250: extended (+) commands; classic: the classic Hayes set only, misreading +VCID and #CID as real classic modems do').choices(['v250', 'classic']).default('v250'))
    .option('--no-dtr', 'the modem sees no DTR (a 3-wire cable): DTR changes never hang it up')
    .addOption(
      new Option('--v80 <support>', 'V.80 synchronous access (R-MDM-7): answer (both sides), originate-only (calling side only, as some chipsets), none')
        .choices([...V80_SUPPORT])
        .default('answer'),
    )
    .action(async (o: { tcp?: number; pty?: string; name: string; posPort: number; callerId: string; cidFormat: CallerIdFormat; ringIntervalMs: number; dropAfterMs: number; personality: ModemPersonality; dtr: boolean; v80: V80Support }) => {
      if ((o.tcp === undefined) === (o.pty === undefined)) throw new UsageError('give exactly one of --tcp PORT or --pty DIR');
      const ring = o.ringIntervalMs;
      const dropAfterMs = o.dropAfterMs;
      const sim = await startModemSim({
        serial: o.tcp !== undefined ? { kind: 'tcp', host: '127.0.0.1', port: o.tcp } : { kind: 'pty', dir: o.pty as string, name: o.name },
        pos: { host: '127.0.0.1', port: o.posPort },
        callerId: { number: o.callerId, format: o.cidFormat },
        emulator: { ringIntervalMs: ring, callerIdDelayMs: Math.round(ring * 0.3), dropAfterMs, personality: o.personality, noDtr: !o.dtr, v80: o.v80 },
      });
      process.stdout.write(`modem simulator: serial side ${sim.linePath}, POS calls in on 127.0.0.1:${sim.posPort}\n`);
      if (dropAfterMs > 0) process.stdout.write(`every call's carrier drops ${dropAfterMs} ms after its CONNECT\n`);
      process.stdout.write(`type "drop" and Enter to drop the carrier of the call in progress\n`);
      const stopCommands = acceptModemCommands(sim);
      await stopSignal();
      stopCommands();
      await sim.close();
    });

  const pos = sim.command('pos').description('a POS terminal: signs on, loads its keys into a software key store, runs a script of transactions');
  secretOption(pos, 'pan', 'card number (13 to 19 digits)');
  pos
    .option('--dial <host:port>', "dial in through a modem simulator's POS port (async frames; SDLC with --sync)", hostPort)
    .option('--sync', 'with --dial: a synchronous terminal, the SDLC secondary (address 0x30) in V.80 frames, for a NAC line with framing sdlc (R-MDM-7)', false)
    .option(
      '--fault <fault>',
      `with --sync, repeatable, each played once: ${SDLC_FAULT_NAMES.join(', ')} (slow-poll:MS, default 500)`,
      (value: string, previous: SdlcFaults) => {
        try {
          return parseSdlcFault(value, previous);
        } catch (e) {
          throw new InvalidArgumentError((e as Error).message);
        }
      },
      {},
    )
    .option('--tcp <host:port>', "connect to the NAC's terminal listener (binary2)", hostPort)
    .requiredOption('--terminal-id <id>', 'field 41 (8 characters)', ansField(41, 8))
    .requiredOption('--merchant-id <id>', 'field 42 (15 characters)', ansField(42, 15))
    .option('--tmk-env <var>', 'environment variable holding the TMK in hex')
    .option('--tmk-file <file>', 'file holding the TMK in hex')
    .option('--key-mode <mode>', 'sign-on key mode (60.3)', '003')
    .option('--mac <algorithm>', 'MAC algorithm', 'unionpay-ecb')
    .option('--pin-env <var>', 'environment variable holding the PIN (PINs never come from the command line)')
    .option('--pin-file <file>', 'file holding the PIN')
    .option('--script <steps>', 'signon, echo, balance, sale:AMOUNT, void, settle', 'signon,sale:100,void')
    .option('--timeout <seconds>', 'response timeout', wholeNumber(1), 60)
    .action(async (o: PosOptions) => {
      const target = o.dial ?? o.tcp;
      if ((o.dial === undefined) === (o.tcp === undefined) || target === undefined) throw new UsageError('give exactly one of --dial HOST:PORT or --tcp HOST:PORT');
      if ((o.tmkEnv === undefined) === (o.tmkFile === undefined)) throw new UsageError('give the TMK with exactly one of --tmk-env or --tmk-file');
      const tmkHex = o.tmkEnv !== undefined ? process.env[o.tmkEnv] : readFileCapped(o.tmkFile as string, SECRET_FILE_CAP, 'TMK file').toString('utf8');
      if (!tmkHex) throw new UsageError(`TMK ${o.tmkEnv ?? o.tmkFile} is empty`);
      const keyMode = o.keyMode ?? '003';
      const mac = o.mac ?? 'unionpay-ecb';
      if (!isKeyMode(keyMode)) throw new UsageError('--key-mode must be 001, 003 or 004');
      if (!isMacAlgorithm(mac)) throw new UsageError('--mac must be unionpay-ecb, x9.9 or x9.19');
      // Checked here rather than by commander, whose message would quote the card number.
      const pan = readSecret('pan', 'card number', secretSources(o as unknown as Record<string, unknown>, 'pan'), true) as string;
      if (!/^\d{13,19}$/.test(pan)) throw new UsageError('--pan must be a card number of 13 to 19 digits (field 2, n..19)');
      if (o.pinEnv !== undefined && o.pinFile !== undefined) throw new UsageError('give the PIN with only one of --pin-env or --pin-file');
      let pin = o.pinEnv !== undefined ? process.env[o.pinEnv] : undefined;
      // Asked for a PIN and given none: sales would go out without a PIN block, not as intended.
      if (o.pinEnv !== undefined && (pin === undefined || pin === '')) {
        throw new UsageError(`environment variable ${o.pinEnv} (--pin-env) is not set: no PIN to send, so nothing was sent`);
      }
      if (o.pinFile !== undefined) pin = readFileCapped(o.pinFile, SECRET_FILE_CAP, 'PIN file').toString('utf8').trim();
      if (pin !== undefined && !/^\d{4,12}$/.test(pin)) throw new UsageError(`the PIN (${o.pinEnv !== undefined ? '--pin-env' : '--pin-file'}) must be 4 to 12 digits`);
      if (o.sync && o.dial === undefined) throw new UsageError('--sync is for a dialled call: give --dial HOST:PORT');
      if (!o.sync && Object.keys(o.fault).length > 0) throw new UsageError('--fault is for a synchronous terminal: add --sync');
      const steps = parseScript(o.script);
      const failed: string[] = [];
      await runPos(
        {
          via: o.dial !== undefined ? 'dial' : 'tcp',
          host: target.host,
          port: target.port,
          terminalId: o.terminalId,
          merchantId: o.merchantId,
          tmk: SecretKey.fromHex(tmkHex.trim(), 'TMK'),
          keyMode,
          macAlgorithm: mac,
          card: { pan, pin },
          responseTimeoutMs: o.timeout * 1000,
          ...(o.sync ? { sync: { faults: o.fault } } : {}),
          onSdlc: (c) =>
            process.stdout.write(`sdlc: SNRM ${c.snrm}, polls answered ${c.polls}, I-frames sent ${c.iFramesOut}, received ${c.iFramesIn}, duplicates received ${c.duplicatesIn}\n`),
        },
        steps,
        // Each step is printed when it is done: a later step's error does not hide what went before.
        (r) => {
          process.stdout.write(stepLine(r) + '\n');
          if (!r.ok) failed.push(r.step);
        },
      );
      if (failed.length > 0) {
        process.stderr.write(`nacbridge: sim pos: ${failed.length} of ${steps.length} step(s) did not succeed: ${failed.join(', ')}\n`);
        process.exitCode = EXIT_MISMATCH;
      }
    });

  return sim;
}
