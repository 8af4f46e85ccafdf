import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { ms, positiveMs, positiveSeconds } from '../config/durations';
import { listProfiles, profileFile } from '../config/hardware';
import { ConfigError, loadConfigFile } from '../config/load';

const atCommand = z.string().regex(/^AT/i, 'must be an AT command');

/**
 * An init command: a plain AT command must answer OK (R-MDM-5); `{command, optional: true}` may
 * be refused with ERROR by the modem: that is logged once, counted, and the line goes on.
 */
export const initCommandSchema = z.union([atCommand, z.object({ command: atCommand, optional: z.boolean().default(false) }).strict()]);

/**
 * A modem model's behaviour (R-MDM-5): what to send at init (every command must answer OK unless
 * marked optional), how caller ID is enabled, when to answer, how to hang up, whether control lines
 * exist. Documented key by key in docs/modem-profiles.md.
 */
export const modemProfileSchema = z
  .object({
    name: z.string().min(1),
    description: z.string(),
    init: z.array(initCommandSchema).min(1),
    answer: z.string().default('ATA'),
    /** Answer on this ring when no caller ID came (R-MDM-1: 2 or more). */
    answerOnRing: z.number().int().min(2).default(2),
    /** Answer as soon as caller ID has arrived (between the first and second ring). */
    answerAfterCallerId: z.boolean().default(true),
    /**
     * Wait this long after caller ID before ATA: chipsets print on-hook NO CARRIER / CIDM around
     * the burst (R-MDM-3), and one arriving after ATA would read as ATA's failure.
     */
    answerDelayMs: ms.default(200),
    /**
     * R-MDM-4: drop DTR (&D2), falling back at once to the escape sequence then ATH when the port
     * cannot set DTR; or the escape sequence alone where there are no control lines.
     */
    hangup: z.enum(['dtr', 'escape']),
    controlLines: z.boolean(),
    connectPattern: z.string().default('^CONNECT'),
    commandTimeoutSeconds: positiveSeconds.default(3),
    answerTimeoutSeconds: positiveSeconds.default(45),
    healthProbeSeconds: positiveSeconds.default(60),
    /** No RING for this long while ringing: the caller gave up. */
    ringTimeoutSeconds: positiveSeconds.default(8),
    /** Hang up after this long without traffic on a connected call (default 60). */
    inactivitySeconds: positiveSeconds.default(60),
    /** Silence before and after `+++` (the modem's S12); below 1000 ms is a config warning. */
    escapeGuardMs: ms.default(1000),
    /** How long DTR stays low for a hang-up. */
    dtrDropMs: positiveMs.default(500),
    dcdPollMs: positiveMs.default(500),
    /** The fast connects the chipset has (V.22, V.29...), for people and `modem probe`; R-MDM-7. */
    fastConnects: z.array(z.string()).default([]),
  })
  .strict();

export type ModemProfile = z.infer<typeof modemProfileSchema>;
export type InitCommand = z.infer<typeof initCommandSchema>;

/** An init entry as command text and whether ERROR may be tolerated. */
export function initStep(entry: InitCommand): { command: string; optional: boolean } {
  return typeof entry === 'string' ? { command: entry, optional: false } : { command: entry.command, optional: entry.optional };
}

export function listModemProfiles(): string[] {
  return listProfiles('modems');
}

export function loadModemProfile(name: string): ModemProfile {
  return loadConfigFile(modemProfileSchema, profileFile('modems', name));
}

/** A shipped profile's name (hardware/modems/NAME.json). */
export const PROFILE_NAME = /^[a-z0-9-]+$/;
/** A profile file by path: it has a folder separator or a .json / .yaml / .yml ending. */
export const PROFILE_PATH = /[\\/]|\.(json|ya?ml)$/i;

/** What a config line's `modem` may hold: a shipped name, a profile file's path, or the profile itself. */
export type ModemProfileSpec = string | ModemProfile;

/**
 * The profile a config line names: a shipped name, a file path (relative paths from `baseDir`,
 * the config file's folder), or an inline profile (returned as is). Unknown names and unreadable
 * or invalid files throw a ConfigError naming `where` (the key path).
 */
export function resolveModemProfile(spec: ModemProfileSpec, baseDir: string, where: string): ModemProfile {
  if (typeof spec !== 'string') return spec;
  if (PROFILE_NAME.test(spec) && !PROFILE_PATH.test(spec)) {
    const known = listModemProfiles();
    if (!known.includes(spec)) throw new ConfigError('BAD_CONFIG', `${where}: no modem profile ${spec} (there are ${known.join(', ')})`);
    return loadModemProfile(spec);
  }
  const file = path.resolve(baseDir, spec);
  if (!existsSync(file)) throw new ConfigError('BAD_CONFIG', `${where}: no modem profile file ${file}`);
  try {
    return loadConfigFile(modemProfileSchema, file);
  } catch (e) {
    throw new ConfigError('BAD_CONFIG', `${where}: ${(e as Error).message}`);
  }
}

/** What a valid profile still deserves a word about. */
export function modemProfileWarnings(profile: ModemProfile): string[] {
  const out: string[] = [];
  if (profile.escapeGuardMs < 1000) {
    out.push(`escapeGuardMs ${profile.escapeGuardMs} is below 1000 ms: a modem whose guard time (S12) is the usual 1 s takes "+++" as call data, and the escape hang-up fails`);
  }
  return out;
}
