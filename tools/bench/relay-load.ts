/**
 * bench:relay's load generator, in a process of its own (forked by relay.ts, driven over IPC):
 * N closed-loop terminals (one request in flight each) send the realistic 0200 sale, each request
 * with a STAN of its own, and every answer is checked for its own MTI (0210) and STAN before it
 * counts; an answer that is not is counted wrong, and the terminal waits on for its own.
 */
import { connect, type Socket } from 'node:net';
import { binary2, LengthPrefixedDecoder } from '../../src/codec/length-prefix';
import { codec, framed, salePayload } from './samples';

export interface LoadRequest {
  port: number;
  terminals: number;
  seconds: number;
}

export interface LoadResult {
  tps: number;
  p50: number;
  p99: number;
  /** Transactions completed (answers with the request's MTI and STAN). */
  count: number;
  /** Answers with another MTI or STAN. */
  wrong: number;
  /** Terminals whose connection failed. */
  failed: number;
}

const TEMPLATE = framed(salePayload('000000'));
/** In the framed sale: the MTI's second byte and field 11's 3 BCD bytes (a fixed n6). */
const MTI_AT = 2 + 11;
const STAN_AT = 2 + codec.valueOffset(TEMPLATE.subarray(2), 11, 11);
let stanCounter = 0;

/** The next STAN, as BCD into the terminal's own frame (its previous request has been answered). */
function nextStan(frame: Buffer): void {
  stanCounter = (stanCounter % 999_999) + 1;
  const s = stanCounter;
  frame[STAN_AT] = ((Math.floor(s / 100_000) % 10) << 4) | Math.floor(s / 10_000) % 10;
  frame[STAN_AT + 1] = ((Math.floor(s / 1000) % 10) << 4) | Math.floor(s / 100) % 10;
  frame[STAN_AT + 2] = ((Math.floor(s / 10) % 10) << 4) | s % 10;
}

interface Terminal {
  socket: Socket;
  frame: Buffer;
  /** Called with each answer that matches the request in flight. */
  onAnswer: () => void;
  wrong: number;
}

/** Whether `answer` (a payload) is the 0210 with the STAN of `request` (a framed request). */
function answers(answer: Buffer, request: Buffer): boolean {
  const m = MTI_AT - 2;
  const s = STAN_AT - 2;
  return (
    answer.length === request.length - 2 &&
    answer[m] === request[MTI_AT] &&
    answer[m + 1] === request[MTI_AT + 1] + 0x10 &&
    answer[s] === request[STAN_AT] &&
    answer[s + 1] === request[STAN_AT + 1] &&
    answer[s + 2] === request[STAN_AT + 2]
  );
}

/**
 * A terminal's connection, ready when one request has gone through: a connect the peer has not
 * yet accepted (a full accept queue) would otherwise time its first request from the SYN's
 * retry, which is connection set-up, not relaying.
 */
function openTerminal(port: number): Promise<Terminal> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    const terminal: Terminal = { socket, frame: Buffer.from(TEMPLATE), onAnswer: () => resolve(terminal), wrong: 0 };
    const decoder = new LengthPrefixedDecoder(binary2);
    socket.on('data', (chunk) =>
      decoder.push(chunk, (e) => {
        if (e.type !== 'frame') return;
        if (answers(e.frame, terminal.frame)) terminal.onAnswer();
        else terminal.wrong++;
      }),
    );
    socket.once('error', reject);
    socket.once('connect', () => {
      nextStan(terminal.frame);
      socket.write(terminal.frame);
    });
  });
}

async function load(request: LoadRequest): Promise<LoadResult> {
  const settled = await Promise.allSettled(Array.from({ length: request.terminals }, () => openTerminal(request.port)));
  const opened = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const latencies: number[] = [];
  let done = 0;
  const deadline = process.hrtime.bigint() + BigInt(Math.round(request.seconds * 1e9));
  const started = process.hrtime.bigint();
  // A terminal still waiting 10 s after the end (its answer never came) is closed, and counted short.
  const stuck = setTimeout(() => {
    for (const t of opened) t.socket.destroy();
  }, request.seconds * 1000 + 10_000);
  await Promise.all(
    opened.map(
      (terminal) =>
        new Promise<void>((resolve) => {
          let t0 = process.hrtime.bigint();
          const send = () => {
            if (process.hrtime.bigint() >= deadline) return resolve();
            t0 = process.hrtime.bigint();
            nextStan(terminal.frame);
            terminal.socket.write(terminal.frame);
          };
          terminal.onAnswer = () => {
            latencies.push(Number(process.hrtime.bigint() - t0) / 1e3);
            done++;
            send();
          };
          terminal.socket.on('error', () => resolve());
          terminal.socket.on('close', () => resolve());
          send();
        }),
    ),
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  clearTimeout(stuck);
  for (const t of opened) t.socket.destroy();
  latencies.sort((a, b) => a - b);
  const pick = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return { tps: done / elapsed, p50: pick(0.5), p99: pick(0.99), count: done, wrong: opened.reduce((n, t) => n + t.wrong, 0), failed: request.terminals - opened.length };
}

if (require.main === module) {
  process.on('message', (request: LoadRequest) => {
    void load(request).then((result) => process.send?.(result));
  });
  process.on('disconnect', () => process.exit(0));
}
