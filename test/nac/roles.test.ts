import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { ManualClock } from '../../src/clock';
import { binary2, encodeLengthPrefixed, LengthPrefixedDecoder } from '../../src/codec/length-prefix';
import { Link } from '../../src/link/link';
import { ListeningLink } from '../../src/link/listening-link';
import { nacConfigSchema } from '../../src/nac/config';
import { Nac } from '../../src/nac/nac';
import { echoResponse } from '../../tools/bench/loopback-platform';
import { until } from '../support/wait';

/** An 0800 echo test from a TCP terminal (TPDU to NII 0003), STAN `stan`. */
function echoTest(stan: string): Buffer {
  return Buffer.concat([Buffer.from('6000030000' + '603100310000' + '0800' + '0020000000C00000' + stan, 'hex'), Buffer.from('TERM0001' + '123456789012345', 'ascii')]);
}

/** A TCP terminal on the NAC's terminal listener, collecting its answers. */
async function terminal(port: number): Promise<{ socket: Socket; answers: Buffer[] }> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const answers: Buffer[] = [];
  const decoder = new LengthPrefixedDecoder(binary2);
  socket.on('data', (chunk: Buffer) => decoder.push(chunk, (e) => e.type === 'frame' && answers.push(Buffer.from(e.frame))));
  return { socket, answers };
}

function listeningLinks(nac: Nac): ListeningLink[] {
  return [...nac.relay.hosts.values()][0].group.links.filter((l): l is ListeningLink => l instanceof ListeningLink);
}

/**
 * R-CONN-7: who is client and who is server. Terminals reach the platform through the NAC; for
 * merchants the platform is the client: a host with `listen` has the NAC listen and the platform
 * dial in, with the same allow-list (R-CONN-6), keep-alive and idle rules (R-IDLE-1..3).
 */
describe('nac: the host as client of the NAC (R-CONN-7)', function () {
  this.timeout(15_000);
  let nac: Nac | undefined;
  const opened: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of opened.splice(0).reverse()) await close();
    await nac?.close();
    nac = undefined;
  });

  async function startNac(host: Record<string, unknown>, clock?: ManualClock): Promise<Nac> {
    nac = new Nac(
      nacConfigSchema.parse({
        hosts: [{ name: 'merchant-platform', default: true, ...host }],
        terminalListener: { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'], addressFrom: '8001', addressTo: '8008' },
      }),
      clock ? { clock } : {},
    );
    await nac.start();
    return nac;
  }

  /** The platform as the client: it dials each port and answers every request on the connection it came on. */
  function platformDialling(ports: number[], framing: 'binary2' | 'ascii4', clock?: ManualClock): Link[] {
    return ports.map((port, i) => {
      const link = new Link({ name: `platform-${i + 1}`, host: '127.0.0.1', port, framing, reconnectInitialMs: 50, ...(clock ? { clock } : {}) });
      link.on('frame', (payload) => link.send(echoResponse(payload)));
      link.start();
      opened.push(() => link.close());
      return link;
    });
  }

  it('R-CONN-7, R-CONN-2: the platform dials the NAC\'s two ports; a terminal\'s request leaves on one of them and its answer comes back (merchant format, ascii4)', async () => {
    const n = await startNac({ framing: 'ascii4', listen: [{ host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] }, { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] }] });
    const links = listeningLinks(n);
    assert.equal(links.length, 2);
    const platform = platformDialling(links.map((l) => l.port), 'ascii4');
    await until(() => links.every((l) => l.isUp) && platform.every((l) => l.isUp), 'both connections up');
    const pos = await terminal(n.listener?.boundPort as number);
    opened.push(() => pos.socket.destroy());
    const request = echoTest('000001');
    pos.socket.write(encodeLengthPrefixed(binary2, request));
    await until(() => pos.answers.length === 1, 'the answer at the terminal');
    const asSent = echoResponse(request);
    assert.deepEqual(pos.answers[0], asSent, 'the terminal gets its own TPDU back, swapped, and the 0810');
    assert.equal(n.relay.counters.responses, 1);
    assert.equal(platform.reduce((sum, l) => sum + l.counters.framesIn, 0), 1, 'the request crossed one of the platform\'s connections');
  });

  it('R-CONN-6, R-CONN-7: a port refuses an address not in its allow-list before reading a byte, and the NAC goes on without it', async () => {
    const n = await startNac({ allowSingleLink: true, listen: [{ host: '127.0.0.1', port: 0, allow: ['10.1.2.3'] }] });
    const [link] = listeningLinks(n);
    const socket = connect({ host: '127.0.0.1', port: link.port });
    opened.push(() => socket.destroy());
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    assert.equal(link.refused, 1);
    assert.equal(link.isUp, false);
    assert.equal(link.counters.connects, 0);
  });

  it('R-CONN-6: an allowed newcomer on a port replaces the connection open there (a half-open one must not lock the platform out)', async () => {
    const n = await startNac({ allowSingleLink: true, listen: [{ host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] }] });
    const [link] = listeningLinks(n);
    const [first] = platformDialling([link.port], 'binary2');
    await until(() => link.isUp && first.isUp, 'the first connection');
    const [second] = platformDialling([link.port], 'binary2');
    await until(() => link.counters.connects === 2 && link.counters.disconnectsBy.replaced === 1, 'the newcomer took the port');
    assert.equal(link.isUp, true);
    await first.close();
    await until(() => second.isUp, 'the second connection up');
  });

  it('R-IDLE-1, R-CONN-7: on the terminal format the NAC as server sends no keep-alive and drops a platform silent for idleTimeoutSeconds; the platform dials again (R-CONN-3)', async () => {
    const clock = new ManualClock();
    const n = await startNac({ allowSingleLink: true, idleTimeoutSeconds: 180, listen: [{ host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] }] }, clock);
    const [link] = listeningLinks(n);
    // A raw client that never sends: the platform's side, silent.
    const socket = connect({ host: '127.0.0.1', port: link.port });
    opened.push(() => socket.destroy());
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    await until(() => link.isUp, 'the platform connected');
    clock.advance(179_000);
    assert.equal(link.isUp, true, 'still up before 180 s');
    assert.deepEqual(received, [], 'no keep-alive from the server on the terminal format');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    clock.advance(2_000);
    await closed;
    await until(() => !link.isUp, 'the link down');
    assert.equal(link.counters.disconnectsBy['idle-timeout'], 1);
    const [again] = platformDialling([link.port], 'binary2');
    await until(() => link.isUp && again.isUp, 'the platform dialled again');
  });

  it('R-IDLE-2, R-IDLE-3: on the merchant format the NAC as server sends "0000" after heartbeatSeconds of silence', async () => {
    const clock = new ManualClock();
    const n = await startNac({ framing: 'ascii4', allowSingleLink: true, heartbeatSeconds: 120, listen: [{ host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] }] }, clock);
    const [link] = listeningLinks(n);
    const socket = connect({ host: '127.0.0.1', port: link.port });
    opened.push(() => socket.destroy());
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    await until(() => link.isUp, 'the platform connected');
    clock.advance(119_000);
    assert.equal(received, '');
    clock.advance(1_000);
    await until(() => received === '0000', 'a keep-alive');
  });

  it('R-CONN-7: a host needs exactly one of links or listen, and listen names who may connect', () => {
    const parse = (host: Record<string, unknown>) => nacConfigSchema.safeParse({ hosts: [{ name: 'h', default: true, ...host }] });
    assert.equal(parse({ links: [{ host: '10.0.0.1', port: 1 }, { host: '10.0.0.2', port: 1 }], listen: [{ port: 5000, allow: ['10.0.0.9'] }] }).success, false);
    assert.equal(parse({}).success, false);
    assert.equal(parse({ listen: [{ port: 5000, allow: [] }, { port: 5001, allow: ['10.0.0.9'] }] }).success, false);
    assert.equal(parse({ listen: [{ port: 5000, allow: ['not-an-ip'] }, { port: 5001, allow: ['10.0.0.9'] }] }).success, false);
    assert.equal(parse({ listen: [{ port: 5000, allow: ['10.0.0.9'] }] }).success, false, 'one port without allowSingleLink');
    assert.equal(parse({ listen: [{ port: 5000, allow: ['10.0.0.9'] }, { port: 5001, allow: ['10.0.0.0/24'] }] }).success, true);
  });
});
