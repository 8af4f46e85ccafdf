import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { repoRoot } from '../support/vectors';

/** Every debug namespace the sources create: createDebug('nacbridge:...') in src/ and tools/. */
function namespacesInSources(): string[] {
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.ts')) for (const m of readFileSync(file, 'utf8').matchAll(/createDebug\('(nacbridge:[a-z-]+)'\)/g)) found.add(m[1]);
    }
  };
  for (const dir of ['src', 'tools']) walk(path.join(repoRoot(), dir));
  return [...found].sort();
}

describe('cli: help', function () {
  // Several whole processes per test: slow on a loaded machine, not a hang.
  this.timeout(30_000);
  it('bare nacbridge, nacbridge sim and nacbridge crypto print their help on stdout and exit 1 (it was stderr and exit 2); --help exits 0', async () => {
    for (const [args, usage] of [
      [[], 'Usage: nacbridge [options] [command]'],
      [['sim'], 'Usage: nacbridge sim [options] [command]'],
      [['crypto'], 'Usage: nacbridge crypto [options] [command]'],
    ] as const) {
      const r = await runCli([...args]);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr, '');
      assert.ok(r.stdout.startsWith(usage + '\n'), r.stdout);
      const help = await runCli([...args, '--help']);
      assert.equal(help.code, 0);
      assert.equal(help.stdout, r.stdout, 'the same help as --help');
    }
    const unknown = await runCli(['sim', 'bogus']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stdout, '');
    assert.match(unknown.stderr, /^error: unknown command 'bogus'/);
  });

  it('run --help lists every DEBUG namespace of the sources, with what it logs (they were not documented)', async () => {
    const r = await runCli(['run', '--help']);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /Debug log on stderr: DEBUG=nacbridge:\* for all of it/);
    const listed = [...r.stdout.matchAll(/^ {2}(nacbridge:[a-z-]+) {2,}\S/gm)].map((m) => m[1]).sort();
    const sources = namespacesInSources();
    assert.ok(sources.length >= 10, sources.join(' '));
    assert.deepEqual(listed, sources);
  });
});
