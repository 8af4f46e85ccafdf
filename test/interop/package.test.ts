import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../support/vectors';

interface Manifest {
  name: string;
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command to its end; node's own folder goes first on PATH, for `#!/usr/bin/env node`. */
function run(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every .js file under `dir`. */
function jsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return jsFiles(full);
    return name.endsWith('.js') ? [full] : [];
  });
}

/** The package a bare require names ('@scope/name/sub' -> '@scope/name'), or null for a relative one. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const DECODE_HEX =
  '007960000000046031003100000810003800010AC0001401348709183403220848615840323130333232303931383334303030303231303030313836313' +
  '43430333630313230303231001100000001003F0040A0F4BAB158444777DCCEFA04F3B4652318ECC792EF3AEC72A5011D350000000000000000F1737A9E';

/**
 * What a field box gets: `npm pack` of this checkout, installed globally into an empty prefix with
 * --omit=dev (no TypeScript, no mocha, no benchmark packages), and the installed `nacbridge` run.
 * Needs the npm registry or npm's cache for the dependencies (--prefer-offline uses the cache):
 * that is why it is in the interop suite, not in npm test.
 */
describe('interop: the npm pack tarball installs with --omit=dev into a clean prefix and runs', function () {
  this.timeout(180_000);
  const root = repoRoot();
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Manifest;
  let dir: string;
  let tarball: string;
  let shipped: string[];
  let installed: string;
  let bin: string;
  let install: Run;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-pack-'));
    // npm test has just compiled dist/; --ignore-scripts packs it as it is instead of compiling again.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root);
    assert.equal(pack.code, 0, pack.stderr);
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(dir, info.filename);
    shipped = info.files.map((f) => f.path);
    const prefix = path.join(dir, 'prefix');
    install = await run('npm', ['install', '--global', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', tarball], dir);
    installed = path.join(prefix, 'lib', 'node_modules', manifest.name);
    bin = path.join(prefix, 'bin', Object.keys(manifest.bin)[0]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the tarball holds the compiled CLI, the device profiles, the examples and the license; no tests, benchmarks or TypeScript sources', () => {
    for (const needed of ['package.json', 'LICENSE', 'README.md', manifest.bin.nacbridge, 'hardware/modems/generic.json', 'hardware/pinpads/zt588.json', 'examples/nac-modems.yaml', 'examples/nacbridge.service', 'dist/src/sim/platform/simulator.js']) {
      assert.ok(shipped.includes(needed), `${needed} is shipped`);
    }
    assert.deepEqual(shipped.filter((f) => f.startsWith('dist/test/') || f.startsWith('dist/tools/') || f.startsWith('node_modules/')), []);
    assert.deepEqual(shipped.filter((f) => f.endsWith('.ts')), []);
  });

  it('installs without compiling anything (prepare does not run for a tarball) and without a devDependency', () => {
    assert.equal(install.code, 0, install.stdout + install.stderr);
    assert.doesNotMatch(install.stdout + install.stderr, /^> nacbridge@\S+ prepare$/m);
    assert.ok(existsSync(bin), bin);
    const present = readdirSync(path.join(installed, 'node_modules')).flatMap((name) => (name.startsWith('@') ? readdirSync(path.join(installed, 'node_modules', name)).map((n) => `${name}/${n}`) : [name]));
    for (const dev of Object.keys(manifest.devDependencies)) assert.ok(!present.includes(dev), `devDependency ${dev} is not installed`);
    for (const dep of Object.keys(manifest.dependencies)) assert.ok(present.includes(dep), `dependency ${dep} is installed`);
  });

  it('every module shipped requires only Node built-ins, its own files and the dependencies: none loads a devDependency', () => {
    const files = jsFiles(path.join(installed, 'dist'));
    assert.ok(files.length > 50, `${files.length} compiled files`);
    const offending: string[] = [];
    for (const file of files) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)|\bimport\(\s*["']([^"']+)["']\s*\)/g)) {
        const specifier = m[1] ?? m[2];
        const pkg = packageOf(specifier);
        if (pkg === null || isBuiltin(specifier)) continue;
        if (!(pkg in manifest.dependencies)) offending.push(`${path.relative(installed, file)}: ${specifier}`);
      }
    }
    assert.deepEqual(offending, []);
  });

  it('the installed nacbridge prints its version, decodes the README sign-on response, and checks a shipped example config', async () => {
    const version = await run(bin, ['--version'], dir);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout, `${manifest.version}\n`);

    const decoded = await run(bin, ['decode', '--hex', DECODE_HEX], dir);
    assert.equal(decoded.code, 0, decoded.stderr);
    const frame = JSON.parse(decoded.stdout) as { mti: string; fields: Record<string, string> };
    assert.equal(frame.mti, '0810');
    assert.equal(frame.fields['39'], '00');
    assert.equal(frame.fields['62'], '***');

    // The modem profiles in hardware/ and the examples are found where the package was installed.
    const checked = await run(bin, ['check-config', path.join(installed, 'examples', 'nac-modems.yaml')], dir);
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, /nac-modems\.yaml: NAC config OK \(2 line\(s\), 1 host\(s\), 2 link\(s\)\)/);
  });
});
