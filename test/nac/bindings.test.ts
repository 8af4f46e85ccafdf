import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ManualClock } from '../../src/clock';
import { fromHex, toHex } from '../../src/codec/hex';
import type { RequestDone } from '../../src/link/link-group';
import { TerminalBindings, type BindingMismatch, type NewNumber } from '../../src/nac/bindings';
import { nacConfigSchema } from '../../src/nac/config';
import { terminalIdOf } from '../../src/nac/keys';
import { Relay, type RelayHostGroup, type TerminalSession } from '../../src/nac/relay';

/** A link group with no links: it records what the relay submits. */
class FakeGroup extends EventEmitter implements RelayHostGroup {
  readonly submitted: { payload: Buffer; done: RequestDone }[] = [];
  submit(payload: Buffer, done: RequestDone): void {
    this.submitted.push({ payload, done });
  }
  abandon(): boolean {
    return true;
  }
  start(): void {}
  async close(): Promise<void> {}
}

const HEADER = '603100310000';
/** An 0800 echo test with STAN and terminal ID (field 41) and a merchant ID (field 42). */
const echo = (terminalId: string, stan = '000001'): Buffer =>
  Buffer.concat([fromHex('6000030000' + HEADER + '0800' + '0020000000C00000' + stan), Buffer.from(terminalId + '123456789012345', 'latin1')]);

type TestSession = TerminalSession & { sent: Buffer[] };
const session = (ani: string | null, { address = '0001', dnis = '61651108' } = {}): TestSession => {
  const sent: Buffer[] = [];
  return { address, label: `line ${address}`, ani, dnis, isOpen: true, sent, send: (p: Buffer) => sent.push(p) };
};

const hosts = [{ name: 'cups', nii: ['0003'], default: true, links: [{ host: '10.0.0.1', port: 1 }, { host: '10.0.0.2', port: 1 }] }];
const lines = [{ name: 'line1', port: '/dev/null', address: '0001', dnis: '61651108' }];

/** A relay over one fake host, with the bindings the config says (none when absent). */
function relayWith(bindings?: unknown): { relay: Relay<FakeGroup>; group: FakeGroup; mismatches: BindingMismatch[]; newNumbers: NewNumber[] } {
  const config = nacConfigSchema.parse({ lines, hosts, ...(bindings === undefined ? {} : { bindings }) });
  const clock = new ManualClock();
  const group = new FakeGroup();
  const made = config.bindings ? new TerminalBindings(config.bindings, new Map(config.lines.map((l) => [l.name, l.address])), () => clock.now()) : null;
  const relay = new Relay({ hosts: [{ config: config.hosts[0], group }], clock, bindings: made });
  const mismatches: BindingMismatch[] = [];
  const newNumbers: NewNumber[] = [];
  relay.on('binding', (m) => mismatches.push(m));
  relay.on('new-number', (n) => newNumbers.push(n));
  return { relay, group, mismatches, newNumbers };
}

describe('nac/bindings: terminals bound to their lines (issue 24 item 4, R-DIAL-4)', () => {
  it('finds the terminal ID (field 41) on the wire, and null when the message has none', () => {
    assert.equal(terminalIdOf(echo('12345670')), '12345670');
    // Bitmap with field 11 only: no field 41.
    assert.equal(terminalIdOf(fromHex('6000030000' + HEADER + '0800' + '0020000000000000' + '000001')), null);
    // Cut short inside field 41.
    assert.equal(terminalIdOf(echo('12345670').subarray(0, 30)), null);
  });

  it('R-DIAL-4: a terminal calling from the wrong number is refused: not relayed, counted as a reject reason, the mismatch told', () => {
    const { relay, group, mismatches } = relayWith({ terminals: [{ terminalId: '12345670', ani: ['50582613'] }] });
    const wrong = session('50589999');
    relay.request(wrong, echo('12345670'));
    relay.request(wrong, echo('12345670', '000002'));
    assert.equal(group.submitted.length, 0, 'nothing reached the platform');
    assert.equal(relay.counters.requests, 0);
    assert.deepEqual(relay.counters.rejected, { 'binding-mismatch': 2 });
    assert.equal(relay.bindings?.counters.refused, 2);
    assert.equal(relay.bindings?.counters.byKind.refuse.ani, 2);
    assert.equal(relay.bindings?.counters.checked, 1, 'worked out once per session and terminal ID');
    assert.equal(mismatches.length, 2);
    assert.deepEqual({ ...mismatches[0], detail: undefined }, {
      kind: 'ani',
      action: 'refuse',
      binding: 'terminal',
      terminalId: '12345670',
      ani: '50589999',
      dnis: '61651108',
      allowed: ['50582613'],
      detail: undefined,
    });
    assert.match(mismatches[0].detail, /terminal 12345670 called from 50589999; bound to 50582613/);
    assert.equal(relay.bindings?.recent.at(-1)?.event, 'mismatch');

    // The same terminal from its own number goes through, and another terminal is not bound.
    relay.request(session('50582613'), echo('12345670'));
    relay.request(session('50589999', { address: '0002' }), echo('99999999'));
    assert.equal(group.submitted.length, 2);
    assert.equal(relay.counters.rejected['binding-mismatch'], 2);
  });

  it('R-DIAL-4: a wrong DNIS and a call without caller ID are mismatches of their own kind; a TCP terminal (no ANI, no DNIS) bound to a number is refused', () => {
    const { relay, group, mismatches } = relayWith({ terminals: [{ terminalId: '12345670', ani: ['50582613'], dnis: ['61651108'] }] });
    relay.request(session('50582613', { dnis: '61651109' }), echo('12345670'));
    relay.request(session(null), echo('12345670'));
    relay.request(session(null, { address: '8001', dnis: '' }), echo('12345670'));
    assert.deepEqual(mismatches.map((m) => m.kind), ['dnis', 'no-caller-id', 'no-caller-id']);
    assert.equal(group.submitted.length, 0);
    assert.deepEqual(relay.bindings?.counters.byKind.refuse, { ani: 0, dnis: 1, 'no-caller-id': 2 });
    relay.request(session('50582613'), echo('12345670'));
    assert.equal(group.submitted.length, 1, 'right number to the right DNIS');
  });

  it('flag mode relays and counts: the frame goes to the platform unchanged, with the caller ID it came from, and is counted flagged, not rejected', () => {
    const { relay, group, mismatches } = relayWith({ onMismatch: 'flag', terminals: [{ terminalId: '12345670', ani: ['50582613'] }] });
    relay.request(session('50589999'), echo('12345670'));
    assert.equal(group.submitted.length, 1);
    assert.match(toHex(group.submitted[0].payload), /^6000030001.{10}0000000050589999/i, 'the dial-monitor block says where it came from');
    assert.equal(relay.counters.requests, 1);
    assert.deepEqual(relay.counters.rejected, {});
    assert.equal(relay.bindings?.counters.flagged, 1);
    assert.equal(relay.bindings?.counters.byKind.flag.ani, 1);
    assert.equal(relay.bindings?.counters.refused, 0);
    assert.deepEqual(mismatches.map((m) => m.action), ['flag']);
  });

  it('a binding can override the mode: one terminal refused, another flagged', () => {
    const { relay, group } = relayWith({
      onMismatch: 'flag',
      terminals: [
        { terminalId: '12345670', ani: ['50582613'], onMismatch: 'refuse' },
        { terminalId: '12345671', ani: ['50582614'] },
      ],
    });
    relay.request(session('1'), echo('12345670'));
    relay.request(session('1'), echo('12345671'));
    assert.equal(group.submitted.length, 1);
    assert.deepEqual([relay.bindings?.counters.refused, relay.bindings?.counters.flagged], [1, 1]);
  });

  it('a line bound to its callers refuses a call from any other number, whatever the terminal; other lines are not checked', () => {
    const config = {
      lines: [...lines, { name: 'line2', port: '/dev/null2', address: '0002', dnis: '61651109' }],
      hosts,
      bindings: { lines: [{ line: 'line1', ani: ['50582613', '50582614'] }] },
    };
    const parsed = nacConfigSchema.parse(config);
    const group = new FakeGroup();
    const bindings = new TerminalBindings(parsed.bindings ?? assert.fail('bindings'), new Map(parsed.lines.map((l) => [l.name, l.address])), () => 0);
    const relay = new Relay({ hosts: [{ config: parsed.hosts[0], group }], clock: new ManualClock(), bindings });
    relay.request(session('50582614'), echo('12345670'));
    relay.request(session('50589999'), echo('12345670'));
    relay.request(session('50589999', { address: '0002', dnis: '61651109' }), echo('12345670'));
    assert.equal(group.submitted.length, 2);
    assert.equal(relay.counters.rejected['binding-mismatch'], 1);
  });

  it('no binding = no change: the relay has no bindings, sends the same bytes, and tells no binding events', () => {
    const plain = relayWith();
    const bound = relayWith({ terminals: [{ terminalId: '12345670', ani: ['50582613'] }] });
    assert.equal(plain.relay.bindings, null);
    for (const r of [plain, bound]) r.relay.request(session('50582613'), echo('12345670'));
    plain.relay.request(session('50589999'), echo('12345670'));
    assert.equal(plain.group.submitted.length, 2);
    assert.deepEqual(toHex(plain.group.submitted[0].payload), toHex(bound.group.submitted[0].payload));
    assert.deepEqual(plain.relay.counters.rejected, {});
    assert.deepEqual([plain.mismatches.length, plain.newNumbers.length], [0, 0]);
  });

  it('a terminal seen from a new number raises an event, once per number; a bound terminal first seen from another number too', () => {
    const { relay, newNumbers } = relayWith({ onMismatch: 'flag', terminals: [{ terminalId: '12345670', ani: ['50582613'] }] });
    relay.request(session('50582620'), echo('99999999')); // first sighting of an unbound terminal: nothing to compare with
    relay.request(session('50582620'), echo('99999999')); // same number, new call
    relay.request(session('50582621'), echo('99999999')); // moved
    relay.request(session('50582621'), echo('99999999')); // seen there already
    relay.request(session('50589999'), echo('12345670')); // bound elsewhere, first seen here
    relay.request(session(null), echo('99999999')); // no caller ID: no number to tell
    assert.deepEqual(newNumbers, [
      { terminalId: '99999999', ani: '50582621', known: ['50582620'] },
      { terminalId: '12345670', ani: '50589999', known: ['50582613'] },
    ]);
    assert.equal(relay.bindings?.counters.newNumbers, 2);
    assert.deepEqual(relay.bindings?.recent.filter((e) => e.event === 'new-number').map((e) => e.terminalId), ['99999999', '12345670']);
  });

  it('remembers a bounded number of terminals: the oldest is forgotten first', () => {
    const config = nacConfigSchema.parse({ lines, hosts, bindings: { lines: [] } });
    const bindings = new TerminalBindings(config.bindings ?? assert.fail('bindings'), new Map(), () => 0, 2);
    const seen: NewNumber[] = [];
    const check = (ani: string, terminalId: string) => bindings.check(session(ani), echo(terminalId), (n) => seen.push(n));
    check('1', 'AAAAAAAA');
    check('1', 'BBBBBBBB');
    check('1', 'CCCCCCCC'); // AAAAAAAA forgotten
    check('2', 'AAAAAAAA'); // a first sighting again: no event
    check('2', 'CCCCCCCC');
    assert.deepEqual(seen.map((n) => n.terminalId), ['CCCCCCCC']);
  });

  it('the config refuses a binding to a line it does not have, a terminal bound twice,, a binding that binds nothing and a terminal ID that is not 8 characters; repeats are named by position', () => {
    const issuesOf = (bindings: unknown): string[] => {
      const result = nacConfigSchema.safeParse({ lines, hosts, bindings });
      assert.ok(!result.success);
      return result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    const shape = issuesOf({ terminals: [{ terminalId: 'T0000002' }, { terminalId: 'short', ani: ['1'] }] });
    assert.deepEqual(shape, ['bindings.terminals.0: needs ani, dnis or both', 'bindings.terminals.1.terminalId: must be 8 printable characters (field 41)']);
    const issues = issuesOf({ lines: [{ line: 'line9', ani: ['1'] }], terminals: [{ terminalId: 'T0000001', ani: ['1'] }, { terminalId: 'T0000001', dnis: ['2'] }] });
    assert.deepEqual(issues, ['bindings.terminals.1.terminalId: same terminal ID as bindings.terminals.0', 'bindings.lines.0.line: no line named line9 in lines']);
  });
});
