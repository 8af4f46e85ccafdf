import { Buffer } from 'node:buffer';
import { NacbridgeError } from '../errors';

/** Exit statuses shared by every command. */
export const EXIT_OK = 0;
/** The command ran, and the answer is "no" (a MAC or a check value that does not match). */
export const EXIT_MISMATCH = 1;
/** Malformed input or usage: nothing on stdout, one line on stderr. */
export const EXIT_BAD_INPUT = 2;

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
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
