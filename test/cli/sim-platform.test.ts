import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MessageCodec } from '../../src/iso8583/codec';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { buildTerminalMessage, readTerminalMessage } from '../../src/iso8583/terminal-message';
import { Link } from '../../src/link/link';
import * as build from '../../src/terminal/messages';
import { CLI, runCli } from '../support/cli';
import { TMK } from '../support/platform';
import { nextEvent } from '../support/wait';

describe('cli: nacbridge sim platform', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-cli-sim-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs from a config file, answers an echo test, and writes its report when stopped with SIGTERM', async () => {
    const report = path.join(dir, 'report.md');
    const config = path.join(dir, 'platform.json');
    writeFileSync(
      config,
      JSON.stringify({
        listen: [{ host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] }],
        framing: 'binary2',
        heartbeatSeconds: 0.2,
        idleTimeoutSeconds: 30,
        onSecondConnection: 'replace',
        terminals: [{ terminalId: '12345678', merchantId: '123456789012345', tmk: TMK, keyMode: '003', macAlgorithm: 'unionpay-ecb' }],
        cards: [{ pan: '6212142000000000012', pin: '123456', balance: '000000100000' }],
        report,
      }),
    );
    const child = spawn(process.execPath, [CLI, 'sim', 'platform', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const [line] = await nextEvent<[string]>(child.stdout, 'data', (s) => s.includes('listening'), 5000);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(line)?.[1]);
    const link = new Link({ name: 'test', host: '127.0.0.1', port, framing: 'binary2' });
    link.start();
    await nextEvent(link, 'state', (s) => s === 'up');
    const codec = new MessageCodec(unionpayPos);
    const reply = nextEvent<[Buffer]>(link, 'frame');
    link.send(
      buildTerminalMessage(codec, {
        tpdu: { id: 0x60, destination: '0003', originator: '0001' },
        dialMonitor: null,
        header: '603100310000',
        message: build.echoTest({ terminalId: '12345678', merchantId: '123456789012345' }, '000001'),
      }),
    );
    const answer = readTerminalMessage(codec, (await reply)[0]);
    assert.equal(answer.message.getString(39), '00');
    await link.close();
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(stdout, /stopped \(SIGTERM\) after 1 request/);
    assert.match(readFileSync(report, 'utf8'), /\| 0800 \| 00 \| 1 \|/);
  });

  it('a bad config names the key path and exits 2', async () => {
    const config = path.join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ listen: [{ host: '127.0.0.1', port: 5001, allow: [] }], terminals: [{ terminalId: '1234', merchantId: '123456789012345', tmk: 'XYZ' }] }));
    const r = await runCli(['sim', 'platform', '--config', config]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /listen\.0\.allow: at least one allowed address/);
    assert.match(r.stderr, /terminals\.0\.terminalId: must be 8 characters/);
    assert.match(r.stderr, /terminals\.0\.tmk: tmk must be 16 or 32 or 48 hex digits/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('a terminal ID or a card listed twice is a config error naming the second entry, never printing the card number', async () => {
    const config = path.join(dir, 'twice.json');
    const terminal = { terminalId: '12345678', merchantId: '123456789012345', tmk: '0123456789ABCDEFFEDCBA9876543210' };
    const card = { pan: '6212142000000000012', pin: '123456', balance: '000000100000' };
    writeFileSync(config, JSON.stringify({ listen: [{ host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] }], terminals: [terminal, terminal], cards: [card, card] }));
    const r = await runCli(['sim', 'platform', '--config', config]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /terminals\.1\.terminalId: same terminal ID as entry 0/);
    assert.match(r.stderr, /cards\.1\.pan: same card number as entry 0/);
    assert.ok(!r.stderr.includes(card.pan), 'no full PAN in the error');
  });
});
