import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { loadConfigFile } from '../config/load';
import { SecretKey } from '../crypto/secret-key';
import { PROOF_DESCRIPTIONS } from '../crypto/key-proof';
import { signOn, signonConfigSchema, verifyOnly } from '../terminal/signon';
import { PINPAD_FAMILIES, startPinPadSim, type PinPadFamily } from '../sim/pinpad/runner';
import type { PinPadFault } from '../sim/pinpad/emulator';
import type { IdtechFault } from '../sim/pinpad/idtech-emulator';
import type { VerifoneFault } from '../sim/pinpad/verifone-emulator';
import { EXIT_MISMATCH, stopSignal, UsageError } from './io';
import { listenPort, wholeNumber } from './options';

export function registerSignonCommands(program: Command, sim: Command): void {
  program
    .command('signon')
    .description('sign on as a terminal, load field 62 work keys into the PIN pad (or a software key store), and prove every load (check value, a MAC of a zero block, or a PIN-entry sale)')
    .requiredOption('--config <file>', 'sign-on configuration (JSON or YAML)')
    .option('--json', 'print JSON instead of a table', false)
    .option('--verify-only', 'only read the check values already in the key holder', false)
    .option('--then-sale <amount>', 'prove the loaded keys with a sale of AMOUNT fen (MAC and PIN block)')
    .action(async (o: { config: string; json: boolean; verifyOnly: boolean; thenSale?: string }) => {
      const config = loadConfigFile(signonConfigSchema, o.config);
      if (o.thenSale !== undefined && !/^\d{1,12}$/.test(o.thenSale)) throw new UsageError('--then-sale takes an amount in fen, up to 12 digits');
      if (o.verifyOnly) {
        const values = await verifyOnly(config);
        if (o.json) process.stdout.write(JSON.stringify({ keys: values }) + '\n');
        else {
          process.stdout.write('key    slot  device\n');
          for (const v of values) process.stdout.write(`${v.type.padEnd(6)} ${String(v.slot).padEnd(5)} ${v.device}\n`);
        }
        return;
      }
      const outcome = await signOn(config, o.thenSale ?? null);
      if (o.json) {
        process.stdout.write(JSON.stringify(outcome) + '\n');
      } else {
        process.stdout.write(`sign-on: 39=${outcome.responseCode}\n`);
        process.stdout.write('key    slot  expected  device    proof                result\n');
        for (const k of outcome.keys) {
          const result = k.pending ? 'NOT PROVEN' : k.pass ? 'PASS' : 'FAIL';
          process.stdout.write(`${k.type.padEnd(6)} ${String(k.slot).padEnd(5)} ${k.expected.padEnd(9)} ${(k.device || '-').padEnd(9)} ${k.proof.padEnd(20)} ${result}${k.error ? `  ${k.error}` : ''}\n`);
        }
        if (outcome.sale) process.stdout.write(`sale ${o.thenSale}: 39=${outcome.sale.responseCode}, response MAC ${outcome.sale.macOk ? 'ok' : 'FAILED'}\n`);
        for (const proof of outcome.proofs) process.stdout.write(`proof ${proof}: ${PROOF_DESCRIPTIONS[proof]}\n`);
      }
      if (!outcome.pass) process.exitCode = EXIT_MISMATCH;
    });

  sim
    .command('pinpad')
    .description('an emulated PIN pad (SZZT, VeriFone PINpad 1000 or ID TECH SmartPIN family) on a TCP port (raw serial server) or a pty')
    .addOption(new Option('--family <family>', 'which family\'s protocol it speaks').choices([...PINPAD_FAMILIES]).default('szzt'))
    .option('--tcp <port>', 'serve it as tcp://127.0.0.1:PORT (0 picks one)', listenPort)
    .option('--pty <dir>', 'open a pty and link it as DIR/NAME; the driver opens that path')
    .option('--name <name>', 'name of the pty link in DIR', 'pinpad')
    .option('--master-index <n>', 'index of the master key the pad holds', wholeNumber(0, 255), 1)
    .requiredOption('--master-env <var>', 'environment variable holding that master key in hex')
    .option('--pin-env <var>', 'environment variable holding the PIN its cardholder types')
    .option('--kbpk-env <var>', 'idtech: environment variable holding the key block protection key its master keys load under')
    .addOption(new Option('--fault <fault...>', 'nak:N, silent:N, corrupt-key; szzt: error:E4; verifone: corrupt-response:N, bad-echo (repeatable)').argParser(pinPadFault))
    .action(async (o: { tcp?: number; pty?: string; name: string; family: PinPadFamily; masterIndex: number; masterEnv: string; pinEnv?: string; kbpkEnv?: string; fault?: AnyFault[] }) => {
      if ((o.tcp === undefined) === (o.pty === undefined)) throw new UsageError('give exactly one of --tcp PORT or --pty DIR');
      const master = process.env[o.masterEnv];
      if (!master) throw new UsageError(`environment variable ${o.masterEnv} is not set`);
      const faults = o.fault ?? [];
      const foreign = faults.find((f) => !FAULTS_BY_FAMILY[o.family].includes(f.kind));
      if (foreign) throw new UsageError(`the ${o.family} emulator has no ${foreign.kind} fault`);
      const kbpk = o.kbpkEnv === undefined ? undefined : process.env[o.kbpkEnv];
      if (o.kbpkEnv !== undefined && !kbpk) throw new UsageError(`environment variable ${o.kbpkEnv} is not set`);
      const pad = await startPinPadSim({
        family: o.family,
        kbpk: kbpk ? SecretKey.fromHex(kbpk, 'KBPK') : undefined,
        serial: o.tcp !== undefined ? { kind: 'tcp', host: '127.0.0.1', port: o.tcp } : { kind: 'pty', dir: o.pty as string, name: o.name },
        masterIndex: o.masterIndex,
        master: SecretKey.fromHex(master, 'master key'),
        typedPin: o.pinEnv ? process.env[o.pinEnv] : undefined,
        faults,
      });
      process.stdout.write(`PIN pad simulator (${o.family}) on ${pad.path} (holds a master key at index ${o.masterIndex})\n`);
      await stopSignal();
      await pad.close();
    });
}

type AnyFault = PinPadFault | VerifoneFault | IdtechFault;
const FAULTS_BY_FAMILY: Record<PinPadFamily, string[]> = {
  szzt: ['nak', 'silent', 'error', 'corrupt-key'],
  verifone: ['nak', 'silent', 'corrupt-response', 'bad-echo', 'corrupt-key'],
  idtech: ['nak', 'silent', 'corrupt-key'],
};

/** One --fault value, added to those before it. */
function pinPadFault(value: string, previous: AnyFault[] = []): AnyFault[] {
  const [kind, arg] = value.split(':');
  if (kind === 'nak' || kind === 'silent' || kind === 'corrupt-response') return [...previous, { kind, times: arg === undefined ? 1 : wholeNumber(1)(arg) }];
  if (kind === 'bad-echo') return [...previous, { kind, times: 1 }];
  if (kind === 'error') {
    if (arg !== undefined && !/^[0-9A-Fa-f]{2}$/.test(arg)) throw new InvalidArgumentError('error:XX takes a status code of two hex digits');
    return [...previous, { kind, code: parseInt(arg ?? 'EF', 16), times: 1 }];
  }
  if (kind === 'corrupt-key') return [...previous, { kind, times: 1 }];
  throw new InvalidArgumentError('a fault is nak:N, silent:N, error:E4 or corrupt-key (verifone also: corrupt-response:N, bad-echo)');
}
