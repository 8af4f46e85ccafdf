import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { NacbridgeError } from '../../src/errors';

/**
 * A pseudo-terminal pair from socat: one end for the NAC (a serial device path like any other),
 * the other for the emulated modem. Needs socat on the PATH (Debian package socat).
 */
export interface PtyPair {
  /** Path the NAC opens. */
  nacPath: string;
  /** Path the emulated modem opens. */
  modemPath: string;
  close(): Promise<void>;
}

export async function createPtyPair(dir: string, name: string): Promise<PtyPair> {
  const nacPath = path.join(dir, `${name}-nac`);
  const modemPath = path.join(dir, `${name}-modem`);
  const child: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${nacPath}`, `pty,raw,echo=0,link=${modemPath}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let failed: NodeJS.ErrnoException | null = null;
  child.on('error', (e) => (failed = e));
  // socat says why it failed on stderr ("... E symlink(...): No such file or directory"); 'close'
  // comes once that stream has ended, where 'exit' may come before its last bytes.
  let said = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (said += text));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const deadline = Date.now() + 5000;
  while (!(existsSync(nacPath) && existsSync(modemPath))) {
    if (failed || child.exitCode !== null) {
      if (!failed) await closed;
      throw new NacbridgeError('PTY_FAILED', `socat could not make a pty pair in ${dir}: ${whySocatFailed(failed, child.exitCode, said)}`);
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new NacbridgeError('PTY_FAILED', 'socat did not create the pty pair within 5 s');
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    nacPath,
    modemPath,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function whySocatFailed(error: NodeJS.ErrnoException | null, exitCode: number | null, stderr: string): string {
  if (error?.code === 'ENOENT') return 'socat is not installed (Debian package socat)';
  if (error) return error.message;
  const last = stderr.trim().split('\n').pop() ?? '';
  // socat's lines: "2026/11/22 03:40:00 socat[123] E <message>"
  const message = /\] [EF] (.*)$/.exec(last)?.[1];
  return message ?? `exit ${exitCode}`;
}
