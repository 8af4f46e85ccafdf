import { systemClock } from '../../src/clock';
import { SecretKey } from '../../src/crypto/secret-key';
import { SoftwareKeyStore } from '../../src/crypto/software-key-store';
import { MessageCodec } from '../../src/iso8583/codec';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { loadModemProfile } from '../../src/modem/profile';
import { nacConfigSchema, type NacConfig } from '../../src/nac/config';
import { Nac } from '../../src/nac/nac';
import { Terminal } from '../../src/terminal/terminal';
import { callPair, type CallEnd } from '../../tools/modem-sim/call-pair';
import type { ModemEmulator } from '../../tools/modem-sim/emulator';
import { TcpModemServer } from '../../tools/modem-sim/tcp-serial-server';
import { platformConfigSchema, type PlatformConfig } from '../../tools/platform-sim/config';
import { PlatformSimulator } from '../../tools/platform-sim/simulator';
import { asyncFrameChannel } from '../../tools/pos-sim/channels';
import { CARD, TMK } from './platform';
import { until } from './wait';

export const DNIS = '61651108';
export const terminalIdOf = (i: number): string => String(12345670 + i);
export const addressOf = (i: number): string => (i + 1).toString(16).toUpperCase().padStart(4, '0');

/** Fast cadences for real-time tests: a ring every 300 ms, caller ID 50 ms after the first. */
export const EMULATOR_TIMING = { ringIntervalMs: 300, callerIdDelayMs: 50, guardMs: 50, connectDelayMs: 10 };

export interface LineEnd {
  /** Where the NAC opens the line: tcp://... or a pty path. */
  path: string;
  modem(): Promise<ModemEmulator>;
  close(): Promise<void>;
}

export interface NacBench {
  sim: PlatformSimulator;
  nac: Nac;
  ends: LineEnd[];
  captured: Buffer[];
  codec: MessageCodec;
  /** Dial line i from a POS whose caller ID is `number`; resolves once connected. */
  dial(i: number, number: string | null): Promise<{ pos: CallEnd; terminal: Terminal; store: SoftwareKeyStore }>;
  close(): Promise<void>;
}

export async function tcpLineEnd(): Promise<LineEnd> {
  const server = new TcpModemServer(EMULATOR_TIMING);
  await server.start();
  return { path: `tcp://127.0.0.1:${server.port}`, modem: () => server.modem(), close: () => server.close() };
}

export async function startNacBench(
  lineCount: number,
  makeEnd: () => Promise<LineEnd>,
  platform: Partial<PlatformConfig> = {},
): Promise<NacBench> {
  const sim = new PlatformSimulator(
    platformConfigSchema.parse({
      listen: [
        { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
        { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
      ],
      terminals: Array.from({ length: lineCount }, (_, i) => ({ terminalId: terminalIdOf(i), merchantId: '123456789012345', tmk: TMK })),
      cards: [CARD],
      requireDialMonitor: true,
      ...platform,
    }),
  );
  await sim.start();
  const captured: Buffer[] = [];
  sim.server.on('frame', (payload) => captured.push(Buffer.from(payload)));
  const ends = await Promise.all(Array.from({ length: lineCount }, makeEnd));
  const config: NacConfig = nacConfigSchema.parse({
    lines: ends.map((end, i) => ({ name: `line${i + 1}`, port: end.path, modem: 'emulator', dnis: DNIS, address: addressOf(i) })),
    hosts: [
      {
        name: 'cups',
        nii: ['0003'],
        default: true,
        links: sim.ports.map((port) => ({ host: '127.0.0.1', port })),
        allowSingleLink: true,
        responseTimeoutSeconds: 5,
      },
    ],
  });
  const profile = { ...loadModemProfile('emulator'), answerDelayMs: 20, escapeGuardMs: 50 };
  const nac = new Nac(config, { profiles: { emulator: profile } });
  await nac.start();
  await until(() => nac.lines.every((l) => l.line.state === 'idle'), 'lines idle', 5000);
  await until(() => [...nac.relay.hosts.values()].every((h) => h.group.upLinks.length === 2), 'links up', 5000);
  const codec = new MessageCodec(unionpayPos);
  const stores: SoftwareKeyStore[] = [];
  return {
    sim,
    nac,
    ends,
    captured,
    codec,
    async dial(i, number) {
      const modem = await ends[i].modem();
      const { pos, modem: modemSide } = callPair();
      const connected = new Promise<void>((resolve) => {
        const onState = (s: string) => {
          if (s === 'connected') {
            modem.off('state', onState);
            resolve();
          }
        };
        modem.on('state', onState);
      });
      modem.ring(number === null ? { format: 'none' } : { number }, modemSide);
      await connected;
      await until(() => nac.lines[i].line.state === 'connected', 'NAC line connected', 3000);
      const store = new SoftwareKeyStore();
      stores.push(store);
      await store.loadMasterKey(1, SecretKey.fromHex(TMK));
      const terminal = new Terminal({
        codec,
        channel: asyncFrameChannel(pos, 10_000, systemClock),
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
      return { pos, terminal, store };
    },
    async close() {
      await nac.close();
      await Promise.all(ends.map((e) => e.close()));
      await sim.close();
      await Promise.all(stores.map((s) => s.close()));
    },
  };
}
