import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { toHex } from '../../src/codec/hex';
import { openSerialLine } from '../../src/serial/port';
import { ModemEmulator } from '../../tools/modem-sim/emulator';
import { createPtyPair } from '../../tools/modem-sim/pty';
import { CARD } from '../support/platform';
import { EMULATOR_TIMING, startNacBench, terminalIdOf, type LineEnd, type NacBench } from '../support/nac-bench';
import { until } from '../support/wait';

describe('NAC over real ptys (socat): emulated modem <-> nacbridge NAC <-> platform simulator', function () {
  this.timeout(30_000);
  let dir: string;
  let bench: NacBench;
  let count = 0;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-pty-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await bench?.close();
  });

  /** A socat pty pair: the NAC opens one end as a serial device, the emulator the other. */
  async function ptyLineEnd(): Promise<LineEnd> {
    const pair = await createPtyPair(dir, `line${count++}`);
    const port = await openSerialLine(pair.modemPath, { controlLines: false });
    const modem = new ModemEmulator(port, EMULATOR_TIMING);
    return {
      path: pair.nacPath,
      modem: async () => modem,
      async close() {
        modem.close();
        await port.close();
        await pair.close();
      },
    };
  }

  it('R-DIAL-1, R-MDM-6: sign-on and sale through a pty modem line; dial block and line address on the wire', async () => {
    bench = await startNacBench(1, ptyLineEnd);
    const { terminal } = await bench.dial(0, '50582613');
    const signOn = await terminal.signOn();
    assert.equal(signOn.responseCode, '00');
    assert.ok(signOn.keys.every((k) => k.pass));
    assert.equal(toHex(bench.captured[0].subarray(0, 38)), '6000030001' + '4C5249001C' + '0000000050582613' + '0000000061651108' + '580009490006000000220030');
    const sale = await terminal.sale({ pan: CARD.pan }, '100', CARD.pin);
    assert.equal(sale.responseCode, '00');
    assert.equal(sale.macOk, true);
  });

  it('8 pty lines at once each get their own responses', async () => {
    bench = await startNacBench(8, ptyLineEnd);
    const calls = await Promise.all(Array.from({ length: 8 }, (_, i) => bench.dial(i, `5058261${i}`)));
    const results = await Promise.all(calls.map(({ terminal }) => terminal.echo()));
    results.forEach((r, i) => {
      assert.equal(r.responseCode, '00');
      assert.equal(r.response.getString(41), terminalIdOf(i));
    });
  });

  it('a hang-up on a pty line (escape + ATH) returns the line to idle for the next call', async () => {
    bench = await startNacBench(1, ptyLineEnd);
    const { terminal } = await bench.dial(0, '50582613');
    assert.equal((await terminal.echo()).responseCode, '00');
    await bench.nac.lines[0].line.hangup('requested');
    await until(() => bench.nac.lines[0].line.state === 'idle', 'idle after hang-up');
    const second = await bench.dial(0, '50582614');
    assert.equal((await second.terminal.echo()).responseCode, '00');
    assert.equal(bench.nac.lines[0].counters.calls, 2);
  });
});
