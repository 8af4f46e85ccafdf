import { Command, Option } from 'commander';
import { fromLooseHex, toHex } from '../codec/hex';
import { computeMac, formatMac, MAC_ALGORITHMS, type MacAlgorithm } from '../crypto/mac';
import { macInput } from '../crypto/message-security';
import { clearPinBlock, encryptPinBlock } from '../crypto/pin-block';
import { checkValueOf, SecretKey } from '../crypto/secret-key';
import { inspectWorkKeys, KEY_MODES, layoutFor, type WorkKeyType } from '../crypto/work-keys';
import { MessageCodec } from '../iso8583/codec';
import { lengthPrefix, payloadStart } from '../codec/length-prefix';
import { unionpayPos } from '../iso8583/specs/unionpay-pos';
import { readTerminalMessage } from '../iso8583/terminal-message';
import { EXIT_MISMATCH, UsageError } from './io';
import { wholeNumber } from './options';
import type { CliFraming } from './frame-json';
import { registerTr31Commands } from './tr31-commands';
import { readFileCapped, readSecret, SECRET_FILE_CAP, secretOption, secretSources } from './secrets';

function keyFromHex(hex: string, what: string): SecretKey {
  return SecretKey.fromHex(hex.replace(/\s+/g, ''), what);
}

/** The TMK never comes from the command line: an environment variable or a file. */
function readTmk(options: { tmkEnv?: string; tmkFile?: string }): SecretKey {
  if ((options.tmkEnv === undefined) === (options.tmkFile === undefined)) {
    throw new UsageError('give the TMK with exactly one of --tmk-env VAR or --tmk-file FILE');
  }
  if (options.tmkEnv !== undefined) {
    const value = process.env[options.tmkEnv];
    if (value === undefined || value.trim() === '') throw new UsageError(`environment variable ${options.tmkEnv} is not set`);
    return keyFromHex(value, 'TMK');
  }
  return keyFromHex(readFileCapped(options.tmkFile as string, SECRET_FILE_CAP, 'TMK file').toString('utf8'), 'TMK');
}

const KEY_NAMES: Record<WorkKeyType, string> = { pin: 'pinKey', mac: 'macKey', track: 'trackKey' };

export function registerCryptoCommands(program: Command): void {
  const crypto = program.command('crypto').description('check values, MACs, PIN blocks and field 62 work keys');
  registerTr31Commands(crypto);

  secretOption(crypto.command('kcv').description('check value of a key: the first bytes of encrypting 8 zero bytes'), 'key', 'key in hex (8, 16 or 24 bytes)')
    .option('--length <n>', 'bytes of check value, 1..8', wholeNumber(1, 8), 4)
    .action((options: { length: number } & Record<string, unknown>) => {
      const length = options.length;
      const key = fromLooseHex(readSecret('key', 'key', secretSources(options, 'key'), true) as string, 'key');
      try {
        process.stdout.write(toHex(checkValueOf(key, length)) + '\n');
      } finally {
        key.fill(0);
      }
    });

  secretOption(crypto.command('mac').description('compute a MAC over data, or over a terminal frame (exit 1 when the frame\'s field 64 differs)'), 'key', 'MAC key in hex')
    .addOption(new Option('--algorithm <name>', 'MAC algorithm').choices([...MAC_ALGORITHMS]).makeOptionMandatory())
    .option('--data <hex>', 'the bytes to MAC')
    .option('--frame <hex>', 'a terminal frame, as nacbridge decode takes it')
    .addOption(new Option('--framing <framing>', 'length prefix of --frame').choices(['binary2', 'ascii4', 'none']).default('binary2'))
    .action((options: { algorithm: MacAlgorithm; data?: string; frame?: string; framing: CliFraming } & Record<string, unknown>) => {
      if ((options.data === undefined) === (options.frame === undefined)) throw new UsageError('give exactly one of --data or --frame');
      const key = keyFromHex(readSecret('key', 'MAC key', secretSources(options, 'key'), true) as string, 'MAC key');
      try {
        if (options.data !== undefined) {
          process.stdout.write(formatMac(options.algorithm, computeMac(options.algorithm, key, fromLooseHex(options.data, 'data'))) + '\n');
          return;
        }
        const frame = fromLooseHex(options.frame as string, 'frame');
        const start = options.framing === 'none' ? 0 : payloadStart(lengthPrefix(options.framing), frame);
        const codec = new MessageCodec(unionpayPos);
        const message = readTerminalMessage(codec, frame, start).message;
        const mac = computeMac(options.algorithm, key, macInput(codec, message));
        process.stdout.write(formatMac(options.algorithm, mac) + '\n');
        const received = message.get(64);
        if (!(received instanceof Buffer) || !received.equals(mac)) {
          process.stderr.write(received === undefined ? 'frame has no field 64\n' : 'field 64 of the frame does not match\n');
          process.exitCode = EXIT_MISMATCH;
        }
      } finally {
        key.destroy();
      }
    });

  const pinblock = crypto.command('pinblock').description('ISO 9564 format 0 PIN block, clear or encrypted with a PIN key (--key, --key-env or --key-file)');
  secretOption(pinblock, 'pin', 'PIN (4 to 12 digits)');
  secretOption(pinblock, 'pan', 'card number (13 to 19 digits)');
  secretOption(pinblock, 'key', 'PIN key in hex: print the encrypted block');
  pinblock.action((options: Record<string, unknown>) => {
      const pin = readSecret('pin', 'PIN', secretSources(options, 'pin'), true) as string;
      const pan = readSecret('pan', 'card number', secretSources(options, 'pan'), true) as string;
      const keyHex = readSecret('key', 'PIN key', secretSources(options, 'key'), false);
      if (keyHex === undefined) {
        process.stdout.write(toHex(clearPinBlock(pin, pan)) + '\n');
        return;
      }
      const key = keyFromHex(keyHex, 'PIN key');
      try {
        process.stdout.write(toHex(encryptPinBlock(key, pin, pan)) + '\n');
      } finally {
        key.destroy();
      }
    });

  crypto
    .command('unwrap')
    .description('decrypt the work keys of field 62 under the TMK and verify every check value (exit 1 when one fails)')
    .requiredOption('--field62 <hex>', 'field 62 of the sign-on response')
    .addOption(new Option('--mode <mode>', 'key mode (60.3)').choices([...KEY_MODES]).makeOptionMandatory())
    .option('--tmk-env <var>', 'environment variable holding the TMK in hex')
    .option('--tmk-file <file>', 'file holding the TMK in hex')
    .option('--reveal', 'also print the clear keys', false)
    .action((options: { field62: string; mode: string; tmkEnv?: string; tmkFile?: string; reveal: boolean }) => {
      const field62 = fromLooseHex(options.field62, 'field 62');
      const tmk = readTmk(options);
      try {
        const results = inspectWorkKeys(field62, tmk, layoutFor(options.mode));
        const out: Record<string, Record<string, string | boolean>> = {};
        for (const r of results) {
          const entry: Record<string, string | boolean> = { check: toHex(r.expectedCheck), ok: r.ok };
          if (!r.ok) entry.computed = toHex(r.actualCheck);
          if (options.reveal) {
            const clear = r.key.reveal();
            entry.key = toHex(clear);
            clear.fill(0);
          }
          r.key.destroy();
          out[KEY_NAMES[r.type]] = entry;
        }
        process.stdout.write(JSON.stringify(out) + '\n');
        if (results.some((r) => !r.ok)) process.exitCode = EXIT_MISMATCH;
      } finally {
        tmk.destroy();
      }
    });
}
