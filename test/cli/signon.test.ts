import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { CARD, TMK } from '../support/platform';
import { CliProcess, failsToStart } from '../support/process';

describe('cli: nacbridge signon with the emulated PIN pad against the platform simulator', function () {
  this.timeout(40_000);
  let dir: string;
  let platform: CliProcess;
  let ports: number[];
  const pads: CliProcess[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-signon-'));
    const file = path.join(dir, 'platform.json');
    writeFileSync(
      file,
      JSON.stringify({
        listen: [
          { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
          { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
        ],
        terminals: [
          { terminalId: '12345678', merchantId: '123456789012345', tmk: TMK, keyMode: '003' },
          { terminalId: '12345679', merchantId: '123456789012345', tmk: TMK, keyMode: '004' },
          { terminalId: '12345680', merchantId: '123456789012345', tmk: TMK, keyMode: '001' },
        ],
        cards: [CARD],
      }),
    );
    platform = new CliProcess(['sim', 'platform', '--config', file]);
    const m = await platform.waitFor(/127\.0\.0\.1:(\d+), 127\.0\.0\.1:(\d+)/);
    ports = [Number(m[1]), Number(m[2])];
  });
  after(async () => {
    for (const p of pads) await p.stop();
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function pad(...faults: string[]): Promise<string> {
    const p = new CliProcess(['sim', 'pinpad', '--tcp', '0', '--master-env', 'PAD_TMK', '--pin-env', 'PAD_PIN', ...faults.flatMap((f) => ['--fault', f])], { PAD_TMK: TMK, PAD_PIN: CARD.pin });
    pads.push(p);
    return (await p.waitFor(/on (tcp:\/\/[\d.:]+)/))[1];
  }

  function config(padPath: string, terminalId: string, keyMode: string, slots = { pin: 0, mac: 4, track: 2 }): string {
    const file = path.join(dir, `signon-${terminalId}-${Math.random().toString(16).slice(2)}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        platform: { links: ports.map((port) => ({ host: '127.0.0.1', port })), allowSingleLink: true },
        terminal: { terminalId, merchantId: '123456789012345', keyMode },
        keys: { pinpad: { port: padPath, profile: 'szzt-emulator', masterIndex: 1, slots } },
        card: { pan: CARD.pan, pinEnv: 'CARD_PIN' },
      }),
    );
    return file;
  }

  for (const [terminalId, mode] of [
    ['12345678', '003'],
    ['12345679', '004'],
    ['12345680', '001'],
  ]) {
    it(`R-KEY-1, R-KEY-3: key mode ${mode} loads into the pad and every check value passes (exit 0)`, async () => {
      const r = await runCli(['signon', '--config', config(await pad(), terminalId, mode)]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /sign-on: 39=00/);
      const rows = r.stdout.split('\n').filter((l) => /PASS|FAIL/.test(l));
      assert.equal(rows.length, mode === '004' ? 3 : 2);
      assert.ok(rows.every((l) => / PASS$/.test(l)), r.stdout);
      for (const l of rows) {
        const [, , expected, device] = l.split(/\s+/);
        assert.equal(expected, device, 'device check value equals field 62');
      }
      assert.ok(!r.stdout.includes(TMK.slice(0, 12)));
    });
  }

  it('--then-sale proves the loaded keys with a sale the simulator approves (MAC and PIN block from the pad)', async () => {
    const r = await runCli(['signon', '--config', config(await pad(), '12345678', '003'), '--then-sale', '1234', '--json'], '', { CARD_PIN: CARD.pin });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.sale, { responseCode: '00', macOk: true });
    assert.equal(out.pass, true);
    assert.ok(!r.stdout.includes(CARD.pan) && !r.stdout.includes(CARD.pin.repeat(1) + '"'), 'no PAN or PIN in the output');
  });

  it('no key, PIN, PIN block or full PAN in the output or the debug log of a sign-on with a sale', async () => {
    const r = await runCli(['signon', '--config', config(await pad(), '12345678', '003'), '--then-sale', '100'], '', {
      CARD_PIN: CARD.pin,
      DEBUG: 'nacbridge:*',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stderr.length > 0, 'the debug log ran');
    const everything = r.stdout + r.stderr;
    for (const secret of [TMK, CARD.pan, `PIN ${CARD.pin}`, CARD.pin + 'FFFF']) assert.ok(!everything.includes(secret), `leaked ${secret.slice(0, 4)}...`);
    assert.ok(!/\b2[0-9A-F]{15}\b/.test(everything.replace(/\x1b\[[0-9;]*m/g, '')), 'no command text with key material');
  });

  it('R-KEY-2: a field 62 with a flipped byte fails with exit 1 and leaves no bad key active', async () => {
    const file = path.join(dir, 'platform-flip.json');
    // bad-mac flips the response's last byte: in an 0810 that is field 62's MAC-key check value.
    writeFileSync(
      file,
      JSON.stringify({
        listen: [{ host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] }],
        terminals: [{ terminalId: '12345678', merchantId: '123456789012345', tmk: TMK }],
        faults: [{ mti: '0800', action: 'bad-mac' }],
      }),
    );
    const flipping = new CliProcess(['sim', 'platform', '--config', file]);
    try {
      const port = Number((await flipping.waitFor(/127\.0\.0\.1:(\d+)/))[1]);
      const cfg = path.join(dir, 'signon-flip.json');
      writeFileSync(
        cfg,
        JSON.stringify({
          platform: { links: [{ host: '127.0.0.1', port }], allowSingleLink: true },
          terminal: { terminalId: '12345678', merchantId: '123456789012345', keyMode: '003' },
          keys: { pinpad: { port: await pad(), profile: 'szzt-emulator', masterIndex: 1, slots: { pin: 0, mac: 4 } } },
        }),
      );
      const r = await runCli(['signon', '--config', cfg, '--json']);
      assert.equal(r.code, 1);
      const out = JSON.parse(r.stdout);
      assert.deepEqual(out.keys.map((k: { type: string; pass: boolean }) => [k.type, k.pass]), [['pin', true], ['mac', false]]);
      const verify = await runCli(['signon', '--config', cfg, '--verify-only']);
      assert.equal(verify.code, 2, 'the failed MAC key was erased: reading it back finds nothing');
      assert.match(verify.stderr, /read mac key check value refused: E4 key not found/);
    } finally {
      await flipping.stop();
    }
  });

  it('R-KEY-2: a key the pad stores corrupted fails with exit 1 and is not left active', async () => {
    const padPath = await pad('corrupt-key');
    const r = await runCli(['signon', '--config', config(padPath, '12345678', '003')]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /pin +0 .* FAIL/);
  });

  it('R-PAD-1: NAKs and silence are retried', async () => {
    const retried = await runCli(['signon', '--config', config(await pad('nak:2', 'silent:1'), '12345678', '003')]);
    assert.equal(retried.code, 0, retried.stdout + retried.stderr);
  });

  /** A platform address that counts the connections made to it and answers nothing. */
  async function countingPlatform(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
    let count = 0;
    const server = createServer((socket) => {
      count++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return {
      port: (server.address() as AddressInfo).port,
      connections: () => count,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  function withPlatform(file: string, port: number, change: (c: Record<string, Record<string, unknown>>) => void = () => undefined): string {
    const c = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
    c.platform = { links: [{ host: '127.0.0.1', port }], allowSingleLink: true };
    change(c);
    writeFileSync(file, JSON.stringify(c));
    return file;
  }

  it('R-PAD-1: a PIN pad that does not answer stops signon before any network traffic: exit 2, no connection to the platform (it signed on first)', async () => {
    const counting = await countingPlatform();
    try {
      const r = await runCli(['signon', '--config', withPlatform(config(await pad('silent:50'), '12345678', '003'), counting.port)]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^nacbridge: PINPAD_NO_ANSWER: szzt-emulator on tcp:\/\/127\.0\.0\.1:\d+: device information failed after 4 attempt\(s\): [^\n]+; the PIN pad is checked first, and nothing was sent to the platform \(/);
      assert.equal(counting.connections(), 0);
    } finally {
      await counting.close();
    }
  });

  it('--verify-only opens nothing towards the platform (it connected its links)', async () => {
    const padPath = await pad();
    const loaded = await runCli(['signon', '--config', config(padPath, '12345678', '003')]);
    assert.equal(loaded.code, 0, loaded.stderr);
    const counting = await countingPlatform();
    try {
      const verify = await runCli(['signon', '--config', withPlatform(config(padPath, '12345678', '003'), counting.port), '--verify-only']);
      assert.equal(verify.code, 0, verify.stderr);
      assert.match(verify.stdout, /^pin +0 +[0-9A-F]{8}$/m);
      assert.equal(counting.connections(), 0);
    } finally {
      await counting.close();
    }
  });

  it('--then-sale whose PIN variable is not set fails before the pad or the platform is opened (it signed on and loaded keys first)', async () => {
    const counting = await countingPlatform();
    try {
      // A pad port nobody serves: had it been opened first, the error would be SERIAL_OPEN.
      const file = withPlatform(config('tcp://127.0.0.1:1', '12345678', '003'), counting.port, (c) => (c.card = { pan: CARD.pan, pinEnv: 'NACBRIDGE_TEST_UNSET_PIN' }));
      const r = await runCli(['signon', '--config', file, '--then-sale', '100']);
      assert.equal(r.code, 2);
      assert.equal(r.stderr, 'nacbridge: NO_PIN: environment variable NACBRIDGE_TEST_UNSET_PIN (card.pinEnv) is not set\n');
      assert.equal(counting.connections(), 0);
    } finally {
      await counting.close();
    }
  });

  it('a PIN pad port that does not open: exit 2 naming the port, at once (the pad is opened before the platform links now; they were left running)', async () => {
    // Before, the links kept the process running after the error was printed.
    const stderr = await failsToStart(['signon', '--config', config(path.join(dir, 'ttyNOPE'), '12345678', '003')]);
    assert.match(stderr, /SERIAL_OPEN: .*ttyNOPE/);
  });

  it('--verify-only reads the check values in the pad', async () => {
    const padPath = await pad();
    const cfg = config(padPath, '12345678', '003');
    const loaded = await runCli(['signon', '--config', cfg, '--json']);
    const keys = JSON.parse(loaded.stdout).keys as { type: string; slot: number; device: string }[];
    const verify = await runCli(['signon', '--config', cfg, '--verify-only', '--json']);
    assert.equal(verify.code, 0, verify.stderr);
    const read = JSON.parse(verify.stdout).keys as { type: string; slot: number; device: string }[];
    assert.deepEqual(
      read.map((k) => [k.type, k.slot, k.device]),
      keys.map((k) => [k.type, k.slot, k.device]),
    );
  });

  it('R-KEY-4: a key mode whose key lengths the pad is not set up for is a config error', async () => {
    const file = config('tcp://127.0.0.1:1', '12345680', '001');
    const text = JSON.parse(require('node:fs').readFileSync(file, 'utf8'));
    text.keys.pinpad.profile = 'zt588';
    writeFileSync(file, JSON.stringify(text));
    const r = await runCli(['signon', '--config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /terminal\.keyMode: key mode 001 carries a 8-byte pin key; zt588 takes 16 \(R-KEY-4\)/);
  });

  it('R-KEY-3: slots that are not a pair of the pad profile are a config error naming the key path', async () => {
    const r = await runCli(['signon', '--config', config('tcp://127.0.0.1:1', '12345678', '003', { pin: 0, mac: 5, track: 2 })]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /keys\.pinpad\.slots: PIN slot 0 and MAC slot 5 are not a pair/);
  });
});
