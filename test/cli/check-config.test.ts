import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { detectConfigKind } from '../../src/cli/check-config';
import { runCli } from '../support/cli';

const TMK = '0123456789ABCDEFFEDCBA9876543210';
const links = [
  { host: '10.0.0.1', port: 5001 },
  { host: '10.0.0.2', port: 5001 },
];
const nac = {
  lines: [{ name: 'line1', port: '/dev/ttyUSB0', modem: 'generic', dnis: '61651108', address: '0001' }],
  hosts: [{ name: 'cups', nii: ['0003'], default: true, links }],
};
const platform = {
  listen: [{ host: '127.0.0.1', port: 5001, allow: ['127.0.0.1'] }],
  terminals: [{ terminalId: '12345678', merchantId: '123456789012345', tmk: TMK }],
  cards: [{ pan: '6212142000000000012', pin: '123456', balance: '000000100000' }],
};
const signonPad = {
  platform: { links },
  terminal: { terminalId: '12345678', merchantId: '123456789012345' },
  keys: { pinpad: { port: '/dev/ttyUSB1', profile: 'zt588', masterIndex: 1, slots: { pin: 0, mac: 4 } } },
};
const signonSoftware = {
  platform: { terminalListener: { host: '127.0.0.1', port: 7000 } },
  terminal: { terminalId: '12345678', merchantId: '123456789012345' },
  keys: { software: { tmkEnv: 'TMK', slots: { pin: 0, mac: 4 } } },
};

describe('cli: check-config recognises every kind of config file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-check-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, data: unknown): string => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof data === 'string' ? data : JSON.stringify(data));
    return file;
  };

  it('a NAC config: says so, with its lines, hosts and links', async () => {
    const r = await runCli(['check-config', write('nac.json', nac)]);
    assert.equal(r.code, 0, r.stderr);
    // The only warning a valid NAC config may get here: its serial device is not on this machine.
    assert.equal(r.stderr.replace(/^nacbridge: warning: lines\.\d+\.port: \/dev\/\S+ does not exist on this machine.*\n/gm, ''), '');
    assert.match(r.stdout, /nac\.json: NAC config OK \(1 line\(s\), 1 host\(s\), 2 link\(s\)\)\n$/);
  });

  it('a platform simulator config: says so, with its ports, terminals and cards, and never prints the TMK or a card', async () => {
    const r = await runCli(['check-config', write('platform.json', platform)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /platform\.json: platform simulator config OK \(1 port\(s\), 1 terminal\(s\), 1 card\(s\), 0 fault rule\(s\)\)\n$/);
    assert.ok(!r.stdout.includes(TMK) && !r.stdout.includes('6212142000000000012') && !r.stdout.includes('123456\n'));
  });

  it('signon configs, with a PIN pad and with the software key store: says so, and which key holder', async () => {
    const pad = await runCli(['check-config', write('signon-pad.yaml', `# a comment\n${JSON.stringify(signonPad)}\n`)]);
    assert.equal(pad.code, 0, pad.stderr);
    assert.match(pad.stdout, /signon config OK \(platform over 2 link\(s\), keys into PIN pad zt588 on \/dev\/ttyUSB1\)/);
    const soft = await runCli(['check-config', write('signon-soft.json', signonSoftware)]);
    assert.equal(soft.code, 0, soft.stderr);
    assert.match(soft.stdout, /signon config OK \(platform through a NAC's terminal listener, keys into the software key store \(TMK from environment variable TMK\)\)/);
  });

  it('a recognised file with a problem: the loader of its kind names the key path (exit 2), and the bad value is not echoed', async () => {
    const badTmk = 'ABCDEF0123456789ABCDEF01234567';
    const r = await runCli(['check-config', write('bad-platform.json', { ...platform, terminals: [{ ...platform.terminals[0], tmk: badTmk }] })]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /BAD_CONFIG: .*terminals\.0\.tmk: tmk must be 16 or 32 or 48 hex digits/);
    assert.ok(!r.stderr.includes(badTmk), 'the key-like value is not printed');

    const pad = await runCli(['check-config', write('bad-signon.json', { ...signonPad, keys: { pinpad: { ...signonPad.keys.pinpad, slots: { pin: 0, mac: 5 } } } })]);
    assert.equal(pad.code, 2);
    assert.match(pad.stderr, /keys\.pinpad\.slots: PIN slot 0 and MAC slot 5 are not a pair of zt588/);
  });

  it('a file with no known keys is refused naming every kind it tried and the keys each needs (exit 2)', async () => {
    const r = await runCli(['check-config', write('other.json', { server: { port: 80 }, workers: 4 })]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^nacbridge: UNKNOWN_CONFIG_KIND: .*other\.json: keys server, workers; not a config nacbridge reads\. Tried: /);
    assert.match(r.stderr, /NAC config \(nacbridge run --config; needs hosts\)/);
    assert.match(r.stderr, /platform simulator config \(nacbridge sim platform --config; needs listen, terminals\)/);
    assert.match(r.stderr, /signon config \(nacbridge signon --config; needs platform, terminal, keys\)/);
  });

  it('a file with keys of two kinds is refused as ambiguous, naming the keys of each (exit 2); --kind checks it as the kind named', async () => {
    const file = write('mixed.json', { ...nac, listen: platform.listen });
    const r = await runCli(['check-config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /AMBIGUOUS_CONFIG_KIND: .*mixed\.json: has top-level keys of more than one kind of config: lines, hosts \(NAC config\); listen \(platform simulator config\)/);
    const asNac = await runCli(['check-config', '--kind', 'nac', file]);
    assert.equal(asNac.code, 2);
    assert.match(asNac.stderr, /BAD_CONFIG: .*\(top level\): Unrecognized key: "listen"/);
    const forced = await runCli(['check-config', '--kind', 'platform', write('platform-forced.json', platform)]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /platform simulator config OK/);
    const wrongKind = await runCli(['check-config', '--kind', 'pos', file]);
    assert.equal(wrongKind.code, 2);
    assert.match(wrongKind.stderr, /argument 'pos' is invalid\. Allowed choices are nac, platform, signon/);
  });

  it('an empty file, a list, a syntax error and a missing file are each refused with one line (exit 2)', async () => {
    const empty = await runCli(['check-config', write('empty.yaml', '')]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /UNKNOWN_CONFIG_KIND: .*empty\.yaml: the top level is not a mapping of keys/);
    const list = await runCli(['check-config', write('list.json', [nac])]);
    assert.equal(list.code, 2);
    assert.match(list.stderr, /UNKNOWN_CONFIG_KIND: .*the top level is not a mapping of keys, so it is none of the configs nacbridge reads \(tried NAC config, platform simulator config, signon config\)/);
    const syntax = await runCli(['check-config', write('broken.json', '{"hosts": [')]);
    assert.equal(syntax.code, 2);
    assert.match(syntax.stderr, /CONFIG_SYNTAX/);
    const missing = await runCli(['check-config', path.join(dir, 'nowhere.yaml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /CONFIG_UNREADABLE: cannot read .*nowhere\.yaml: ENOENT/);
    for (const r of [empty, list, syntax, missing]) assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  it('detectConfigKind goes by the keys only one kind has: a NAC file missing its hosts is still a NAC file, so its own errors are shown', () => {
    assert.equal(detectConfigKind({ lines: [] }, 'f'), 'nac');
    assert.equal(detectConfigKind({ terminals: [] }, 'f'), 'platform');
    assert.equal(detectConfigKind({ keys: {} }, 'f'), 'signon');
    assert.throws(() => detectConfigKind({ terminal: {}, terminals: [] }, 'f'), /AMBIGUOUS|more than one kind/);
    assert.throws(() => detectConfigKind({}, 'f'), /f: no keys; not a config nacbridge reads/);
  });
});
