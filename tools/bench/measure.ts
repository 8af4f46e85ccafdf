/**
 * A small, honest micro-benchmark loop: warm up, then time `runs` windows of `seconds` each and
 * report the median window (shared machines jitter by tens of percent from one second to the next).
 */
export interface Measurement {
  name: string;
  perSecond: number;
  nsPerOp: number;
  /** Slowest and fastest window, ops per second. */
  low: number;
  high: number;
}

export interface MeasureOptions {
  seconds?: number;
  runs?: number;
  batch?: number;
}

function window(op: () => void, seconds: number, batch: number): number {
  const budget = BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  let ops = 0;
  while (elapsed < budget) {
    for (let i = 0; i < batch; i++) op();
    ops += batch;
    elapsed = process.hrtime.bigint() - start;
  }
  return ops / (Number(elapsed) / 1e9);
}

/** Run `op` untimed for a while, so the JIT has settled before anything is measured. */
export function warmUp(op: () => void, seconds = 0.3, batch = 100): void {
  window(op, seconds, batch);
}

export function measure(name: string, op: () => void, options: MeasureOptions = {}): Measurement {
  const seconds = options.seconds ?? 0.5;
  const runs = options.runs ?? 5;
  const batch = options.batch ?? 1000;
  warmUp(op, Math.min(seconds, 0.3), batch);
  const rates = Array.from({ length: runs }, () => window(op, seconds, batch)).sort((a, b) => a - b);
  const median = rates[Math.floor(runs / 2)];
  return { name, perSecond: median, nsPerOp: 1e9 / median, low: rates[0], high: rates[runs - 1] };
}

const n = (x: number): string => Math.round(x).toLocaleString('en-US');

export function formatRate(m: Measurement): string {
  return `${m.name.padEnd(58)} ${n(m.perSecond).padStart(11)} /s ${m.nsPerOp.toFixed(0).padStart(7)} ns  (runs ${n(m.low)}..${n(m.high)})`;
}
