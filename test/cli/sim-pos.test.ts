import assert from 'node:assert/strict';
import { PlatformSimulator } from '../../src/sim/platform/simulator';
import type { FaultRule } from '../../src/sim/platform/config';
import { runCli } from '../support/cli';
import { CARD, TMK, platformConfig } from '../support/platform';

/** `sim pos` as a process, straight to an in-process platform simulator (binary2 over TCP). */
describe('cli: sim pos exit status and what it prints', function () {
  this.timeout(20_000);
  let sim: PlatformSimulator | null = null;
  afterEach(async () => {
    await sim?.close();
    sim = null;
  });

  async function platform(faults: FaultRule[] = []): Promise<number> {
    sim = new PlatformSimulator(platformConfig({ faults }));
    await sim.start();
    return sim.ports[0];
  }

  const env = { POS_TMK: TMK, POS_PIN: CARD.pin, POS_PAN: CARD.pan, POS_BAD_PAN: '62121420000000000129' };
  const pos = (port: number, script: string, ...more: string[]): string[] => [
    'sim', 'pos', '--tcp', `127.0.0.1:${port}`, '--terminal-id', '12345678', '--merchant-id', '123456789012345',
    '--tmk-env', 'POS_TMK', '--pin-env', 'POS_PIN', '--pan-env', 'POS_PAN', '--timeout', '1', '--script', script, ...more,
  ];

  it('a sale the platform never answers is reversed, and the run exits 1 naming it (it exited 0); the void after it is not sent', async () => {
    const port = await platform([{ mti: '0200', action: 'no-response', times: 1 }]);
    const r = await runCli(pos(port, 'signon,sale:100,void'), '', env);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 3, r.stdout);
    assert.match(lines[0], /^sign-on +39=00 +MAC ok +pin PASS, mac PASS$/);
    assert.match(lines[1], /^sale 100 +39=00 +MAC ok +no response: reversed \(0400, 98\)$/);
    assert.equal(lines[2], 'void           not sent: the sale before it got no answer and was reversed: nothing to void');
    assert.equal(r.stderr, 'nacbridge: sim pos: 2 of 3 step(s) did not succeed: sale 100, void\n');
    assert.deepEqual(sim?.journal.entries.map((e) => e.mti), ['0800', '0200', '0400']);
  });

  it('R-KEY-2: a work key whose check value fails makes the sign-on a failed step: exit 1 (it exited 0)', async () => {
    // bad-mac flips the 0810's last byte: field 62's MAC-key check value.
    const port = await platform([{ mti: '0800', action: 'bad-mac', times: 1 }]);
    const r = await runCli(pos(port, 'signon'), '', env);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^sign-on +39=00 +MAC ok +pin PASS, mac FAIL\n$/);
    assert.equal(r.stderr, 'nacbridge: sim pos: 1 of 1 step(s) did not succeed: sign-on\n');
  });

  it('the sign-on result is printed before the error of a later step (the platform closes the connection on the sale): exit 2', async () => {
    const port = await platform([{ mti: '0200', action: 'close', times: 1 }]);
    const r = await runCli(pos(port, 'signon,sale:100'), '', env);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /^sign-on +39=00 +MAC ok +pin PASS, mac PASS\n$/);
    assert.match(r.stderr, /^nacbridge: CALL_ENDED: the connection closed before the response came\n$/);
  });

  it('a script with a void before any sale is refused before anything is sent: exit 2', async () => {
    const port = await platform();
    const r = await runCli(pos(port, 'signon,void,sale:100'), '', env);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'nacbridge: BAD_SCRIPT: void needs a sale before it in the script\n');
    assert.equal(sim?.journal.entries.length, 0);
  });

  it('--pin-env naming a variable that is not set is refused before anything is sent (a sale went out with no PIN block): exit 2', async () => {
    const port = await platform();
    const r = await runCli(pos(port, 'signon,sale:100', '--pin-env', 'NACBRIDGE_TEST_UNSET_PIN'), '', env);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'nacbridge: USAGE: environment variable NACBRIDGE_TEST_UNSET_PIN (--pin-env) is not set: no PIN to send, so nothing was sent\n');
    const empty = await runCli(pos(port, 'signon,sale:100'), '', { ...env, POS_PIN: '' });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /POS_PIN \(--pin-env\) is not set/);
    assert.equal(sim?.journal.entries.length, 0);
  });

  for (const [args, message] of [
    [['--terminal-id', '1234567'], /^error: option '--terminal-id <id>' argument '1234567' is invalid\. field 41 is ans8: exactly 8 printable ASCII characters \(this has 7\)\n$/],
    [['--merchant-id', '1234567890123456'], /^error: option '--merchant-id <id>' argument '1234567890123456' is invalid\. field 42 is ans15: exactly 15 printable ASCII characters \(this has 16\)\n$/],
    [['--pan-env', 'POS_BAD_PAN'], /^nacbridge: USAGE: --pan must be a card number of 13 to 19 digits \(field 2, n\.\.19\)\n$/],
  ] as const) {
    it(`${args.join(' ')}: refused before anything is sent, exit 2 (sim pos did not check these lengths)`, async () => {
      const port = await platform();
      const r = await runCli(pos(port, 'signon,sale:100', ...args), '', env);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
      assert.equal(sim?.journal.entries.length, 0);
    });
  }
});
