import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ManualClock } from '../../src/clock';
import { encodeLengthPrefixed, lengthPrefix } from '../../src/codec/length-prefix';
import type { TransactionResult } from '../../src/terminal/terminal';
import type { JournalError } from '../../src/sim/platform/journal';
import { PlatformSimulator } from '../../src/sim/platform/simulator';
import { CliProcess, failsToStart } from '../support/process';
import { CARD, platformConfig, startBench, terminalTo, type Bench } from '../support/platform';
import { until } from '../support/wait';


const journalLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { mti: string; stan: string; rrn: string | null; responseCode: string | null });

describe('platform simulator as a system of record (issue 25 item 5)', () => {
  let dir: string;
  let bench: Bench | undefined;
  const sims: PlatformSimulator[] = [];
  const sockets: Socket[] = [];
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-sor-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await bench?.close();
    bench = undefined;
    for (const sim of sims.splice(0)) await sim.close().catch(() => undefined);
  });

  it('a journal in a missing folder: `sim platform` exits 2 with one typed line, no stack trace (onJournalError stop, the default)', async () => {
    const config = path.join(dir, 'missing-folder.json');
    writeFileSync(config, JSON.stringify({ ...plainConfig(), journal: path.join(dir, 'no', 'such', 'journal.jsonl') }));
    const stderr = await failsToStart(['sim', 'platform', '--config', config]);
    assert.match(stderr, /JOURNAL_OPEN: cannot open the journal .*ENOENT/);
  });

  it('a journal in a missing folder with onJournalError continue: reported once, requests still answered, counted as unwritten', async () => {
    const errors: JournalError[] = [];
    const sim = new PlatformSimulator(platformConfig({ journal: path.join(dir, 'nope', 'j.jsonl'), onJournalError: 'continue' }), { clock: new ManualClock(), onJournalError: (e) => errors.push(e) });
    sims.push(sim);
    await sim.start();
    const client = await terminalTo(sim.ports, platformConfig(), new ManualClock());
    try {
      assert.equal((await client.terminal.echo()).responseCode, '00');
      assert.equal((await client.terminal.echo()).responseCode, '00');
    } finally {
      await client.close();
    }
    assert.deepEqual(errors.map((e) => e.code), ['JOURNAL_OPEN']);
    assert.equal(sim.journal.unwritten, 2);
  });

  it('a full disk (/dev/full) with onJournalError stop: the request whose entry failed is not answered and the simulator stops cleanly', async function () {
    if (process.platform !== 'linux') this.skip();
    const errors: JournalError[] = [];
    const sim = new PlatformSimulator(platformConfig({ journal: '/dev/full' }), { clock: new ManualClock(), onJournalError: (e) => errors.push(e) });
    sims.push(sim);
    await sim.start();
    const client = await terminalTo(sim.ports, platformConfig(), new ManualClock());
    try {
      const answer = client.terminal.echo().then(
        () => 'answered',
        () => 'failed',
      );
      const stoppedBy = await sim.stopped;
      assert.equal(stoppedBy.code, 'JOURNAL_WRITE');
      assert.match(stoppedBy.message, /ENOSPC/);
      assert.deepEqual(errors.map((e) => e.code), ['JOURNAL_WRITE']);
      await until(() => client.group.upLinks.length === 0, 'the ports closed');
      await client.group.close();
      assert.equal(await answer, 'failed', 'no answer without a journal entry');
    } finally {
      await client.close();
    }
  });

  it('a full disk with onJournalError continue: reported once, every request still answered', async function () {
    if (process.platform !== 'linux') this.skip();
    const errors: JournalError[] = [];
    const sim = new PlatformSimulator(platformConfig({ journal: '/dev/full', onJournalError: 'continue' }), { clock: new ManualClock(), onJournalError: (e) => errors.push(e) });
    sims.push(sim);
    await sim.start();
    const client = await terminalTo(sim.ports, platformConfig(), new ManualClock());
    try {
      for (let i = 0; i < 3; i++) assert.equal((await client.terminal.echo()).responseCode, '00');
    } finally {
      await client.close();
    }
    assert.deepEqual(errors.map((e) => e.code), ['JOURNAL_WRITE']);
    assert.equal(sim.journal.unwritten, 3);
  });

  it('memory is bounded: only the newest journalMemory entries stay in memory; the file and the report have them all', async () => {
    const journal = path.join(dir, 'bounded.jsonl');
    const report = path.join(dir, 'bounded.md');
    bench = await startBench(platformConfig({ journal, report, journalMemory: 3 }));
    for (let i = 0; i < 10; i++) assert.equal((await bench.terminal.echo()).responseCode, '00');
    assert.ok(bench.sim.journal.entries.length <= 6, `${bench.sim.journal.entries.length} entries in memory`);
    assert.equal(bench.sim.journal.count, 10);
    const kept = bench.sim.journal.entries.map((e) => e.stan);
    assert.deepEqual(kept, [...kept].sort(), 'in order');
    assert.ok(kept.length >= 3);
    await bench.close();
    bench = undefined;
    assert.equal(journalLines(journal).length, 10);
    assert.match(readFileSync(report, 'utf8'), /Requests: 10\n/);
  });

  it('R-CONN-6: an allowed client that connects and sends nothing or garbage does not take the port; one that sends a request does', async () => {
    bench = await startBench();
    const port = bench.sim.ports[0];
    const prefix = lengthPrefix('binary2');
    const silent = connect({ host: '127.0.0.1', port });
    const junk = connect({ host: '127.0.0.1', port });
    sockets.push(silent, junk);
    await until(() => bench!.sim.server.counters.accepted === 4, 'both newcomers accepted');
    junk.write(encodeLengthPrefixed(prefix, Buffer.from('this is no ISO 8583 message at all')));
    junk.write(encodeLengthPrefixed(prefix, Buffer.alloc(0)));
    await until(() => bench!.sim.journal.count === 1, 'the junk seen (and journaled as unreadable)');
    assert.equal(bench.sim.server.counters.replaced, 0, 'nothing replaced');
    assert.equal(bench.group.upLinks.length, 2, 'both links of the terminal still up');
    assert.equal((await bench.terminal.echo()).responseCode, '00');
    // A real client (another terminal role, as a NAC reconnecting after a half-open socket) that sends a request takes the port.
    const other = await terminalTo([port], platformConfig(), new ManualClock());
    try {
      assert.equal((await other.terminal.echo()).responseCode, '00');
      await until(() => bench!.sim.server.counters.replaced === 1, 'the newcomer that spoke took the port');
    } finally {
      await other.close();
    }
  });

  it('kill -9 of `nacbridge sim platform` mid-run: every approval a terminal saw is in the journal', async function () {
    this.timeout(30_000);
    const journal = path.join(dir, 'kill9.jsonl');
    const configFile = path.join(dir, 'kill9.json');
    writeFileSync(configFile, JSON.stringify({ ...plainConfig(), journal }));
    const cli = new CliProcess(['sim', 'platform', '--config', configFile]);
    try {
      const m = await cli.waitFor(/listening on 127\.0\.0\.1:(\d+), 127\.0\.0\.1:(\d+)/);
      const client = await terminalTo([Number(m[1]), Number(m[2])], platformConfig(), new ManualClock());
      const approved: TransactionResult[] = [];
      let killed = false;
      try {
        assert.equal((await client.terminal.signOn()).responseCode, '00');
        const worker = async () => {
          while (!killed) {
            const sale = await client.terminal.sale({ pan: CARD.pan }, '1', CARD.pin).catch(() => null);
            if (sale?.responseCode === '00') approved.push(sale);
            if (approved.length >= 40 && !killed) {
              killed = true;
              cli.child.kill('SIGKILL');
            }
          }
        };
        const workers = [worker(), worker(), worker(), worker()];
        await until(() => killed, 'enough approvals', 20_000);
        await cli.exited;
        await client.group.close();
        await Promise.all(workers);
      } finally {
        await client.close();
      }
      const lines = journalLines(journal);
      const journaled = new Set(lines.filter((l) => l.mti === '0200' && l.responseCode === '00').map((l) => `${l.stan} ${l.rrn}`));
      const missing = approved.filter((a) => !journaled.has(`${a.stan} ${a.rrn}`));
      assert.ok(approved.length >= 40);
      assert.deepEqual(missing.map((a) => a.stan), [], 'approvals the terminal saw that the journal lacks');
    } finally {
      await cli.stop();
    }
  });
});

function plainConfig() {
  return {
    listen: [
      { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
      { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
    ],
    terminals: [{ terminalId: '12345678', merchantId: '123456789012345', tmk: platformConfig().terminals[0].tmk }],
    cards: [CARD],
  };
}
