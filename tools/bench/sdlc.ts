/**
 * npm run bench:sdlc (R-MDM-7): the NAC's own CPU time per SDLC exchange on a synchronous line,
 * against the time the same exchange takes on the telephone line at 1200 bps plus the poll
 * interval.
 *
 * One exchange, as the NAC sees it in steady state: the terminal's request comes as an I-frame
 * with F (V.80 decoded, SDLC decoded, handed to the relay once); the answer goes out as an
 * I-frame with P (SDLC and V.80 encoded); the terminal's RR with F acknowledges it; the next poll
 * (RR with P) goes out after the poll interval. The request is the realistic 0200 sale
 * (samples.ts) and the answer the same bytes with the TPDU swapped (the same length as a 0210).
 * The terminal's bytes are prepared before timing (they are the terminal's work, not the NAC's);
 * timers go to a clock that only holds them, and the poll timer is fired by hand, so what is
 * timed is the SDLC primary's own work. The relay and the platform link are not in it
 * (bench:relay measures those).
 *
 * Wire time: every frame as flag + address + control + information + FCS (2) + flag, 8 bits a
 * byte at 1200 bps, with no bit stuffing (stuffing only lengthens the wire, so the share printed
 * is if anything too high); plus one poll interval (200 ms, the default), the time the terminal
 * waits for the poll that lets it speak.
 *
 * Target: the NAC's CPU is under 1% of a transaction's time on the line.
 */
import { Buffer } from 'node:buffer';
import { SDLC_DEFAULTS, SdlcPrimary, zeroSdlcCounters } from '../../src/access/sdlc-framing';
import type { Clock, TimerHandle } from '../../src/clock';
import { encodeSdlcFrame, SDLC_TERMINAL_ADDRESS, type SdlcFrame } from '../../src/codec/sdlc';
import { encodeV80Frame } from '../../src/codec/v80';
import { formatRate, loadNote, measureOne, targetLine } from './measure';
import { salePayload } from './samples';

const LINE_BPS = 1200;

/** Holds timers without running them; the bench fires the poll itself. */
class HeldClock implements Clock {
  pending: (() => void) | null = null;
  now(): number {
    return 0;
  }
  setTimeout(callback: () => void, _ms: number): TimerHandle {
    this.pending = callback;
    return {
      cancel: () => {
        if (this.pending === callback) this.pending = null;
      },
    };
  }
  fire(): void {
    const callback = this.pending;
    this.pending = null;
    callback?.();
  }
}

const wire = (frame: SdlcFrame): Buffer => encodeV80Frame(encodeSdlcFrame(frame));
const a = SDLC_TERMINAL_ADDRESS;

function main(): void {
  const request = salePayload();
  const answer = Buffer.concat([Buffer.from([0x60, 0x00, 0x00, 0x00, 0x03]), request.subarray(5)]);
  // The terminal's side of exchange k (mod 8): its request I-frame, then its RR acknowledging the answer.
  const requests = Array.from({ length: 8 }, (_, k) => wire({ kind: 'I', address: a, ns: k, nr: k, pf: true, info: request }));
  const acks = Array.from({ length: 8 }, (_, k) => wire({ kind: 'S', address: a, type: 'RR', nr: (k + 1) % 8, pf: true }));
  const ua = wire({ kind: 'U', address: a, type: 'UA', pf: true, info: Buffer.alloc(0) });
  const idleReply = (nr: number): Buffer => wire({ kind: 'S', address: a, type: 'RR', nr, pf: true });

  const clock = new HeldClock();
  const counters = zeroSdlcCounters();
  let relayed = 0;
  let written = 0;
  let errors = 0;
  const primary = new SdlcPrimary(
    {
      write: (bytes) => {
        written += bytes.length;
        return true;
      },
      clock,
      events: {
        frame: () => {
          relayed++;
        },
        error: () => {
          errors++;
        },
        discarded: () => undefined,
      },
    },
    { counters },
  );
  primary.receive(ua);
  clock.fire(); // the first poll
  let k = 0;
  const exchange = (): void => {
    primary.receive(requests[k]);
    primary.send(answer);
    primary.receive(acks[k]);
    clock.fire(); // the next poll, after the interval
    k = (k + 1) % 8;
  };
  // An idle poll cycle: the NAC's RR with P and the terminal's RR with F, nothing to send.
  const idle = (): void => {
    primary.receive(idleReply(k));
    clock.fire();
  };

  // Checked before anything is timed: each exchange relays one request and sends one answer, no reset.
  for (let i = 0; i < 800; i++) exchange();
  for (let i = 0; i < 100; i++) idle();
  if (relayed !== 800 || counters.iFramesOut !== 800 || counters.linkResets !== 0 || counters.retransmissionsIn !== 0 || errors !== 0 || primary.state.phase !== 'up') {
    throw new Error(`bench:sdlc: the exchange is not what it should be: relayed ${relayed}, I-frames out ${counters.iFramesOut}, resets ${counters.linkResets}, errors ${errors}`);
  }

  process.stdout.write(`bench:sdlc (R-MDM-7): ${loadNote()}\n`);
  const perExchange = measureOne({ name: 'SDLC exchange (request I in, answer I out, RR in, poll out)', op: exchange, batch: 200 });
  const perIdle = measureOne({ name: 'idle poll cycle (RR F in, RR P out)', op: idle, batch: 200 });
  process.stdout.write(`${formatRate(perExchange)}\n${formatRate(perIdle)}\n`);
  if (counters.linkResets !== 0 || errors !== 0) throw new Error('bench:sdlc: the link was reset while timed');

  const frameBytes = (info: number): number => 1 + 1 + 1 + info + 2 + 1;
  const wireBytes = frameBytes(request.length) + frameBytes(answer.length) + 2 * frameBytes(0);
  const wireMs = (wireBytes * 8 * 1000) / LINE_BPS;
  const transactionMs = wireMs + SDLC_DEFAULTS.pollIntervalMs;
  const cpuMs = perExchange.cpuNsPerOp / 1e6;
  const share = (cpuMs / transactionMs) * 100;
  process.stdout.write(
    `request ${request.length} bytes, answer ${answer.length} bytes: ${wireBytes} bytes of frames on the line = ${wireMs.toFixed(1)} ms at ${LINE_BPS} bps, ` +
      `+ poll interval ${SDLC_DEFAULTS.pollIntervalMs} ms = ${transactionMs.toFixed(1)} ms per transaction\n`,
  );
  process.stdout.write(`NAC CPU per exchange ${(cpuMs * 1000).toFixed(1)} us; per idle poll cycle ${(perIdle.cpuNsPerOp / 1000).toFixed(1)} us (one every ${SDLC_DEFAULTS.pollIntervalMs} ms per connected line)\n`);
  process.stdout.write(`${targetLine('sdlc NAC share of a transaction', `${share.toFixed(4)}%`, '< 1%', share < 1)}\n`);
}

main();
