import assert from 'node:assert/strict';
import type { Link } from '../../src/link/link';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ManualClock } from '../../src/clock';
import { binary2, encodeLengthPrefixed, LengthPrefixedDecoder } from '../../src/codec/length-prefix';
import { NacbridgeError } from '../../src/errors';
import type { LinkGroup } from '../../src/link/link-group';
import { MessageCodec } from '../../src/iso8583/codec';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { nacConfigSchema } from '../../src/nac/config';
import { Nac } from '../../src/nac/nac';
import { startStatusServer } from '../../src/nac/observability';
import { FrameTrace } from '../../src/nac/trace';
import type { FramedConnection } from '../../src/link/framed-connection';
import { echoResponse, LoopbackPlatform } from '../../tools/bench/loopback-platform';
import { callPair } from '../../src/sim/modem/call-pair';
import { BENCH_CARD, BENCH_TMK, startSimBench, type SimBench } from '../../src/sim/bench/bench';
import { failOneAccept } from '../support/accept-failure';
import { DeafHost, fillBacklog } from '../support/deaf-host';
import { twoPortServer } from '../support/link-server';
import { until } from '../support/wait';

function fetch(port: number, urlPath: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: urlPath }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
}

describe('NAC observability: /metrics, /status, --trace, graceful drain', function () {
  this.timeout(20_000);
  let bench: SimBench;
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-obs-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await bench?.close();
  });

  it('/metrics (Prometheus) and /status (JSON) read over HTTP during a run', async () => {
    bench = await startSimBench({ lines: 1 });
    const status = await startStatusServer(bench.nac, '127.0.0.1', 0);
    try {
      const call = await bench.dial(0, '50582613');
      const during = JSON.parse((await fetch(status.port, '/status')).body);
      assert.equal(during.lines[0].state, 'connected');
      assert.equal(during.lines[0].call.callerId, '50582613');
      assert.deepEqual(during.hosts[0].links.map((l: { state: string }) => l.state), ['up', 'up']);
      assert.equal(typeof during.hosts[0].links[0].uptimeSeconds, 'number');
      await call.terminal.signOn();
      await call.terminal.sale({ pan: BENCH_CARD.pan }, '100', BENCH_CARD.pin);
      const metrics = await fetch(status.port, '/metrics');
      assert.equal(metrics.status, 200);
      assert.match(metrics.type, /^text\/plain/);
      const text = metrics.body;
      assert.match(text, /nacbridge_calls_offered_total\{line="line1"\} 1/);
      assert.match(text, /nacbridge_calls_answered_total\{line="line1"\} 1/);
      assert.match(text, /nacbridge_caller_id_total\{line="line1",present="true"\} 1/);
      assert.match(text, /nacbridge_frames_total\{where="line",name="line1",direction="in"\} 2/);
      assert.match(text, /nacbridge_responses_total\{host="cups",outcome="answered"\} 2/);
      assert.match(text, /nacbridge_link_up\{host="cups",link="cups-1",state="up"\} 1/);
      assert.match(text, /nacbridge_relay_latency_seconds_count\{host="cups"\} 2/);
      assert.match(text, /nacbridge_keepalives_total\{link="cups-1",direction="sent"\} 0/);
      assert.match(text, /nacbridge_line_state\{line="line1",state="connected"\} 1/);
      assert.match(text, /nacbridge_line_retries_total\{line="line1",kind="reopen"\} 0/);
      assert.doesNotMatch(text, /nacbridge_terminal_connections_total/, 'no terminal listener configured');
      assert.equal((await fetch(status.port, '/nope')).status, 404);
      assert.ok(!text.includes(BENCH_CARD.pan) && !text.includes(BENCH_TMK));
    } finally {
      await status.close();
    }
  });

  it('/metrics carries the process figures under their usual names: resident memory, CPU, open fds, event-loop lag', async () => {
    const platform = new LoopbackPlatform();
    const ports = await platform.start();
    const nac = new Nac(nacConfigSchema.parse({ hosts: [{ name: 'cups', default: true, allowSingleLink: true, links: ports.map((port) => ({ host: '127.0.0.1', port })) }] }));
    await nac.start();
    const first = await startStatusServer(nac, '127.0.0.1', 0);
    // The process figures are made once per process; a second endpoint reports them too.
    const second = await startStatusServer(nac, '127.0.0.1', 0);
    try {
      const text = (await fetch(first.port, '/metrics')).body;
      const value = (name: string): number => {
        const m = new RegExp(`^${name} (\\S+)`, 'm').exec(text);
        assert.ok(m, `${name} in /metrics`);
        return Number(m[1]);
      };
      // The endpoint runs in this process, so it reports this process's resident memory.
      const rss = process.memoryUsage().rss;
      assert.ok(Math.abs(value('process_resident_memory_bytes') - rss) < rss / 2, `RSS near ${rss}`);
      assert.ok(value('process_cpu_seconds_total') > 0);
      assert.ok(value('process_open_fds') > 0);
      assert.ok(value('nodejs_eventloop_lag_seconds') >= 0);
      assert.match((await fetch(second.port, '/metrics')).body, /^process_resident_memory_bytes \d+/m);
    } finally {
      await first.close();
      await second.close();
      await nac.close();
      await platform.close();
    }
  });

  it('/metrics counts TCP terminals accepted, refused by the allow-list, closed so that a newcomer could have their line address, and frames never relayed', async () => {
    const platform = new LoopbackPlatform();
    const ports = await platform.start();
    const nac = new Nac(
      nacConfigSchema.parse({
        hosts: [{ name: 'cups', default: true, allowSingleLink: true, links: ports.map((port) => ({ host: '127.0.0.1', port })) }],
        // One line address only: a second terminal at the same time takes it from the first.
        terminalListener: { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'], addressFrom: '8001', addressTo: '8001' },
      }),
    );
    const sockets: Socket[] = [];
    const open = (localAddress: string) =>
      new Promise<Socket>((resolve) => {
        const s = connect({ host: '127.0.0.1', port: nac.listener?.boundPort ?? 0, localAddress }, () => resolve(s));
        s.on('error', () => undefined);
        sockets.push(s);
      });
    await nac.start();
    const status = await startStatusServer(nac, '127.0.0.1', 0);
    try {
      await open('127.0.0.1');
      await until(() => (nac.listener?.counters.calls ?? 0) === 1, 'first terminal accepted');
      const second = await open('127.0.0.1');
      await open('127.0.0.2');
      await until(() => nac.listener?.counters.reclaimed === 1 && (nac.listener?.counters.refused ?? 0) === 1, 'the first closed for the second, the third refused');
      // Three bytes: no room for a TPDU, so nothing to route.
      second.write(encodeLengthPrefixed(binary2, Buffer.from('600003', 'hex')));
      await until(() => (nac.relay.counters.rejected['bad-frame'] ?? 0) === 1, 'the short frame rejected');
      const text = (await fetch(status.port, '/metrics')).body;
      assert.match(text, /nacbridge_terminal_connections_total\{outcome="accepted"\} 2/);
      assert.match(text, /nacbridge_terminal_connections_total\{outcome="refused"\} 1/);
      assert.match(text, /nacbridge_terminal_connections_total\{outcome="no-address"\} 0/);
      assert.match(text, /nacbridge_terminal_drops_total\{reason="reclaimed"\} 1/);
      assert.match(text, /nacbridge_frames_rejected_total\{reason="bad-frame"\} 1/);
      // The rejected frame still came in: 2 length bytes and 3 of payload.
      assert.match(text, /nacbridge_frames_total\{where="listener",name="terminals",direction="in"\} 1/);
      assert.match(text, /nacbridge_bytes_total\{where="listener",name="terminals",direction="in"\} 5/);
      assert.match(text, /nacbridge_terminal_connections_total\{outcome="accept-error"\} 0/);
      assert.match(text, /nacbridge_status_accept_errors_total 0/);

      // A failed accept on either listener is counted, and both go on serving.
      failOneAccept(nac.listener?.boundPort ?? 0);
      failOneAccept(status.port, 'ENOMEM');
      // The one line address is taken: a newcomer taking it shows it was accepted.
      const third = await open('127.0.0.1');
      await until(() => nac.listener?.counters.reclaimed === 2, 'a terminal accepted after the failure');
      const after = (await fetch(status.port, '/metrics')).body;
      assert.match(after, /nacbridge_terminal_connections_total\{outcome="accept-error"\} 1/);
      assert.match(after, /nacbridge_status_accept_errors_total 1/);

      // A connection's bytes stay counted once it has ended (the second's 5), and a terminal's answer counts going out.
      let answered = false;
      third.once('data', () => (answered = true));
      // An 0800 echo test: STAN 000001, terminal 12345678, merchant 123456789012345.
      const request = Buffer.concat([Buffer.from('6000030000' + '603100310000' + '0800' + '0020000000C00000' + '000001', 'hex'), Buffer.from('12345678' + '123456789012345', 'ascii')]);
      third.write(encodeLengthPrefixed(binary2, request));
      await until(() => answered && nac.relay.counters.responses === 1, 'the answer delivered');
      const last = (await fetch(status.port, '/metrics')).body;
      assert.match(last, new RegExp(`nacbridge_bytes_total\\{where="listener",name="terminals",direction="in"\\} ${5 + 2 + request.length}\n`));
      assert.match(last, /nacbridge_frames_total\{where="listener",name="terminals",direction="out"\} 1\n/);
      const listener = JSON.parse((await fetch(status.port, '/status')).body).terminalListener;
      assert.equal(listener.connections, 1);
      assert.equal(listener.counters.calls, 3, 'each terminal was given the line address in turn');
      assert.equal(listener.counters.bytesIn, 5 + 2 + request.length);
      assert.equal(listener.counters.bytesOut, 2 + request.length, 'the echo is as long as the request');
    } finally {
      for (const s of sockets) s.destroy();
      await status.close();
      await nac.close();
      await platform.close();
    }
  });

  it('--trace writes every relayed frame with hex and decoded fields, redacted', async () => {
    bench = await startSimBench({ lines: 1 });
    const file = path.join(dir, 'trace.jsonl');
    const trace = await FrameTrace.open(file, bench.nac.relay, new MessageCodec(unionpayPos));
    const call = await bench.dial(0, '50582613');
    await call.terminal.signOn();
    await call.terminal.sale({ pan: BENCH_CARD.pan }, '100', BENCH_CARD.pin);
    await trace.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.direction, l.decoded.mti]), [
      ['to-host', '0800'],
      ['to-terminal', '0810'],
      ['to-host', '0200'],
      ['to-terminal', '0210'],
    ]);
    assert.equal(lines[0].decoded.dialMonitor.ani, '50582613');
    assert.equal(lines[1].decoded.fields['62'], '***');
    assert.match(lines[1].hex, /\*{80}/, 'field 62 bytes starred in the hex');
    assert.equal(lines[2].decoded.fields['2'], '621214*********0012');
    assert.equal(lines[2].decoded.fields['52'], '***');
    const all = readFileSync(file, 'utf8');
    // BCD hex shows a PAN's digits as they are, so this covers the hex as well as the decoded form.
    assert.ok(!all.includes(BENCH_CARD.pan), 'no full PAN, decoded or in hex digits');
  });

  it('--trace to a path that cannot be opened is a TRACE_UNWRITABLE error naming the file', async () => {
    bench = await startSimBench({ lines: 1 });
    const file = path.join(dir, 'no-such-dir', 'trace.jsonl');
    await assert.rejects(FrameTrace.open(file, bench.nac.relay, new MessageCodec(unionpayPos)), (e: unknown) => {
      assert.ok(e instanceof NacbridgeError);
      assert.equal(e.code, 'TRACE_UNWRITABLE');
      assert.equal(e.context.file, file);
      return true;
    });
  });

  it('--trace on a file that fails mid-run (a full disk) stops the trace, not the relay: reported once, lost records counted', async () => {
    bench = await startSimBench({ lines: 1 });
    const failures: Error[] = [];
    // /dev/full takes the open and fails every write with ENOSPC.
    const trace = await FrameTrace.open('/dev/full', bench.nac.relay, new MessageCodec(unionpayPos), (e) => failures.push(e));
    const call = await bench.dial(0, '50582613');
    assert.equal((await call.terminal.signOn()).responseCode, '00');
    await until(() => failures.length > 0, 'the write failure reported');
    assert.equal((await call.terminal.echo()).responseCode, '00', 'still relaying after the trace failed');
    assert.equal((await call.terminal.echo()).responseCode, '00');
    assert.equal(failures.length, 1, 'reported once');
    assert.match(failures[0].message, /ENOSPC/);
    // Every relayed frame is either handed to the file or counted lost; the sign-on's two may go
    // either way (the failure surfaces asynchronously), the echoes after it are lost.
    assert.equal(trace.counts.written + trace.counts.lost, 6);
    assert.ok(trace.counts.lost >= 4, JSON.stringify(trace.counts));
    await trace.close();
  });

  it('drain: a call that rings during the drain is not answered; a request in flight is answered before the lines hang up', async () => {
    bench = await startSimBench({ lines: 2, platform: { faults: [{ mti: '0800', action: 'delay', seconds: 1 }] } });
    const call = await bench.dial(0, '50582613');
    const echo = call.terminal.echo();
    await until(() => bench.nac.relay.inFlight === 1, 'request in flight');
    const secondLine = bench.nac.lines[1].line;
    const secondStates: string[] = [];
    secondLine.on('state', (state) => secondStates.push(state));
    const drained = bench.nac.drain(5000);
    // The emulator answers a call within about 0.1 s of its first ring, well inside the 1 s the
    // platform holds the echo: a ring now would be answered if the drain did not stop it.
    const modem = await bench.ends[1].modem();
    modem.ring({ number: '50582614', format: 'formatted' }, callPair().modem);
    await until(() => secondLine.counters.callsOffered === 1, 'the second line rings');
    assert.deepEqual(await drained, { inFlightAtStart: 1, answered: 1, refused: 0, dropped: 0, leftAtDeadline: 0 });
    assert.equal((await echo).responseCode, '00', 'answered during the drain');
    assert.equal(secondLine.counters.callsAnswered, 0);
    assert.ok(!secondStates.includes('answering') && !secondStates.includes('connected'), secondStates.join(' '));
    assert.equal(bench.nac.lines[0].line.state, 'closed');
  });

  it('drain: the terminal listener refuses new connections; an open terminal gets its answer, and its request sent during the drain is refused and counted, never relayed', async () => {
    // A platform that answers only when the test says so, to hold a request in flight.
    const held: { request: Buffer; connection: FramedConnection }[] = [];
    const platform = await twoPortServer('held-platform');
    platform.on('frame', (request, connection) => held.push({ request, connection }));
    const nac = new Nac(
      nacConfigSchema.parse({
        hosts: [{ name: 'cups', default: true, allowSingleLink: true, links: platform.ports.map((port) => ({ host: '127.0.0.1', port })) }],
        terminalListener: { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'], addressFrom: '8001', addressTo: '8002' },
      }),
    );
    await nac.start();
    const port = nac.listener?.boundPort ?? 0;
    const terminal = connect({ host: '127.0.0.1', port });
    try {
      await until(() => [...nac.relay.hosts.values()].every((h) => h.group.upLinks.length === 2), 'links up');
      const responses: Buffer[] = [];
      const decoder = new LengthPrefixedDecoder(binary2);
      terminal.on('data', (chunk) => decoder.push(chunk, (e) => e.type === 'frame' && responses.push(e.frame)));
      terminal.write(encodeLengthPrefixed(binary2, Buffer.from('6000030000' + '603100310000' + '0800' + '0020000000C00000' + '000001', 'hex')));
      await until(() => held.length === 1 && nac.relay.inFlight === 1, 'request held at the platform');
      const drained = nac.drain(5000);
      const refused = await new Promise<string>((resolve) => {
        const late = connect({ host: '127.0.0.1', port });
        late.on('connect', () => {
          late.destroy();
          resolve('connected');
        });
        late.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
      assert.equal(refused, 'ECONNREFUSED');
      // The open terminal sends another request during the drain: refused and counted, never relayed.
      terminal.write(encodeLengthPrefixed(binary2, Buffer.from('6000030000' + '603100310000' + '0800' + '0020000000C00000' + '000002', 'hex')));
      await until(() => nac.relay.counters.rejected['shutting-down'] === 1, 'the late request refused');
      held[0].connection.send(echoResponse(held[0].request));
      assert.deepEqual(await drained, { inFlightAtStart: 1, answered: 1, refused: 1, dropped: 0, leftAtDeadline: 0 });
      assert.equal(held.length, 1, 'the request sent during the drain never reached the platform');
      assert.equal(responses.length, 1, 'the open terminal got its answer');
      assert.equal(responses[0].subarray(0, 5).toString('hex'), '6000000003', "the terminal's own TPDU, swapped");
    } finally {
      terminal.destroy();
      await nac.close();
      await platform.close();
    }
  });

  /**
   * A NAC whose host has a deaf first link (it accepts and reads nothing) and a live loopback
   * platform behind the second, a status endpoint, and one TCP terminal, all on an injected clock.
   */
  async function deafAndLiveNac(host: Record<string, unknown>) {
    const clock = new ManualClock();
    const deaf = new DeafHost();
    const platform = new LoopbackPlatform();
    const [deafPort, [livePort]] = await Promise.all([deaf.start(), platform.start()]);
    const nac = new Nac(
      nacConfigSchema.parse({
        hosts: [{ name: 'cups', default: true, allowSingleLink: true, links: [deafPort, livePort].map((port) => ({ host: '127.0.0.1', port })), ...host }],
        terminalListener: { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
      }),
      { clock },
    );
    await nac.start();
    const status = await startStatusServer(nac, '127.0.0.1', 0);
    const terminal = connect({ host: '127.0.0.1', port: nac.listener?.boundPort ?? 0 });
    const group = nac.relay.hosts.get('cups')?.group as LinkGroup;
    const responses: Buffer[] = [];
    const decoder = new LengthPrefixedDecoder(binary2);
    terminal.on('data', (chunk) => decoder.push(chunk, (e) => e.type === 'frame' && responses.push(e.frame)));
    await until(() => group.upLinks.length === 2, 'links up');
    return {
      clock,
      nac,
      group,
      responses,
      metrics: async () => (await fetch(status.port, '/metrics')).body,
      status: async () => JSON.parse((await fetch(status.port, '/status')).body),
      /** An 0800 echo test from the terminal. */
      send: (stan: string) => terminal.write(encodeLengthPrefixed(binary2, Buffer.from('6000030000' + '603100310000' + '0800' + '0020000000C00000' + stan, 'hex'))),
      async close() {
        terminal.destroy();
        await status.close();
        await nac.close();
        await Promise.all([platform.close(), deaf.close()]);
      },
    };
  }

  it('a platform link that stops reading: requests go through its sibling, /metrics and /status show the backlog, and the link is dropped as write-stalled', async () => {
    const bench = await deafAndLiveNac({ writeStallSeconds: 30, maxQueuedBytes: 32 * 1024 });
    try {
      const [deafLink] = bench.group.links;
      fillBacklog(deafLink as Link, 32 * 1024); // what the hung platform left unread
      for (const stan of ['000001', '000002']) {
        bench.send(stan);
        await until(() => bench.responses.length === Number(stan), `answer to STAN ${stan}`);
      }
      assert.equal(bench.nac.relay.counters.responses, 2);
      const text = await bench.metrics();
      const queued = Number(/nacbridge_link_queued_bytes\{host="cups",link="cups-1"\} (\d+)/.exec(text)?.[1]);
      assert.ok(queued >= 32 * 1024, `cups-1 backlog ${queued}`);
      assert.match(text, /nacbridge_link_queued_bytes\{host="cups",link="cups-2"\} 0/);
      assert.equal((await bench.status()).hosts[0].links[0].queuedBytes, queued);

      bench.clock.advance(30_000);
      await until(() => deafLink.state === 'down', 'the stalled link dropped');
      const after = await bench.metrics();
      assert.match(after, /nacbridge_link_disconnects_total\{link="cups-1",reason="write-stalled"\} 1/);
      assert.doesNotMatch(after, /nacbridge_link_disconnects_total\{link="cups-2"/);
      assert.match(after, /nacbridge_link_queued_bytes\{host="cups",link="cups-1"\} 0/);
    } finally {
      await bench.close();
    }
  });

  it('a platform link that black-holes requests is dropped as unanswered after reconnectAfterSilentTimeouts, counted in /metrics and /status', async () => {
    const bench = await deafAndLiveNac({ reconnectAfterSilentTimeouts: 1, responseTimeoutSeconds: 5 });
    try {
      const [deafLink] = bench.group.links;
      bench.send('000001'); // the first request goes to cups-1, which never answers
      await until(() => deafLink.counters.framesOut === 1, 'the request on cups-1');
      bench.clock.advance(5_000);
      await until(() => deafLink.state === 'down', 'the silent link dropped');
      assert.deepEqual(bench.nac.relay.counters.dropped, { timeout: 1 });
      assert.match(await bench.metrics(), /nacbridge_link_disconnects_total\{link="cups-1",reason="unanswered"\} 1/);
      assert.deepEqual((await bench.status()).hosts[0].links[0].counters.disconnectsBy, { unanswered: 1 });
      bench.send('000002');
      await until(() => bench.responses.length === 1, 'the next request answered through cups-2');
    } finally {
      await bench.close();
    }
  });
});
