import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { encodeAsyncFrame } from '../../src/codec/async-frame';
import { MessageCodec } from '../../src/iso8583/codec';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { buildTerminalMessage } from '../../src/iso8583/terminal-message';
import { FrameTrace } from '../../src/nac/trace';
import * as build from '../../src/terminal/messages';
import { TerminalError } from '../../src/terminal/terminal';
import { BENCH_CARD, BENCH_TMK, startSimBench, terminalIdOf, type PosCall, type SimBench } from '../../src/sim/bench/bench';
import { until } from '../support/wait';

/**
 * Chaos, bounded: four modem lines under load while links are killed, callers hang up mid-frame,
 * frames arrive corrupted, oversized or one byte at a time, and the platform stalls past the
 * response timeout. Every request must end answered, timed out or dropped with a counted reason,
 * nothing may crash, and no key or full PAN may reach any output.
 */
describe('chaos: the NAC under random faults (bounded)', function () {
  this.timeout(60_000);
  let bench: SimBench;
  let dir: string;
  after(async () => {
    await bench?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every request ends answered, timed out or dropped with a counted reason; nothing crashes; no secrets out', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-chaos-'));
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100000);
    const random = fc.sample(fc.integer({ min: 0, max: 9 }), { numRuns: 400, seed });
    let r = 0;
    const next = () => random[r++ % random.length];
    bench = await startSimBench({
      lines: 4,
      responseTimeoutSeconds: 1,
      posTimeoutMs: 1500,
      // The platform stalls past the NAC's response timeout on every STAN ending in 7.
      platform: { faults: ['000007', '000017', '000027', '000037'].map((stan) => ({ mti: '0200', stan, action: 'delay' as const, seconds: 1.5 })) },
    });
    const trace = await FrameTrace.open(path.join(dir, 'trace.jsonl'), bench.nac.relay, new MessageCodec(unionpayPos));
    const drops: string[] = [];
    bench.nac.relay.on('drop', (reason, detail) => drops.push(`${reason}: ${detail}`));
    const codec = new MessageCodec(unionpayPos);
    const outcomes = { answered: 0, failed: 0 };
    /** Answers a POS refused as another request's: "0200 got 0810" comes from the echo injected below. */
    const mismatches: string[] = [];

    async function caller(i: number): Promise<void> {
      for (let round = 0; round < 3; round++) {
        let call: PosCall;
        try {
          call = await bench.dial(i, `5058261${i}`);
        } catch {
          continue; // the line was busy being reset: a real POS dials again
        }
        try {
          await call.terminal.signOn();
        } catch {
          outcomes.failed++;
        }
        for (let k = 0; k < 8 && call.pos.isOpen; k++) {
          const action = next();
          const frame = encodeAsyncFrame(
            buildTerminalMessage(codec, {
              tpdu: { id: 0x60, destination: '0003', originator: '0000' },
              dialMonitor: null,
              header: '603100310000',
              message: build.echoTest({ terminalId: terminalIdOf(i), merchantId: '123456789012345' }, String(900000 + k)),
            }),
          );
          if (action === 0) {
            call.pos.write(frame.subarray(0, frame.length >> 1)); // hang up mid-frame
            call.pos.end();
            break;
          } else if (action === 1) {
            const bad = Buffer.from(frame);
            bad[bad.length - 1] ^= 0xff; // wrong LRC
            call.pos.write(bad);
          } else if (action === 2) {
            call.pos.write(Buffer.from([0x02, 0x99, 0x99, 0x60, 0x00])); // oversized length
          } else if (action === 3) {
            for (const b of frame) call.pos.write(Buffer.from([b])); // dripped
          } else if (action === 4) {
            bench.sim.server.connections[next() % 2]?.close(); // a link dies
          }
          try {
            const sale = await call.terminal.sale({ pan: BENCH_CARD.pan }, String(100 + k), BENCH_CARD.pin);
            if (sale.responseCode) outcomes.answered++;
          } catch (e) {
            outcomes.failed++;
            if (e instanceof TerminalError && e.code === 'RESPONSE_MISMATCH') mismatches.push(`${e.context.request} got ${e.context.response}`);
          }
        }
        call.pos.end();
        await until(() => bench.nac.lines[i].line.state === 'idle' || bench.nac.lines[i].line.state === 'ringing', `line ${i + 1} back to idle`, 10_000).catch(() => undefined);
      }
    }

    await Promise.all([0, 1, 2, 3].map(caller));
    await until(() => bench.nac.relay.inFlight === 0, 'nothing in flight', 10_000);
    await trace.close();

    const relay = bench.nac.relay.counters;
    const dropped = Object.values(relay.dropped).reduce((a, b) => a + (b ?? 0), 0);
    const group = [...bench.nac.relay.hosts.values()][0].group.counters;
    assert.ok(relay.requests > 20, `load was applied (seed ${seed})`);
    // Every relayed request ended one way, counted: answered to the terminal, or dropped with a reason
    // (timeout, line-gone, duplicate, expired...). None vanished.
    assert.equal(relay.responses + dropped, relay.requests, `seed ${seed}: ${JSON.stringify(relay)}`);
    // The link group's own books: every request the relay handed it ended there once, answered or
    // failed with a reason (timeout, abandoned at a hang-up, duplicate, expired); none was closed.
    const failed = Object.values(group.failed).reduce((a, b) => a + b, 0);
    assert.equal(group.failed.closed, 0);
    assert.equal(group.answered + failed, relay.requests, `seed ${seed}: ${JSON.stringify(group)}`);
    const lineErrors = bench.nac.lines.reduce((n, l) => n + l.counters.frameErrors, 0);
    assert.ok(outcomes.answered > 0, 'transactions still got through');
    // The NAC never handed a POS the answer to another of its requests (a late 0210, say).
    assert.deepEqual(mismatches.filter((m) => m !== '0200 got 0810'), [], `seed ${seed}`);
    if (random.slice(0, r).some((a) => a === 1 || a === 2)) assert.ok(lineErrors > 0, 'corrupted frames were counted');
    const everything = readFileSync(path.join(dir, 'trace.jsonl'), 'utf8') + drops.join('\n') + JSON.stringify(bench.sim.journal.entries);
    assert.ok(!everything.includes(BENCH_CARD.pan), 'no full PAN in any output');
    assert.ok(!everything.includes(BENCH_TMK), 'no key in any output');
  });
});
