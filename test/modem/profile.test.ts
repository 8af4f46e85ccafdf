import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { configWarnings, nacConfigSchema } from '../../src/nac/config';
import { loadModemProfile, modemProfileWarnings, resolveModemProfile, type ModemProfile } from '../../src/modem/profile';
import { loadNacConfig } from '../../src/cli/nac-commands';

const hosts = [{ name: 'cups', default: true, links: [{ host: '10.0.0.1', port: 5001 }, { host: '10.0.0.2', port: 5001 }] }];

describe('modem/profile: a line names a shipped profile, a profile file, or gives the profile inline', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-profile-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const own: ModemProfile = { ...loadModemProfile('hayes'), name: 'usr-courier', description: 'a Courier on the bench', init: ['ATV1', 'ATZ', { command: 'AT&B1', optional: true }] };

  it('R-MDM-5: a profile file by path, relative to the config file, is loaded and validated', () => {
    writeFileSync(path.join(dir, 'courier.json'), JSON.stringify(own));
    writeFileSync(path.join(dir, 'nac.json'), JSON.stringify({ lines: [{ name: 'l1', port: '/dev/ttyUSB0', address: '0001', modem: './courier.json' }], hosts }));
    const config = loadNacConfig(path.join(dir, 'nac.json'));
    const modem = config.lines[0].modem;
    assert.equal(typeof modem === 'object' && modem.name, 'usr-courier');
    assert.deepEqual(typeof modem === 'object' && modem.init, ['ATV1', 'ATZ', { command: 'AT&B1', optional: true }]);
  });

  it('R-MDM-5: a profile given inline is used as it is; a shipped name still works', () => {
    writeFileSync(path.join(dir, 'nac.json'), JSON.stringify({ lines: [{ name: 'l1', port: '/dev/ttyUSB0', address: '0001', modem: own }, { name: 'l2', port: '/dev/ttyUSB1', address: '0002', modem: 'hayes' }], hosts }));
    const config = loadNacConfig(path.join(dir, 'nac.json'));
    assert.deepEqual(config.lines.map((l) => (typeof l.modem === 'object' ? l.modem.name : l.modem)), ['usr-courier', 'hayes']);
  });

  it('a profile file that is missing or invalid is a config error naming the key path', () => {
    assert.throws(() => resolveModemProfile('nope.json', dir, 'nac.json: lines.0.modem'), /lines\.0\.modem: no modem profile file .*nope\.json/);
    writeFileSync(path.join(dir, 'bad.yaml'), 'name: x\ndescription: y\ninit: [ATZ, "+++"]\nhangup: dtr\ncontrolLines: true\n');
    assert.throws(() => resolveModemProfile('bad.yaml', dir, 'nac.json: lines.0.modem'), /lines\.0\.modem: .*init\.1: must be an AT command/);
    const parsed = nacConfigSchema.safeParse({ lines: [{ name: 'l1', port: '/dev/ttyUSB0', address: '0001', modem: { name: 'x', description: 'y', init: ['ATZ'], hangup: 'sometimes', controlLines: true } }], hosts });
    assert.equal(parsed.success, false);
  });

  it('R-MDM-4: a profile guard time below 1 s is a config warning; the shipped hayes profile has none', () => {
    assert.deepEqual(modemProfileWarnings(loadModemProfile('hayes')), []);
    const config = nacConfigSchema.parse({ lines: [{ name: 'l1', port: 'tcp://127.0.0.1:4001', address: '0001', modem: { ...own, escapeGuardMs: 200 } }], hosts });
    const warnings = configWarnings(config);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /^lines\.0\.modem \(usr-courier\): escapeGuardMs 200 is below 1000 ms/);
  });
});
