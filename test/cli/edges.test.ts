import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ManualClock } from '../../src/clock';
import { validateConfig } from '../../src/config/load';
import { LinkServer } from '../../src/link/server';
import { nacConfigSchema } from '../../src/nac/config';
import { platformConfigSchema } from '../../src/sim/platform/config';
import { runCli } from '../support/cli';
import { until } from '../support/wait';

const links = [
  { host: '10.0.0.1', port: 5001 },
  { host: '10.0.0.2', port: 5001 },
];
const nac = {
  lines: [{ name: 'line1', port: '/dev/ttyUSB0', modem: 'generic', dnis: '61651108', address: '0001' }],
  hosts: [{ name: 'cups', nii: ['0003'], default: true, links }],
};
const platform = {
  listen: [
    { host: '127.0.0.1', port: 5001, allow: ['127.0.0.1'] },
    { host: '127.0.0.1', port: 5002, allow: ['127.0.0.1'] },
  ],
  terminals: [{ terminalId: '12345678', merchantId: '123456789012345', tmk: '0123456789ABCDEFFEDCBA9876543210' }],
};

/** Issue 25 item 7: inputs have size caps; check-config rejects what run would; resets are not refusals. */
describe('edges: input caps, listener checks, resets', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-edges-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('decode and encode refuse more than 1 MiB on stdin with INPUT_TOO_LARGE naming the cap (no crash)', async () => {
    const big = '00'.repeat(600_000);
    const decode = await runCli(['decode'], big);
    assert.equal(decode.code, 2);
    assert.equal(decode.stdout, '');
    assert.equal(decode.stderr, 'nacbridge: INPUT_TOO_LARGE: stdin is larger than 1048576 bytes, the most nacbridge reads for it (cap 1048576)\n');
    const encode = await runCli(['encode'], ' '.repeat(1_100_000));
    assert.equal(encode.code, 2);
    assert.match(encode.stderr, /^nacbridge: INPUT_TOO_LARGE: stdin .*\(cap 1048576\)\n$/);
  });

  it('check-config /dev/zero and a config larger than 1 MiB fail at once with INPUT_TOO_LARGE, no stack trace', async () => {
    const zero = await runCli(['check-config', '/dev/zero']);
    assert.equal(zero.code, 2);
    assert.equal(zero.stderr, 'nacbridge: INPUT_TOO_LARGE: config /dev/zero is larger than 1048576 bytes, the most nacbridge reads for it (cap 1048576)\n');
    const file = path.join(dir, 'huge.json');
    writeFileSync(file, JSON.stringify({ ...nac, padding: 'x'.repeat(1_100_000) }));
    const huge = await runCli(['check-config', file]);
    assert.equal(huge.code, 2);
    assert.match(huge.stderr, /INPUT_TOO_LARGE: config .*huge\.json is larger than 1048576 bytes/);
    assert.doesNotMatch(huge.stderr + zero.stderr, /    at /);
  });

  it('check-config rejects a terminal listener on the status port, and a hosts listen port equal to either', async () => {
    const file = path.join(dir, 'ports.json');
    writeFileSync(file, JSON.stringify({ ...nac, terminalListener: { host: '0.0.0.0', port: 7000, allow: ['127.0.0.1'] }, status: { host: '127.0.0.1', port: 7000 } }));
    const r = await runCli(['check-config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /status\.port: port 7000 is already terminalListener's: each listening socket needs its own port/);
    assert.throws(
      () =>
        validateConfig(
          nacConfigSchema,
          { ...nac, hosts: [{ name: 'cups', nii: ['0003'], default: true, listen: [{ host: '0.0.0.0', port: 9100, allow: ['10.0.0.1'] }, { host: '0.0.0.0', port: 9101, allow: ['10.0.0.2'] }] }], status: { host: '127.0.0.1', port: 9101 } },
          'nac',
        ),
      /hosts\.0\.listen\.1\.port: port 9101 is already status's/,
    );
    // Port 0 picks a free port: never a clash.
    validateConfig(nacConfigSchema, { ...nac, terminalListener: { host: '0.0.0.0', port: 0, allow: ['127.0.0.1'] }, status: { host: '127.0.0.1', port: 0 } }, 'nac');
  });

  it('R-CONN-6: check-config rejects bad allow-list entries of the terminal listener and of the platform simulator', async () => {
    const file = path.join(dir, 'allow.json');
    writeFileSync(file, JSON.stringify({ ...nac, terminalListener: { host: '0.0.0.0', port: 7000, allow: ['192.168.1.0/24', 'localhost', '10.0.0.0/33'] } }));
    const r = await runCli(['check-config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /terminalListener\.allow\.1: allow entry "localhost" is not an IP address or CIDR block/);
    assert.match(r.stderr, /terminalListener\.allow\.2: allow entry "10\.0\.0\.0\/33" has a bad prefix length/);
    assert.doesNotMatch(r.stderr, /allow\.0/);
    assert.throws(
      () => validateConfig(platformConfigSchema, { ...platform, listen: [platform.listen[0], { host: '127.0.0.1', port: 5001, allow: ['10.1.2'] }] }, 'sim'),
      (e: Error) => /listen\.1\.allow\.0: allow entry "10\.1\.2" is not an IP address/.test(e.message) && /listen\.1\.port: same port as listen\.0/.test(e.message),
    );
  });

  it('R-CONN-6: allowed clients that reset at once are not counted as refused by the allow-list', async () => {
    const server = new LinkServer({ name: 'edges', listen: [{ host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] }], framing: 'binary2', clock: new ManualClock() });
    await server.start();
    try {
      const n = 40;
      let done = 0;
      for (let i = 0; i < n; i++) {
        const socket = connect({ host: '127.0.0.1', port: server.ports[0] });
        socket.on('connect', () => socket.resetAndDestroy());
        socket.on('error', () => undefined);
        socket.on('close', () => done++);
      }
      await until(() => done === n && server.counters.accepted + server.counters.goneAtOnce === n, 'every client accepted or seen gone', 5000);
      assert.equal(server.counters.refused['not-allowed'], 0);
      assert.equal(server.counters.refused['port-busy'], 0);
    } finally {
      await server.close();
    }
  });
});
