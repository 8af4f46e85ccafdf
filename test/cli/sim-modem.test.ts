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

  /** `nacbridge run` with one line on the modem simulator's serial side, once the line is idle. */
  async function nacOn(linePath: string, name: string): Promise<CliProcess> {
    const config = path.join(dir, `${name}.json`);
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
    return nac;
  }

  /** A POS "dialling in": resolves its socket's close, which is how the caller sees the hang-up. */
  function dialIn(posPort: number): Promise<void> {
    const caller = connect({ host: '127.0.0.1', port: posPort });
    caller.on('error', () => undefined);
    caller.resume(); // reads what its modem says (CONNECT, NO CARRIER), or the end never shows
    return new Promise<void>((resolve) => caller.once('close', () => resolve()));
  }

  it('R-MDM-4: "drop" drops the carrier of the call in progress, and nacbridge run sees the carrier loss, hangs up and goes back to idle', async () => {
    const modem = new CliProcess(['sim', 'modem', '--tcp', '0', '--pos-port', '0', '--ring-interval-ms', '200'], {}, { stdin: true });
    procs.push(modem);
    const [, linePath, posPort] = await modem.waitFor(/serial side (tcp:\/\/[\d.:]+), POS calls in on 127\.0\.0\.1:(\d+)/);
    modem.type('drop');
    await modem.waitFor(/no call connected: no carrier to drop/);
    modem.type('hangup now');
    await modem.waitFor(/unknown command "hangup now"; commands: drop/);

    const nac = await nacOn(linePath, 'typed-drop');
    const callerGone = dialIn(Number(posPort));
    await nac.waitFor(/line line1 connected/);
    modem.type('drop');
    await modem.waitFor(/carrier dropped/);
    await nac.waitFor(/line line1 hanging-up \(carrier-lost\)\n\S+ line line1 init \(after the call\)\n\S+ line line1 idle/);
    await callerGone;

    assert.equal(await nac.stop(), 0, nac.stderr);
    assert.equal(await modem.stop(), 0, modem.stderr);
  });

  it('R-MDM-4: --drop-after-ms drops every call that long after its CONNECT, with nobody typing', async () => {
    const modem = new CliProcess(['sim', 'modem', '--tcp', '0', '--pos-port', '0', '--ring-interval-ms', '200', '--drop-after-ms', '300']);
    procs.push(modem);
    const [, linePath, posPort] = await modem.waitFor(/serial side (tcp:\/\/[\d.:]+), POS calls in on 127\.0\.0\.1:(\d+)/);
    await modem.waitFor(/every call's carrier drops 300 ms after its CONNECT/);
    const nac = await nacOn(linePath, 'timed-drop');
    // Two calls: each is dropped by its own timer, and the line is back to idle for the next.
    for (let call = 1; call <= 2; call++) {
      const callerGone = dialIn(Number(posPort));
      await nac.waitFor(new RegExp(`(line line1 hanging-up \\(carrier-lost\\)\\n\\S+ line line1 init \\(after the call\\)\\n\\S+ line line1 idle[\\s\\S]*){${call}}`));
      await callerGone;
    }
    assert.equal(nac.stdout.match(/line line1 connected/g)?.length, 2, nac.stdout);

    assert.equal(await nac.stop(), 0, nac.stderr);
    assert.equal(await modem.stop(), 0, modem.stderr);
  });
});
