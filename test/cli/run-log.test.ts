import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ManualClock } from '../../src/clock';
import { logLine } from '../../src/cli/io';
import { LoopbackPlatform } from '../../tools/bench/loopback-platform';
import { CliProcess } from '../support/process';

const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

describe('cli: nacbridge run log lines', function () {
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
});
