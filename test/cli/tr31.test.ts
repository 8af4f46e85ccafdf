import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../support/cli';

// TR-31:2018 A.7.2.2 (as reproduced in openemv/tr31 test/tr31_decrypt_test.c) and the PP791
// programmer's manual (UDN PM0103-U Rev. 06, message 02 TR-31 2010 example).
const A722 = { kbpk: 'DD7515F2BFC17F85CE48F3CA25CB21F6', block: 'B0080P0TE00E000094B420079CC80BA3461F86FE26EFC4A3B8E4FA4C5F5341176EED7B727B8A248E', key: '3F419E1CB7079442AA37474C2EFBF8B8' };
const PP791 = { kbpk: '19191919191919195B5B5B5B5B5B5B5B', key: 'AA55AA55AA55AA553434343434343434' };

describe('cli: nacbridge crypto tr31', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-tr31-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('R-KEY-2: unwrap with the KBPK from the environment prints the header and check value, no key', async () => {
    const r = await runCli(['crypto', 'tr31', 'unwrap', '--block', A722.block, '--kbpk-env', 'KBPK'], '', { KBPK: A722.kbpk });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.usage, 'P0');
    assert.equal(out.version, 'B');
    assert.equal(out.keyLength, 16);
    assert.equal(out.kcv, '57C409');
    assert.ok(!r.stdout.includes(A722.key.slice(0, 8)));
  });

  it('wrap with KBPK and key from files, then unwrap: the same key comes back (checked by check value)', async () => {
    const kbpkFile = path.join(dir, 'kbpk');
    const keyFile = path.join(dir, 'key');
    writeFileSync(kbpkFile, PP791.kbpk + '\n');
    writeFileSync(keyFile, PP791.key);
    const w = await runCli(['crypto', 'tr31', 'wrap', '--header', 'B0000P0TE00N0000', '--kbpk-file', kbpkFile, '--key-file', keyFile, '--optional', 'KS:00604B120F9292800000']);
    assert.equal(w.code, 0, w.stderr);
    const block = w.stdout.trim();
    assert.match(block, /^B\d{4}P0TE00N0[12]00KS18/);
    assert.ok(!block.includes(PP791.key.slice(0, 8)));
    const u = await runCli(['crypto', 'tr31', 'unwrap', '--block', block, '--kbpk-file', kbpkFile, '--reveal']);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(JSON.parse(u.stdout).key, PP791.key);
  });

  it('a key block whose MAC does not verify: exit 1, nothing on stdout', async () => {
    const tampered = A722.block.slice(0, 20) + (A722.block[20] === '0' ? '1' : '0') + A722.block.slice(21);
    const r = await runCli(['crypto', 'tr31', 'unwrap', '--block', tampered, '--kbpk-env', 'KBPK'], '', { KBPK: A722.kbpk });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /TR31_MAC_MISMATCH/);
  });

  it('keys never on the command line: no --key option; a missing variable is a usage error (exit 2)', async () => {
    const r = await runCli(['crypto', 'tr31', 'wrap', '--header', 'B0000P0TE00N0000', '--key', PP791.key, '--kbpk-env', 'KBPK'], '', { KBPK: PP791.kbpk });
    assert.equal(r.code, 2);
    const unset = await runCli(['crypto', 'tr31', 'unwrap', '--block', A722.block, '--kbpk-env', 'NOT_SET_ANYWHERE']);
    assert.equal(unset.code, 2);
    assert.match(unset.stderr, /NOT_SET_ANYWHERE is not set/);
    const malformed = await runCli(['crypto', 'tr31', 'unwrap', '--block', 'B0080P0T', '--kbpk-env', 'KBPK'], '', { KBPK: A722.kbpk });
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /TR31_BAD_LENGTH/);
  });
});
