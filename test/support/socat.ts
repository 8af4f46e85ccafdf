import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { NacbridgeError } from '../../src/errors';

/**
 * socat, as a bench uses it: the interop suite's third-party peer (Debian package socat, which
 * `.ci/run` installs). Only test/interop uses this; `npm test` needs no socat.
 */
export interface SocatProcess {
  close(): Promise<void>;
}

/**
 * Start socat with `addresses` and wait until `ready()` says so (its links exist, or it said it
 * listens: `onStderr` sees what it prints). A socat that exits first fails with its own reason.
 */
export async function startSocat(addresses: string[], ready: () => boolean, onStderr: (text: string) => void = () => undefined): Promise<SocatProcess> {
  const child: ChildProcess = spawn('socat', addresses, { stdio: ['ignore', 'ignore', 'pipe'] });
  let failed: NodeJS.ErrnoException | null = null;
  child.on('error', (e) => (failed = e));
  // 'close' comes once stderr has ended, where 'exit' may come before its last bytes.
  let said = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    said += text;
    onStderr(text);
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && !failed) child.kill('SIGTERM');
    await closed;
  };
  const deadline = Date.now() + 5000;
  while (!ready()) {
    if (failed || child.exitCode !== null) {
      await closed;
      throw new NacbridgeError('SOCAT_FAILED', `socat ${addresses.join(' ')}: ${whySocatFailed(failed, child.exitCode, said)}`);
    }
    if (Date.now() > deadline) {
      await close();
      throw new NacbridgeError('SOCAT_FAILED', `socat ${addresses.join(' ')} was not ready within 5 s`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { close };
}

/** socat's pty pair: two device paths joined back to back, like a null-modem cable. */
export async function socatPtyPair(a: string, b: string): Promise<SocatProcess> {
  return startSocat([`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], () => existsSync(a) && existsSync(b));
}

function whySocatFailed(error: NodeJS.ErrnoException | null, exitCode: number | null, stderr: string): string {
  if (error?.code === 'ENOENT') return 'socat is not installed (Debian package socat; `.ci/run` installs it for npm run test:interop)';
  if (error) return error.message;
  const last = stderr.trim().split('\n').pop() ?? '';
  // socat's lines: "2026/11/22 03:40:00 socat[123] E <message>"
  return /\] [EF] (.*)$/.exec(last)?.[1] ?? `exit ${exitCode}`;
}
