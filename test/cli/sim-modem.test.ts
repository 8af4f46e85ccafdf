import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LoopbackPlatform } from '../../tools/bench/loopback-platform';
import { CliProcess } from '../support/process';

describe('cli: sim modem operator commands', function () {
  this.timeout(20_000);
  let dir: string;
  let platform: LoopbackPlatform;
  let platformPorts: number[];
  const procs: CliProcess[] = [];
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-sim-modem-'));
    // The NAC needs somewhere to connect its links; nothing is relayed in this test.
    platform = new LoopbackPlatform();
    platformPorts = await platform.start();
  });
  after(async () => {
    for (const p of procs.reverse()) await p.stop();
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('R-MDM-4: "drop" drops the carrier of the call in progress, and nacbridge run sees the carrier loss, hangs up and goes back to idle', async () => {
    const modem = new CliProcess(['sim', 'modem', '--tcp', '0', '--pos-port', '0', '--ring-interval-ms', '200'], {}, { stdin: true });
    procs.push(modem);
    const [, linePath, posPort] = await modem.waitFor(/serial side (tcp:\/\/[\d.:]+), POS calls in on 127\.0\.0\.1:(\d+)/);
    modem.type('drop');
    await modem.waitFor(/no call connected: no carrier to drop/);
    modem.type('hangup now');
    await modem.waitFor(/unknown command "hangup now"; commands: drop/);

    const config = path.join(dir, 'nac.json');
    writeFileSync(
      config,
      JSON.stringify({
        lines: [{ name: 'line1', port: linePath, modem: 'emulator', dnis: '61651108', address: '0001', framing: 'async' }],
        hosts: [{ name: 'cups', default: true, allowSingleLink: true, links: platformPorts.map((port) => ({ host: '127.0.0.1', port })) }],
      }),
    );
    const nac = new CliProcess(['run', '--config', config]);
    procs.push(nac);
    await nac.waitFor(/line line1 idle/);

    const caller = connect({ host: '127.0.0.1', port: Number(posPort) });
    caller.on('error', () => undefined);
    const callerGone = new Promise<void>((resolve) => caller.once('close', () => resolve()));
    await nac.waitFor(/line line1 connected/);
    modem.type('drop');
    await modem.waitFor(/carrier dropped/);
    await nac.waitFor(/line line1 hanging-up \(carrier-lost\)\nline line1 idle/);
    await callerGone;

    assert.equal(await nac.stop(), 0, nac.stderr);
    assert.equal(await modem.stop(), 0, modem.stderr);
  });
});
