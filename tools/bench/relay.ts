/**
 * npm run bench:relay: N terminals (1, 100, 1000) over TCP through the NAC (terminal listener ->
 * relay -> two links) to an echoing responder, beside the same traffic through a plain TCP relay
 * (socat) to the same responder, and straight to the responder with no relay at all, in the same
 * run. Added latency is a path's latency minus the direct path's: what the relay itself costs.
 * A bare Node pipe (node-pipe.ts) runs beside them: what ordinary Node sockets cost.
 *
 * Every request is the realistic 0200 sale (samples.ts, 337 bytes) with a STAN of its own, and
 * every answer is checked for its own MTI and STAN (relay-load.ts). The NAC (`nacbridge run`),
 * the load generator (relay-load.ts) and the responders (relay-responder.ts) are processes of
 * their own, so each one's CPU and memory are its own and none flatters another.
 *
 * The machine's figures swing by tens of percent from one second to the next, so the run is a
 * paired design: each of BENCH_ROUNDS rounds times every path back to back (in an order that
 * rotates from round to round); ratios (NAC against direct, NAC against socat) are taken within
 * a round, and each figure printed is the median over the rounds, ratios with their min and max.
 * Also prints each relay's CPU time per transaction and the NAC's RSS idle, with 1000 sessions
 * and after they have ended.
 *
 * Targets (issue 23): 1000 terminals >= 90% of the direct path's throughput; 1 terminal p99 <=
 * 1.1x socat's; <= 16 KB RSS per active session at 1000 sessions.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from '../free-port';
import { loadNote, median, targetLine } from './measure';
import type { LoadRequest, LoadResult } from './relay-load';
import { salePayload } from './samples';

const seconds = Number(process.env.BENCH_SECONDS ?? 1);
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
/** BENCH_VERBOSE=1 prints every round, for when the medians need explaining. */
const verbose = process.env.BENCH_VERBOSE === '1';
const counts = (process.env.BENCH_TERMINALS ?? '1,100,1000').split(',').map(Number);
const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const SALE_BYTES = salePayload().length;

type Result = LoadResult;

/** The load generator process: one load at a time. */
class LoadGenerator {
  private readonly child: ChildProcess;

  constructor(started: ChildProcess[]) {
    this.child = fork(path.join(__dirname, 'relay-load.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    started.push(this.child);
  }

  run(port: number, terminals: number, runSeconds = seconds): Promise<Result> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`load generator exited ${code}`));
      this.child.once('exit', onExit);
      this.child.once('message', (result: Result) => {
        this.child.off('exit', onExit);
        resolve(result);
      });
      const request: LoadRequest = { port, terminals, seconds: runSeconds };
      this.child.send(request);
    });
  }
}

/**
 * CPU time (user + system) a process has used, with that of its children that have exited (socat
 * forks one per connection), in microseconds (clock ticks of 10 ms).
 */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * 10_000;
}

/**
 * CPU time the hypervisor has taken from this VM (steal, summed over every CPU), in milliseconds
 * (clock ticks of 10 ms): the VM's own noise, which no relay controls.
 */
function stealMs(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  return Number(fields[8] ?? 0) * 10;
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** Everything a child has printed so far, so a wait never misses a line that came early. */
function collect(child: ChildProcess): { text: string } {
  const out = { text: '' };
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out.text += s));
  return out;
}

async function waitForLine(child: ChildProcess, out: { text: string }, pattern: RegExp, ms = 10_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = pattern.exec(out.text);
    if (m) return m;
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before ${pattern}: ${out.text}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms} ms: ${out.text}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Whether something accepts on `port` within `ms`, polling; false at once if `child` exits. */
async function accepting(port: number, child: ChildProcess, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && child.exitCode === null) {
    const connected = await new Promise<boolean>((resolve) => {
      const probe = connect({ host: '127.0.0.1', port }, () => {
        probe.destroy();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
    if (connected) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/**
 * socat relaying to `upstream`, once it accepts connections. A port can be taken between picking
 * and binding (socat then exits), so a failed start is retried on another port.
 */
async function startSocat(upstream: number, started: ChildProcess[]): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const port = await freePort();
    const child = spawn('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,backlog=2048`, `TCP:127.0.0.1:${upstream}`], { stdio: 'ignore' });
    started.push(child);
    if (await accepting(port, child)) return { child, port };
    child.kill();
  }
  throw new Error('socat did not start listening in 5 attempts');
}

/** One way from the terminals to the responder, with the process doing the relaying. */
interface Path {
  name: string;
  port: number;
  /** The relay's process, for its CPU time; null for the direct path. */
  pid: number | null;
}

/** Median of per-round ratios, with the min and max. */
interface Ratio {
  median: number;
  min: number;
  max: number;
}

function ratioOf(values: number[]): Ratio {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** What a row prints: medians over the rounds. */
interface Row {
  tps: number;
  p50: number;
  p99: number;
  /** Latency over the direct path's in the same round, p50 and p99. */
  addedP50: number;
  addedP99: number;
  /** Throughput over the direct path's, p99 over socat's: each within its round. */
  ofDirect: Ratio;
  p99OfSocat: Ratio;
  cpuPerTx: number | null;
  wrong: number;
}

/** Medians over rounds; every comparison is paired: each round against the same round's other path. */
function summarize(results: Result[], direct: Result[], socat: Result[], cpuMicrosTotal: number | null): Row {
  const total = results.reduce((sum, r) => sum + r.count, 0);
  return {
    tps: median(results.map((r) => r.tps)),
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    addedP50: median(results.map((r, i) => r.p50 - direct[i].p50)),
    addedP99: median(results.map((r, i) => r.p99 - direct[i].p99)),
    ofDirect: ratioOf(results.map((r, i) => r.tps / direct[i].tps)),
    p99OfSocat: ratioOf(results.map((r, i) => r.p99 / socat[i].p99)),
    cpuPerTx: cpuMicrosTotal === null ? null : cpuMicrosTotal / total,
    wrong: results.reduce((sum, r) => sum + r.wrong + r.failed, 0),
  };
}

const us = (x: number, width = 8) => x.toFixed(0).padStart(width);
const fmtRatio = (r: Ratio) => `${r.median.toFixed(2)} (${r.min.toFixed(2)}..${r.max.toFixed(2)})`.padStart(18);

function printRows(n: number, rows: Map<string, Row>): void {
  for (const [name, r] of rows) {
    const added = name === 'direct' ? '' : `${us(r.addedP50, 9)} ${us(r.addedP99, 9)}`;
    const cpu = r.cpuPerTx === null ? '' : us(r.cpuPerTx, 6);
    console.log(
      `${String(n).padStart(9)} ${name.padEnd(10)}| ${Math.round(r.tps).toString().padStart(7)} ${us(r.p50)} ${us(r.p99)} | ${added.padStart(19)} | ${fmtRatio(r.ofDirect)} | ${fmtRatio(r.p99OfSocat)} | ${cpu.padStart(6)} | ${r.wrong}`,
    );
  }
}

/** What a run has started, stopped whether the run ends or fails. */
interface Started {
  children: ChildProcess[];
  cleanups: (() => Promise<void>)[];
}

async function stopAll(started: Started): Promise<void> {
  const running = started.children.filter((child) => child.exitCode === null && child.signalCode === null);
  const exited = running.map((child) => new Promise<void>((resolve) => child.once('exit', () => resolve())));
  for (const child of running) child.kill('SIGTERM');
  await Promise.all(exited);
  for (const cleanup of started.cleanups) await cleanup();
}

async function main(): Promise<void> {
  const started: Started = { children: [], cleanups: [] };
  try {
    await run(started);
  } finally {
    await stopAll(started);
  }
}

async function run(started: Started): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-bench-'));
  started.cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const responder = spawn(process.execPath, [path.join(__dirname, 'relay-responder.js')], { stdio: ['ignore', 'pipe', 'ignore'] });
  started.children.push(responder);
  const ports = (await waitForLine(responder, collect(responder), /ports (\d+) (\d+) (\d+)/)).slice(1, 4).map(Number);
  const [platform1, platform2, directPort] = ports;
  const config = path.join(dir, 'nac.json');
  writeFileSync(
    config,
    JSON.stringify({
      hosts: [{ name: 'cups', default: true, links: [platform1, platform2].map((port) => ({ host: '127.0.0.1', port })), allowSingleLink: true, responseTimeoutSeconds: 30 }],
      terminalListener: { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'], addressFrom: '8001', addressTo: 'BFFF', idleTimeoutSeconds: 600, maxConnectionsPerSource: 0, maxFramesPerSecond: 0 },
    }),
  );
  // BENCH_NAC_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the NAC under load.
  const nodeArgs = (variable: string) => (process.env[variable] ?? '').split(' ').filter((a) => a !== '');
  const startNac = async (cli: string, args: string[]): Promise<{ child: ChildProcess; port: number }> => {
    const child = spawn(process.execPath, [...args, cli, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'ignore'] });
    started.children.push(child);
    const out = collect(child);
    const port = Number((await waitForLine(child, out, /terminals on 127\.0\.0\.1:(\d+)/))[1]);
    await waitForLine(child, out, /link cups-1 up[\s\S]*link cups-2 up|link cups-2 up[\s\S]*link cups-1 up/);
    return { child, port };
  };
  const { child: nac, port: nacPort } = await startNac(CLI, nodeArgs('BENCH_NAC_NODE_ARGS'));
  // BENCH_NAC_B=<another checkout>/dist/src/cli/main.js runs that build beside this one, as 'nac B',
  // and BENCH_NAC_B_NODE_ARGS runs it (or this build) with other node options: an A/B comparison
  // in the same run, which separate runs on this VM cannot give.
  const nacB =
    process.env.BENCH_NAC_B || process.env.BENCH_NAC_B_NODE_ARGS
      ? await startNac(path.resolve(process.env.BENCH_NAC_B ?? CLI), nodeArgs('BENCH_NAC_B_NODE_ARGS'))
      : null;
  const { child: socat, port: socatPort } = await startSocat(directPort, started.children);
  const pipe = spawn(process.execPath, [path.join(__dirname, 'node-pipe.js'), String(directPort)], { stdio: ['ignore', 'pipe', 'ignore'] });
  started.children.push(pipe);
  const pipePort = Number((await waitForLine(pipe, collect(pipe), /listening (\d+)/))[1]);
  const loader = new LoadGenerator(started.children);
  const paths: Path[] = [
    { name: 'nac', port: nacPort, pid: nac.pid as number },
    { name: 'socat', port: socatPort, pid: socat.pid as number },
    { name: 'node pipe', port: pipePort, pid: pipe.pid as number },
    { name: 'direct', port: directPort, pid: null },
  ];
  if (nacB) paths.splice(1, 0, { name: 'nac B', port: nacB.port, pid: nacB.child.pid as number });

  // Steady state, not start-up: every path carries traffic for a moment before anything is timed
  // (the NAC is JavaScript and compiles its hot paths in the first seconds; socat is native).
  for (const p of paths) await loader.run(p.port, 10, 2);
  console.log(`bench:relay  node ${process.version}, ${loadNote()}`);
  console.log(
    `closed loop (one request in flight per terminal), the ${SALE_BYTES}-byte 0200 sale with a STAN per request, every answer checked for its MTI and STAN; ` +
      `NAC, load generator and responders each in their own process; ${rounds} rounds of ${seconds} s per path after a 2 s warm-up at the same number of terminals, ` +
      `paths in rotating order; medians over the rounds, ratios within each round (median, min..max); latencies in microseconds\n`,
  );
  console.log('                    |                          | added over direct   |                    |                    | CPU    | wrong or');
  console.log('terminals path      |    tx/s      p50      p99 |       p50       p99 |  tx/s of direct    |  p99 of socat      | us/tx  | failed');
  const idleRss = rssKb(nac.pid as number);
  let rssAt1000: number | null = null;
  const rows = new Map<number, Map<string, Row>>();
  for (const n of counts) {
    const results = new Map<string, Result[]>(paths.map((p) => [p.name, []]));
    // The NAC's compiled code fits the traffic it has seen: a change of load shape (10 terminals
    // to 1, say) deoptimizes and recompiles its hot paths for a few seconds, which is not its
    // steady state.
    for (const p of paths) await loader.run(p.port, n, 2);
    // Each relay is idle while the others are timed, so its CPU over the whole block is its own load's.
    const cpuBefore = paths.map((p) => (p.pid === null ? 0 : cpuMicros(p.pid)));
    const blockStarted = Date.now();
    const blockStealBefore = stealMs();
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < paths.length; k++) {
        const p = paths[(round + k) % paths.length];
        const stealBefore = stealMs();
        // The NAC's RSS is sampled while its sessions are active.
        const sampler = p.name === 'nac' && n === 1000 ? setInterval(() => (rssAt1000 = Math.max(rssAt1000 ?? 0, rssKb(nac.pid as number))), 100) : undefined;
        const result = await loader.run(p.port, n);
        clearInterval(sampler);
        (results.get(p.name) as Result[]).push(result);
        if (verbose) console.log(`  round ${round + 1} ${p.name.padEnd(10)} ${Math.round(result.tps)} tx/s, p50 ${us(result.p50, 0)} p99 ${us(result.p99, 0)} us, steal ${stealMs() - stealBefore} ms`);
      }
    }
    // socat's per-connection children count once they have exited and been reaped.
    await new Promise((r) => setTimeout(r, 300));
    const direct = results.get('direct') as Result[];
    const socatResults = results.get('socat') as Result[];
    const block = new Map<string, Row>(
      paths.map((p, i) => [p.name, summarize(results.get(p.name) as Result[], direct, socatResults, p.pid === null ? null : cpuMicros(p.pid) - cpuBefore[i])]),
    );
    rows.set(n, block);
    printRows(n, block);
    // Steal is CPU time the hypervisor gave to other guests: the one noise source this VM can name.
    const steal = stealMs() - blockStealBefore;
    const share = (100 * steal) / ((Date.now() - blockStarted) * availableParallelism());
    console.log(`${''.padStart(9)} (hypervisor steal during these rounds: ${steal} ms, ${share.toFixed(1)}% of the CPUs' time)`);
  }
  // Memory given back: the sessions have ended; the NAC is idle again.
  await new Promise((r) => setTimeout(r, 2000));
  const afterRss = rssKb(nac.pid as number);
  const perSessionKb = rssAt1000 === null ? null : (rssAt1000 - idleRss) / 1000;
  if (rssAt1000 !== null) console.log(`\nNAC RSS: ${idleRss} kB idle before, ${rssAt1000} kB with 1000 active sessions, ${afterRss} kB 2 s after they ended`);
  const wrong = [...rows.values()].flatMap((block) => [...block.values()]).reduce((sum, r) => sum + r.wrong, 0);
  console.log('');
  console.log(targetLine('relay answers checked (MTI and STAN)', `${wrong} wrong or failed`, '0', wrong === 0));
  const at1000 = rows.get(1000)?.get('nac');
  if (at1000) {
    const r = at1000.ofDirect;
    console.log(targetLine('relay 1000 terminals throughput of direct', `${(100 * r.median).toFixed(0)}% (rounds ${(100 * r.min).toFixed(0)}..${(100 * r.max).toFixed(0)}%)`, '>= 90%', r.median >= 0.9));
  }
  const at1 = rows.get(1)?.get('nac');
  if (at1) {
    const r = at1.p99OfSocat;
    console.log(targetLine('relay 1 terminal p99 of socat', `${r.median.toFixed(2)}x (rounds ${r.min.toFixed(2)}..${r.max.toFixed(2)}x)`, '<= 1.1x', r.median <= 1.1));
  }
  if (perSessionKb !== null) console.log(targetLine('relay memory per active session at 1000', `${perSessionKb.toFixed(1)} KB`, '<= 16 KB', perSessionKb <= 16));
}

main().catch((e: unknown) => {
  console.error(`${process.argv[1]}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = 1;
});
