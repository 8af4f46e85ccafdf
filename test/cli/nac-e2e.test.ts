import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { CARD, TMK } from '../support/platform';
import { CliProcess } from '../support/process';

describe('cli end to end: sim platform, sim modem, run, sim pos as separate processes', function () {
  this.timeout(40_000);
  let dir: string;
  const procs: CliProcess[] = [];
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-e2e-'));
  });
  after(async () => {
    for (const p of procs.reverse()) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (args: string[], env: NodeJS.ProcessEnv = {}): CliProcess => {
    const p = new CliProcess(args, env);
    procs.push(p);
    return p;
  };

  it('a POS dials through the emulated modem into nacbridge run and signs on, sells and voids; the terminal listener works too', async () => {
    const platformFile = path.join(dir, 'platform.json');
    writeFileSync(
      platformFile,
      JSON.stringify({
        listen: [
          { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
          { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
        ],
        terminals: [
          { terminalId: '12345678', merchantId: '123456789012345', tmk: TMK, keyMode: '003', macAlgorithm: 'unionpay-ecb' },
          { terminalId: '87654321', merchantId: '123456789012345', tmk: TMK, keyMode: '003', macAlgorithm: 'unionpay-ecb' },
        ],
        cards: [CARD],
      }),
    );
    const platform = start(['sim', 'platform', '--config', platformFile]);
    const [, p1, p2] = await platform.waitFor(/127\.0\.0\.1:(\d+), 127\.0\.0\.1:(\d+)/);
    const modem = start(['sim', 'modem', '--tcp', '0', '--pos-port', '0', '--caller-id', '50582613', '--ring-interval-ms', '400']);
    const [, linePath, posPort] = await modem.waitFor(/serial side (tcp:\/\/[\d.:]+), POS calls in on 127\.0\.0\.1:(\d+)/);
    const nacFile = path.join(dir, 'nac.json');
    writeFileSync(
      nacFile,
      JSON.stringify({
        lines: [{ name: 'line1', port: linePath, baudRate: 9600, modem: 'emulator', dnis: '61651108', address: '0001', framing: 'async' }],
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
            heartbeatSeconds: 120,
            responseTimeoutSeconds: 10,
          },
        ],
        terminalListener: { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
      }),
    );
    const check = await runCli(['check-config', nacFile]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stderr, /allowSingleLink/);
    const nac = start(['run', '--config', nacFile]);
    const [, terminalPort] = await nac.waitFor(/terminals on 127\.0\.0\.1:(\d+)/);
    await nac.waitFor(/line line1 idle/);

    const common = ['--merchant-id', '123456789012345', '--tmk-env', 'POS_TMK', '--pin-env', 'POS_PIN', '--pan', CARD.pan, '--timeout', '15'];
    const env = { POS_TMK: TMK, POS_PIN: CARD.pin };
    const dialled = await runCli(['sim', 'pos', '--dial', `127.0.0.1:${posPort}`, '--terminal-id', '12345678', ...common, '--script', 'signon,sale:1234,void'], '', env);
    assert.equal(dialled.code, 0, dialled.stdout + dialled.stderr + nac.stdout + modem.stdout + platform.stdout);
    assert.match(dialled.stdout, /sign-on +39=00 +MAC ok +pin PASS, mac PASS/);
    assert.match(dialled.stdout, /sale 1234 +39=00 +MAC ok/);
    assert.match(dialled.stdout, /void +39=00 +MAC ok/);

    const overTcp = await runCli(['sim', 'pos', '--tcp', `127.0.0.1:${terminalPort}`, '--terminal-id', '87654321', ...common, '--script', 'signon,balance'], '', env);
    assert.equal(overTcp.code, 0, overTcp.stdout + overTcp.stderr);
    assert.match(overTcp.stdout, /balance +39=00 +MAC ok/);

    assert.equal(await nac.stop(), 0);
    assert.match(nac.stdout, /relay: \{"requests":5,"responses":5,"dropped":\{\},"rejected":\{\},"unmatched":0\}/);
    for (const out of [dialled.stdout, overTcp.stdout, nac.stdout, platform.stdout, modem.stdout]) {
      assert.ok(!out.includes(TMK) && !out.includes(CARD.pan), 'no key or full PAN in any output');
    }
  });

  it('check-config reads YAML as well as JSON', async () => {
    const file = path.join(dir, 'nac.yaml');
    writeFileSync(
      file,
      ['hosts:', '  - name: cups', '    default: true', '    links:', '      - { host: 10.0.0.1, port: 5001 }', '      - { host: 10.0.0.2, port: 5001 }', 'lines:', '  - { name: line1, port: /dev/ttyUSB0, address: "0001", dnis: "61651108" }', ''].join('\n'),
    );
    const r = await runCli(['check-config', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /OK \(1 line\(s\), 1 host\(s\), 2 link\(s\)\)/);
  });

  it('check-config names the key path of every problem and exits 2', async () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        lines: [
          { name: 'a', port: '/dev/ttyUSB0', address: '0001', dnis: '61651108' },
          { name: 'b', port: '/dev/ttyUSB1', address: '0001', modem: 'Generic!' },
        ],
        hosts: [{ name: 'cups', links: [{ host: '10.0.0.1', port: 5001 }], maxQueuedBytes: 100, writeStallSeconds: -1, reconnectAfterSilentTimeouts: -1 }],
      }),
    );
    const r = await runCli(['check-config', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /lines\.1\.address: same address as lines\.0/);
    assert.match(r.stderr, /lines\.1\.modem: must name a profile/);
    assert.match(r.stderr, /hosts\.0\.links: .*R-CONN-1/);
    assert.match(r.stderr, /hosts\.0\.maxQueuedBytes: must be at least 16384 bytes/);
    assert.match(r.stderr, /hosts\.0\.writeStallSeconds: must be 0 or more seconds/);
    assert.match(r.stderr, /hosts\.0\.reconnectAfterSilentTimeouts: must be 0 \(never\) or more/);
  });

  it('R-MSG-1: check-config refuses what would cross responses or fight over a port: line addresses inside the terminal listener\'s pool, shared serial ports and names, duplicate host names, an empty pool', async () => {
    const bad = path.join(dir, 'crossed.json');
    const links = [
      { host: '10.0.0.1', port: 5001 },
      { host: '10.0.0.2', port: 5001 },
    ];
    writeFileSync(
      bad,
      JSON.stringify({
        lines: [
          { name: 'a', port: '/dev/ttyUSB0', address: '8001', dnis: '61651108' },
          { name: 'a', port: '/dev/ttyUSB0', address: '0002', dnis: '61651108' },
        ],
        hosts: [
          { name: 'cups', default: true, links },
          { name: 'cups', nii: ['0005'], links },
        ],
        terminalListener: { host: '0.0.0.0', port: 7000, allow: ['10.0.0.0/8'], addressFrom: '8000', addressTo: '80FF' },
      }),
    );
    const r = await runCli(['check-config', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /lines\.0\.address: 8001 is in the terminal listener's addresses 8000-80FF/);
    assert.match(r.stderr, /lines\.1\.port: same serial port as lines\.0/);
    assert.match(r.stderr, /lines\.1\.name: same name as lines\.0/);
    assert.match(r.stderr, /hosts\.1\.name: same name as hosts\.0/);

    const empty = path.join(dir, 'empty-pool.json');
    writeFileSync(empty, JSON.stringify({ hosts: [{ name: 'cups', default: true, links }], terminalListener: { host: '0.0.0.0', port: 7000, allow: ['10.0.0.0/8'], addressFrom: '80FF', addressTo: '8000' } }));
    const e = await runCli(['check-config', empty]);
    assert.equal(e.code, 2);
    assert.match(e.stderr, /terminalListener\.addressTo: must not be below addressFrom 80FF/);
  });

  it('check-config: a modem profile that does not exist is named by its key path, with the profiles there are', async () => {
    const bad = path.join(dir, 'no-profile.json');
    writeFileSync(
      bad,
      JSON.stringify({
        lines: [{ name: 'a', port: '/dev/ttyUSB0', address: '0001', dnis: '61651108', modem: 'usr-courier' }],
        hosts: [{ name: 'cups', default: true, links: [{ host: '10.0.0.1', port: 5001 }, { host: '10.0.0.2', port: 5001 }] }],
      }),
    );
    const r = await runCli(['check-config', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /BAD_CONFIG: .*lines\.0\.modem: no modem profile usr-courier \(there are conexant-usb, cx93001-sync, emulator, generic, hayes, si24xx-sync, silabs, v80-generic\)/);
  });
});
