import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../tools/free-port';
import { runCli } from '../support/cli';
import { CliProcess, failsToStart } from '../support/process';

describe('cli: nacbridge run with ports that are wrong or taken', function () {
  this.timeout(20_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-run-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function config(name: string, body: object): string {
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(body));
    return file;
  }

  it('R-CONN-3: a serial port that does not open and a link that is refused are printed with their reasons and retry times, and the NAC keeps trying', async () => {
    const port = await freePort();
    const file = config('wrong-ports', {
      lines: [{ name: 'line1', port: path.join(dir, 'ttyNOPE'), modem: 'emulator', dnis: '61651108', address: '0001' }],
      hosts: [{ name: 'cups', default: true, allowSingleLink: true, links: [{ host: '127.0.0.1', port }] }],
    });
    const nac = new CliProcess(['run', '--config', file]);
    try {
      const tty = path.join(dir, 'ttyNOPE');
      const [opening] = await nac.waitFor(/line line1 open failed: [^\n]+; next try in \d+\.\d s/);
      assert.ok(opening.includes(tty), opening);
      await nac.waitFor(new RegExp(`host cups link cups-1 down \\(connect failed: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)`));
      // Still trying: the line's second attempt is announced too.
      await nac.waitFor(/(line line1 open failed: [^\n]+\n[\s\S]*){2}/);
    } finally {
      assert.equal(await nac.stop(), 0, nac.stderr);
    }
  });

  for (const [what, taken] of [
    ['the status endpoint', (port: number) => ({ status: { host: '127.0.0.1', port } })],
    ['the terminal listener', (port: number) => ({ terminalListener: { host: '127.0.0.1', port, allow: ['127.0.0.1'], addressFrom: '8001', addressTo: '8FFF' } })],
  ] as const) {
    it(`a port already taken for ${what}: exit 2 naming the address, and what had started is closed`, async () => {
      const holder = createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', () => resolve()));
      const port = (holder.address() as { port: number }).port;
      const file = config(`taken-${port}`, { hosts: [{ name: 'cups', default: true, allowSingleLink: true, links: [{ host: '127.0.0.1', port: await freePort() }] }], ...taken(port) });
      try {
        // Before: the status endpoint's error was unhandled (a stack trace, exit 1), and a taken
        // listener port left the links retrying with the process alive.
        const stderr = await failsToStart(['run', '--config', file]);
        assert.match(stderr, new RegExp(`EADDRINUSE.*127\\.0\\.0\\.1:${port}`));
      } finally {
        await new Promise<void>((resolve) => holder.close(() => resolve()));
      }
    });
  }

  it('--trace to a file that cannot be opened: exit 2 naming the file, before the NAC starts', async () => {
    const file = config('trace', { hosts: [{ name: 'cups', default: true, allowSingleLink: true, links: [{ host: '127.0.0.1', port: await freePort() }] }] });
    const trace = path.join(dir, 'missing', 'trace.jsonl');
    const result = await runCli(['run', '--config', file, '--trace', trace]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /TRACE_UNWRITABLE: cannot open the trace file: ENOENT/);
    assert.ok(result.stderr.includes(trace), result.stderr);
    assert.doesNotMatch(result.stdout, /NAC running|connecting/);
  });
});
