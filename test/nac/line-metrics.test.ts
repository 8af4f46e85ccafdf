import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock';
import { encodeAsyncFrame } from '../../src/codec/async-frame';
import { loadModemProfile, type ModemProfile } from '../../src/modem/profile';
import { nacConfigSchema } from '../../src/nac/config';
import { Nac } from '../../src/nac/nac';
import { nacRegistry, nacStatus } from '../../src/nac/observability';
import { ModemEmulator } from '../../src/sim/modem/emulator';
import { MemorySerialLine, settle } from '../support/memory-serial';
import { FakeCallSide } from '../support/fake-call-side';

async function run(clock: ManualClock, ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await settle();
  }
}


describe('NAC observability: modem line figures in /metrics and /status', () => {
  it('R-MDM-6, R-MDM-4, R-MDM-5: framing errors by reason, optional init commands refused, hang-up fallbacks, post-call re-inits and their time, per line', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 21, 14, 5));
    const port = new MemorySerialLine('memory', true, { dtrFails: true, baud: { rate: 2400, clock } });
    const modem = new ModemEmulator(port.dte, { clock, ringIntervalMs: 5000, callerIdDelayMs: 1500, guardMs: 1000, personality: 'classic' });
    const profile: ModemProfile = { ...loadModemProfile('hayes'), init: ['ATV1', 'ATZ', 'ATE0V1Q0', 'ATS0=0', { command: 'AT+GCI=26', optional: true }] };
    const config = nacConfigSchema.parse({
      lines: [{ name: 'line1', port: 'memory', address: '0001', dnis: '61651108', modem: profile }],
      hosts: [{ name: 'cups', default: true, links: [{ host: '10.0.0.1', port: 5001 }, { host: '10.0.0.2', port: 5001 }] }],
    });
    const nac = new Nac(config, { clock, open: async () => port });
    const { line } = nac.lines[0];
    line.start();
    await run(clock, 3000);
    assert.equal(line.state, 'idle');
    const pos = new FakeCallSide();
    modem.ring({ format: 'none' }, pos);
    await run(clock, 6000);
    assert.equal(line.state, 'connected');
    const good = encodeAsyncFrame(Buffer.from('6000030000', 'hex'));
    const badLrc = Buffer.from(good);
    badLrc[badLrc.length - 1] ^= 0xff;
    const noEtx = Buffer.from(good);
    noEtx[noEtx.length - 2] = 0x00;
    const overLong = Buffer.from([0x02, 0x99, 0x99, 0x00]);
    pos.emit('data', Buffer.concat([badLrc, noEtx, overLong]));
    await settle();
    const hangup = line.hangup('requested');
    await run(clock, 5000);
    await hangup;
    assert.equal(line.state, 'idle');

    const text = await nacRegistry(nac).metrics();
    assert.match(text, /nacbridge_line_frame_errors_total\{line="line1",reason="bad-lrc"\} 1/);
    assert.match(text, /nacbridge_line_frame_errors_total\{line="line1",reason="missing-etx"\} 1/);
    assert.match(text, /nacbridge_line_frame_errors_total\{line="line1",reason="over-long"\} 1/);
    assert.match(text, /nacbridge_line_optional_init_refused_total\{line="line1",command="AT\+GCI=26"\} 2/);
    assert.match(text, /nacbridge_line_hangups_total\{line="line1",outcome="dtr-fallback"\} 1/);
    assert.match(text, /nacbridge_line_hangups_total\{line="line1",outcome="failed"\} 0/);
    assert.match(text, /nacbridge_line_post_call_reinits_total\{line="line1"\} 1/);
    const seconds = Number(/nacbridge_line_post_call_reinit_seconds_total\{line="line1"\} ([0-9.]+)/.exec(text)?.[1]);
    assert.ok(seconds > 0, `re-init time ${seconds} s`);

    const status = nacStatus(nac) as { lines: { counters: Record<string, unknown> }[] };
    const counters = status.lines[0].counters;
    assert.deepEqual(counters.frameErrorsBy, { BAD_LRC: 1, MISSING_ETX: 1, LENGTH_OVER_MAX: 1 });
    assert.deepEqual(counters.optionalRefusedBy, { 'AT+GCI=26': 2 });
    assert.equal(counters.hangupFallbacks, 1);
    assert.equal(counters.postCallReinits, 1);
    assert.equal(counters.postCallReinitMs, seconds * 1000);
    await line.close();
    modem.close();
  });
});
