import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ConfigError, validateConfig } from '../../src/config/load';
import { configWarnings, nacConfigSchema } from '../../src/nac/config';
import { signonConfigSchema } from '../../src/terminal/signon';
import { freePort } from '../../tools/free-port';
import { runCli } from '../support/cli';
import { CliProcess } from '../support/process';

const signon = {
  platform: { links: [{ host: '10.0.0.1', port: 5001 }, { host: '10.0.0.2', port: 5001 }] },
  terminal: { terminalId: '12345678', merchantId: '123456789012345' },
  keys: { pinpad: { port: '/dev/ttyUSB1', profile: 'szzt-emulator', masterIndex: 1, slots: { pin: 0, mac: 4 } } },
};

/** The message of the ConfigError that validating `data` throws. */
function problems(schema: typeof signonConfigSchema | typeof nacConfigSchema, data: unknown): string {
  try {
    validateConfig(schema, data, 'cfg');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail('the config was accepted');
}

describe('config errors name the key and what belongs there', () => {
  it('keys with neither pinpad nor software, or a pinpad without slots, name what is missing (they said "keys: Invalid input")', () => {
    assert.equal(problems(signonConfigSchema, { ...signon, keys: {} }), 'cfg: keys: needs exactly one of pinpad or software (it has none)');
    const { slots: _, ...noSlots } = signon.keys.pinpad;
    assert.equal(problems(signonConfigSchema, { ...signon, keys: { pinpad: noSlots } }), 'cfg: keys.pinpad.slots: missing (an object)');
    assert.equal(problems(signonConfigSchema, { ...signon, keys: { software: { slots: { pin: 0, mac: 4 } } } }), 'cfg: keys.software.tmkEnv: missing (a string)');
    assert.equal(problems(signonConfigSchema, { ...signon, keys: { ...signon.keys, spare: 1 } }), 'cfg: keys: Unrecognized key: "spare"');
    assert.equal(problems(signonConfigSchema, { ...signon, keys: undefined }), 'cfg: keys: missing (an object)');
  });

  it('a platform with none or two of links, terminalListener and dial says it needs exactly one, and a wrong value inside the one given is named (they said "platform: Invalid input")', () => {
    assert.equal(problems(signonConfigSchema, { ...signon, platform: {} }), 'cfg: platform: needs exactly one of links, terminalListener or dial (it has none)');
    assert.equal(
      problems(signonConfigSchema, { ...signon, platform: { ...signon.platform, dial: { host: '127.0.0.1', port: 5301 } } }),
      'cfg: platform: needs exactly one of links, terminalListener or dial (it has links, dial)',
    );
    assert.equal(problems(signonConfigSchema, { ...signon, platform: { dial: { host: '127.0.0.1' } } }), 'cfg: platform.dial.port: missing (a number)');
    assert.equal(problems(signonConfigSchema, { ...signon, platform: { links: [{ host: '10.0.0.1', port: '5001' }] } }), 'cfg: platform.links.0.port: a number expected, not a string');
  });

  it('a number where a digit string belongs says to quote it, without repeating the value (it may be a card number)', () => {
    const message = problems(nacConfigSchema, {
      lines: [{ name: 'line1', port: '/dev/ttyUSB0', dnis: 61651108, address: '0001' }],
      hosts: [{ name: 'cups', default: true, links: signon.platform.links }],
    });
    assert.equal(message, 'cfg: lines.0.dnis: a number where a string is expected: write the value in quotes ("..."), or YAML and JSON read the digits as a number and drop leading zeros');
  });

  it('an unknown PIN pad profile lists the profiles there are, as an unknown modem profile does', () => {
    assert.equal(
      problems(signonConfigSchema, { ...signon, keys: { pinpad: { ...signon.keys.pinpad, profile: 'zt999' } } }),
      'cfg: keys.pinpad.profile: no PIN pad profile zt999 (there are l100, szzt-emulator, vf1000se, zt588)',
    );
  });

  describe('through the CLI', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-config-errors-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('check-config of YAML with dnis: 61651108 and address: 0001 unquoted: exit 2, both keys named with "write the value in quotes"', async () => {
      const file = path.join(dir, 'nac.yaml');
      writeFileSync(
        file,
        ['hosts:', '  - name: cups', '    default: true', '    links:', '      - { host: 10.0.0.1, port: 5001 }', '      - { host: 10.0.0.2, port: 5001 }', 'lines:', '  - { name: line1, port: /dev/ttyUSB0, address: 0001, dnis: 61651108 }', ''].join('\n'),
      );
      const r = await runCli(['check-config', file]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      const quote = 'a number where a string is expected: write the value in quotes ("..."), or YAML and JSON read the digits as a number and drop leading zeros';
      assert.equal(r.stderr, `nacbridge: BAD_CONFIG: ${file}: lines.0.dnis: ${quote}; lines.0.address: ${quote} (file ${file})\n`);
    });

    it('check-config and run print a warning once, as "nacbridge: warning: ..." (it said "warning: hosts cups: warning: ...")', async () => {
      const file = path.join(dir, 'single-link.json');
      writeFileSync(file, JSON.stringify({ hosts: [{ name: 'cups', default: true, allowSingleLink: true, links: [{ host: '127.0.0.1', port: await freePort() }] }] }));
      const warning = 'nacbridge: warning: hosts cups: 1 link(s); the platform spec wants at least two (R-CONN-1); allowed by allowSingleLink\n';
      const check = await runCli(['check-config', file]);
      assert.equal(check.code, 0);
      assert.equal(check.stderr, warning);
      const nac = new CliProcess(['run', '--config', file]);
      try {
        await nac.waitFor(/NAC running/);
      } catch (e) {
        // Stopped before it was running: its exit status says nothing, the wait's error does.
        await nac.stop();
        throw e;
      }
      assert.equal(await nac.stop(), 0);
      assert.equal(nac.stderr.replace(/^\S+ /, ''), warning, 'after its timestamp, as every line of run');
    });

    it('check-config warns about a serial device path that does not exist (exit 0), not about tcp:// ports or devices that are there', async () => {
      const file = path.join(dir, 'devices.json');
      writeFileSync(
        file,
        JSON.stringify({
          lines: [
            { name: 'line1', port: '/dev/nacbridge-test-no-such-tty', address: '0001' },
            { name: 'line2', port: 'tcp://10.0.0.9:4001', address: '0002' },
            { name: 'line3', port: '/dev/null', address: '0003' },
          ],
          hosts: [{ name: 'cups', default: true, links: signon.platform.links }],
        }),
      );
      const r = await runCli(['check-config', file]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, 'nacbridge: warning: lines.0.port: /dev/nacbridge-test-no-such-tty does not exist on this machine (a USB modem not plugged in?); nacbridge run keeps trying to open it\n');
    });
  });

  it('configWarnings asks the file system only about /dev/ paths', () => {
    const asked: string[] = [];
    const config = validateConfig(nacConfigSchema, {
      lines: [
        { name: 'a', port: '/dev/serial/by-id/usb-modem', address: '0001' },
        { name: 'b', port: 'tcp://10.0.0.9:4001', address: '0002' },
        { name: 'c', port: 'COM3', address: '0003' },
      ],
      hosts: [{ name: 'cups', default: true, links: signon.platform.links }],
    }, 'cfg');
    const warnings = configWarnings(config, (p) => (asked.push(p), false));
    assert.deepEqual(asked, ['/dev/serial/by-id/usb-modem']);
    assert.deepEqual(warnings, ['lines.0.port: /dev/serial/by-id/usb-modem does not exist on this machine (a USB modem not plugged in?); nacbridge run keeps trying to open it']);
    assert.deepEqual(configWarnings(config, () => true), []);
  });
});
