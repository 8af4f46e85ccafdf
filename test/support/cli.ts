import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from './vectors';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const CLI = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');

/** Run the built `nacbridge` as a real process, feeding `stdin` (closed at once when absent). */
export function runCli(args: string[], stdin = '', env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // A command may stop reading before all of stdin is written (a size cap): not the test's error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}
