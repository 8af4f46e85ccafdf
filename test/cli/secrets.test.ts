import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PlatformSimulator } from '../../src/sim/platform/simulator';
import { runCli } from '../support/cli';
import { CARD, TMK, platformConfig } from '../support/platform';
import { vectors } from '../support/vectors';

const WARNING = /^nacbridge: warning: --(key|pin|pan) on the command line is visible to other users \(ps, shell history\); use --\1-env VAR or --\1-file FILE$/;

/** Issue 25 item 6: every key, PIN and PAN option has an environment and a file form; the argument form warns. */
describe('cli: secrets off the command line (--NAME-env, --NAME-file; --NAME warns)', function () {
  this.timeout(30_000);
  let dir: string;
  const kcv = vectors().kcv[0];
  const mac = vectors().mac[0];
  const pb = vectors().pinBlock[0];
  const pinKey = vectors().field62[0].pinKey;
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const secretsIn = (text: string, ...secrets: string[]) => secrets.filter((s) => text.toUpperCase().includes(s.toUpperCase()));
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-secrets-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('crypto kcv: --key-env and --key-file give the check value without a warning; --key still works with one warning line', async () => {
    const env = await runCli(['crypto', 'kcv', '--key-env', 'K'], '', { K: kcv.key });
    const fromFile = await runCli(['crypto', 'kcv', '--key-file', file('kcv.hex', `${kcv.key}\n`)]);
    const plain = await runCli(['crypto', 'kcv', '--key', kcv.key]);
    for (const r of [env, fromFile, plain]) {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), kcv.kcv);
    }
    assert.equal(env.stderr, '');
    assert.equal(fromFile.stderr, '');
    const lines = plain.stderr.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0], WARNING);
    assert.deepEqual(secretsIn(plain.stderr, kcv.key), []);
  });

  it('crypto mac: --key-env and --key-file; two forms at once is a usage error that quotes neither', async () => {
    const args = ['crypto', 'mac', '--algorithm', 'unionpay-ecb', '--frame', mac.frame];
    const env = await runCli([...args, '--key-env', 'MACKEY'], '', { MACKEY: mac.key });
    const fromFile = await runCli([...args, '--key-file', file('mac.hex', mac.key)]);
    for (const r of [env, fromFile]) {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'B3A092AE');
      assert.equal(r.stderr, '');
    }
    const both = await runCli([...args, '--key-env', 'MACKEY', '--key', mac.key], '', { MACKEY: mac.key });
    assert.equal(both.code, 2);
    assert.equal(both.stderr, 'nacbridge: USAGE: give the MAC key with only one of --key, --key-env or --key-file\n');
    const none = await runCli(args);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give the MAC key with one of --key-env VAR, --key-file FILE or --key/);
  });

  it('R-PIN-1: crypto pinblock takes PIN, PAN and key from the environment or files, with the same blocks as the argument forms (which warn once each)', async () => {
    const plain = await runCli(['crypto', 'pinblock', '--pin', pb.pin, '--pan', pb.pan, '--key', pinKey]);
    assert.equal(plain.code, 0, plain.stderr);
    const warnings = plain.stderr.trim().split('\n');
    assert.equal(warnings.length, 3);
    for (const w of warnings) assert.match(w, WARNING);
    const env = await runCli(['crypto', 'pinblock', '--pin-env', 'P', '--pan-env', 'C', '--key-env', 'K'], '', { P: pb.pin, C: pb.pan, K: pinKey });
    const files = await runCli(['crypto', 'pinblock', '--pin-file', file('pin', pb.pin), '--pan-file', file('pan', pb.pan), '--key-file', file('pinkey', pinKey)]);
    for (const r of [env, files]) {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal(r.stdout, plain.stdout);
    }
    const clear = await runCli(['crypto', 'pinblock', '--pin-env', 'P', '--pan-file', file('pan2', pb.pan)], '', { P: pb.pin });
    assert.equal(clear.stdout.trim(), pb.clearBlock);
    const unset = await runCli(['crypto', 'pinblock', '--pin-env', 'NACBRIDGE_TEST_UNSET', '--pan-env', 'C'], '', { C: pb.pan });
    assert.equal(unset.code, 2);
    assert.equal(unset.stderr, 'nacbridge: USAGE: environment variable NACBRIDGE_TEST_UNSET (--pin-env) is not set\n');
    assert.deepEqual(secretsIn(plain.stderr + unset.stderr + clear.stderr, pb.pan, pinKey), []);
  });

  it('a key file larger than its cap is refused with INPUT_TOO_LARGE naming the cap, at once (/dev/zero too)', async () => {
    const big = await runCli(['crypto', 'kcv', '--key-file', file('big.hex', '0'.repeat(5000))]);
    assert.equal(big.code, 2);
    assert.match(big.stderr, /^nacbridge: INPUT_TOO_LARGE: key file .* is larger than 4096 bytes, the most nacbridge reads for it \(cap 4096\)\n$/);
    const zero = await runCli(['crypto', 'unwrap', '--field62', '00', '--mode', '003', '--tmk-file', '/dev/zero']);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /INPUT_TOO_LARGE: TMK file \/dev\/zero is larger than 4096 bytes/);
    const kbpk = await runCli(['crypto', 'tr31', 'unwrap', '--block', 'D0000', '--kbpk-file', '/dev/zero']);
    assert.equal(kbpk.code, 2);
    assert.match(kbpk.stderr, /INPUT_TOO_LARGE: KBPK file \/dev\/zero/);
  });

  it('sim pos: --pan-env and --pan-file (and --pin-file) run the script; --pan warns; a bad PAN from a file is refused without quoting it', async () => {
    const sim = new PlatformSimulator(platformConfig());
    await sim.start();
    try {
      const base = ['sim', 'pos', '--tcp', `127.0.0.1:${sim.ports[0]}`, '--terminal-id', '12345678', '--merchant-id', '123456789012345', '--tmk-env', 'T', '--timeout', '5', '--script', 'signon,sale:100'];
      const env = { T: TMK, P: CARD.pin, C: CARD.pan };
      const viaEnv = await runCli([...base, '--pan-env', 'C', '--pin-env', 'P'], '', env);
      assert.equal(viaEnv.code, 0, viaEnv.stderr);
      assert.equal(viaEnv.stderr, '');
      const viaFile = await runCli([...base, '--pan-file', file('card', CARD.pan), '--pin-file', file('cardpin', CARD.pin)], '', env);
      assert.equal(viaFile.code, 0, viaFile.stderr);
      assert.equal(viaFile.stderr, '');
      assert.equal(sim.journal.entries.filter((e) => e.mti === '0200' && e.responseCode === '00').length, 2, 'both sales approved, with the PIN checked');
      const bad = await runCli([...base, '--pan-file', file('badcard', '62121420000000000129')], '', env);
      assert.equal(bad.code, 2);
      assert.equal(bad.stderr, 'nacbridge: USAGE: --pan must be a card number of 13 to 19 digits (field 2, n..19)\n');
      const plain = await runCli([...base, '--pan', '1234'], '', env);
      assert.equal(plain.code, 2);
      assert.match(plain.stderr.split('\n')[0], WARNING);
      assert.deepEqual(secretsIn(viaEnv.stdout + viaFile.stdout + bad.stderr + plain.stderr, CARD.pan, '62121420000000000129', TMK), []);
    } finally {
      await sim.close();
    }
  });
});
