/**
 * npm run bench:link: request/response frames per second through one link group (two links on
 * loopback to a responder that answers on the link it was asked on), with latency percentiles,
 * then the reconnect time after the server goes away and comes back.
 */
import { Link } from '../../src/link/link';
import { LinkGroup, type PendingKeys } from '../../src/link/link-group';
import { LinkServer } from '../../src/link/server';

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 256);
/** A 0200-sized payload: 4-byte request number, a request/response byte, padding. */
const PAYLOAD_BYTES = 128;

const keys: PendingKeys = {
  request: (p) => (p[4] === 1 ? String(p.readUInt32BE(0)) : null),
  response: (p) => (p[4] === 2 ? String(p.readUInt32BE(0)) : null),
};

function responder(ports: number[] = [0, 0]): LinkServer {
  const server = new LinkServer({
    name: 'responder',
    listen: ports.map((port) => ({ host: '127.0.0.1', port, allow: ['127.0.0.1'] })),
    framing: 'binary2',
  });
  server.on('frame', (payload, connection) => {
    payload[4] = 2;
    connection.send(payload);
  });
  return server;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 1));
}

async function main(): Promise<void> {
  let server = responder();
  await server.start();
  const ports = server.ports;
  const links = ports.map((port, i) => new Link({ name: `link${i + 1}`, host: '127.0.0.1', port, framing: 'binary2', reconnectInitialMs: 1000 }));
  const group = new LinkGroup({ name: 'bench', links, keys, responseTimeoutMs: 10_000, allowSingleLink: true });
  group.start();
  await waitUntil(() => group.upLinks.length === 2);

  const latencies: number[] = [];
  let next = 0;
  let done = 0;
  let failed = 0;
  const deadline = process.hrtime.bigint() + BigInt(seconds * 1e9);
  const started = process.hrtime.bigint();
  async function worker(): Promise<void> {
    while (process.hrtime.bigint() < deadline) {
      const payload = Buffer.alloc(PAYLOAD_BYTES);
      payload.writeUInt32BE(next++ >>> 0, 0);
      payload[4] = 1;
      const t0 = process.hrtime.bigint();
      try {
        await group.request(payload);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e3);
        done++;
      } catch {
        failed++;
      }
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  console.log(`bench:link  node ${process.version}, ${seconds} s, ${inFlight} requests in flight, ${PAYLOAD_BYTES}-byte frames, 2 links\n`);
  console.log(`round trips (request out, response back): ${Math.round(done / elapsed).toLocaleString('en-US')} /s  (${done} answered, ${failed} failed)`);
  console.log(`latency: p50 ${percentile(latencies, 50).toFixed(0)} us, p99 ${percentile(latencies, 99).toFixed(0)} us, max ${latencies[latencies.length - 1].toFixed(0)} us`);
  console.log(`group counters: ${JSON.stringify(group.counters)}`);

  // Reconnect: the server goes away for 2 s, then comes back on the same ports.
  await server.close();
  await waitUntil(() => group.upLinks.length === 0);
  await new Promise((r) => setTimeout(r, 2000));
  server = responder(ports);
  await server.start();
  const back = process.hrtime.bigint();
  await waitUntil(() => group.upLinks.length === 2);
  const reconnectMs = Number(process.hrtime.bigint() - back) / 1e6;
  console.log(`\nreconnect after the server came back (2 s outage, backoff from 1 s, jittered): ${reconnectMs.toFixed(0)} ms until both links were up`);
  await group.close();
  await server.close();
}

main().catch((e: unknown) => {
  console.error(`${process.argv[1]}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = 1;
});
