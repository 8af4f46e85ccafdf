import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli, type CliResult } from '../support/cli';
import { CARD, TMK } from '../support/platform';
import { CliProcess } from '../support/process';

describe('R-MDM-7 cli: sim pos --sync dials an SDLC secondary through sim modem into nacbridge run (framing sdlc, v80-generic)', function () {
  this.timeout(90_000);
  let dir: string;
  const procs: CliProcess[] = [];
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-sync-'));
  });
  after(async () => {
    for (const p of procs.reverse()) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = (args: string[]): CliProcess => {
    const p = new CliProcess(args);
    procs.push(p);
    return p;
  };

  it('R-MDM-7: sign-on and sales with and without the secondary faults; a hang-up mid-window ends the script and the next call works; a modem without answer-side sync fails its line at start', async () => {
    const platformFile = path.join(dir, 'platform.json');
    writeFileSync(
      platformFile,
      JSON.stringify({
        listen: [
          { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
          { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
        ],
        terminals: [{ terminalId: '12345678', merchantId: '123456789012345', tmk: TMK, keyMode: '003', macAlgorithm: 'unionpay-ecb' }],
        cards: [CARD],
      }),
    );
    const platform = start(['sim', 'platform', '--config', platformFile]);
    const [, p1, p2] = await platform.waitFor(/127\.0\.0\.1:(\d+), 127\.0\.0\.1:(\d+)/);
    const modem = start(['sim', 'modem', '--tcp', '0', '--pos-port', '0', '--caller-id', '50582613', '--ring-interval-ms', '400']);
    const [, linePath, posPort] = await modem.waitFor(/serial side (tcp:\/\/[\d.:]+), POS calls in on 127\.0\.0\.1:(\d+)/);
    const callingOnly = start(['sim', 'modem', '--tcp', '0', '--pos-port', '0', '--v80', 'originate-only']);
    const [, line2Path] = await callingOnly.waitFor(/serial side (tcp:\/\/[\d.:]+), POS calls/);
    const nacFile = path.join(dir, 'nac.json');
    writeFileSync(
      nacFile,
      JSON.stringify({
        lines: [
          { name: 'line1', port: linePath, modem: 'v80-generic', dnis: '61651108', address: '0001', framing: 'sdlc' },
          { name: 'line2', port: line2Path, modem: 'v80-generic', dnis: '61651109', address: '0002', framing: 'sdlc' },
        ],
        hosts: [
          {
            name: 'cups',
            nii: ['0003'],
            default: true,
            framing: 'binary2',
            links: [
              { host: '127.0.0.1', port: Number(p1) },
              { host: '127.0.0.1', port: Number(p2) },
            ],
            allowSingleLink: true,
            dialMonitor: { enabled: true, tail: '580009490006000000220030' },
            responseTimeoutSeconds: 10,
          },
        ],
      }),
    );
    const nac = start(['run', '--config', nacFile]);
    await nac.waitFor(/line line1 idle/, 20_000);
    await nac.waitFor(/line line2 failed/, 20_000);
    assert.match(nac.stderr, /nacbridge: error: line line2 failed: the modem cannot answer synchronous terminals \(framing sdlc\): AT\+ES=\? answered "\+ES: \(0-4,6\),\(0-4\),\(0-4\)" OK: the third list \(answer side\) has no 8: synchronous access on the calling side only/);

    const env = { POS_TMK: TMK, POS_PIN: CARD.pin };
    const pos = (script: string, ...extra: string[]): Promise<CliResult> =>
      runCli(
        ['sim', 'pos', '--dial', `127.0.0.1:${posPort}`, '--sync', ...extra, '--terminal-id', '12345678', '--merchant-id', '123456789012345', '--tmk-env', 'POS_TMK', '--pin-env', 'POS_PIN', '--pan', CARD.pan, '--timeout', '20', '--script', script],
        '',
        env,
      );
    const idleAgain = async (n: number): Promise<void> => {
      // The n-th "idle" of line1: the line is back after the call's re-init.
      for (let i = 0; i < 200; i++) {
        if ((nac.stdout.match(/line line1 idle/g) ?? []).length >= n) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.fail(`line1 not idle a ${n}th time: ${nac.stdout}`);
    };

    const plain = await pos('signon,sale:1234');
    const all = (r: CliResult) => r.stdout + r.stderr + nac.stdout + nac.stderr + modem.stdout;
    assert.equal(plain.code, 0, all(plain));
    assert.match(plain.stdout, /sign-on +39=00 +MAC ok +pin PASS, mac PASS/);
    assert.match(plain.stdout, /sale 1234 +39=00 +MAC ok/);
    assert.match(plain.stdout, /^sdlc: SNRM 1, polls answered \d+, I-frames sent 2, received 2, duplicates received 0$/m);
    await idleAgain(2);

    const faulty = await pos('signon,sale:100,sale:200', '--fault', 'lost-ack', '--fault', 'duplicate', '--fault', 'bad-fcs', '--fault', 'slow-poll:300');
    assert.equal(faulty.code, 0, all(faulty));
    assert.match(faulty.stdout, /sale 100 +39=00 +MAC ok/);
    assert.match(faulty.stdout, /sale 200 +39=00 +MAC ok/);
    // Every fault makes the secondary send an I-frame more than once; none breaks the link.
    const sent = /I-frames sent (\d+), received (\d+)/.exec(faulty.stdout);
    assert.ok(sent && Number(sent[1]) > 3 && Number(sent[2]) === 3, faulty.stdout);
    assert.match(faulty.stdout, /^sdlc: SNRM 1,/m);
    await idleAgain(3);

    const hungUp = await pos('signon,sale:100', '--fault', 'hangup-mid-window');
    assert.equal(hungUp.code, 1, all(hungUp));
    assert.match(hungUp.stdout, /^signon +no answer: the call ended before the response came$/m);
    assert.doesNotMatch(hungUp.stdout, /sale/);
    assert.match(hungUp.stderr, /1 of 2 step\(s\) did not succeed: signon/);
    await idleAgain(4);

    const after = await pos('signon');
    assert.equal(after.code, 0, all(after));
    assert.match(after.stdout, /^sdlc: SNRM 1,/m);

    const badUse = await runCli(['sim', 'pos', '--tcp', '127.0.0.1:1', '--sync', '--terminal-id', '12345678', '--merchant-id', '123456789012345', '--tmk-env', 'POS_TMK', '--pan', CARD.pan], '', env);
    assert.equal(badUse.code, 2);
    assert.match(badUse.stderr, /--sync is for a dialled call/);
    const badFault = await runCli(['sim', 'pos', '--dial', '127.0.0.1:1', '--sync', '--fault', 'gremlins', '--terminal-id', '12345678', '--merchant-id', '123456789012345', '--tmk-env', 'POS_TMK', '--pan', CARD.pan], '', env);
    assert.notEqual(badFault.code, 0);
    assert.match(badFault.stderr, /unknown fault "gremlins"/);

    assert.equal(await nac.stop(), 0);
    for (const out of [plain.stdout, faulty.stdout, hungUp.stdout, after.stdout, nac.stdout, nac.stderr]) {
      assert.ok(!out.includes(TMK) && !out.includes(CARD.pan), 'no key or full PAN in any output');
    }
  });
});
