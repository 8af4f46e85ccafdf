import { SdlcSecondary, type SdlcFaults } from '../../terminal/sdlc-secondary';
import { systemClock } from '../../clock';
import { SecretKey } from '../../crypto/secret-key';
import { SoftwareKeyStore } from '../../crypto/software-key-store';
import { MessageCodec } from '../../iso8583/codec';
import { unionpayPos } from '../../iso8583/specs/unionpay-pos';
import { loadModemProfile } from '../../modem/profile';
import { nacConfigSchema, type NacConfig, type bindingsSchema } from '../../nac/config';
import type { z } from 'zod';
import { NacbridgeError } from '../../errors';
import { Nac } from '../../nac/nac';
import type { KeyStore } from '../../crypto/key-store';
import { Terminal, type RequestChannel } from '../../terminal/terminal';
import { callPair, type CallEnd } from '../modem/call-pair';
import type { EmulatorOptions, ModemEmulator } from '../modem/emulator';
import { TcpModemServer } from '../modem/tcp-serial-server';
import { platformConfigSchema, type PlatformConfig } from '../platform/config';
import { PlatformSimulator } from '../platform/simulator';
import { asyncFrameChannel } from '../../terminal/channels';

/**
 * A whole simulated bench on loopback, with no hardware: the platform simulator on two ports,
 * emulated modems behind raw TCP serial servers, the NAC with one line per modem, and POS
 * terminals that dial in. Used by `nacbridge demo` and the integration tests.
 */
export const BENCH_TMK = 'CA5D92598DCA48CE8A4C76361A9269E9';
export const BENCH_CARD = { pan: '6212142000000000012', pin: '123456', balance: '000000100000' };
export const terminalIdOf = (i: number): string => String(12345670 + i);
export const addressOf = (i: number): string => (i + 1).toString(16).toUpperCase().padStart(4, '0');
export const dnisOf = (i: number): string => String(61651108 + i);

/** Fast cadences for a bench that runs in seconds: a ring every 300 ms, caller ID 50 ms after the first. */
export const FAST_EMULATOR: EmulatorOptions = { ringIntervalMs: 300, callerIdDelayMs: 50, guardMs: 50, connectDelayMs: 10 };

export interface LineEnd {
  /** Where the NAC opens the line: tcp://... or a pty path. */
  path: string;
  modem(): Promise<ModemEmulator>;
  close(): Promise<void>;
}

export async function tcpLineEnd(): Promise<LineEnd> {
  const server = new TcpModemServer(FAST_EMULATOR);
  await server.start();
  return { path: `tcp://127.0.0.1:${server.port}`, modem: () => server.modem(), close: () => server.close() };
}

export interface SimBenchOptions {
  lines: number;
  makeEnd?: () => Promise<LineEnd>;
  platform?: Partial<PlatformConfig>;
  responseTimeoutSeconds?: number;
  /** How long a POS waits for an answer before it reverses. */
  posTimeoutMs?: number;
  /**
   * 'sdlc': every line is synchronous (R-MDM-7): V.80 init on the modem, SDLC terminals; a list
   * gives each line its own framing (a mixed bench).
   */
  framing?: LineFramingName | LineFramingName[];
  /** Faults the synchronous terminals play (framing 'sdlc'). */
  sdlcFaults?: SdlcFaults;
  /** Terminals bound to their lines (the NAC config's `bindings`). */
  bindings?: z.input<typeof bindingsSchema>;
}

export type LineFramingName = 'async' | 'sdlc';

/** Line i's framing on a bench. */
export function framingOf(options: Pick<SimBenchOptions, 'framing'>, i: number): LineFramingName {
  const f = options.framing ?? 'async';
  return typeof f === 'string' ? f : (f[i] ?? 'async');
}

export interface PosCall {
  pos: CallEnd;
  /** The synchronous terminal's SDLC station (framing 'sdlc'), else null. */
  sdlc: SdlcSecondary | null;
  terminal: Terminal;
  store: SoftwareKeyStore;
}

export interface SimBench {
  sim: PlatformSimulator;
  nac: Nac;
  ends: LineEnd[];
  codec: MessageCodec;
  /** Dial line i from a POS presenting `number` as caller ID (null: none); resolves once connected. */
  dial(i: number, number: string | null, format?: 'formatted' | 'mdmf' | 'sdmf' | 'dtmf' | 'private'): Promise<PosCall>;
  close(): Promise<void>;
}

/** The terminal of bench POS i: its ids, key mode 003, PIN slot 0 paired with MAC slot 4. */
export function benchTerminal(i: number, codec: MessageCodec, channel: RequestChannel, store: KeyStore): Terminal {
  return new Terminal({
    codec,
    channel,
    store,
    terminalId: terminalIdOf(i),
    merchantId: '123456789012345',
    keyMode: '003',
    macAlgorithm: 'unionpay-ecb',
    masterIndex: 1,
    slots: { pin: 0, mac: 4 },
    tpdu: { id: 0x60, destination: '0003', originator: '0000' },
    header: '603100310000',
  });
}

async function until(condition: () => boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new NacbridgeError('BENCH_TIMEOUT', `bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export async function startSimBench(options: SimBenchOptions): Promise<SimBench> {
  const count = options.lines;
  const sim = new PlatformSimulator(
    platformConfigSchema.parse({
      listen: [
        { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
        { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
      ],
      terminals: Array.from({ length: count }, (_, i) => ({ terminalId: terminalIdOf(i), merchantId: '123456789012345', tmk: BENCH_TMK })),
      cards: [BENCH_CARD],
      requireDialMonitor: true,
      ...options.platform,
    }),
  );
  // A set-up that fails half way (no pty on this machine, a port taken) closes what it opened
  // before the error goes on: a test's teardown never sees a bench, and nothing may stay open.
  const opened: (() => Promise<void>)[] = [];
  const closeOpened = async (): Promise<void> => {
    for (const close of opened.splice(0).reverse()) await close();
  };
  try {
    await sim.start();
    opened.push(() => sim.close());
    const settled = await Promise.allSettled(Array.from({ length: count }, options.makeEnd ?? tcpLineEnd));
    for (const s of settled) if (s.status === 'fulfilled') opened.push(() => s.value.close());
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const ends = settled.map((s) => (s as PromiseFulfilledResult<LineEnd>).value);
    return await startNacOnBench(options, sim, ends, opened);
  } catch (e) {
    await closeOpened();
    throw e;
  }
}

async function startNacOnBench(options: SimBenchOptions, sim: PlatformSimulator, ends: LineEnd[], opened: (() => Promise<void>)[]): Promise<SimBench> {
  const config: NacConfig = nacConfigSchema.parse({
    lines: ends.map((end, i) => {
      const framing = framingOf(options, i);
      return { name: `line${i + 1}`, port: end.path, modem: framing === 'sdlc' ? 'emulator-v80' : 'emulator', dnis: dnisOf(i), address: addressOf(i), framing };
    }),
    hosts: [
      {
        name: 'cups',
        nii: ['0003'],
        default: true,
        links: sim.ports.map((port) => ({ host: '127.0.0.1', port })),
        // Both links go to 127.0.0.1: a loopback bench is R-CONN-1's allowSingleLink case.
        allowSingleLink: true,
        responseTimeoutSeconds: options.responseTimeoutSeconds ?? 5,
      },
    ],
    ...(options.bindings ? { bindings: options.bindings } : {}),
  });
  const base = loadModemProfile('emulator');
  const profile = { ...base, answerDelayMs: 20, escapeGuardMs: 50 };
  // The emulator's profile with V.80 synchronous access on answer, for the sdlc lines (R-MDM-7).
  const v80 = { ...profile, name: 'emulator-v80', init: [...base.init, 'AT+ES=6,,8', 'AT+ESA=0,0,0,,1,0'] };
  const nac = new Nac(config, { profiles: { emulator: profile, 'emulator-v80': v80 } });
  opened.push(() => nac.close());
  await nac.start();
  await until(() => nac.lines.every((l) => l.line.state === 'idle'), 'lines idle', 5000);
  await until(() => [...nac.relay.hosts.values()].every((h) => h.group.upLinks.length === 2), 'links up', 5000);
  const codec = new MessageCodec(unionpayPos);
  const stores: SoftwareKeyStore[] = [];
  return {
    sim,
    nac,
    ends,
    codec,
    async dial(i, number, format = 'formatted') {
      const modem = await ends[i].modem();
      const { pos, modem: modemSide } = callPair();
      // A synchronous terminal listens from the start: the NAC's SNRM follows CONNECT at once.
      const sdlc = framingOf(options, i) === 'sdlc' ? new SdlcSecondary(pos, { clock: systemClock, timeoutMs: options.posTimeoutMs ?? 10_000, faults: options.sdlcFaults, afterConnect: true }) : null;
      const connected = new Promise<void>((resolve) => {
        const onState = (s: string) => {
          if (s !== 'connected') return;
          modem.off('state', onState);
          resolve();
        };
        modem.on('state', onState);
      });
      modem.ring(number === null ? { format: format === 'private' ? 'private' : 'none' } : { number, format }, modemSide);
      await connected;
      await until(() => nac.lines[i].line.state === 'connected', 'NAC line connected', 3000);
      const store = new SoftwareKeyStore(`POS ${i + 1} key store`);
      stores.push(store);
      await store.loadMasterKey(1, SecretKey.fromHex(BENCH_TMK));
      const terminal = benchTerminal(i, codec, sdlc ?? asyncFrameChannel(pos, options.posTimeoutMs ?? 10_000, systemClock), store);
      return { pos, terminal, store, sdlc };
    },
    async close() {
      await nac.close();
      await Promise.all(ends.map((e) => e.close()));
      await sim.close();
      await Promise.all(stores.map((s) => s.close()));
    },
  };
}
