import { z } from 'zod';
import { seconds } from '../../config/durations';
import { DEFAULT_DIAL_TAIL_HEX } from '../../codec/dial-monitor';
import { flagRepeats } from '../../config/repeats';
import { AllowList } from '../../link/allow-list';

/**
 * The platform simulator's configuration (issue contract; keys may be added, never renamed):
 * {"listen":[{"host":"127.0.0.1","port":5001,"allow":["127.0.0.1"]}],"framing":"binary2",
 *  "heartbeatSeconds":120,"idleTimeoutSeconds":180,"onSecondConnection":"replace",
 *  "terminals":[{"terminalId":"12345678","merchantId":"123456789012345","tmk":"<32 hex>",
 *  "keyMode":"003","macAlgorithm":"unionpay-ecb"}],
 *  "cards":[{"pan":"6212142000000000012","pin":"123456","balance":"000000100000"}],
 *  "journal":"journal.jsonl"}
 * Seconds may be fractional.
 */
const hex = (bytes: number[], what: string) =>
  z
    .string()
    .regex(new RegExp(`^(?:${bytes.map((b) => `[0-9A-Fa-f]{${b * 2}}`).join('|')})$`), `${what} must be ${bytes.map((b) => b * 2).join(' or ')} hex digits`);

export const faultSchema = z.object({
  /** Which requests: any of these that are given must match. */
  terminalId: z.string().optional(),
  mti: z.string().regex(/^\d{4}$/, 'must be 4 digits').optional(),
  processingCode: z.string().regex(/^\d{6}$/, 'must be 6 digits').optional(),
  stan: z.string().regex(/^\d{6}$/, 'must be 6 digits').optional(),
  action: z.enum(['delay', 'no-response', 'other-connection', 'close', 'bad-mac', 'wrong-stan']),
  /** For delay. */
  seconds: seconds.optional(),
  /** How many matching requests it applies to (default: all). */
  times: z.number().int().positive().optional(),
});

export const platformConfigSchema = z
  .object({
    listen: z
      .array(
        z.object({
          host: z.string().min(1),
          port: z.number().int().min(0).max(65535),
          allow: z.array(z.string()).min(1, 'at least one allowed address'),
        }),
      )
      .min(1, 'at least one port'),
    framing: z.enum(['binary2', 'ascii4']).default('binary2'),
    heartbeatSeconds: seconds.default(120),
    idleTimeoutSeconds: seconds.default(180),
    onSecondConnection: z.enum(['replace', 'refuse']).default('replace'),
    terminals: z
      .array(
        z.object({
          terminalId: z.string().length(8, 'must be 8 characters'),
          merchantId: z.string().length(15, 'must be 15 characters'),
          tmk: hex([8, 16, 24], 'tmk'),
          keyMode: z.enum(['001', '003', '004']).default('003'),
          macAlgorithm: z.enum(['unionpay-ecb', 'x9.9', 'x9.19']).default('unionpay-ecb'),
        }),
      )
      .min(1, 'at least one terminal'),
    cards: z
      .array(
        z.object({
          pan: z.string().regex(/^\d{13,19}$/, 'must be 13 to 19 digits'),
          pin: z.string().regex(/^\d{4,12}$/, 'must be 4 to 12 digits'),
          balance: z.string().regex(/^\d{1,12}$/, 'must be up to 12 digits (fen)'),
        }),
      )
      .default([]),
    journal: z.string().optional(),
    /**
     * When the journal cannot be opened or written (missing folder, full disk): 'stop' stops the
     * simulator cleanly, leaving the request whose entry failed unanswered (an approval is never
     * sent unrecorded); 'continue' reports it and goes on answering without the journal.
     */
    onJournalError: z.enum(['stop', 'continue']).default('stop'),
    /** 'write': each entry is in the system's hands before its answer is sent (survives kill -9); 'fsync': on the disk (survives a crash of the machine). */
    journalFlush: z.enum(['write', 'fsync']).default('write'),
    /** How many of the newest journal entries are kept in memory; the file has them all. */
    journalMemory: z.number().int().min(1).max(1_000_000).default(1000),
    /** Written when the simulator stops. */
    reconciliation: z.string().optional(),
    report: z.string().optional(),
    /** Requests without the dial-monitor block are dropped (and journaled). */
    requireDialMonitor: z.boolean().default(false),
    /** Send the request's dial-monitor block back in the response (some platforms do). */
    echoDialMonitor: z.boolean().default(false),
    dialTail: hex([12], 'dialTail').default(DEFAULT_DIAL_TAIL_HEX),
    /** Field 32 of responses. */
    acquirer: z.string().regex(/^\d{1,11}$/).default('48615840'),
    faults: z.array(faultSchema).default([]),
  })
  .strict()
  .superRefine((config, ctx) => {
    // Keys and cards are looked up by these: a second entry would be silently shadowed.
    flagRepeats(ctx, config.terminals.map((t) => t.terminalId), (i) => ['terminals', i, 'terminalId'], (first) => `same terminal ID as entry ${first}`);
    flagRepeats(ctx, config.cards.map((c) => c.pan), (i) => ['cards', i, 'pan'], (first) => `same card number as entry ${first}`);
    // What start() would reject: bad allow-list entries and two ports alike (0 picks a free one).
    config.listen.forEach((spec, i) => {
      spec.allow.forEach((entry, j) => {
        try {
          new AllowList([entry]);
        } catch (e) {
          ctx.addIssue({ code: 'custom', path: ['listen', i, 'allow', j], message: (e as Error).message });
        }
      });
    });
    flagRepeats(ctx, config.listen.map((l, i) => (l.port === 0 ? `free ${i}` : String(l.port))), (i) => ['listen', i, 'port'], (first) => `same port as listen.${first}`);
  });

export type PlatformConfig = z.infer<typeof platformConfigSchema>;
export type FaultRule = z.infer<typeof faultSchema>;
