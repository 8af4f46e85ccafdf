import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ModemEmulator } from '../../src/sim/modem/emulator';
import { openPty } from '../../src/serial/pty';
import type { PlatformConfig } from '../../src/sim/platform/config';
import { FAST_EMULATOR, startSimBench, type LineEnd, type SimBench, type SimBenchOptions } from '../../src/sim/bench/bench';

export { addressOf, terminalIdOf, tcpLineEnd, FAST_EMULATOR as EMULATOR_TIMING, type LineEnd } from '../../src/sim/bench/bench';
export const DNIS = '61651108';

export interface NacBench extends SimBench {
  /** Every payload the platform received, as it arrived. */
  captured: Buffer[];
}

/** The simulated bench with every platform-side payload captured, for byte-exact assertions. */
export async function startNacBench(
  lines: number,
  makeEnd: () => Promise<LineEnd>,
  platform: Partial<PlatformConfig> = {},
  more: Pick<SimBenchOptions, 'framing' | 'sdlcFaults'> = {},
): Promise<NacBench> {
  const bench = await startSimBench({ lines, makeEnd, platform, ...more });
  const captured: Buffer[] = [];
  bench.sim.server.on('frame', (payload) => captured.push(Buffer.from(payload)));
  return Object.assign(bench, { captured });
}

let ptyCount = 0;

/** A real pty: the NAC opens its path as a serial device, the emulator holds its master side. */
export async function ptyLineEnd(): Promise<LineEnd> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-pty-'));
  let pty;
  try {
    pty = await openPty({ link: { dir, name: `line${ptyCount++}` } });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const opened = pty;
  const modem = new ModemEmulator(opened.device, FAST_EMULATOR);
  return {
    path: opened.path,
    modem: async () => modem,
    async close() {
      modem.close();
      await opened.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
