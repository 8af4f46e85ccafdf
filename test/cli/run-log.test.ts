import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ManualClock } from '../../src/clock';
import { logLine } from '../../src/cli/io';
import { encodeLengthPrefixed, binary2, LengthPrefixedDecoder } from '../../src/codec/length-prefix';
import { fromHex } from '../../src/codec/hex';
import { MessageCodec } from '../../src/iso8583/codec';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { LoopbackPlatform } from '../../tools/bench/loopback-platform';
import { CliProcess } from '../support/process';

const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

describe('cli: nacbridge run log lines and --trace -', function () {
  this.timeout(20_000);
  let dir: string;
  let platform: LoopbackPlatform;
  let ports: number[];
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-run-log-'));
    platform = new LoopbackPlatform();
    ports = await platform.start();
  });
  after(async () => {
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function config(name: string): string {
    const file = path.join(dir, `${name}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        hosts: [{ name: 'cups', default: true, allowSingleLink: true, links: ports.map((port) => ({ host: '127.0.0.1', port })) }],
        terminalListener: { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
      }),
    );
    return file;
  }

  it('logLine puts the ISO time of the clock first', () => {
    assert.equal(logLine('line line1 idle', new ManualClock(Date.UTC(2026, 10, 21, 9, 18, 34, 5))), '2026-11-21T09:18:34.005Z line line1 idle\n');
  });

  it('every line nacbridge run prints starts with an ISO timestamp (they had none)', async () => {
    const nac = new CliProcess(['run', '--config', config('stamped')]);
    try {
      await nac.waitFor(/link cups-1 up[\s\S]*link cups-2 up|link cups-2 up[\s\S]*link cups-1 up/);
      await nac.waitFor(/NAC running/);
    } finally {
      assert.equal(await nac.stop(), 0, nac.stderr);
    }
    const lines = nac.stdout.trimEnd().split('\n');
    assert.ok(lines.length >= 5, nac.stdout);
    for (const line of lines) assert.match(line, STAMP);
    assert.match(lines[lines.length - 1], / relay: \{"requests":0,/);
    // The warning (a bench's two links to one host) is stamped too.
    assert.match(nac.stderr, new RegExp(`${STAMP.source.slice(1)}nacbridge: warning: hosts cups: two links go to the same host`));
  });

  /** The first match of `pattern` in what `read` gives, waiting up to 10 s. */
  async function waitIn(read: () => string, pattern: RegExp): Promise<RegExpExecArray> {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
      const m = pattern.exec(read());
      if (m) return m;
    }
    throw new Error(`no ${pattern} in ${read()}`);
  }

  /** One 0800 from a TCP terminal through the NAC, once its links are up; resolves with the answer's MTI. */
  async function relayOne(log: () => string): Promise<string> {
    const port = Number((await waitIn(log, /terminals on 127\.0\.0\.1:(\d+)/))[1]);
    await waitIn(log, /link cups-1 up[\s\S]*link cups-2 up|link cups-2 up[\s\S]*link cups-1 up/);
    const codec = new MessageCodec(unionpayPos);
    const payload = Buffer.concat([fromHex('6000030000'), fromHex('603100310000'), codec.pack({ mti: '0800', fields: { 11: '000001', 41: '12345678', 60: '00000001003' } })]);
    const terminal = connect({ host: '127.0.0.1', port });
    try {
      const answer = await new Promise<Buffer>((resolve, reject) => {
        const decoder = new LengthPrefixedDecoder(binary2);
        terminal.on('data', (chunk) => decoder.push(chunk, (e) => e.type === 'frame' && resolve(e.frame)));
        terminal.on('error', reject);
        terminal.write(encodeLengthPrefixed(binary2, payload));
      });
      return answer.subarray(11, 13).toString('hex');
    } finally {
      terminal.destroy();
    }
  }

  it('--trace - writes the trace to standard output, one JSON record a line, and the NAC\'s own lines to standard error (it wrote a file named "-")', async () => {
    const nac = new CliProcess(['run', '--config', config('trace-stdout'), '--trace', '-']);
    try {
      assert.equal(await relayOne(() => nac.stderr), '0810');
      await waitIn(() => nac.stdout, /"to-terminal"/);
    } finally {
      assert.equal(await nac.stop(), 0, nac.stderr);
    }
    const records = nac.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { direction: string; decoded: { mti: string } });
    assert.deepEqual(records.map((r) => [r.direction, r.decoded.mti]), [['to-host', '0800'], ['to-terminal', '0810']]);
    for (const line of nac.stderr.trimEnd().split('\n')) assert.match(line, STAMP);
    assert.match(nac.stderr, / nacbridge NAC running: /);
    assert.ok(!existsSync('-') && !existsSync(path.join(dir, '-')), 'no file named -');
  });

  it('--trace to a file that fails mid-run (/dev/full): the NAC relays on, and exits 1 when stopped, with the records lost (it exited 0)', async () => {
    const nac = new CliProcess(['run', '--config', config('trace-full'), '--trace', '/dev/full']);
    try {
      assert.equal(await relayOne(() => nac.stdout), '0810', 'relayed, whatever the trace');
      await waitIn(() => nac.stderr, /nacbridge: trace \/dev\/full stopped: ENOSPC/);
    } finally {
      assert.equal(await nac.stop(), 1, nac.stderr);
    }
    assert.match(nac.stdout, /Z trace: \d+ record\(s\) written, \d+ lost after the file failed\n$/);
  });
});
