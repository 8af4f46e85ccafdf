/**
 * Micro-benchmark loops for a shared, noisy machine. Every comparison is paired: in each round
 * A and B are timed for one window each, back to back (AB in even rounds, BA in odd ones), and
 * the ratio is taken within the round, so a slow second hits both sides of the same ratio; the
 * median of the per-round ratios is reported with its min and max.
 *
 * Each window records wall time and the process's CPU time (user + system, getrusage). When
 * other work shares the CPUs the wall rate drops with the time this process is not scheduled;
 * the CPU time per operation is what one core spends on it when it runs, and is the steadier of
 * the two on a loaded machine (still not immune: hyperthread siblings and caches are shared).
 * Both are printed; bench targets say which one they read.
 */
import { availableParallelism, loadavg } from 'node:os';

export interface Measurement {
  name: string;
  /** Median wall-clock rate over the windows, per second. */
  perSecond: number;
  /** 1e9 / perSecond. */
  nsPerOp: number;
  /** Median CPU time per operation, ns. */
  cpuNsPerOp: number;
  /** Slowest and fastest window, ops per second (wall). */
  low: number;
  high: number;
}

interface Window {
  rate: number;
  cpuNsPerOp: number;
}

function window(op: () => void, seconds: number, batch: number): Window {
  const budget = BigInt(Math.round(seconds * 1e9));
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  let ops = 0;
  while (elapsed < budget) {
    for (let i = 0; i < batch; i++) op();
    ops += batch;
    elapsed = process.hrtime.bigint() - start;
  }
  const used = process.cpuUsage(cpu);
  return { rate: ops / (Number(elapsed) / 1e9), cpuNsPerOp: ((used.user + used.system) * 1000) / ops };
}

/** Run `op` untimed for a while, so the JIT has settled before anything is measured. */
export function warmUp(op: () => void, seconds = 0.3, batch = 100): void {
  window(op, seconds, batch);
}

/** One side of a paired comparison. `batch` calls per clock check (so the clock costs nothing). */
export interface Side {
  name: string;
  op: () => void;
  batch?: number;
}

export interface Ratio {
  median: number;
  min: number;
  max: number;
}

export interface Paired {
  a: Measurement;
  b: Measurement;
  /** a's wall rate over b's, per round. */
  ratio: Ratio;
  /** b's CPU time per op over a's, per round (> 1: a is faster). */
  cpuRatio: Ratio;
  rounds: number;
}

export interface PairedOptions {
  /** Seconds per window (one side, one round). */
  seconds?: number;
  rounds?: number;
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((p, q) => p - q);
  const h = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[h] : (sorted[h - 1] + sorted[h]) / 2;
};

function ratioOf(values: number[]): Ratio {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

function summarize(name: string, windows: Window[]): Measurement {
  const rates = windows.map((w) => w.rate);
  const m = median(rates);
  return { name, perSecond: m, nsPerOp: 1e9 / m, cpuNsPerOp: median(windows.map((w) => w.cpuNsPerOp)), low: Math.min(...rates), high: Math.max(...rates) };
}

export function paired(a: Side, b: Side, options: PairedOptions = {}): Paired {
  const seconds = options.seconds ?? Number(process.env.BENCH_SECONDS ?? 0.2);
  const rounds = options.rounds ?? Number(process.env.BENCH_ROUNDS ?? 15);
  warmUp(a.op, 0.3, a.batch ?? 100);
  warmUp(b.op, 0.3, b.batch ?? 100);
  const wa: Window[] = [];
  const wb: Window[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      wa.push(window(a.op, seconds, a.batch ?? 1000));
      wb.push(window(b.op, seconds, b.batch ?? 1000));
    } else {
      wb.push(window(b.op, seconds, b.batch ?? 1000));
      wa.push(window(a.op, seconds, a.batch ?? 1000));
    }
  }
  return {
    a: summarize(a.name, wa),
    b: summarize(b.name, wb),
    ratio: ratioOf(wa.map((w, i) => w.rate / wb[i].rate)),
    cpuRatio: ratioOf(wa.map((w, i) => wb[i].cpuNsPerOp / w.cpuNsPerOp)),
    rounds,
  };
}

/** One side alone: `rounds` windows, the median (for floors and primitives, not comparisons). */
export function measureOne(side: Side, options: PairedOptions = {}): Measurement {
  const seconds = options.seconds ?? Number(process.env.BENCH_SECONDS ?? 0.2);
  const rounds = options.rounds ?? Number(process.env.BENCH_ROUNDS ?? 15);
  warmUp(side.op, 0.3, side.batch ?? 100);
  const windows: Window[] = [];
  for (let round = 0; round < rounds; round++) windows.push(window(side.op, seconds, side.batch ?? 1000));
  return summarize(side.name, windows);
}

const n = (x: number): string => Math.round(x).toLocaleString('en-US');

export function formatRate(m: Measurement): string {
  return `${m.name.padEnd(56)} ${n(m.perSecond).padStart(10)} /s ${n(m.nsPerOp).padStart(8)} ns wall ${n(m.cpuNsPerOp).padStart(8)} ns CPU  (windows ${n(m.low)}..${n(m.high)} /s)`;
}

export function formatPaired(p: Paired, label = 'A/B'): string {
  const r = (x: Ratio): string => `${x.median.toFixed(2)}x (min ${x.min.toFixed(2)}, max ${x.max.toFixed(2)})`;
  return [formatRate(p.a), formatRate(p.b), `${label}: wall ${r(p.ratio)}, CPU ${r(p.cpuRatio)}; ${p.rounds} paired rounds`].join('\n');
}

/** The line a script reads: `target <name>: <figure> (goal <goal>): met` or `... short`. */
export function targetLine(name: string, figure: string, goal: string, met: boolean): string {
  return `target ${name}: ${figure} (goal ${goal}): ${met ? 'met' : 'short'}`;
}

/** The machine's load when a bench starts: a figure is read against it. */
export function loadNote(): string {
  const [one, five] = loadavg();
  return `load average ${one.toFixed(2)} (1 min), ${five.toFixed(2)} (5 min) on ${availableParallelism()} CPUs`;
}
