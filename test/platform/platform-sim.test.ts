import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ManualClock } from '../../src/clock';
import { parseDialTail, DEFAULT_DIAL_TAIL_HEX } from '../../src/codec/dial-monitor';
import { toHex } from '../../src/codec/hex';
import { SecretKey } from '../../src/crypto/secret-key';
import { layoutFor, unwrapWorkKeys } from '../../src/crypto/work-keys';
import { RequestFailed } from '../../src/link/link-group';
import { buildTerminalMessage, readTerminalMessage } from '../../src/iso8583/terminal-message';
import * as build from '../../src/terminal/messages';
import { CARD, TMK, platformConfig, startBench, type Bench } from '../support/platform';
import { nextEvent, until } from '../support/wait';

const card = { pan: CARD.pan };

describe('platform simulator with the terminal role', () => {
  let bench: Bench;
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-sim-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await bench?.close();
  });

  it('R-KEY-1, R-KEY-2: sign-on returns fresh work keys in field 62 under the TMK; the crypto layer unwraps them', async () => {
    bench = await startBench();
    const payload = buildTerminalMessage(bench.codec, {
      tpdu: { id: 0x60, destination: '0003', originator: '0001' },
      dialMonitor: null,
      header: '603100310000',
      message: build.signOn({ terminalId: '12345678', merchantId: '123456789012345' }, '000001', '003'),
    });
    const answer = readTerminalMessage(bench.codec, await bench.group.request(payload));
    assert.equal(answer.message.mti, '0810');
    assert.equal(answer.message.getString(39), '00');
    assert.equal(answer.message.getString(60)?.slice(2, 8), '000001', 'batch in 60.2');
    assert.equal(answer.tpdu.destination, '0001', 'TPDU addresses swapped');
    assert.equal(answer.header, '603100310000', 'header kept');
    const keys = unwrapWorkKeys(answer.message.get(62) as Buffer, SecretKey.fromHex(TMK), layoutFor('003'));
    assert.deepEqual(bench.sim.core.checkValues('12345678'), { pin: toHex(keys.pin.checkValue()), mac: toHex(keys.mac.checkValue()) });
  });

  it('a sale with MAC and PIN block is approved; the response MAC verifies; the balance moves', async () => {
    bench = await startBench();
    const signOn = await bench.terminal.signOn();
    assert.equal(signOn.responseCode, '00');
    assert.deepEqual(signOn.keys.map((k) => k.pass), [true, true]);
    const sale = await bench.terminal.sale(card, '1234', CARD.pin);
    assert.equal(sale.responseCode, '00');
    assert.equal(sale.macOk, true);
    assert.equal(sale.response.mti, '0210');
    assert.match(sale.rrn ?? '', /^\d{12}$/);
    assert.ok(sale.response.has(12) && sale.response.has(13) && sale.response.has(15) && sale.response.has(32) && sale.response.has(38) && sale.response.has(44));
    assert.equal(bench.sim.core.ledger.cards.get(CARD.pan)?.balance, 100000n - 1234n);
  });

  it('R-MAC-1: a wrong MAC gets A0', async () => {
    bench = await startBench();
    await bench.terminal.signOn();
    const sale = build.sale({ id: { terminalId: '12345678', merchantId: '123456789012345' }, stan: '000777', batch: '000001', card, amount: '100', withPin: false });
    sale.set(64, Buffer.from('BADMAC00', 'latin1'));
    const result = await bench.terminal.exchange(sale, false);
    assert.equal(result.responseCode, 'A0');
  });

  it('R-PIN-1: a wrong PIN gets 55, an unknown card 14, too little money 51', async () => {
    bench = await startBench();
    await bench.terminal.signOn();
    assert.equal((await bench.terminal.sale(card, '100', '654321')).responseCode, '55');
    assert.equal((await bench.terminal.sale({ pan: '6212142000000000020' }, '100', '123456')).responseCode, '14');
    assert.equal((await bench.terminal.sale(card, '999999999', CARD.pin)).responseCode, '51');
  });

  it('balance inquiry, void, refund, reversal and settlement keep the books straight', async () => {
    bench = await startBench();
    await bench.terminal.signOn();
    const balance = await bench.terminal.balance(card, CARD.pin);
    assert.equal(balance.response.getString(54), '1002156C000000100000');
    const sale = await bench.terminal.sale(card, '5000', CARD.pin);
    const voided = await bench.terminal.voidSale(card, '5000', sale);
    assert.equal(voided.responseCode, '00');
    assert.equal(bench.sim.core.ledger.cards.get(CARD.pan)?.balance, 100000n);
    assert.equal((await bench.terminal.voidSale(card, '5000', sale)).responseCode, '12', 'cannot void twice');
    const second = await bench.terminal.sale(card, '700', CARD.pin);
    const reversal = await bench.terminal.reverse(second.request, '98');
    assert.equal(reversal.responseCode, '00');
    assert.equal(reversal.request.getString(11), second.stan, 'R-MSG-8: a reversal repeats the STAN');
    assert.equal(bench.sim.core.ledger.cards.get(CARD.pan)?.balance, 100000n);
    const third = await bench.terminal.sale(card, '300', CARD.pin);
    assert.equal((await bench.terminal.refund(card, '300', third)).responseCode, '00');
    assert.equal(bench.sim.core.ledger.cards.get(CARD.pan)?.balance, 100000n);
    assert.equal((await bench.terminal.settle()).responseCode, '00');
  });

  it('a financial request before sign-on gets 77; an unregistered terminal 97', async () => {
    bench = await startBench();
    assert.equal((await bench.terminal.exchange(build.sale({ id: { terminalId: '12345678', merchantId: '123456789012345' }, stan: '000001', batch: '000001', card, amount: '1', withPin: false }), false)).responseCode, '77');
    assert.equal((await bench.terminal.exchange(build.echoTest({ terminalId: '99999999', merchantId: '123456789012345' }, '000002'), false)).responseCode, '97');
    assert.equal((await bench.terminal.echo()).responseCode, '00');
  });

  describe('scripted faults', () => {
    it('delay: the response comes after the configured seconds', async () => {
      const clock = new ManualClock(Date.UTC(2026, 10, 21));
      bench = await startBench(platformConfig({ faults: [{ mti: '0800', action: 'delay', seconds: 5 }] }), { clock });
      let done = false;
      const echo = bench.terminal.echo().then((r) => ((done = true), r));
      await until(() => bench.sim.journal.entries.length === 1, 'request seen');
      assert.equal(done, false);
      clock.advance(5000);
      assert.equal((await echo).responseCode, '00');
    });

    it('no response: the request times out with its reason', async () => {
      const clock = new ManualClock(Date.UTC(2026, 10, 21));
      bench = await startBench(platformConfig({ faults: [{ mti: '0800', action: 'no-response', times: 1 }] }), { clock, responseTimeoutMs: 30_000 });
      const echo = bench.terminal.echo();
      await until(() => bench.sim.journal.entries.length === 1, 'request seen');
      clock.advance(30_000);
      await assert.rejects(echo, (e: RequestFailed) => e.reason === 'timeout');
      assert.equal((await bench.terminal.echo()).responseCode, '00', 'times: 1 used up');
    });

    it('R-CONN-5: response on the other connection still reaches the terminal', async () => {
      bench = await startBench(platformConfig({ faults: [{ action: 'other-connection' }] }));
      const signOn = await bench.terminal.signOn();
      assert.equal(signOn.responseCode, '00');
      assert.equal((await bench.terminal.sale(card, '10', CARD.pin)).responseCode, '00');
    });

    it('close after reading the request: the link drops and comes back; the request times out', async () => {
      const clock = new ManualClock(Date.UTC(2026, 10, 21));
      bench = await startBench(platformConfig({ faults: [{ action: 'close', times: 1 }] }), { clock, responseTimeoutMs: 20_000 });
      const echo = bench.terminal.echo();
      await until(() => bench.group.upLinks.length === 1, 'one link dropped');
      clock.advance(20_000);
      await assert.rejects(echo, (e: RequestFailed) => e.reason === 'timeout');
      await until(() => bench.group.upLinks.length === 2, 'link reconnected');
    });

    it('R-MSG-8: wrong STAN: the answer carries the next STAN, so the terminal never takes it for its own', async () => {
      const clock = new ManualClock(Date.UTC(2026, 10, 21));
      bench = await startBench(platformConfig({ faults: [{ mti: '0800', action: 'wrong-stan', times: 1 }] }), { clock, responseTimeoutMs: 30_000 });
      const unmatched = nextEvent<[Buffer]>(bench.group, 'unmatched');
      const echo = bench.terminal.echo();
      const [frame] = await unmatched;
      const answer = readTerminalMessage(bench.codec, frame).message;
      assert.deepEqual([answer.mti, answer.getString(11)], ['0810', '000002'], 'the echo test went out with STAN 000001');
      clock.advance(30_000);
      await assert.rejects(echo, (e: RequestFailed) => e.reason === 'timeout');
      assert.equal(bench.sim.journal.entries[0].fault, 'wrong-stan');
    });

    it('bad MAC in the response: the terminal sees the MAC fail', async () => {
      bench = await startBench(platformConfig({ faults: [{ mti: '0200', action: 'bad-mac' }] }));
      await bench.terminal.signOn();
      const sale = await bench.terminal.sale(card, '10', CARD.pin);
      assert.equal(sale.responseCode, '00');
      assert.equal(sale.macOk, false);
    });
  });

  it('R-DIAL-1: with requireDialMonitor a request without the block is dropped and journaled; with it, answered', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 21));
    bench = await startBench(platformConfig({ requireDialMonitor: true }), { clock, responseTimeoutMs: 10_000 });
    const dropped = bench.terminal.echo();
    await until(() => bench.sim.journal.entries.length === 1, 'seen');
    clock.advance(10_000);
    await assert.rejects(dropped);
    assert.match(bench.sim.journal.entries[0].note ?? '', /dial-monitor/);
    const withBlock = buildTerminalMessage(bench.codec, {
      tpdu: { id: 0x60, destination: '0003', originator: '0001' },
      dialMonitor: { ani: '50582613', dnis: '61651108', tail: parseDialTail(DEFAULT_DIAL_TAIL_HEX) },
      header: '603100310000',
      message: build.echoTest({ terminalId: '12345678', merchantId: '123456789012345' }, '000009'),
    });
    const answer = readTerminalMessage(bench.codec, await bench.group.request(withBlock));
    assert.equal(answer.message.getString(39), '00');
    assert.equal(answer.dialMonitor, null, 'not echoed unless echoDialMonitor');
    assert.deepEqual(bench.sim.journal.entries[1].dialMonitor, { ani: '50582613', dnis: '61651108' });
  });

  it('journal (JSONL), reconciliation (CSV) and report (Markdown), with PANs masked', async () => {
    const journal = path.join(dir, 'journal.jsonl');
    const reconciliation = path.join(dir, 'recon.csv');
    const report = path.join(dir, 'report.md');
    bench = await startBench(platformConfig({ journal, reconciliation, report }));
    await bench.terminal.signOn();
    await bench.terminal.sale(card, '1234', CARD.pin);
    await bench.terminal.sale(card, '1', '000000');
    await bench.close();
    const lines = readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.mti, l.responseCode]), [['0800', '00'], ['0200', '00'], ['0200', '55']]);
    const csv = readFileSync(reconciliation, 'utf8');
    assert.match(csv, /^date,time,terminal_id,batch,stan,kind,pan,amount_fen,rrn,auth_code,response_code,status\n/);
    assert.match(csv, /,sale,621214\*{9}0012,1234,\d{12},\d{6},00,approved/);
    const md = readFileSync(report, 'utf8');
    assert.match(md, /\| 0200 \| 00 \| 1 \|/);
    assert.match(md, /\| 0200 \| 55 \| 1 \|/);
    for (const text of [JSON.stringify(lines), csv, md]) {
      assert.ok(!text.includes(CARD.pan), 'no full PAN');
      assert.ok(!text.includes(TMK), 'no key');
    }
  });
});
