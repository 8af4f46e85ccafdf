import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { vectors } from '../support/vectors';

const f62 = vectors().field62[0];
const mac = vectors().mac[0];
const SECRETS = [f62.tmk, f62.pinKey, f62.macKey];
const noSecrets = (...texts: string[]) => {
  for (const text of texts) for (const s of SECRETS) assert.ok(!text.toUpperCase().includes(s.slice(0, 12)), 'key material in output');
};

describe('cli: nacbridge crypto', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('R-KEY-2: kcv prints the check value; --length picks how many bytes', async () => {
    for (const v of vectors().kcv) assert.equal((await runCli(['crypto', 'kcv', '--key', v.key])).stdout.trim(), v.kcv);
    assert.equal((await runCli(['crypto', 'kcv', '--key', vectors().kcv[0].key, '--length', '3'])).stdout.trim(), '08D7B4');
  });

  it('R-MAC-1: mac --data prints the 8 characters of field 64; other algorithms 16 hex digits', async () => {
    const frame = Buffer.from(mac.frame, 'hex');
    const data = frame.subarray(13, frame.length - 8).toString('hex');
    assert.equal((await runCli(['crypto', 'mac', '--algorithm', 'unionpay-ecb', '--key', mac.key, '--data', data])).stdout.trim(), 'B3A092AE');
    const x99 = await runCli(['crypto', 'mac', '--algorithm', 'x9.9', '--key', '0123456789ABCDEF', '--data', Buffer.from('Now is the time for all ').toString('hex')]);
    assert.equal(x99.stdout.trim(), '70A30640CC76DD8B');
  });

  it('R-MAC-1, R-MSG-9: mac --frame checks the frame\'s own field 64: exit 0 when it matches, 1 when not', async () => {
    const good = await runCli(['crypto', 'mac', '--algorithm', 'unionpay-ecb', '--key', mac.key, '--frame', mac.frame]);
    assert.equal(good.code, 0);
    assert.equal(good.stdout.trim(), 'B3A092AE');
    const wrongKey = await runCli(['crypto', 'mac', '--algorithm', 'unionpay-ecb', '--key', '0723C80DB5F4CD3E', '--frame', mac.frame]);
    assert.equal(wrongKey.code, 1);
    assert.notEqual(wrongKey.stdout.trim(), 'B3A092AE');
    noSecrets(good.stdout, good.stderr, wrongKey.stdout, wrongKey.stderr);
    assert.ok(!wrongKey.stdout.includes(mac.key) && !wrongKey.stderr.includes(mac.key));
  });

  it('R-PIN-1: pinblock prints the clear block, or the encrypted one with --key', async () => {
    const v = vectors().pinBlock[0];
    assert.equal((await runCli(['crypto', 'pinblock', '--pin', v.pin, '--pan', v.pan])).stdout.trim(), v.clearBlock);
    const encrypted = await runCli(['crypto', 'pinblock', '--pin', v.pin, '--pan', v.pan, '--key', f62.pinKey]);
    assert.match(encrypted.stdout.trim(), /^[0-9A-F]{16}$/);
    assert.notEqual(encrypted.stdout.trim(), v.clearBlock);
  });

  it('R-KEY-1, R-KEY-2: unwrap with the TMK from the environment prints checks, no keys', async () => {
    const r = await runCli(['crypto', 'unwrap', '--field62', f62.field62, '--mode', '003', '--tmk-env', 'BENCH_TMK'], '', {
      BENCH_TMK: f62.tmk,
      DEBUG: 'nacbridge:*',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { pinKey: { check: '8D0A74B8', ok: true }, macKey: { check: 'AB7153CA', ok: true } });
    noSecrets(r.stdout, r.stderr);
  });

  it('R-KEY-1: unwrap --reveal with the TMK from a file adds the clear keys', async () => {
    const file = path.join(dir, 'tmk');
    writeFileSync(file, f62.tmk + '\n', { mode: 0o600 });
    const r = await runCli(['crypto', 'unwrap', '--field62', f62.field62, '--mode', '003', '--tmk-file', file, '--reveal']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      pinKey: { check: '8D0A74B8', ok: true, key: f62.pinKey },
      macKey: { check: 'AB7153CA', ok: true, key: f62.macKey },
    });
  });

  it('R-KEY-2: unwrap exits 1 when a check fails, saying which, and leaks no key', async () => {
    const tampered = f62.field62.slice(0, 40) + 'FF' + f62.field62.slice(42);
    const r = await runCli(['crypto', 'unwrap', '--field62', tampered, '--mode', '003', '--tmk-env', 'T'], '', { T: f62.tmk, DEBUG: 'nacbridge:*' });
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout);
    assert.equal(out.pinKey.ok, true);
    assert.equal(out.macKey.ok, false);
    noSecrets(r.stdout, r.stderr);
  });

  it('the TMK never comes from the command line; bad input exits 2 with one line', async () => {
    const noTmk = await runCli(['crypto', 'unwrap', '--field62', f62.field62, '--mode', '003']);
    assert.equal(noTmk.code, 2);
    const unknown = await runCli(['crypto', 'unwrap', '--field62', f62.field62, '--mode', '003', '--tmk', f62.tmk]);
    assert.equal(unknown.code, 2);
    for (const args of [
      ['crypto', 'kcv', '--key', '0123'],
      ['crypto', 'kcv', '--key', '012'],
      ['crypto', 'mac', '--algorithm', 'sha1', '--key', mac.key, '--data', '00'],
      ['crypto', 'pinblock', '--pin', '123456', '--pan', '62121420000X0012'],
      ['crypto', 'unwrap', '--field62', '00', '--mode', '003', '--tmk-env', 'T'],
    ]) {
      const r = await runCli(args, '', { T: f62.tmk });
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trim().split('\n').length >= 1, true);
      noSecrets(r.stderr);
    }
  });
});
