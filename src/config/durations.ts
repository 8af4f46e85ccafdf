import { z } from 'zod';

/**
 * Durations in configs and profiles are bounded: a day is more than any rule of the platform or a
 * device asks for, and Node's timers fire at once (after 1 ms) past about 24.8 days, so a value
 * over the limit would turn an idle timeout into a busy loop instead of failing at start-up.
 */
export const MAX_DURATION_SECONDS = 86_400;
const tooLong = `at most ${MAX_DURATION_SECONDS} seconds (a day)`;

/** Seconds, 0 allowed (0 often means "never"). */
export const seconds = z.number().nonnegative('must be 0 or more seconds').max(MAX_DURATION_SECONDS, tooLong);
/** Seconds, more than 0. */
export const positiveSeconds = z.number().positive('must be more than 0 seconds').max(MAX_DURATION_SECONDS, tooLong);
/** Whole milliseconds, more than 0. */
export const positiveMs = z.number().int().positive().max(MAX_DURATION_SECONDS * 1000, `at most ${MAX_DURATION_SECONDS * 1000} ms (a day)`);
/** Whole milliseconds, 0 allowed. */
export const ms = z.number().int().nonnegative().max(MAX_DURATION_SECONDS * 1000, `at most ${MAX_DURATION_SECONDS * 1000} ms (a day)`);
