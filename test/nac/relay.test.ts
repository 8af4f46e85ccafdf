import assert from 'node:assert/strict';
import { toHex } from '../../src/codec/hex';
import { encodeAsyncFrame, AsyncFrameDecoder } from '../../src/codec/async-frame';
import { buildTerminalMessage } from '../../src/iso8583/terminal-message';
import * as build from '../../src/terminal/messages';
import { CARD } from '../support/platform';
import { DNIS, addressOf, ptyLineEnd, startNacBench, tcpLineEnd, terminalIdOf, type LineEnd, type NacBench } from '../support/nac-bench';
import { until } from '../support/wait';

const TRANSPORTS: [string, () => Promise<LineEnd>][] = [
  ['real ptys', ptyLineEnd],
  ['tcp:// serial lines', tcpLineEnd],
];

for (const [transport, lineEnd] of TRANSPORTS) describe(`NAC over ${transport}: emulated modem <-> nacbridge NAC <-> platform simulator (two links)`, function () {
  this.timeout(20_000);
  let bench: NacBench;
  afterEach(async () => {
    await bench?.close();
  });

  it('R-DIAL-1, R-DIAL-2, R-MSG-1: caller ID 50582613 on DNIS 61651108 puts exactly the expected bytes on the wire', async () => {
    bench = await startNacBench(1, lineEnd);
    const { pos } = await bench.dial(0, '50582613');
    const message = build.echoTest({ terminalId: terminalIdOf(0), merchantId: '123456789012345' }, '000001');
    const payload = buildTerminalMessage(bench.codec, { tpdu: { id: 0x60, destination: '0003', originator: '0000' }, dialMonitor: null, header: '603100310000', message });
    const answers: Buffer[] = [];
    const decoder = new AsyncFrameDecoder();
    pos.on('data', (chunk: Buffer) => decoder.push(chunk, (e) => e.type === 'frame' && answers.push(e.frame)));
    pos.write(encodeAsyncFrame(payload));
    await until(() => answers.length === 1, 'response at the POS');
    const expected = '6000030001' + '4C5249001C' + '0000000050582613' + '0000000061651108' + '580009490006000000220030' + toHex(payload.subarray(5));
    assert.equal(toHex(bench.captured[0]), expected);
    assert.equal(toHex(answers[0].subarray(0, 5)), '6000000003', "the terminal's own TPDU, addresses swapped");
    assert.equal(toHex(answers[0].subarray(5, 11)), '603100310000', 'no dial block, header as sent');
    assert.equal(bench.sim.journal.entries[0].dialMonitor?.dnis, DNIS);
  });

  it('R-DIAL-4: a call without caller ID gets an all-zero ANI', async () => {
    bench = await startNacBench(1, lineEnd);
    const { terminal } = await bench.dial(0, null);
    assert.equal((await terminal.echo()).responseCode, '00');
    assert.equal(toHex(bench.captured[0].subarray(10, 18)), '0000000000000000');
    assert.equal(bench.nac.lines[0].line.counters.callerIdAbsent, 1);
  });

  it('a sign-on plus sale from the POS through the modem line to the platform succeeds (MAC and PIN verified)', async () => {
    bench = await startNacBench(1, lineEnd);
    const { terminal } = await bench.dial(0, '50582613');
    const signOn = await terminal.signOn();
    assert.equal(signOn.responseCode, '00');
    assert.deepEqual(signOn.keys.map((k) => k.pass), [true, true]);
    const sale = await terminal.sale({ pan: CARD.pan }, '1234', CARD.pin);
    assert.equal(sale.responseCode, '00');
    assert.equal(sale.macOk, true);
    assert.equal(bench.sim.core.ledger.cards.get(CARD.pan)?.balance, 100000n - 1234n);
  });

  it('R-CONN-5: the response sent back on the other link reaches the terminal with its own TPDU swapped', async () => {
    bench = await startNacBench(1, lineEnd, { faults: [{ action: 'other-connection' }] });
    const { terminal } = await bench.dial(0, '50582613');
    assert.equal((await terminal.echo()).responseCode, '00');
    assert.equal(bench.nac.relay.counters.responses, 1);
  });

  it('R-CONN-5: a link killed mid-transaction still delivers the response', async () => {
    bench = await startNacBench(1, lineEnd, { faults: [{ mti: '0800', action: 'delay', seconds: 0.5 }] });
    const { terminal } = await bench.dial(0, '50582613');
    const echo = terminal.echo();
    await until(() => bench.captured.length === 1, 'request at the platform');
    const busy = bench.sim.server.connections.find((c) => c !== null && c.counters.framesIn === 1);
    busy?.close(); // the link the request left on dies
    assert.equal((await echo).responseCode, '00');
  });

  it('a terminal hanging up before its response is counted, and nothing crashes', async () => {
    bench = await startNacBench(1, lineEnd, { faults: [{ mti: '0800', action: 'delay', seconds: 0.5 }] });
    const { pos, terminal } = await bench.dial(0, '50582613');
    const echo = terminal.echo().catch(() => 'no answer');
    await until(() => bench.captured.length === 1, 'request at the platform');
    pos.end();
    await until(() => bench.nac.relay.counters.dropped['line-gone'] === 1, 'line-gone counted');
    assert.equal(await echo, 'no answer');
    await until(() => bench.nac.lines[0].line.state === 'idle', 'line idle again');
  });

  it('a new call on a line is relayed at once while the platform still holds the last caller\'s request', async () => {
    bench = await startNacBench(1, lineEnd, { faults: [{ mti: '0800', action: 'delay', seconds: 1, times: 1 }] });
    const first = await bench.dial(0, '50582613');
    const unanswered = first.terminal.echo().catch(() => 'no answer');
    await until(() => bench.captured.length === 1, 'request at the platform');
    first.pos.end();
    await until(() => bench.nac.lines[0].line.state === 'idle', 'line idle again');
    const second = await bench.dial(0, '50582614');
    assert.equal((await second.terminal.echo()).responseCode, '00');
    assert.equal(bench.nac.relay.counters.dropped.duplicate, undefined);
    assert.equal(bench.nac.relay.counters.dropped['line-gone'], 1, 'dropped at the hang-up, before its answer came');
    assert.equal(await unanswered, 'no answer');
  });

  it('8 lines at once: each gets its own responses', async () => {
    bench = await startNacBench(8, lineEnd);
    const calls = await Promise.all(Array.from({ length: 8 }, (_, i) => bench.dial(i, `5058261${i}`)));
    const results = await Promise.all(calls.map(({ terminal }) => terminal.signOn()));
    results.forEach((r, i) => {
      assert.equal(r.responseCode, '00');
      assert.equal(r.response.getString(41), terminalIdOf(i), `line ${i + 1} got its own response`);
      assert.ok(r.keys.every((k) => k.pass));
    });
    const originators = bench.captured.map((p) => toHex(p.subarray(3, 5))).sort();
    assert.deepEqual(originators, Array.from({ length: 8 }, (_, i) => addressOf(i)));
  });

  it('a hang-up (escape + ATH) returns the line to idle for the next call', async () => {
    bench = await startNacBench(1, lineEnd);
    const first = await bench.dial(0, '50582613');
    assert.equal((await first.terminal.echo()).responseCode, '00');
    await bench.nac.lines[0].line.hangup('requested');
    await until(() => bench.nac.lines[0].line.state === 'idle', 'idle after hang-up');
    const second = await bench.dial(0, '50582614');
    assert.equal((await second.terminal.echo()).responseCode, '00');
    assert.equal(bench.nac.lines[0].counters.calls, 2);
  });
});
