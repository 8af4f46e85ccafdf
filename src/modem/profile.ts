import { z } from 'zod';
import { listProfiles, profileFile } from '../config/hardware';
import { loadConfigFile } from '../config/load';

/**
 * A modem model's behaviour (R-MDM-5): what to send at init (every command must answer OK), how
 * caller ID is enabled, when to answer, how to hang up, whether control lines exist.
 */
export const modemProfileSchema = z
  .object({
    name: z.string().min(1),
    description: z.string(),
    init: z.array(z.string().regex(/^AT/i, 'must be an AT command')).min(1),
    answer: z.string().default('ATA'),
    /** Answer on this ring when no caller ID came (R-MDM-1: 2 or more). */
    answerOnRing: z.number().int().min(2).default(2),
    /** Answer as soon as caller ID has arrived (between the first and second ring). */
    answerAfterCallerId: z.boolean().default(true),
    /**
     * Wait this long after caller ID before ATA: chipsets print on-hook NO CARRIER / CIDM around
     * the burst (R-MDM-3), and one arriving after ATA would read as ATA's failure.
     */
    answerDelayMs: z.number().int().nonnegative().default(200),
    /** R-MDM-4: drop DTR (&D2), or the escape sequence then ATH where there are no control lines. */
    hangup: z.enum(['dtr', 'escape']),
    controlLines: z.boolean(),
    connectPattern: z.string().default('^CONNECT'),
    commandTimeoutSeconds: z.number().positive().default(3),
    answerTimeoutSeconds: z.number().positive().default(45),
    healthProbeSeconds: z.number().positive().default(60),
    /** No RING for this long while ringing: the caller gave up. */
    ringTimeoutSeconds: z.number().positive().default(8),
    /** Hang up after this long without traffic on a connected call (default 60). */
    inactivitySeconds: z.number().positive().default(60),
    escapeGuardMs: z.number().int().nonnegative().default(1000),
    dcdPollMs: z.number().int().positive().default(500),
  })
  .strict();

export type ModemProfile = z.infer<typeof modemProfileSchema>;

export function listModemProfiles(): string[] {
  return listProfiles('modems');
}

export function loadModemProfile(name: string): ModemProfile {
  return loadConfigFile(modemProfileSchema, profileFile('modems', name));
}
