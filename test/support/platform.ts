import { ManualClock, type Clock } from '../../src/clock';
import { SecretKey } from '../../src/crypto/secret-key';
import { SoftwareKeyStore } from '../../src/crypto/software-key-store';
import { MessageCodec } from '../../src/iso8583/codec';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { Link } from '../../src/link/link';
import { LinkGroup } from '../../src/link/link-group';
import { Terminal, terminalRoleKeys } from '../../src/terminal/terminal';
import { platformConfigSchema, type PlatformConfig } from '../../src/sim/platform/config';
import { PlatformSimulator } from '../../src/sim/platform/simulator';
import { until } from './wait';

export const TMK = 'CA5D92598DCA48CE8A4C76361A9269E9';
export const CARD = { pan: '6212142000000000012', pin: '123456', balance: '000000100000' };

export function platformConfig(overrides: Partial<PlatformConfig> = {}): PlatformConfig {
  return platformConfigSchema.parse({
    listen: [
      { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
      { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
    ],
    terminals: [{ terminalId: '12345678', merchantId: '123456789012345', tmk: TMK, keyMode: '003', macAlgorithm: 'unionpay-ecb' }],
    cards: [CARD],
    ...overrides,
  });
}

/** A running simulator, a terminal role over a two-link group to it, and a software key store. */
export interface Bench {
  sim: PlatformSimulator;
  group: LinkGroup;
  store: SoftwareKeyStore;
  terminal: Terminal;
  codec: MessageCodec;
  clock: Clock;
  close(): Promise<void>;
}

/**
 * A terminal (the config's first, key mode and MAC from it) over a link group to simulator
 * `ports`, which may belong to this process or another.
 */
export async function terminalTo(
  ports: number[],
  config: PlatformConfig,
  clock: Clock,
  responseTimeoutMs = 60_000,
): Promise<{ terminal: Terminal; group: LinkGroup; store: SoftwareKeyStore; codec: MessageCodec; close(): Promise<void> }> {
  const codec = new MessageCodec(unionpayPos);
  const links = ports.map((port, i) => new Link({ name: `link${i + 1}`, host: '127.0.0.1', port, framing: config.framing, clock, random: () => 0.5 }));
  const group = new LinkGroup({ name: 'platform', links, keys: terminalRoleKeys(codec), clock, responseTimeoutMs, allowSingleLink: true });
  group.start();
  await until(() => group.upLinks.length === links.length, 'links up', 5000);
  const store = new SoftwareKeyStore();
  await store.loadMasterKey(1, SecretKey.fromHex(config.terminals[0].tmk));
  const terminal = new Terminal({
    codec,
    channel: group,
    store,
    terminalId: config.terminals[0].terminalId,
    merchantId: config.terminals[0].merchantId,
    keyMode: config.terminals[0].keyMode,
    macAlgorithm: config.terminals[0].macAlgorithm,
    masterIndex: 1,
    slots: { pin: 0, mac: 4, track: 2 },
    tpdu: { id: 0x60, destination: '0003', originator: '0001' },
    header: '603100310000',
  });
  return {
    terminal,
    group,
    store,
    codec,
    async close() {
      await group.close();
      await store.close();
    },
  };
}

export async function startBench(config: PlatformConfig = platformConfig(), options: { clock?: ManualClock; responseTimeoutMs?: number } = {}): Promise<Bench> {
  const clock = options.clock ?? new ManualClock(Date.UTC(2026, 10, 21, 9, 18, 34));
  const sim = new PlatformSimulator(config, { clock });
  await sim.start();
  const t = await terminalTo(sim.ports, config, clock, options.responseTimeoutMs);
  return {
    sim,
    group: t.group,
    store: t.store,
    terminal: t.terminal,
    codec: t.codec,
    clock,
    async close() {
      await t.close();
      await sim.close();
    },
  };
}
