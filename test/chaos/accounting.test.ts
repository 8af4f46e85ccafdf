import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AsyncFrameDecoder, encodeAsyncFrame } from '../../src/codec/async-frame';
import { readTerminalEnvelope } from '../../src/codec/terminal-envelope';
import { MessageCodec } from '../../src/iso8583/codec';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { buildTerminalMessage } from '../../src/iso8583/terminal-message';
import type { TerminalSession } from '../../src/nac/relay';
import * as build from '../../src/terminal/messages';
import { platformConfigSchema } from '../../src/sim/platform/config';
import { PlatformSimulator } from '../../src/sim/platform/simulator';
import { BENCH_CARD, BENCH_TMK, startSimBench, terminalIdOf, type PosCall, type SimBench } from '../../src/sim/bench/bench';
import { emptyBooks, nacRecord, reconcile, settled, type Books, type PlatformRecord, type SeenAnswer } from '../support/accounting';
import { until } from '../support/wait';

const codec = new MessageCodec(unionpayPos);
const MERCHANT = '123456789012345';

/** terminalId/STAN of a terminal payload (TPDU [+ dial-monitor block] + header + message), with what a reader of answers needs. */
function identify(payload: Buffer): SeenAnswer {
  const env = readTerminalEnvelope(payload);
  const m = codec.unpack(payload, env.messageOffset);
  return { key: `${m.getString(41) ?? '?'}/${m.getString(11) ?? '?'}`, mti: m.mti, responseCode: m.getString(39) ?? null, rrn: m.getString(37) ?? null };
}

const stanOf = (line: number, k: number): string => String((line + 1) * 10000 + k).padStart(6, '0');

/**
 * The books must balance end to end, not only the NAC's own counters: every request carries its
 * identity (terminal ID + a STAN unique in the run), and the terminals' records, the NAC's
 * 'request'/'response'/'drop' events and the platform's journal are matched one to one while
 * links are killed, callers hang up with a request in flight and the platform restarts. A
 * dropped, duplicated, wrong or late answer fails it; so does a request that ends both answered
 * and dropped, or neither.
 */
describe('accounting: every request a terminal sent ends answered with its own answer, or dropped by the NAC with a reason', function () {
  this.timeout(90_000);
  let bench: SimBench | undefined;
  /** The bench closes the simulator it started; one started by a restart is closed here. */
  let restarted: PlatformSimulator | null = null;
  after(async () => {
    await bench?.close();
    await restarted?.close();
  });

  it('the reconciliation itself catches a drop, a duplicate, a wrong answer, a late answer and a request counted twice', () => {
    const base = (): Books => {
      const b = emptyBooks('0810');
      b.terminal.set('T/1', { key: 'T/1', line: 0, answers: [{ key: 'T/1', mti: '0810', responseCode: '00', rrn: 'R1' }] });
      b.nac.set('T/1', { relayed: 1, answered: 1, drops: [] });
      b.platform.push({ key: 'T/1', responseMti: '0810', responseCode: '00', rrn: 'R1' });
      b.terminal.set('T/2', { key: 'T/2', line: 0, answers: [] });
      b.nac.set('T/2', { relayed: 1, answered: 0, drops: ['timeout'] });
      return b;
    };
    assert.deepEqual(reconcile(base()), []);
    const lost = base();
    lost.nac.delete('T/2');
    assert.match(reconcile(lost).join('\n'), /T\/2 .*neither answered nor dropped/);
    const unsent = base();
    (unsent.terminal.get('T/1') as { answers: SeenAnswer[] }).answers = [];
    assert.match(reconcile(unsent).join('\n'), /counted as answered, but the terminal never got an answer/);
    const twice = base();
    twice.terminal.get('T/1')?.answers.push({ key: 'T/1', mti: '0810', responseCode: '00', rrn: 'R1' });
    assert.match(reconcile(twice).join('\n'), /got 2 answers/);
    const wrong = base();
    (wrong.terminal.get('T/1') as { answers: SeenAnswer[] }).answers = [{ key: 'T/1', mti: '0810', responseCode: '00', rrn: 'R9' }];
    assert.match(reconcile(wrong).join('\n'), /the platform answered/);
    const late = base();
    late.strays.push('line 1: T/2 arrived while waiting for nothing');
    assert.match(reconcile(late).join('\n'), /wrong or late answer/);
    const both = base();
    both.nac.set('T/1', { relayed: 1, answered: 1, drops: ['line-gone'] });
    assert.match(reconcile(both).join('\n'), /ended 2 times/);
    const doubled = base();
    doubled.platform.push({ key: 'T/1', responseMti: '0810', responseCode: '00', rrn: 'R2' });
    assert.match(reconcile(doubled).join('\n'), /received it 2 times/);
  });

  it('R-CONN-5, R-MDM-6: terminal, NAC and platform records match one to one under link kills, hang-ups and platform restarts', async () => {
    const seed = Number(process.env.ACCOUNTING_SEED ?? 25);
    const random = fc.sample(fc.integer({ min: 0, max: 9 }), { numRuns: 300, seed });
    let r = 0;
    const next = (): number => random[r++ % random.length];
    // The platform stalls past the NAC's response timeout on a few STANs: late answers must stay unmatched.
    const slow = ['010003', '020005', '030002'].map((stan) => ({ mti: '0800', stan, action: 'delay' as const, seconds: 1.3 }));
    const lines = 3;
    const platformConfig = (ports: number[]) =>
      platformConfigSchema.parse({
        listen: ports.map((port) => ({ host: '127.0.0.1', port, allow: ['127.0.0.1'] })),
        terminals: Array.from({ length: lines }, (_, i) => ({ terminalId: terminalIdOf(i), merchantId: MERCHANT, tmk: BENCH_TMK })),
        cards: [BENCH_CARD],
        requireDialMonitor: true,
        faults: slow,
      });
    bench = await startSimBench({ lines, responseTimeoutSeconds: 1, platform: { faults: slow } });
    const b = bench;
    const books = emptyBooks('0810');
    const journalsOfClosed: PlatformRecord[] = [];
    const fromJournal = (sim: PlatformSimulator): PlatformRecord[] =>
      sim.journal.entries.map((e) => ({ key: `${e.terminalId ?? '?'}/${e.stan ?? '?'}`, responseMti: e.responseMti, responseCode: e.responseCode, rrn: e.rrn }));

    // The NAC's side, from its own events: which request each session has in flight.
    const current = new Map<TerminalSession, string>();
    const unattributed: string[] = [];
    b.nac.relay.on('request', (session, _host, payload) => {
      const key = identify(payload).key;
      nacRecord(books, key).relayed++;
      current.set(session, key);
    });
    b.nac.relay.on('response', (session, _host, payload) => {
      const key = identify(payload).key;
      nacRecord(books, key).answered++;
      if (current.get(session) !== key) unattributed.push(`response ${key} on a session whose request is ${current.get(session) ?? 'none'}`);
      current.delete(session);
    });
    b.nac.relay.on('drop', (reason, detail, session) => {
      if (session === null) return; // unmatched: a late answer from the platform, already ended
      const key = current.get(session);
      if (key === undefined) {
        unattributed.push(`${reason} with no request in flight: ${detail}`);
        return;
      }
      nacRecord(books, key).drops.push(reason);
      current.delete(session);
    });

    let restarting: Promise<void> | null = null;
    const restartPlatform = async (): Promise<void> => {
      const old = b.sim;
      const ports = old.ports;
      await old.close();
      journalsOfClosed.push(...fromJournal(old));
      const sim = new PlatformSimulator(platformConfig(ports));
      restarted = sim;
      await sim.start();
      b.sim = sim;
    };
    const counts = { restarts: 0, kills: 0, hangups: 0 };

    async function terminal(i: number): Promise<void> {
      let k = 0;
      for (let round = 0; round < 3; round++) {
        let call: PosCall;
        try {
          call = await b.dial(i, `5058261${i}`);
        } catch {
          continue; // the line was being reset: a real POS dials again
        }
        /** The request this terminal is waiting for; an answer at any other time is wrong or late. */
        let waiting: string | null = null;
        const decoder = new AsyncFrameDecoder();
        call.pos.on('data', (chunk: Buffer) =>
          decoder.push(chunk, (e) => {
            if (e.type !== 'frame') return;
            const answer = identify(e.frame);
            const record = waiting === null ? undefined : books.terminal.get(waiting);
            if (record === undefined || answer.key !== waiting) books.strays.push(`line ${i + 1}: ${answer.key} (${answer.mti}) arrived while waiting for ${waiting ?? 'nothing'}`);
            else record.answers.push(answer);
          }),
        );
        for (let n = 0; n < 6 && call.pos.isOpen; n++) {
          const stan = stanOf(i, ++k);
          const key = `${terminalIdOf(i)}/${stan}`;
          books.terminal.set(key, { key, line: i, answers: [] });
          waiting = key;
          const frame = encodeAsyncFrame(
            buildTerminalMessage(codec, {
              tpdu: { id: 0x60, destination: '0003', originator: '0000' },
              dialMonitor: null,
              header: '603100310000',
              message: build.echoTest({ terminalId: terminalIdOf(i), merchantId: MERCHANT }, stan),
            }),
          );
          call.pos.write(frame);
          const action = next();
          if (action === 0) {
            // Hang up with the request in flight, once the NAC has it (before, it is only line noise).
            await until(() => books.nac.has(key), `${key} reached the NAC`, 5000).catch(() => undefined);
            counts.hangups++;
            const record = books.terminal.get(key);
            if (record !== undefined) record.hungUp = true;
            call.pos.end();
          } else if (action === 1) {
            counts.kills++;
            b.sim.server.connections[next() % 2]?.close(); // a link dies
          } else if (action === 2 && restarting === null) {
            counts.restarts++;
            restarting = restartPlatform().finally(() => (restarting = null));
          }
          // The terminal waits until the NAC has said how the request ended, then for the answer it says it sent.
          await until(() => settled(books, key), `${key} ended at the NAC`, 8000).catch(() => undefined);
          if ((books.nac.get(key)?.answered ?? 0) > 0) {
            await until(() => (books.terminal.get(key)?.answers.length ?? 0) > 0, `${key} answer at the terminal`, 2000).catch(() => undefined);
          }
          // Anything for this request that still comes is late; let a duplicate show itself first.
          await new Promise((resolve) => setTimeout(resolve, 20));
          waiting = null;
        }
        call.pos.end();
        await until(() => b.nac.lines[i].line.state === 'idle' || b.nac.lines[i].line.state === 'ringing', `line ${i + 1} back to idle`, 10_000).catch(() => undefined);
      }
    }

    await Promise.all(Array.from({ length: lines }, (_, i) => terminal(i)));
    await restarting;
    await until(() => b.nac.relay.inFlight === 0, 'nothing in flight', 10_000);
    // Late answers of the slow STANs have had time to come back and be refused as unmatched.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    books.platform = [...journalsOfClosed, ...fromJournal(b.sim)];

    const problems = [...unattributed, ...reconcile(books)];
    assert.deepEqual(problems, [], `seed ${seed}`);
    const relay = b.nac.relay.counters;
    const dropped = Object.values(relay.dropped).reduce((a, c) => a + (c ?? 0), 0);
    assert.equal(relay.requests, books.terminal.size, `seed ${seed}: every request sent was relayed once`);
    assert.equal(relay.responses + dropped, relay.requests, `seed ${seed}: ${JSON.stringify(relay)}`);
    const answered = [...books.nac.values()].filter((n) => n.answered > 0).length;
    assert.equal(relay.responses, answered);
    // The run did what it claims: answers went through and every fault was played.
    assert.ok(answered > books.terminal.size / 3, `seed ${seed}: ${answered} of ${books.terminal.size} answered`);
    assert.ok(counts.hangups > 0 && counts.kills > 0 && counts.restarts > 0, `seed ${seed}: ${JSON.stringify(counts)}`);
    // An answer lost in a hang-up is the exception, not how requests end.
    assert.ok((books.answeredIntoHangUp ?? []).length <= counts.hangups, `seed ${seed}: ${String(books.answeredIntoHangUp)}`);
  });
});
