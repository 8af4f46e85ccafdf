import { z } from 'zod';
import { positiveMs } from '../config/durations';
import { listProfiles, profileFile } from '../config/hardware';
import { ConfigError, loadConfigFile } from '../config/load';

/**
 * A PIN pad model (R-PAD-1, R-KEY-3): driver, serial settings, how logical slots map to the
 * device's key indexes, which slots pair a PIN key with a MAC key, and what the device can do.
 * `supports` also says how a load can be proven (see src/pinpad/proof.ts): a check value the
 * device reports on load or on request, a MAC of a zero block (= the check value), or a sale.
 */
export const PINPAD_DRIVERS = ['szzt', 'verifone', 'idtech'] as const;
export type PinPadDriver = (typeof PINPAD_DRIVERS)[number];

export const pinPadProfileSchema = z
  .object({
    name: z.string().min(1),
    description: z.string(),
    driver: z.enum(PINPAD_DRIVERS),
    baudRate: z.number().int().positive().default(9600),
    /** Device key index of logical work-key slot s: base + step * s. */
    keyIndex: z.object({ base: z.number().int().min(0).max(255), step: z.number().int().min(1) }).strict(),
    slots: z.number().int().min(1).max(32),
    /** R-KEY-3: [PIN slot, MAC slot] pairs the device ties to one master key set. */
    pairs: z.array(z.tuple([z.number().int(), z.number().int()])),
    /** Key lengths the device is set up for (R-KEY-4): they must agree with the platform's. */
    keyLengths: z
      .object({ master: z.array(z.number().int()), pin: z.array(z.number().int()), mac: z.array(z.number().int()), track: z.array(z.number().int()) })
      .strict(),
    supports: z
      .object({
        mac: z.boolean(),
        readCheckValue: z.boolean(),
        pinEntry: z.boolean(),
        /** The load command's answer carries the check value of what the device decrypted. */
        checkValueOnLoad: z.boolean().default(false),
        /** It MACs one zero block with a loaded key by ISO 9797-1 algorithm 1 or 3: that is the check value. */
        macOfZeroBlock: z.boolean().default(false),
      })
      .strict(),
    /** MAC algorithms the device computes (a sale needs the platform's). */
    macAlgorithms: z.array(z.enum(['unionpay-ecb', 'x9.9', 'x9.19'])).default([]),
    /** How long the cardholder may take to type a PIN. */
    pinEntryTimeoutMs: positiveMs.default(60_000),
    timeoutMs: positiveMs.default(1000),
    retries: z.number().int().min(0).default(3),
  })
  .strict();

export type PinPadProfile = z.infer<typeof pinPadProfileSchema>;

export function listPinPadProfiles(): string[] {
  return listProfiles('pinpads');
}

/** The profile named `name` in hardware/pinpads; a name that is not there is an error listing those that are. */
export function loadPinPadProfile(name: string): PinPadProfile {
  const known = listPinPadProfiles();
  if (!known.includes(name)) throw new ConfigError('NO_PROFILE', `no PIN pad profile ${name} (there are ${known.join(', ')})`);
  return loadConfigFile(pinPadProfileSchema, profileFile('pinpads', name));
}
