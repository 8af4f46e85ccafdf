import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkConfigFile, type ConfigKind } from '../../src/cli/check-config';
import { packageVersion } from '../../src/cli/version';
import { loadNacConfig } from '../../src/cli/nac-commands';
import { runCli } from '../support/cli';
import { repoRoot } from '../support/vectors';

const examplesDir = path.join(repoRoot(), 'examples');
const manifest = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { name: string; version: string; bin: Record<string, string>; license: string };

/** The kind an example config must be, by its file name. */
function kindByName(file: string): ConfigKind | null {
  if (!/\.ya?ml$|\.json$/.test(file)) return null;
  if (file.startsWith('nac-')) return 'nac';
  if (file.startsWith('platform-')) return 'platform';
  if (file.startsWith('signon-')) return 'signon';
  return null;
}

/** A systemd unit file: section -> key -> every value given for it, in order. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    assert.ok(!line.endsWith('\\'), `no continued lines in the unit: ${line}`);
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1], current);
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    assert.ok(kv && current, `a key=value line inside a section: ${line}`);
    current.set(kv[1], [...(current.get(kv[1]) ?? []), kv[2]]);
  }
  return sections;
}

describe('field box: the example configs and the systemd unit shipped in examples/', () => {
  const files = readdirSync(examplesDir).sort();

  it('examples/ holds the five configs, the unit and the alert rules, and nothing the tests below do not check', () => {
    for (const needed of ['nac-modems.yaml', 'nac-serial-server.yaml', 'platform-sim.yaml', 'signon-pinpad.yaml', 'signon-software.yaml', 'nacbridge.service', 'prometheus-alerts.yaml']) {
      assert.ok(files.includes(needed), `examples/${needed}`);
    }
    // prometheus-alerts.yaml is checked against a running NAC's /metrics in test/nac/alert-rules.test.ts.
    for (const file of files) {
      assert.ok(kindByName(file) !== null || file.endsWith('.service') || file === 'prometheus-alerts.yaml', `examples/${file} is a config named nac-*, platform-* or signon-*, a unit, or the alert rules`);
    }
  });

  for (const file of files.filter((f) => kindByName(f) !== null)) {
    it(`examples/${file} is recognised as a ${kindByName(file)} config and passes its loader with no warning but absent devices`, () => {
      const checked = checkConfigFile(path.join(examplesDir, file));
      assert.equal(checked.kind, kindByName(file));
      // A /dev/ttyUSB* of the example that this machine has not got is the one warning allowed.
      assert.deepEqual(checked.warnings.filter((w) => !/^lines\.\d+\.port: \/dev\/\S+ does not exist on this machine/.test(w)), []);
    });
  }

  it('the NAC examples: modem lines on device paths, serial-server lines on tcp://, status kept on the box', () => {
    const modems = loadNacConfig(path.join(examplesDir, 'nac-modems.yaml'));
    assert.ok(modems.lines.length >= 2 && modems.lines.every((l) => l.port.startsWith('/dev/')));
    const server = loadNacConfig(path.join(examplesDir, 'nac-serial-server.yaml'));
    assert.ok(server.lines.length >= 2 && server.lines.every((l) => /^tcp:\/\/[^:]+:\d+$/.test(l.port)));
    assert.ok(server.terminalListener, 'the serial-server example shows the terminal listener too');
    for (const config of [modems, server]) {
      assert.equal(config.status?.host, '127.0.0.1');
      for (const host of config.hosts) assert.equal(new Set(host.links.map((l) => l.host)).size, 2, 'two links to two hosts (R-CONN-1)');
    }
  });

  it('nacbridge.service runs the installed binary itself (no npx), restarts on failure and outlasts the SIGTERM drain', () => {
    const unit = parseUnit(readFileSync(path.join(examplesDir, 'nacbridge.service'), 'utf8'));
    const service = unit.get('Service');
    assert.ok(service && unit.get('Unit') && unit.get('Install'));
    const one = (key: string): string => {
      const values = service.get(key);
      assert.ok(values && values.length === 1, `one ${key}=`);
      return values[0];
    };
    const exec = one('ExecStart').split(/\s+/);
    const binName = Object.keys(manifest.bin)[0];
    assert.equal(exec[0], `/usr/local/bin/${binName}`);
    assert.deepEqual(exec.slice(1), ['run', '--config', '/etc/nacbridge/nac.yaml']);
    for (const [key, values] of service) {
      if (key.startsWith('Exec')) for (const v of values) assert.doesNotMatch(v, /\bnpx\b|\bnpm\b/, `${key} runs no npx / npm`);
    }
    assert.equal(one('Restart'), 'on-failure');
    assert.equal(one('KillSignal'), 'SIGTERM');
    // `nacbridge run` drains for shutdownSeconds after SIGTERM, then hangs up and closes: the
    // unit must wait longer than that, with a few seconds to close, or systemd kills the drain.
    const stopSeconds = Number(one('TimeoutStopSec'));
    for (const file of files.filter((f) => kindByName(f) === 'nac')) {
      const config = loadNacConfig(path.join(examplesDir, file));
      assert.ok(stopSeconds >= config.shutdownSeconds + 10, `TimeoutStopSec ${stopSeconds} leaves room after shutdownSeconds ${config.shutdownSeconds} of ${file}`);
    }
  });

  it('nacbridge.service: its own user in dialout, no privileges, read-only system, serial devices only, TCP/IP and local sockets only', () => {
    const service = parseUnit(readFileSync(path.join(examplesDir, 'nacbridge.service'), 'utf8')).get('Service');
    assert.ok(service);
    const all = (key: string): string[] => service.get(key) ?? [];
    const expect: [string, string][] = [
      ['DynamicUser', 'yes'],
      ['User', 'nacbridge'],
      ['SupplementaryGroups', 'dialout'],
      ['NoNewPrivileges', 'yes'],
      ['CapabilityBoundingSet', ''],
      ['AmbientCapabilities', ''],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['DevicePolicy', 'closed'],
      ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'],
      ['RestrictNamespaces', 'yes'],
      ['LogsDirectory', 'nacbridge'],
    ];
    for (const [key, value] of expect) assert.deepEqual(all(key), [value], key);
    assert.deepEqual(all('DeviceAllow').sort(), ['char-ttyACM rw', 'char-ttyS rw', 'char-ttyUSB rw']);
    assert.deepEqual(all('MemoryDenyWriteExecute'), [], "V8 writes the code it runs: MemoryDenyWriteExecute would stop node");
    assert.ok(all('SystemCallFilter').includes('~@privileged'));
    assert.deepEqual(all('SystemCallErrorNumber'), ['EPERM'], 'a filtered call fails instead of killing the NAC');
  });
});

describe('field box: nacbridge --version and the license', () => {
  it('--version and -V print the version in package.json, and exit 0', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${manifest.version}\n`);
    }
    assert.equal(packageVersion(), manifest.version);
  });

  it("packageVersion finds nacbridge's package.json above it, past one of another name, and says when there is none", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-version-'));
    try {
      const inner = path.join(dir, 'inner', 'dist', 'src', 'cli');
      mkdirSync(inner, { recursive: true });
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'nacbridge', version: '9.8.7' }));
      writeFileSync(path.join(dir, 'inner', 'package.json'), JSON.stringify({ name: 'workspace', version: '1.0.0' }));
      assert.equal(packageVersion(inner), '9.8.7');
      rmSync(path.join(dir, 'package.json'));
      // Above the temp dir there may be anything; the root has no nacbridge package.json.
      assert.throws(() => packageVersion('/'), /nacbridge's package\.json not found above \//);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('LICENSE is the MIT license package.json names, for the nacbridge contributors', () => {
    assert.equal(manifest.license, 'MIT');
    const license = readFileSync(path.join(repoRoot(), 'LICENSE'), 'utf8');
    assert.match(license, /^MIT License\n\nCopyright \(c\) 2026 nacbridge contributors\n/);
    assert.match(license, /THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND/);
  });
});
