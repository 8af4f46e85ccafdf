/**
 * npm run bench:failover: steady load through the NAC (TCP terminals -> terminal listener -> relay
 * -> two links) while one link is killed every few seconds. Every request is the realistic 0200
 * sale (samples.ts) with a STAN of its own, unique over the run, and every answer is matched to
 * its request by MTI and STAN: an answer that is not the 0210 with the STAN of the request its
 * terminal has in flight is counted, apart from timeouts, as late (the STAN of a request of this
 * terminal that had already timed out) or wrong (anything else: another terminal's STAN, a
 * second answer, a wrong MTI). A terminal gives up on a request after longer than the NAC's
 * response timeout, so every request it gives up on must be one the NAC counted as dropped, with
 * a reason. Lost, a request a terminal gave up on that the NAC never accounted for, must be 0;
 * so must wrong answers and the gap in the NAC's own books (relayed = answered + dropped).
 */
import { connect, type Socket } from 'node:net';
import { nacConfigSchema } from '../../src/nac/config';
import { Nac } from '../../src/nac/nac';
import type { LinkGroup } from '../../src/link/link-group';
import { writeBcd } from '../../src/codec/bcd';
import { binary2, LengthPrefixedDecoder } from '../../src/codec/length-prefix';
import { readTerminalMessage } from '../../src/iso8583/terminal-message';
import { LoopbackPlatform } from './loopback-platform';
import { targetLine } from './measure';
import { codec, framed, salePayload } from './samples';

const seconds = Number(process.env.BENCH_SECONDS ?? 12);
const terminals = Number(process.env.BENCH_TERMINALS ?? 50);
const killEveryMs = Number(process.env.BENCH_KILL_EVERY_MS ?? 2000);
const timeoutMs = 5000;

/** The sale, framed, and where its STAN's 3 BCD bytes are (field 11 is fixed-length n6). */
const TEMPLATE = framed(salePayload('000000'));
const STAN_AT = 2 + codec.valueOffset(TEMPLATE.subarray(2), 11, 11);
const MAX_STAN = 999_999;

interface Totals {
  sent: number;
  answered: number;
  timedOut: number;
  late: number;
  wrong: number;
  /** Answers that did not decode as a terminal message at all. */
  undecodable: number;
}

let nextStan = 0;

/** A STAN no other request of this run has (the run stops before they run out). */
function uniqueStan(): string {
  if (nextStan >= MAX_STAN) throw new Error('more than 999,999 requests: STANs would repeat; shorten BENCH_SECONDS');
  return String(++nextStan).padStart(6, '0');
}

function request(stan: string): Buffer {
  const frame = Buffer.from(TEMPLATE);
  writeBcd(frame, STAN_AT, stan, { align: 'right' });
  return frame;
}

async function terminal(port: number, deadline: number, totals: Totals): Promise<void> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
  socket.setNoDelay(true);
  const decoder = new LengthPrefixedDecoder(binary2);
  /** The STAN in flight, and what to call when its answer comes. */
  let inFlight: { stan: string; answered: () => void } | null = null;
  const gaveUp = new Set<string>();
  socket.on('data', (chunk) =>
    decoder.push(chunk, (e) => {
      if (e.type !== 'frame') return;
      let mti: string;
      let stan: string | undefined;
      try {
        const message = readTerminalMessage(codec, e.frame).message;
        mti = message.mti;
        stan = message.getString(11);
      } catch {
        totals.undecodable++;
        return;
      }
      if (inFlight !== null && stan === inFlight.stan && mti === '0210') inFlight.answered();
      else if (stan !== undefined && gaveUp.delete(stan)) totals.late++;
      else totals.wrong++;
    }),
  );
  while (Date.now() < deadline) {
    const stan = uniqueStan();
    totals.sent++;
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      inFlight = {
        stan,
        answered: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      socket.write(request(stan));
    });
    inFlight = null;
    if (ok) totals.answered++;
    else {
      totals.timedOut++;
      gaveUp.add(stan);
    }
  }
  socket.destroy();
}

async function main(): Promise<void> {
  const platform = new LoopbackPlatform();
  const totals: Totals = { sent: 0, answered: 0, timedOut: 0, late: 0, wrong: 0, undecodable: 0 };
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
  console.log(
    `bench:failover  node ${process.version}, ${seconds} s, ${terminals} terminals, the ${TEMPLATE.length - 2}-byte 0200 sale with a unique STAN per request, one link killed every ${killEveryMs} ms (${kills} kills)\n`,
  );
  console.log(`requests sent:      ${totals.sent}`);
  console.log(`answered:           ${totals.answered}   (the 0210 with the STAN of the request in flight)`);
  console.log(`timed out:          ${totals.timedOut}   (at the terminal, after ${timeoutMs} ms)`);
  console.log(`NAC dropped:        ${nacDropped}   ${JSON.stringify({ ...relay.dropped, ...relay.rejected })}`);
  console.log(`late answers:       ${totals.late}   (the STAN of a request this terminal had already given up on)`);
  console.log(`wrong answers:      ${totals.wrong + totals.undecodable}   (${totals.wrong} with a STAN or MTI that answers nothing in flight, ${totals.undecodable} undecodable; target 0)`);
  console.log(`lost:               ${lost}   (timed out at a terminal, never counted as dropped by the NAC; target 0)`);
  console.log(`NAC books:          ${unrelayed} sent but neither relayed nor rejected, ${unsettled} relayed but neither answered nor dropped (target 0 and 0)`);
  console.log(`NAC relay:          ${JSON.stringify(relay)}`);
  console.log(`link group:         ${JSON.stringify(group.counters)}`);
  console.log(`link reconnects:    ${group.links.map((l) => `${l.name} ${l.counters.connects - 1}`).join(', ')}`);
  const wrong = totals.wrong + totals.undecodable;
  console.log('');
  console.log(targetLine('failover lost requests', String(lost), '0', lost === 0));
  console.log(targetLine('failover wrong answers', String(wrong), '0', wrong === 0));
  console.log(targetLine('failover NAC books', `${unrelayed} unrelayed, ${unsettled} unsettled`, '0 and 0', unrelayed === 0 && unsettled === 0));
  process.exitCode = lost === 0 && wrong === 0 && unrelayed === 0 && unsettled === 0 ? 0 : 1;
}

main().catch((e: unknown) => {
  console.error(`${process.argv[1]}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = 1;
});
