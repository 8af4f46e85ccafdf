import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { binary2, encodeLengthPrefixed, LengthPrefixedDecoder } from '../../src/codec/length-prefix';
import { LoopbackPlatform } from './loopback-platform';

/**
 * npm run bench:abuse: a good TCP terminal's latency through the NAC (its own `nacbridge run`
 * process, the listener's default limits, a pool of 255 line addresses) unloaded, then with 3000
 * idle connections from 300 source addresses, then also 200 keep-alive flooders, then also 50
 * junk-frame flooders. The attackers run in processes of their own. The good terminal sends one
 * echo test at a time, 15 a second (under the listener's 20 frames a second).
 */
const CLI = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const ATTACKER = path.join(__dirname, 'abuse-attacker.js');
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 150);
const GAP_MS = 66;

function echoTest(stan: number): Buffer {
  return Buffer.concat([Buffer.from('6000030000' + '603100310000' + '0800' + '0020000000C00000' + String(stan).padStart(6, '0'), 'hex'), Buffer.from('GOODTERM' + '123456789012345', 'ascii')]);
}

async function waitForLine(child: ChildProcess, out: { text: string }, pattern: RegExp, ms = 15_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = pattern.exec(out.text);
    if (m) return m;
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before ${pattern}: ${out.text}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function collect(child: ChildProcess): { text: string } {
  const out = { text: '' };
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out.text = (out.text + s).slice(-20_000)));
  return out;
}

/** The good terminal: one request at a time, latencies in ms; lost answers counted. */
async function goodTerminal(port: number, stanBase: number): Promise<{ latencies: number[]; lost: number }> {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const decoder = new LengthPrefixedDecoder(binary2);
  let answered: (() => void) | null = null;
  socket.on('data', (chunk: Buffer) => decoder.push(chunk, (e) => e.type === 'frame' && answered?.()));
  const latencies: number[] = [];
  let lost = 0;
  for (let i = 0; i < REQUESTS && !socket.destroyed; i++) {
    const started = process.hrtime.bigint();
    const got = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5_000);
      answered = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    socket.write(encodeLengthPrefixed(binary2, echoTest(stanBase + i)));
    if (await got) latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    else lost++;
    await new Promise((r) => setTimeout(r, GAP_MS));
  }
  lost += REQUESTS - latencies.length - lost;
  socket.destroy();
  return { latencies, lost };
}

const percentile = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-abuse-'));
  const children: ChildProcess[] = [];
  const platform = new LoopbackPlatform();
  try {
    const ports = await platform.start();
    const config = path.join(dir, 'nac.json');
    writeFileSync(
      config,
      JSON.stringify({
        hosts: [{ name: 'cups', default: true, allowSingleLink: true, links: ports.map((port) => ({ host: '127.0.0.1', port })) }],
        terminalListener: { host: '127.0.0.1', port: 0, allow: ['127.0.0.0/8'], idleTimeoutSeconds: 180 },
        status: { host: '127.0.0.1', port: 0 },
      }),
    );
    const nac = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(nac);
    const out = collect(nac);
    const port = Number((await waitForLine(nac, out, /terminals on 127\.0\.0\.1:(\d+)/))[1]);
    const statusPort = Number((await waitForLine(nac, out, /status on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
    await waitForLine(nac, out, /link cups-1 up[\s\S]*link cups-2 up|link cups-2 up[\s\S]*link cups-1 up/);

    const attack = async (mode: string, count: number, firstSource: number): Promise<void> => {
      const child = spawn(process.execPath, [ATTACKER, mode, String(count), String(port), String(firstSource), '120'], { stdio: ['ignore', 'pipe', 'ignore'] });
      children.push(child);
      const said = collect(child);
      await waitForLine(child, said, /opened (\d+)/);
      await new Promise((r) => setTimeout(r, 2_000)); // the attack under way
    };

    console.log(`bench:abuse: a good terminal through the NAC's listener (255 line addresses, default limits), ${REQUESTS} echo tests per phase`);
    console.log('phase                                      |  p50 ms |  p99 ms | lost');
    const rows: { name: string; p99: number }[] = [];
    const phase = async (name: string, stanBase: number): Promise<void> => {
      const { latencies, lost } = await goodTerminal(port, stanBase);
      const p50 = percentile(latencies, 50);
      const p99 = percentile(latencies, 99);
      rows.push({ name, p99: lost > 0 ? Infinity : p99 });
      console.log(`${name.padEnd(43)}| ${p50.toFixed(2).padStart(7)} | ${p99.toFixed(2).padStart(7)} | ${lost}`);
    };
    await phase('unloaded', 1000);
    await attack('idle', 3000, 0);
    await phase('+ 3000 idle connections (300 sources)', 2000);
    await attack('keepalive', 200, 400);
    await phase('+ 200 keep-alive flooders', 3000);
    await attack('junk', 50, 700);
    await phase('+ 50 junk-frame flooders', 4000);

    const metrics = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: statusPort }, () => s.end('GET /metrics HTTP/1.0\r\n\r\n'));
      let text = '';
      s.setEncoding('utf8').on('data', (d: string) => (text += d));
      s.on('end', () => resolve(text));
      s.on('error', reject);
    });
    for (const line of metrics.split('\n')) if (/^nacbridge_terminal_(connections|drops)_total\{/.test(line)) console.log(`  ${line}`);

    const unloaded = rows[0].p99;
    for (const row of rows.slice(1)) {
      const ratio = row.p99 / unloaded;
      console.log(`target good-terminal-p99 ${row.name.replace(/^\+ /, 'with ')}: ${Number.isFinite(ratio) ? ratio.toFixed(2) : 'lost answers'}x unloaded (goal <= 2x): ${ratio <= 2 ? 'met' : 'short'}`);
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
