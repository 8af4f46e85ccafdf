import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { planProofs, ProofError, type ProofCapabilities } from '../../src/crypto/key-proof';
import { runCli } from '../support/cli';
import { CARD, TMK } from '../support/platform';
import { CliProcess } from '../support/process';

const KBPK = '19191919191919195B5B5B5B5B5B5B5B';
const NONE: ProofCapabilities = { checkValueOnLoad: false, readCheckValue: false, macOfZeroBlock: false, pinEntry: false, mac: false, macAlgorithms: [] };

describe('signon proofs: which proof each load has (R-KEY-2)', () => {
  const o = { device: 'test pad', sale: false, macAlgorithm: 'unionpay-ecb' as const };

  it('R-KEY-2: best proof first: check value on load, then read back, then a MAC of a zero block', () => {
    assert.deepEqual(planProofs({ ...NONE, checkValueOnLoad: true, readCheckValue: true, macOfZeroBlock: true }, ['pin', 'mac'], o), { pin: 'check-value-on-load', mac: 'check-value-on-load' });
    assert.deepEqual(planProofs({ ...NONE, readCheckValue: true, macOfZeroBlock: true }, ['pin'], o), { pin: 'check-value-read' });
    assert.deepEqual(planProofs({ ...NONE, macOfZeroBlock: true }, ['pin', 'mac', 'track'], o), { pin: 'mac-of-zero-block', mac: 'mac-of-zero-block', track: 'mac-of-zero-block' });
  });

  it('R-KEY-2: a pad with only PIN entry and the platform\'s MAC is proven by a sale, and only when one is asked for; never its track key', () => {
    const caps = { ...NONE, pinEntry: true, mac: true, macAlgorithms: ['unionpay-ecb' as const] };
    assert.deepEqual(planProofs(caps, ['pin', 'mac'], { ...o, sale: true }), { pin: 'pin-entry-sale', mac: 'pin-entry-sale' });
    assert.throws(() => planProofs(caps, ['pin', 'mac'], o), (e: ProofError) => e.code === 'CANNOT_VERIFY' && /without a sale/.test(e.message));
    assert.throws(() => planProofs(caps, ['pin', 'mac', 'track'], { ...o, sale: true }), (e: ProofError) => /no proof for the track key/.test(e.message));
    assert.throws(() => planProofs({ ...caps, macAlgorithms: ['x9.19'] }, ['pin'], { ...o, sale: true }), (e: ProofError) => /cannot compute the platform's unionpay-ecb MAC/.test(e.message));
  });

  it('R-KEY-2: a device with no proof at all: "cannot verify on this device"', () => {
    assert.throws(() => planProofs({ ...NONE, pinEntry: true }, ['pin', 'mac'], { ...o, sale: true }), (e: ProofError) => e.code === 'CANNOT_VERIFY' && /^cannot verify on this device: test pad offers no proof for the pin key/.test(e.message));
  });
});

describe('cli: signon on every family\'s emulator personality, and pinpad probe', function () {
  this.timeout(60_000);
  let dir: string;
  let platform: CliProcess;
  let ports: number[];
  const pads: CliProcess[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-families-'));
    const file = path.join(dir, 'platform.json');
    writeFileSync(
      file,
      JSON.stringify({
        listen: [{ host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] }],
        terminals: [
          { terminalId: '12345678', merchantId: '123456789012345', tmk: TMK, keyMode: '003' },
          { terminalId: '12345679', merchantId: '123456789012345', tmk: TMK, keyMode: '004' },
          { terminalId: '12345680', merchantId: '123456789012345', tmk: TMK, keyMode: '003', macAlgorithm: 'x9.19' },
        ],
        cards: [CARD],
      }),
    );
    platform = new CliProcess(['sim', 'platform', '--config', file]);
    ports = [Number((await platform.waitFor(/127\.0\.0\.1:(\d+)/))[1])];
  });
  after(async () => {
    for (const p of pads) await p.stop();
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function pad(family: string, ...faults: string[]): Promise<string> {
    const p = new CliProcess(
      ['sim', 'pinpad', '--family', family, '--tcp', '0', '--master-env', 'PAD_TMK', '--pin-env', 'PAD_PIN', '--kbpk-env', 'PAD_KBPK', ...faults.flatMap((f) => ['--fault', f])],
      { PAD_TMK: TMK, PAD_PIN: CARD.pin, PAD_KBPK: KBPK },
    );
    pads.push(p);
    return (await p.waitFor(/on (tcp:\/\/[\d.:]+)/))[1];
  }

  function config(padPath: string, profile: string, extra: Record<string, unknown> = {}, terminal: { terminalId?: string; keyMode?: string; macAlgorithm?: string } = {}): string {
    const file = path.join(dir, `signon-${profile}-${Math.random().toString(16).slice(2)}.json`);
    const slots = profile.startsWith('vf') || profile === 'l100' ? { pin: 0, mac: 1, track: 2 } : { pin: 0, mac: 4, track: 2 };
    writeFileSync(
      file,
      JSON.stringify({
        platform: { links: ports.map((port) => ({ host: '127.0.0.1', port })), allowSingleLink: true },
        terminal: { terminalId: terminal.terminalId ?? '12345678', merchantId: '123456789012345', keyMode: terminal.keyMode ?? '003', ...(terminal.macAlgorithm ? { macAlgorithm: terminal.macAlgorithm } : {}) },
        keys: { pinpad: { port: padPath, profile, masterIndex: 1, slots, ...extra } },
        card: { pan: CARD.pan, pinEnv: 'CARD_PIN' },
      }),
    );
    return file;
  }

  function rows(stdout: string): string[][] {
    return stdout.split('\n').filter((l) => /(PASS|FAIL|NOT PROVEN)$/.test(l)).map((l) => l.split(/\s+/));
  }

  it('R-KEY-1, R-KEY-2, R-PAD-1: VeriFone PINpad 1000 family: every key PASS by the pad\'s MAC of a zero block, said in the table', async () => {
    const r = await runCli(['signon', '--config', config(await pad('verifone'), 'vf1000se')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const table = rows(r.stdout);
    assert.equal(table.length, 2);
    for (const [, , expected, device, proof, result] of table) assert.deepEqual([device, proof, result], [expected, 'mac-of-zero-block', 'PASS']);
    assert.match(r.stdout, /proof mac-of-zero-block: the key holder's MAC of one zero block/);
  });

  it('R-KEY-1, R-KEY-2: ID TECH TR-31 family: keys go in as TR-31 blocks; PASS by the check value the pad answers on load', async () => {
    const r = await runCli(['signon', '--config', config(await pad('idtech'), 'l100', { tmkEnv: 'BENCH_TMK' }, { terminalId: '12345679', keyMode: '004' })], '', { BENCH_TMK: TMK });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const table = rows(r.stdout);
    assert.equal(table.length, 3);
    for (const [, , expected, device, proof, result] of table) {
      assert.equal(expected.slice(0, 6), device, 'the pad reports 3 bytes');
      assert.deepEqual([proof, result], ['check-value-on-load', 'PASS']);
    }
    assert.ok(!(r.stdout + r.stderr).includes(TMK.slice(0, 12)));
  });

  it('R-KEY-2: a TR-31 pad profile without tmkEnv is a config error naming the key path', async () => {
    const r = await runCli(['signon', '--config', config('tcp://127.0.0.1:1', 'l100')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /keys\.pinpad\.tmkEnv: l100 takes TR-31 key blocks/);
  });

  it('R-KEY-2: SZZT family: PASS by the check value on load; a corrupted key FAILs under the same proof', async () => {
    const good = await runCli(['signon', '--config', config(await pad('szzt'), 'szzt-emulator')]);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.ok(rows(good.stdout).every((row) => row[4] === 'check-value-on-load' && row[5] === 'PASS'));
    const bad = await runCli(['signon', '--config', config(await pad('szzt', 'corrupt-key'), 'szzt-emulator')]);
    assert.equal(bad.code, 1);
    assert.deepEqual(rows(bad.stdout)[0].slice(4), ['check-value-on-load', 'FAIL']);
  });

  it('R-KEY-2: a pad that can only do PIN entry and MAC is proven by a sale the platform verifies; the table says so', async () => {
    const untrusted = { untrusted: ['checkValueOnLoad', 'readCheckValue', 'macOfZeroBlock'] };
    const refused = await runCli(['signon', '--config', config('tcp://127.0.0.1:1', 'szzt-emulator', untrusted)]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /CANNOT_VERIFY: cannot verify on this device without a sale/);
    const r = await runCli(['signon', '--config', config(await pad('szzt'), 'szzt-emulator', untrusted), '--then-sale', '100'], '', { CARD_PIN: CARD.pin });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(rows(r.stdout).every((row) => row[3] === '-' && row[4] === 'pin-entry-sale' && row[5] === 'PASS'), r.stdout);
    assert.match(r.stdout, /proof pin-entry-sale: a sale with a PIN typed on the pad, verified by the platform/);
  });

  it('R-KEY-2: with the sale as the proof, a wrong PIN typed on the pad leaves the keys unproven (FAIL, exit 1)', async () => {
    const untrusted = { untrusted: ['checkValueOnLoad', 'readCheckValue', 'macOfZeroBlock'] };
    const p = new CliProcess(['sim', 'pinpad', '--tcp', '0', '--master-env', 'PAD_TMK', '--pin-env', 'PAD_PIN'], { PAD_TMK: TMK, PAD_PIN: '999999' });
    pads.push(p);
    const padPath = (await p.waitFor(/on (tcp:\/\/[\d.:]+)/))[1];
    const r = await runCli(['signon', '--config', config(padPath, 'szzt-emulator', untrusted), '--then-sale', '100'], '', { CARD_PIN: CARD.pin });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /sale 100: 39=55/);
    assert.ok(rows(r.stdout).every((row) => row[5] === 'FAIL'));
  });

  it('R-KEY-2: zt588 whose load answer the bench has not confirmed as a check value: "cannot verify on this device" (exit 2, nothing sent)', async () => {
    const r = await runCli(['signon', '--config', config(path.join(dir, 'ttyNOPE'), 'zt588', { untrusted: ['checkValueOnLoad'] })]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /CANNOT_VERIFY: cannot verify on this device: zt588 \(profile\) offers no proof for the pin key/);
    assert.doesNotMatch(r.stderr, /SERIAL_OPEN/, 'refused before opening anything');
  });

  it('--verify-only on a pad that cannot report a check value on request: "cannot verify on this device"', async () => {
    for (const profile of ['vf1000se', 'zt588']) {
      const r = await runCli(['signon', '--config', config('tcp://127.0.0.1:1', profile), '--verify-only']);
      assert.equal(r.code, 2, profile);
      assert.match(r.stderr, /CANNOT_VERIFY: cannot verify on this device: .* cannot report the check value of a loaded key on request/);
    }
  });

  for (const [family, expect] of [
    ['szzt', /family: +SZZT \(ZT588 family\)\nmodel: +ZT588E\nfirmware: +hw 1\.0 sw 1\.0\nserial: +0001\nprofile: +zt588 \(also szzt-emulator\)/],
    ['verifone', /family: +VeriFone PINpad 1000 family\nmodel: +VeriFone PINpad 1000 family\nfirmware: +S12 \(260115\)\nserial: +N010001\nprofile: +vf1000se/],
    ['idtech', /family: +ID TECH SmartPIN family\nmodel: +SmartPIN L100\nfirmware: +V1\.00\.012\nprofile: +l100/],
  ] as const) {
    it(`R-PAD-1: pinpad probe tells the ${family} emulator personality apart and names its profile`, async () => {
      const r = await runCli(['pinpad', 'probe', await pad(family), '--timeout-ms', '300']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, expect);
    });
  }

  it('pinpad probe on a port where nothing answers: exit 1, each family tried', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const r = await runCli(['pinpad', 'probe', `tcp://127.0.0.1:${port}`, '--timeout-ms', '100', '--json']);
      assert.equal(r.code, 1);
      const out = JSON.parse(r.stdout);
      assert.equal(out.found, null);
      assert.deepEqual(out.attempts.map((a: { family: string }) => a.family), ['szzt', 'verifone', 'idtech']);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
