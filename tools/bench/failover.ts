/**
 * npm run bench:failover: steady load through the NAC (TCP terminals -> terminal listener -> relay
 * -> two links) while one link is killed every few seconds. A terminal gives up on a request after
 * longer than the NAC's response timeout, so every request it gives up on must be one the NAC
 * counted as dropped, with a reason. Lost, a request a terminal gave up on that the NAC never
 * accounted for, must be 0; so must the gap in the NAC's own books (relayed = answered + dropped).
 */
import { connect, type Socket } from 'node:net';
import { nacConfigSchema } from '../../src/nac/config';
import { Nac } from '../../src/nac/nac';
import type { LinkGroup } from '../../src/link/link-group';
import { encodeLengthPrefixed, binary2, LengthPrefixedDecoder } from '../../src/codec/length-prefix';
import { LoopbackPlatform } from './loopback-platform';

const seconds = Number(process.env.BENCH_SECONDS ?? 12);
const terminals = Number(process.env.BENCH_TERMINALS ?? 50);
const killEveryMs = Number(process.env.BENCH_KILL_EVERY_MS ?? 2000);
const timeoutMs = 5000;

/** TPDU 60 0003 0000, header, and a 0800 with a 3-byte body: enough for the relay, which never unpacks. */
function request(n: number): Buffer {
  const body = Buffer.from('600003000060310031000008000000000000000000' + (n % 0xffffff).toString(16).padStart(6, '0'), 'hex');
  return encodeLengthPrefixed(binary2, body);
}

async function terminal(port: number, deadline: number, totals: { sent: number; answered: number; timedOut: number }): Promise<void> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
  socket.setNoDelay(true);
  const decoder = new LengthPrefixedDecoder(binary2);
  let waiting: ((ok: boolean) => void) | null = null;
  socket.on('data', (chunk) => decoder.push(chunk, (e) => e.type === 'frame' && waiting?.(true)));
  let n = 0;
  while (Date.now() < deadline) {
    totals.sent++;
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      waiting = (v) => {
        clearTimeout(timer);
        resolve(v);
      };
      socket.write(request(n++));
    });
    waiting = null;
    if (ok) totals.answered++;
    else totals.timedOut++;
  }
  socket.destroy();
}

async function main(): Promise<void> {
  const platform = new LoopbackPlatform();
  const totals = { sent: 0, answered: 0, timedOut: 0 };
  let kills = 0;
  let killer: NodeJS.Timeout | undefined;
  let nac: Nac | undefined;
  let group: LinkGroup | undefined;
  // Stopped however the run ends: a failed run must not leave the NAC, the platform or the killer
  // holding the process open.
  try {
    const ports = await platform.start();
    nac = new Nac(
      nacConfigSchema.parse({
        hosts: [{ name: 'cups', default: true, links: ports.map((port) => ({ host: '127.0.0.1', port })), allowSingleLink: true, responseTimeoutSeconds: timeoutMs / 1000 - 1, dialMonitor: { enabled: true } }],
        terminalListener: { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'], addressFrom: '8001', addressTo: '8FFF', maxConnectionsPerSource: 0, maxFramesPerSecond: 0 },
      }),
    );
    group = [...nac.relay.hosts.values()][0].group;
    await nac.start();
    while (group.upLinks.length < 2) await new Promise((r) => setTimeout(r, 5));
    killer = setInterval(() => {
      platform.kill(kills++ % 2);
    }, killEveryMs);
    const deadline = Date.now() + seconds * 1000;
    const port = nac.listener?.boundPort ?? 0;
    await Promise.all(Array.from({ length: terminals }, () => terminal(port, deadline, totals)));
  } finally {
    clearInterval(killer);
    await nac?.close();
    await platform.close();
  }

  const relay = nac.relay.counters;
  const sum = (counts: Partial<Record<string, number>>): number => Object.values(counts).reduce((a: number, n) => a + (n ?? 0), 0);
  const nacDropped = sum(relay.dropped) + sum(relay.rejected);
  const lost = totals.timedOut - nacDropped;
  // The NAC's books: every frame a terminal sent was relayed or rejected, and every relayed
  // request ended answered or dropped (nothing is in flight once every terminal has its outcome).
  const unrelayed = totals.sent - relay.requests - sum(relay.rejected);
  const unsettled = relay.requests - relay.responses - sum(relay.dropped);
  console.log(`bench:failover  node ${process.version}, ${seconds} s, ${terminals} terminals, one link killed every ${killEveryMs} ms (${kills} kills)\n`);
  console.log(`requests sent:      ${totals.sent}`);
  console.log(`answered:           ${totals.answered}`);
  console.log(`timed out:          ${totals.timedOut}   (at the terminal, after ${timeoutMs} ms)`);
  console.log(`NAC dropped:        ${nacDropped}   ${JSON.stringify({ ...relay.dropped, ...relay.rejected })}`);
  console.log(`lost:               ${lost}   (timed out at a terminal, never counted as dropped by the NAC; target 0)`);
  console.log(`NAC books:          ${unrelayed} sent but neither relayed nor rejected, ${unsettled} relayed but neither answered nor dropped (target 0 and 0)`);
  console.log(`NAC relay:          ${JSON.stringify(relay)}`);
  console.log(`link group:         ${JSON.stringify(group.counters)}`);
  console.log(`link reconnects:    ${group.links.map((l) => `${l.name} ${l.counters.connects - 1}`).join(', ')}`);
  process.exitCode = lost === 0 && unrelayed === 0 && unsettled === 0 ? 0 : 1;
}

main().catch((e: unknown) => {
  console.error(`${process.argv[1]}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = 1;
});
