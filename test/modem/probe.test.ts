import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ManualClock } from '../../src/clock';
import { ModemLine } from '../../src/modem/line';
import { couldDialOrAnswer, probeModem, probeTable, PROBE_QUERIES, type ProbeResult } from '../../src/modem/probe';
import { modemProfileSchema } from '../../src/modem/profile';
import { ModemEmulator, type ModemPersonality } from '../../src/sim/modem/emulator';
import { TcpModemServer } from '../../src/sim/modem/tcp-serial-server';
import { runCli } from '../support/cli';
import { MemorySerialLine, settle } from '../support/memory-serial';

async function probeEmulator(personality: ModemPersonality, startNumeric = false): Promise<{ result: ProbeResult; modem: ModemEmulator; port: MemorySerialLine; clock: ManualClock }> {
  const clock = new ManualClock();
  const port = new MemorySerialLine('memory', true);
  const modem = new ModemEmulator(port.dte, { clock, personality, dialTimeoutMs: 60_000 });
  if (startNumeric) {
    port.write(Buffer.from('ATV0\r'));
    await settle();
  }
  const from = modem.commands.length;
  let result: ProbeResult | null = null;
  const probing = probeModem(port, { clock, path: '/dev/ttyUSB0' }).then((r) => (result = r));
  for (let i = 0; i < 2000 && result === null; i++) {
    clock.advance(10);
    await settle(5);
  }
  await probing;
  assert.ok(result);
  modem.commands.splice(0, from);
  return { result, modem, port, clock };
}

describe('modem probe: identity and accepted commands, safely, and a starting profile', () => {
  it('its queries are all =? test forms; read letter by letter some hold a D, so they go only to a modem that parses extended commands', () => {
    for (const { command } of PROBE_QUERIES) assert.match(command, /^AT[+#%][A-Z0-9]+=\?$/, command);
    assert.equal(couldDialOrAnswer('AT+VCID=?'), true, 'read letter by letter, +VCID holds a D');
    assert.equal(couldDialOrAnswer('AT+GMI'), false);
  });

  it('against the v250 personality: identity, caller ID +VCID, modulations, V.80; a profile with +VCID=1 and +MS=V22B', async () => {
    const { result, modem } = await probeEmulator('v250');
    const row = (c: string) => result.rows.find((r) => r.command === c);
    assert.equal(result.extended, true);
    assert.equal(row('ATI0')?.answer, '56000');
    assert.equal(row('ATI2')?.result, 'ERROR');
    assert.equal(row('AT+GMI')?.answer, 'nacbridge');
    assert.equal(row('AT+VCID=?')?.result, 'OK');
    assert.equal(row('AT#CID=?')?.result, 'ERROR');
    assert.match(row('AT+MS=?')?.answer ?? '', /V22B/);
    assert.match(row('AT+ES=?')?.answer ?? '', /\(0-4,6\)/, 'V.80 synchronous access (6) listed');
    assert.deepEqual(result.profile.init, ['ATV1', 'ATZ', 'ATE0V1Q0', 'ATS0=0', { command: 'AT&C1&D2', optional: true }, 'AT+VCID=1', { command: 'AT+MS=V22B', optional: true }]);
    assert.equal(result.profile.name, 'sim-modem-v-250');
    modemProfileSchema.parse(result.profile);
    assert.deepEqual(modem.dialled, []);
    assert.equal(modem.callState, 'idle');
    assert.match(probeTable(result), /^starting profile: /m);
  });

  it('against the classic personality: no =? query is sent (read letter by letter, +VCID=? would dial), +GCAP not sent; a profile like hayes that drives it', async () => {
    const { result, modem, clock } = await probeEmulator('classic', true);
    assert.equal(result.extended, false);
    assert.equal(result.numeric, true, 'the modem was in V0: understood');
    assert.deepEqual(modem.dialled, [], 'nothing dialled');
    assert.ok(!modem.commands.some((c) => /=\?|GCAP/.test(c)), modem.commands.join(' '));
    assert.ok(result.rows.filter((r) => r.result === 'not sent').length === PROBE_QUERIES.length + 1);
    assert.equal(result.rows.find((r) => r.command === 'AT+GMI')?.result, 'ERROR');
    assert.equal(result.rows.find((r) => r.command === 'ATI3')?.answer, 'nacbridge sim modem, classic Hayes command set');
    assert.deepEqual(result.profile.init, ['ATV1', 'ATZ', 'ATE0V1Q0', 'ATS0=0', { command: 'AT&C1&D2', optional: true }]);
    assert.match(probeTable(result), /^starting profile: /m);
    // The starting profile brings that modem into service.
    const port = new MemorySerialLine('memory', true);
    const fresh = new ModemEmulator(port.dte, { clock, personality: 'classic' });
    const line = new ModemLine({ name: 'line1', path: 'memory', profile: result.profile, clock, open: async () => port });
    line.start();
    for (let i = 0; i < 100 && line.state !== 'idle'; i++) {
      clock.advance(10);
      await settle();
    }
    assert.equal(line.state, 'idle');
    await line.close();
    fresh.close();
  });

  it('nacbridge modem probe tcp://... --write FILE prints the table and writes a profile that loads', async function () {
    this.timeout(20_000);
    const server = new TcpModemServer({ personality: 'classic' });
    await server.start();
    const dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-probe-'));
    try {
      const file = path.join(dir, 'probed.json');
      const r = await runCli(['modem', 'probe', `tcp://127.0.0.1:${server.port}`, '--write', file]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^COMMAND +GROUP +RESULT +ANSWER$/m);
      assert.match(r.stdout, /command set: classic Hayes only/);
      assert.match(r.stdout, new RegExp(`profile written to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      const profile = modemProfileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
      assert.equal(profile.hangup, 'escape', 'a raw serial server has no DTR');
      assert.deepEqual((await server.modem()).dialled, []);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
