import type { Command } from 'commander';
import { fromHex, toHex } from '../codec/hex';
import { headerFromText, tr31CheckValue, unwrapTr31, wrapTr31, type Tr31OptionalBlock } from '../crypto/tr31';
import { CryptoError } from '../errors';
import { EXIT_MISMATCH, UsageError } from './io';
import { readFileCapped, SECRET_FILE_CAP } from './secrets';

/**
 * `nacbridge crypto tr31 wrap|unwrap`: TR-31 (ANSI X9.143) key blocks, versions B and D.
 * Keys come from an environment variable or a file, never from the command line; the key block
 * itself is protected and may be given on the command line.
 */
function readSecretHex(what: string, env: string | undefined, file: string | undefined, flag: string): Buffer {
  if ((env === undefined) === (file === undefined)) throw new UsageError(`give the ${what} with exactly one of --${flag}-env VAR or --${flag}-file FILE`);
  let text: string;
  if (env !== undefined) {
    const value = process.env[env];
    if (value === undefined || value.trim() === '') throw new UsageError(`environment variable ${env} is not set`);
    text = value;
  } else {
    text = readFileCapped(file as string, SECRET_FILE_CAP, `${what} file`).toString('utf8');
  }
  return fromHex(text.replace(/\s+/g, ''), what);
}

function optionalBlock(value: string, previous: Tr31OptionalBlock[] = []): Tr31OptionalBlock[] {
  const m = /^([0-9A-Z]{2}):(.*)$/.exec(value);
  if (!m) throw new UsageError('--optional takes ID:DATA, for example KS:00604B120F9292800000');
  return [...previous, { id: m[1], data: m[2] }];
}

export function registerTr31Commands(crypto: Command): void {
  const tr31 = crypto.command('tr31').description('TR-31 / ANSI X9.143 key blocks, versions B (TDES KBPK) and D (AES KBPK)');

  tr31
    .command('wrap')
    .description('wrap a key under a key block protection key; prints the key block')
    .requiredOption('--header <template>', '16 characters, e.g. B0000P0TE00N0000 (the length is filled in)')
    .option('--kbpk-env <var>', 'environment variable holding the KBPK in hex')
    .option('--kbpk-file <file>', 'file holding the KBPK in hex')
    .option('--key-env <var>', 'environment variable holding the key to wrap in hex')
    .option('--key-file <file>', 'file holding the key to wrap in hex')
    .option('--optional <ID:DATA...>', 'an optional header block (repeatable)', optionalBlock)
    .action((o: { header: string; kbpkEnv?: string; kbpkFile?: string; keyEnv?: string; keyFile?: string; optional?: Tr31OptionalBlock[] }) => {
      const header = { ...headerFromText(o.header), optionalBlocks: o.optional ?? [] };
      const kbpk = readSecretHex('KBPK', o.kbpkEnv, o.kbpkFile, 'kbpk');
      try {
        const key = readSecretHex('key', o.keyEnv, o.keyFile, 'key');
        try {
          process.stdout.write(wrapTr31(kbpk, header, key) + '\n');
        } finally {
          key.fill(0);
        }
      } finally {
        kbpk.fill(0);
      }
    });

  tr31
    .command('unwrap')
    .description('check a key block\'s MAC and print its header and the key\'s check value (exit 1 when the MAC does not verify)')
    .requiredOption('--block <keyblock>', 'the key block')
    .option('--kbpk-env <var>', 'environment variable holding the KBPK in hex')
    .option('--kbpk-file <file>', 'file holding the KBPK in hex')
    .option('--reveal', 'also print the clear key', false)
    .action((o: { block: string; kbpkEnv?: string; kbpkFile?: string; reveal: boolean }) => {
      const kbpk = readSecretHex('KBPK', o.kbpkEnv, o.kbpkFile, 'kbpk');
      try {
        const { header, key } = unwrapTr31(kbpk, o.block.trim());
        try {
          const out: Record<string, unknown> = { ...header, keyLength: key.length, kcv: toHex(tr31CheckValue(header.algorithm, key)) };
          if (o.reveal) out.key = toHex(key);
          process.stdout.write(JSON.stringify(out) + '\n');
        } finally {
          key.fill(0);
        }
      } catch (e) {
        if (e instanceof CryptoError && e.code === 'TR31_MAC_MISMATCH') {
          process.stderr.write(`${e.describe()}\n`);
          process.exitCode = EXIT_MISMATCH;
          return;
        }
        throw e;
      } finally {
        kbpk.fill(0);
      }
    });
}
