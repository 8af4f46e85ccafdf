import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './cli';

/** A nacbridge command running as its own process, for end-to-end tests. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  /** `stdin: true` gives the command a pipe to type into (`type`); otherwise it reads /dev/null. */
  constructor(args: string[], env: NodeJS.ProcessEnv = {}, options: { stdin?: boolean } = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8').on('data', (s: string) => (this.stdout += s));
    this.child.stderr?.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    this.exited = new Promise((resolve) => this.child.on('close', resolve));
  }

  /** The first match of `pattern` in stdout, waiting up to `ms`. */
  async waitFor(pattern: RegExp, ms = 10_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = pattern.exec(this.stdout);
      if (m) return m;
      if (this.child.exitCode !== null) throw new Error(`process exited (${this.child.exitCode}) before ${pattern}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; stdout: ${this.stdout} stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** One line on the command's stdin, as an operator types it. */
  type(line: string): void {
    if (!this.child.stdin) throw new Error('started without stdin: pass { stdin: true }');
    this.child.stdin.write(`${line}\n`);
  }

  /** The exit code, or 'still running' after `ms`: for commands that must end by themselves (a failed start). */
  async exitedWithin(ms: number): Promise<number | null | 'still running'> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

/**
 * Runs a command that must fail at start: exit 2 within 5 s (so nothing it opened is left holding
 * it open) and no stack trace; returns its stderr for the caller's own checks.
 */
export async function failsToStart(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const cli = new CliProcess(args, env);
  try {
    assert.equal(await cli.exitedWithin(5000), 2, cli.stderr);
    assert.doesNotMatch(cli.stderr, /Unhandled|    at /, 'no stack trace');
    return cli.stderr;
  } finally {
    await cli.stop();
  }
}
