import { Buffer } from 'node:buffer';
import { systemClock, type Clock } from '../clock';
import { NacbridgeError } from '../errors';
import { InputTooLarge } from '../config/read-capped';

/**
 * Exit statuses shared by every command. 0 means the command did what it was asked to do, all of
 * it; anything it could not do makes the status non-zero.
 */
export const EXIT_OK = 0;
/**
 * The command ran, and the answer is "no": a MAC or a check value that does not match, a
 * transaction declined, reversed or left unanswered. What was done is printed on stdout, what
 * failed also on stderr. Bare `nacbridge` (or `nacbridge sim`) exits 1 too: nothing was done, and
 * its help is on stdout.
 */
export const EXIT_MISMATCH = 1;
/**
 * The command could not do its job: malformed input or usage (nothing on stdout), or a failure
 * that stopped it (a port, file or device that does not open or answer, a connection lost),
 * after whatever it had done was printed. One line on stderr.
 */
export const EXIT_BAD_INPUT = 2;

/** What decode and encode read from stdin: a frame is at most 65535 bytes (131070 hex digits), its JSON smaller than this. */
export const STDIN_CAP = 1024 * 1024;

/**
 * All of stdin as text, up to `cap` bytes: more is an InputTooLarge (stdin is closed then, so
 * `decode < /dev/zero` ends at once instead of reading until memory runs out).
 */
export async function readStdin(cap = STDIN_CAP): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of process.stdin) {
    length += (chunk as Buffer).length;
    if (length > cap) {
      process.stdin.destroy();
      throw new InputTooLarge('stdin', cap);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** One line for stderr: typed errors say code, message and context; anything else its message. */
export function errorLine(error: unknown): string {
  if (error instanceof NacbridgeError) return error.describe();
  if (error instanceof Error) return error.message;
  return String(error);
}

export class UsageError extends NacbridgeError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** A log line of a long-running command: the time (ISO 8601, UTC), the text, a newline. */
export function logLine(text: string, clock: Clock = systemClock): string {
  return `${new Date(clock.now()).toISOString()} ${text}\n`;
}

/** Resolve when the process is asked to stop (SIGINT from a terminal, SIGTERM from systemd or a test). */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
