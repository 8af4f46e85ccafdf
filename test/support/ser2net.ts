import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { NacbridgeError } from '../../src/errors';
import { freePort } from '../../tools/free-port';

/**
 * ser2net 4.x (Debian package ser2net, which `.ci/run` installs) as a bench runs it: one
 * connection, accepter and connector as gensio strings, its YAML config in a temp folder, run in
 * the foreground (`ser2net -n -d -c FILE`). Only test/interop uses this.
 */
export interface Ser2net {
  /** The TCP port of the accepter on 127.0.0.1. */
  port: number;
  close(): Promise<void>;
}

/** Whether something listens on 127.0.0.1:port (or any address), from /proc/net/tcp*: no connection is made. */
function listening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      if (cols.length > 3 && cols[1].endsWith(`:${hex}`) && cols[3] === '0A') return true;
    }
  }
  return false;
}

/**
 * Start ser2net with one connection: `accepter(port)` gives the accepter string for the port
 * picked here (e.g. `telnet(rfc2217),tcp,127.0.0.1,${port}`), `connector` the device side.
 */
export async function startSer2net(accepter: (port: number) => string, connector: string): Promise<Ser2net> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-ser2net-'));
  const file = path.join(dir, 'ser2net.yaml');
  writeFileSync(
    file,
    ['%YAML 1.1', '---', 'connection: &line1', `  accepter: ${accepter(port)}`, `  connector: ${connector}`, '  options:', '    kickolduser: true', ''].join('\n'),
  );
  const child: ChildProcess = spawn('ser2net', ['-n', '-d', '-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const state: { failed: NodeJS.ErrnoException | null } = { failed: null };
  let said = '';
  child.on('error', (e) => (state.failed = e));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (said += text));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && !state.failed) child.kill('SIGTERM');
    await closed;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 5000;
  while (!listening(port)) {
    const error = state.failed;
    if (error !== null || child.exitCode !== null) {
      await close();
      const why = error?.code === 'ENOENT' ? 'ser2net is not installed (Debian package ser2net; `.ci/run` installs it for npm run test:interop)' : said.trim() || `exit ${child.exitCode}`;
      throw new NacbridgeError('SER2NET_FAILED', `ser2net: ${why}`);
    }
    if (Date.now() > deadline) {
      await close();
      throw new NacbridgeError('SER2NET_FAILED', `ser2net did not listen on ${port} within 5 s: ${said.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { port, close };
}
