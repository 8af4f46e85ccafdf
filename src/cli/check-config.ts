import { Option, type Command } from 'commander';
import { z } from 'zod';
import { ConfigError, loadConfigFile } from '../config/load';
import { UsageError } from './io';
import { configWarnings, nacConfigSchema } from '../nac/config';
import { signonConfigSchema } from '../terminal/signon';
import { platformConfigSchema } from '../sim/platform/config';
import { loadNacConfig } from './nac-commands';

/** The kinds of configuration file nacbridge reads, each with the command that takes it. */
export type ConfigKind = 'nac' | 'platform' | 'signon';

/** What check-config found in a valid file: its kind, one summary line, and warnings for stderr. */
export interface CheckedConfig {
  kind: ConfigKind;
  summary: string;
  warnings: string[];
}

interface KindSpec {
  kind: ConfigKind;
  /** How messages name it. */
  title: string;
  /** The command that reads it. */
  command: string;
  /** Its top-level keys, from its schema: a file is recognised by them. */
  keys: readonly string[];
  /** Validate the file with the loader its command uses; a bad file throws a ConfigError. */
  check: (file: string) => { summary: string; warnings: string[] };
}

const KINDS: readonly KindSpec[] = [
  {
    kind: 'nac',
    title: 'NAC config',
    command: 'nacbridge run --config',
    keys: Object.keys(nacConfigSchema.shape),
    check: (file) => {
      const config = loadNacConfig(file);
      const links = config.hosts.reduce((n, h) => n + h.links.length, 0);
      return {
        summary: `${config.lines.length} line(s), ${config.hosts.length} host(s), ${links} link(s)${config.terminalListener ? ', terminal listener' : ''}`,
        warnings: configWarnings(config),
      };
    },
  },
  {
    kind: 'platform',
    title: 'platform simulator config',
    command: 'nacbridge sim platform --config',
    keys: Object.keys(platformConfigSchema.shape),
    check: (file) => {
      const config = loadConfigFile(platformConfigSchema, file);
      return {
        summary: `${config.listen.length} port(s), ${config.terminals.length} terminal(s), ${config.cards.length} card(s), ${config.faults.length} fault rule(s)`,
        warnings: [],
      };
    },
  },
  {
    kind: 'signon',
    title: 'signon config',
    command: 'nacbridge signon --config',
    keys: Object.keys(signonConfigSchema.shape),
    check: (file) => {
      const config = loadConfigFile(signonConfigSchema, file);
      const platform =
        'links' in config.platform
          ? `platform over ${config.platform.links.length} link(s)`
          : 'terminalListener' in config.platform
            ? "platform through a NAC's terminal listener"
            : "platform through a modem simulator's POS port";
      const keys =
        'pinpad' in config.keys
          ? `keys into PIN pad ${config.keys.pinpad.profile} on ${config.keys.pinpad.port}`
          : `keys into the software key store (TMK from environment variable ${config.keys.software.tmkEnv})`;
      return { summary: `${platform}, ${keys}`, warnings: [] };
    },
  },
];

export const CONFIG_KINDS: readonly ConfigKind[] = KINDS.map((k) => k.kind);

function specOf(kind: ConfigKind): KindSpec {
  const spec = KINDS.find((k) => k.kind === kind);
  if (!spec) throw new UsageError(`no config kind ${kind}`);
  return spec;
}

/** The top-level keys of `schema` that a file must have. */
function requiredKeys(schema: z.ZodObject): string[] {
  return Object.entries(schema.shape)
    .filter(([, field]) => !field.safeParse(undefined).success)
    .map(([key]) => key);
}

const REQUIRED: Record<ConfigKind, string[]> = {
  nac: requiredKeys(nacConfigSchema),
  platform: requiredKeys(platformConfigSchema),
  signon: requiredKeys(signonConfigSchema),
};

/** "NAC config (nacbridge run --config; needs hosts)" for every kind: what an unrecognised file was compared with. */
function triedKinds(): string {
  return KINDS.map((k) => `${k.title} (${k.command}; needs ${REQUIRED[k.kind].join(', ')})`).join('; ');
}

/**
 * Which kind of config `data` is, by its top-level keys: a key that only one kind has is evidence
 * for that kind. A file with evidence for two kinds, or none, is refused, naming what was tried;
 * key names are quoted, never values (a value may be a key or a card number).
 */
export function detectConfigKind(data: unknown, file: string): ConfigKind {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError('UNKNOWN_CONFIG_KIND', `${file}: the top level is not a mapping of keys, so it is none of the configs nacbridge reads (tried ${KINDS.map((k) => k.title).join(', ')})`, { file });
  }
  const present = Object.keys(data);
  const evidence = new Map<KindSpec, string[]>();
  for (const key of present) {
    const owners = KINDS.filter((k) => k.keys.includes(key));
    if (owners.length === 1) evidence.set(owners[0], [...(evidence.get(owners[0]) ?? []), key]);
  }
  if (evidence.size === 1) return [...evidence.keys()][0].kind;
  if (evidence.size > 1) {
    const found = [...evidence].map(([k, keys]) => `${keys.join(', ')} (${k.title})`).join('; ');
    throw new ConfigError('AMBIGUOUS_CONFIG_KIND', `${file}: has top-level keys of more than one kind of config: ${found}; a file holds one kind (or name it with --kind ${CONFIG_KINDS.join('|')})`, { file });
  }
  const shown = present.length === 0 ? 'no keys' : `keys ${present.slice(0, 10).join(', ')}${present.length > 10 ? ', ...' : ''}`;
  throw new ConfigError('UNKNOWN_CONFIG_KIND', `${file}: ${shown}; not a config nacbridge reads. Tried: ${triedKinds()}`, { file });
}

/**
 * Read `file` (JSON or YAML), find its kind unless `kind` is given, and validate it with the
 * loader of the command that reads it. A bad file throws the ConfigError that command would.
 */
export function checkConfigFile(file: string, kind?: ConfigKind): CheckedConfig {
  const found = kind ?? detectConfigKind(loadConfigFile(z.unknown(), file), file);
  const spec = specOf(found);
  const { summary, warnings } = spec.check(file);
  return { kind: found, summary: `${spec.title} OK (${summary})`, warnings };
}

export function registerCheckConfigCommand(program: Command): void {
  program
    .command('check-config')
    .description('validate a config file of any kind (NAC, platform simulator, signon) and say which kind it is; errors name the key path (exit 2), warnings go to stderr')
    .argument('<file>', 'configuration file (JSON or YAML)')
    .addOption(new Option('--kind <kind>', 'check it as this kind instead of recognising it by its keys').choices(CONFIG_KINDS))
    .action((file: string, options: { kind?: ConfigKind }) => {
      const checked = checkConfigFile(file, options.kind);
      for (const w of checked.warnings) process.stderr.write(`nacbridge: warning: ${w}\n`);
      process.stdout.write(`${file}: ${checked.summary}\n`);
    });
}
