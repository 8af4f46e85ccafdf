import type { PlatformConfig } from '../../tools/platform-sim/config';
import { startSimBench, type LineEnd, type SimBench } from '../../tools/sim-bench/bench';

export { addressOf, terminalIdOf, tcpLineEnd, FAST_EMULATOR as EMULATOR_TIMING, type LineEnd } from '../../tools/sim-bench/bench';
export const DNIS = '61651108';

export interface NacBench extends SimBench {
  /** Every payload the platform received, as it arrived. */
  captured: Buffer[];
}

/** The simulated bench with every platform-side payload captured, for byte-exact assertions. */
export async function startNacBench(lines: number, makeEnd: () => Promise<LineEnd>, platform: Partial<PlatformConfig> = {}): Promise<NacBench> {
  const bench = await startSimBench({ lines, makeEnd, platform });
  const captured: Buffer[] = [];
  bench.sim.server.on('frame', (payload) => captured.push(Buffer.from(payload)));
  return Object.assign(bench, { captured });
}
