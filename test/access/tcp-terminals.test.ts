import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { ManualClock } from '../../src/clock';
import { binary2, encodeLengthPrefixed, LengthPrefixedDecoder } from '../../src/codec/length-prefix';
import { nacConfigSchema } from '../../src/nac/config';
import { Nac } from '../../src/nac/nac';
import { echoResponse, LoopbackPlatform } from '../../tools/bench/loopback-platform';
import { until } from '../support/wait';

/**
 * An 0800 echo test from terminal `tid` (8 characters) with STAN `stan` (6 digits), its TPDU
 * originator `n` in 4 hex digits: each terminal's own, which its answer must carry back (R-MSG-1).
 */
function echoTest(n: number, tid: string, stan: string): Buffer {
  const tpdu = '600003' + n.toString(16).padStart(4, '0');
  return Buffer.concat([Buffer.from(tpdu + '603100310000' + '0800' + '0020000000C00000' + stan, 'hex'), Buffer.from(tid + '123456789012345', 'ascii')]);
}

interface TcpTerminal {
  socket: Socket;
  answers: Buffer[];
}

describe('access/tcp-terminals: TCP terminals through the NAC terminal listener', function () {
  this.timeout(20_000);
  let platform: LoopbackPlatform;
  let nac: Nac;
  const terminals: TcpTerminal[] = [];

  beforeEach(async () => {
    platform = new LoopbackPlatform();
    const ports = await platform.start();
    nac = new Nac(
      nacConfigSchema.parse({
        hosts: [{ name: 'cups', default: true, allowSingleLink: true, links: ports.map((port) => ({ host: '127.0.0.1', port })) }],
        terminalListener: { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'], addressFrom: '8001', addressTo: '8008' },
      }),
    );
    await nac.start();
    await until(() => [...nac.relay.hosts.values()][0].group.links.every((l) => l.isUp), 'both links up');
  });

  afterEach(async () => {
    for (const t of terminals.splice(0)) t.socket.destroy();
    await nac.close();
    await platform.close();
  });

  async function openTerminals(count: number): Promise<TcpTerminal[]> {
    const opened = await Promise.all(
      Array.from(
        { length: count },
        () =>
          new Promise<TcpTerminal>((resolve, reject) => {
            const socket = connect({ host: '127.0.0.1', port: nac.listener?.boundPort ?? 0 }, () => resolve(terminal));
            const terminal: TcpTerminal = { socket, answers: [] };
            const decoder = new LengthPrefixedDecoder(binary2);
            socket.on('data', (chunk: Buffer) => decoder.push(chunk, (e) => e.type === 'frame' && terminal.answers.push(e.frame)));
            socket.once('error', reject);
          }),
      ),
    );
    terminals.push(...opened);
    await until(() => nac.listener?.connections === count, 'every terminal accepted');
    return opened;
  }

  const bytesIn = () => nac.listener?.bytes.in ?? 0;

  it('R-FRAME-1: frames that arrive in pieces interleaved with other terminals\' pieces each come back as their own answer', async () => {
    const opened = await openTerminals(3);
    const requests = opened.map((_, i) => echoTest(i + 1, `TERM000${i}`, `00010${i}`));
    // Cut inside the length prefix, the TPDU and the message: each piece a read of its own, every
    // terminal's next piece read after the others' pieces.
    const cuts = [1, 4, 21];
    for (let piece = 0; piece <= cuts.length; piece++) {
      for (const [i, t] of opened.entries()) {
        const frame = encodeLengthPrefixed(binary2, requests[i]);
        const part = frame.subarray(piece === 0 ? 0 : cuts[piece - 1], piece < cuts.length ? cuts[piece] : frame.length);
        const before = bytesIn();
        t.socket.write(part);
        await until(() => bytesIn() === before + part.length, `piece ${piece} of terminal ${i} read`);
      }
    }
    await until(() => opened.every((t) => t.answers.length === 1), 'an answer at every terminal');
    opened.forEach((t, i) => assert.deepEqual(t.answers[0], echoResponse(requests[i]), `terminal ${i}'s own answer`));
    assert.equal(nac.relay.counters.responses, 3);
    assert.deepEqual(nac.relay.counters.rejected, {});
    assert.equal(nac.relay.counters.unmatched, 0);
  });

  it('R-FRAME-1: whole frames written by every terminal at once each come back as their own answer', async () => {
    const opened = await openTerminals(8);
    // All written before any answer is back: each terminal must still get its own answer.
    for (let round = 0; round < 20; round++) {
      const requests = opened.map((_, i) => echoTest(i + 1, `TERM000${i}`, String(200000 + round * 10 + i)));
      opened.forEach((t, i) => t.socket.write(encodeLengthPrefixed(binary2, requests[i])));
      await until(() => opened.every((t) => t.answers.length === round + 1), `round ${round} answered at every terminal`);
      opened.forEach((t, i) => assert.deepEqual(t.answers[round], echoResponse(requests[i]), `round ${round}: terminal ${i}'s own answer`));
    }
    assert.equal(nac.relay.counters.responses, 8 * 20);
    assert.equal(nac.relay.counters.unmatched, 0);
  });
});

/**
 * The listener cannot be starved (issue: 255 idle sockets locked every TCP terminal out): only
 * messages keep a connection alive, an empty pool takes the longest-idle connection's address,
 * and sources and frame rates are limited, each refusal counted.
 */
describe('access/tcp-terminals: a listener that idle or flooding connections cannot starve (injected clock)', function () {
  this.timeout(20_000);
  let platform: LoopbackPlatform;
  let nac: Nac;
  let clock: ManualClock;
  const sockets: Socket[] = [];

  async function start(listener: Record<string, unknown>): Promise<void> {
    clock = new ManualClock();
    platform = new LoopbackPlatform();
    const ports = await platform.start();
    nac = new Nac(
      nacConfigSchema.parse({
        hosts: [{ name: 'cups', default: true, allowSingleLink: true, links: ports.map((port) => ({ host: '127.0.0.1', port })) }],
        terminalListener: { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'], addressFrom: '8001', addressTo: '8002', ...listener },
      }),
      { clock },
    );
    await nac.start();
    await until(() => [...nac.relay.hosts.values()][0].group.links.every((l) => l.isUp), 'both links up');
  }

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await nac?.close();
    await platform?.close();
  });

  async function open(): Promise<{ socket: Socket; answers: Buffer[]; closed: Promise<void> }> {
    const socket = connect({ host: '127.0.0.1', port: nac.listener?.boundPort ?? 0 });
    sockets.push(socket);
    socket.on('error', () => undefined);
    const answers: Buffer[] = [];
    const decoder = new LengthPrefixedDecoder(binary2);
    socket.on('data', (chunk: Buffer) => decoder.push(chunk, (e) => e.type === 'frame' && answers.push(e.frame)));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, answers, closed };
  }

  it('R-IDLE-1: keep-alives alone do not keep a terminal connection (and its line address): it is dropped after idleTimeoutSeconds without a message', async () => {
    await start({ idleTimeoutSeconds: 10 });
    const idler = await open();
    await until(() => nac.listener?.connections === 1, 'accepted');
    // A keep-alive every second for 10 s: the connection is still dropped at 10 s.
    for (let s = 0; s < 10; s++) {
      idler.socket.write(Buffer.from([0, 0]));
      await until(() => nac.listener?.bytes.in === 2 * (s + 1), `keep-alive ${s + 1} read by the NAC`);
      clock.advance(1_000);
    }
    await idler.closed;
    assert.equal(nac.listener?.connections, 0);
  });

  it('an empty address pool takes the address of the connection longest without a message; the newcomer is relayed (counted as reclaimed)', async () => {
    await start({});
    const first = await open();
    clock.advance(1_000);
    const second = await open();
    await until(() => nac.listener?.connections === 2, 'both idle connections hold the two addresses');
    clock.advance(1_000);
    const good = await open();
    await first.closed;
    assert.equal(nac.listener?.counters.reclaimed, 1);
    assert.equal(nac.listener?.counters.poolExhausted, 0);
    good.socket.write(encodeLengthPrefixed(binary2, echoTest(1, 'TERM0001', '000001')));
    await until(() => good.answers.length === 1, 'the newcomer answered');
    assert.equal(second.socket.destroyed, false, 'the more recent idle connection stays');
  });

  it('one source may hold maxConnectionsPerSource connections; the next is refused and counted', async () => {
    await start({ maxConnectionsPerSource: 1 });
    await open();
    await until(() => nac.listener?.connections === 1, 'the first accepted');
    const second = await open();
    await second.closed;
    assert.equal(nac.listener?.counters.sourceLimited, 1);
    assert.equal(nac.listener?.connections, 1);
  });

  it('a connection sending more than maxFramesPerSecond frames (keep-alives included) is dropped and counted, and its source refused for rateLimitPenaltySeconds', async () => {
    await start({ maxFramesPerSecond: 5, rateLimitPenaltySeconds: 30 });
    const flooder = await open();
    flooder.socket.write(Buffer.alloc(2 * 6)); // six keep-alives at once
    await flooder.closed;
    assert.equal(nac.listener?.counters.rateLimited, 1);
    const again = await open();
    await again.closed;
    assert.equal(nac.listener?.counters.penalized, 1, 'the flooding source is refused at once');
    clock.advance(30_000);
    await open();
    await until(() => nac.listener?.connections === 1, 'accepted once the penalty is over');
  });
});
