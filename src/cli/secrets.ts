import { readFileCapped as readCapped } from '../config/read-capped';
import type { Command } from 'commander';
import { UsageError } from './io';

export { InputTooLarge } from '../config/read-capped';

/** A key, PIN or PAN file holds a line of hex or digits: 4 KiB is far more than any. */
export const SECRET_FILE_CAP = 4096;

/** Read a secret's file, at most `cap` bytes (InputTooLarge past it); unreadable: a UsageError. */
export function readFileCapped(file: string, cap: number, what: string): Buffer {
  return readCapped(file, cap, `${what} ${file}`, (code) => new UsageError(`cannot read ${what} ${file}: ${code}`));
}

export type SecretName = 'key' | 'pin' | 'pan';

const PLACEHOLDER: Record<SecretName, string> = { key: 'hex', pin: 'digits', pan: 'digits' };

/**
 * Three forms of one secret option: --NAME VALUE (visible in `ps`: kept for convenience, with a
 * warning), --NAME-env VAR and --NAME-file FILE.
 */
export function secretOption(command: Command, name: SecretName, description: string): Command {
  return command
    .option(`--${name} <${PLACEHOLDER[name]}>`, `${description} (visible to other users in ps: prefer --${name}-env or --${name}-file)`)
    .option(`--${name}-env <var>`, `environment variable holding the ${description}`)
    .option(`--${name}-file <file>`, `file holding the ${description}`);
}

export interface SecretSources {
  value?: string;
  env?: string;
  file?: string;
}

/** The three forms of `name` in commander's parsed options (`key`, `keyEnv`, `keyFile`). */
export function secretSources(options: Record<string, unknown>, name: SecretName): SecretSources {
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { value: s(options[name]), env: s(options[`${name}Env`]), file: s(options[`${name}File`]) };
}

/**
 * The secret from exactly one of its forms, trimmed; undefined when none is given and it is
 * optional. The command-line form prints one warning line on stderr. Messages never quote it.
 */
export function readSecret(name: SecretName, what: string, sources: SecretSources, required: boolean): string | undefined {
  const given = [sources.value, sources.env, sources.file].filter((v) => v !== undefined).length;
  if (given === 0) {
    if (!required) return undefined;
    throw new UsageError(`give the ${what} with one of --${name}-env VAR, --${name}-file FILE or --${name} (visible in ps)`);
  }
  if (given > 1) throw new UsageError(`give the ${what} with only one of --${name}, --${name}-env or --${name}-file`);
  let text: string;
  if (sources.value !== undefined) {
    process.stderr.write(`nacbridge: warning: --${name} on the command line is visible to other users (ps, shell history); use --${name}-env VAR or --${name}-file FILE\n`);
    text = sources.value;
  } else if (sources.env !== undefined) {
    const value = process.env[sources.env];
    if (value === undefined || value.trim() === '') throw new UsageError(`environment variable ${sources.env} (--${name}-env) is not set`);
    text = value;
  } else {
    text = readFileCapped(sources.file as string, SECRET_FILE_CAP, `${what} file`).toString('utf8');
  }
  const trimmed = text.trim();
  if (trimmed === '') throw new UsageError(`the ${what} given with --${name}${sources.env !== undefined ? '-env' : sources.file !== undefined ? '-file' : ''} is empty`);
  return trimmed;
}
