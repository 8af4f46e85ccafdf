import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { hostPort, listenPort, wholeNumber } from '../../src/cli/options';
import { runCli } from '../support/cli';
import { failsToStart } from '../support/process';

describe('cli: numeric and address options', () => {
  it('wholeNumber takes plain decimal digits within its range and nothing else', () => {
    const ms = wholeNumber(0);
    assert.equal(ms('0'), 0);
    assert.equal(ms(' 300 '), 300);
    for (const bad of ['', '-5', '1.5', '1e3', '0x10', 'x', '12abc', '9007199254740993']) {
      assert.throws(() => ms(bad), InvalidArgumentError, JSON.stringify(bad));
    }
    assert.equal(listenPort('65535'), 65535);
    assert.throws(() => listenPort('65536'), /a whole number from 0 to 65535/);
    assert.throws(() => wholeNumber(100)('99'), /a whole number, 100 or more/);
  });

  it('hostPort reads HOST:PORT, an IPv6 host in brackets, and refuses a missing or impossible port', () => {
    assert.deepEqual(hostPort('127.0.0.1:7000'), { host: '127.0.0.1', port: 7000 });
    assert.deepEqual(hostPort('nac.local:5301'), { host: 'nac.local', port: 5301 });
    assert.deepEqual(hostPort('[::1]:7000'), { host: '::1', port: 7000 });
    for (const bad of ['127.0.0.1', '127.0.0.1:', ':7000', 'host:0', 'host:65536', 'host:70000', '::1:7000', 'host:7000x']) {
      assert.throws(() => hostPort(bad), InvalidArgumentError, bad);
    }
  });

  // Before: a NaN ring interval rang every millisecond, a NaN timeout fired at once, and a bad POS
  // port threw after the serial side was up, leaving the process running after the error.
  const env = { PAD_TMK: '0123456789ABCDEF0123456789ABCDEF', POS_TMK: '0123456789ABCDEF0123456789ABCDEF' };
  const pos = ['sim', 'pos', '--terminal-id', '12345678', '--merchant-id', '123456789012345', '--tmk-env', 'POS_TMK', '--pan', '6212142000000000012'];
  const cases: [string[], RegExp][] = [
    [['sim', 'modem', '--tcp', 'abc'], /option '--tcp <port>' argument 'abc' is invalid\. a whole number from 0 to 65535/],
    [['sim', 'modem', '--tcp', '0', '--pos-port', '99999'], /option '--pos-port <port>' argument '99999' is invalid/],
    [['sim', 'modem', '--tcp', '0', '--ring-interval-ms', 'x'], /option '--ring-interval-ms <ms>' argument 'x' is invalid\. a whole number, 100 or more/],
    [['sim', 'modem', '--tcp', '0', '--drop-after-ms', '-5'], /option '--drop-after-ms <ms>' argument '-5' is invalid\. a whole number, 0 or more/],
    [['sim', 'pinpad', '--tcp', '0', '--master-env', 'PAD_TMK', '--master-index', '256'], /option '--master-index <n>' argument '256' is invalid\. a whole number from 0 to 255/],
    [['sim', 'pinpad', '--tcp', '0', '--master-env', 'PAD_TMK', '--fault', 'nak:x'], /option '--fault <fault\.\.\.>' argument 'nak:x' is invalid/],
    [['sim', 'pinpad', '--tcp', '0', '--master-env', 'PAD_TMK', '--fault', 'error:ZZ'], /error:XX takes a status code of two hex digits/],
    [['sim', 'pinpad', '--tcp', '0', '--master-env', 'PAD_TMK', '--fault', 'boom'], /a fault is nak:N, silent:N, error:E4 or corrupt-key/],
    [[...pos, '--tcp', '127.0.0.1:7000', '--timeout', 'x'], /option '--timeout <seconds>' argument 'x' is invalid\. a whole number, 1 or more/],
    [[...pos, '--tcp', '127.0.0.1'], /option '--tcp <host:port>' argument '127\.0\.0\.1' is invalid\. HOST:PORT/],
    [['crypto', 'kcv', '--key', '0123456789ABCDEF', '--length', '9'], /option '--length <n>' argument '9' is invalid\. a whole number from 1 to 8/],
  ];
  for (const [args, message] of cases) {
    it(`${args.slice(0, 2).join(' ')} ${args.slice(-2).join(' ')}: exit 2, the option named on stderr, nothing on stdout, nothing started`, async () => {
      const result = await runCli(args, '', env);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '');
    });
  }
});

describe('cli: simulators whose port or pty cannot be had', function () {
  this.timeout(20_000);
  let holder: Server;
  let taken: number;
  before(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', () => resolve()));
    taken = (holder.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => holder.close(() => resolve())));

  it('sim modem and sim pinpad on a serial-side port that is taken: exit 2 naming the address (it was an unhandled error)', async () => {
    for (const args of [
      ['sim', 'modem', '--tcp', String(taken)],
      ['sim', 'pinpad', '--tcp', String(taken), '--master-env', 'PAD_TMK'],
    ]) {
      assert.match(await failsToStart(args, { PAD_TMK: '0123456789ABCDEF0123456789ABCDEF' }), new RegExp(`EADDRINUSE.*127\\.0\\.0\\.1:${taken}`), args.join(' '));
    }
  });

  it('sim modem on a POS port that is taken: exit 2, and the serial side it had opened is closed (it stayed running)', async () => {
    assert.match(await failsToStart(['sim', 'modem', '--tcp', '0', '--pos-port', String(taken)]), new RegExp(`EADDRINUSE.*127\\.0\\.0\\.1:${taken}`));
  });

  it('sim modem --pty in a directory that does not exist: the link that could not be made, and why', async () => {
    const dir = path.join(tmpdir(), `nacbridge-no-such-dir-${process.pid}`);
    const stderr = await failsToStart(['sim', 'modem', '--pty', dir]);
    assert.match(stderr, /PTY_FAILED: cannot link .*nacbridge-no-such-dir-\d+\/line1 to \/dev\/pts\/\d+: ENOENT: no such file or directory/);
  });
});
