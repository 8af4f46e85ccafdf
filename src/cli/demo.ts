import type { Command } from 'commander';
import { fromHex, toHex } from '../codec/hex';
import { readTerminalEnvelope } from '../codec/terminal-envelope';
import { MessageCodec } from '../iso8583/codec';
import { describeTerminalMessage } from '../iso8583/describe';
import { maskPan } from '../iso8583/redact';
import { unionpayPos } from '../iso8583/specs/unionpay-pos';
import { buildTerminalMessage, readTerminalMessage } from '../iso8583/terminal-message';
import { SecretKey } from '../crypto/secret-key';
import { loadPinPadProfile } from '../pinpad/profile';
import { SzztPinPad } from '../pinpad/szzt-driver';
import type { TransactionResult } from '../terminal/terminal';
import { asyncFrameChannel } from '../terminal/channels';
import { startPinPadSim } from '../sim/pinpad/runner';
import { BENCH_CARD, BENCH_TMK, benchTerminal, startSimBench, terminalIdOf } from '../sim/bench/bench';

/**
 * npm start: the simulated bench on loopback, with no hardware and no socat. The platform
 * simulator listens on two ports; the NAC runs three modem lines on emulated modems reached as
 * tcp:// serial ports and two duplex links to the platform; two POS terminals dial in with
 * different caller IDs and sign on, loading and proving their work keys: POS 1 into an emulated
 * PIN pad, POS 2 into a software key store. They run sales, a void, a sale the platform never
 * answers (reversed), a wrong PIN and a settlement. A third line has framing sdlc: POS 3 is a
 * synchronous terminal (SDLC over V.80, R-MDM-7) that signs on and makes a sale.
 */
const SAMPLE_0810 =
  '007960000000046031003100000810003800010AC000140134870918340322084861584032313033323230393138333430303030323130303031383631343430333630313230303231001100000001003F0040A0F4BAB158444777DCCEFA04F3B4652318ECC792EF3AEC72A5011D350000000000000000F1737A9E';

const out = (line = ''): boolean => process.stdout.write(line + '\n');

/** How long the bench's NAC waits for the platform: the planned unanswered sale takes this long. */
const RESPONSE_TIMEOUT_SECONDS = 2;

function codecSample(codec: MessageCodec): boolean {
  const frame = fromHex(SAMPLE_0810);
  const terminal = readTerminalMessage(codec, frame, 2);
  const same = toHex(buildTerminalMessage(codec, terminal, { pad: 0xf })) === toHex(frame.subarray(2));
  out('== a published sign-on response (0810), decoded with keys hidden');
  out(describeTerminalMessage(codec, terminal));
  out(`re-encoded byte for byte: ${same ? 'yes' : 'NO'}`);
  out();
  return same;
}

/** One redacted line per relayed frame: what a bench engineer watches. */
function traceLine(codec: MessageCodec, payload: Buffer): string {
  try {
    const envelope = readTerminalEnvelope(payload);
    const m = codec.unpack(payload, envelope.messageOffset);
    const parts = [`${m.mti} STAN ${m.getString(11) ?? '-'}`];
    if (envelope.dialMonitor) parts.push(`ANI ${envelope.dialMonitor.ani || '(none)'} DNIS ${envelope.dialMonitor.dnis}`);
    parts.push(`TPDU ${envelope.tpdu.destination}->${envelope.tpdu.originator}`);
    const pan = m.getString(2);
    if (pan) parts.push(`PAN ${maskPan(pan)}`);
    const amount = m.getString(4);
    if (amount && Number(amount) > 0) parts.push(`${(Number(amount) / 100).toFixed(2)} CNY`);
    const rc = m.getString(39);
    if (rc) parts.push(`39=${rc}`);
    if (m.has(52)) parts.push('PIN ***');
    if (m.has(62)) parts.push('keys ***');
    return parts.join('  ');
  } catch {
    return `${payload.length} bytes (not a terminal message)`;
  }
}

async function bench(codec: MessageCodec): Promise<boolean> {
  // The platform never answers the second POS's sale (STAN 000002, after its sign-on): it must be reversed.
  const b = await startSimBench({
    lines: 3,
    // POS 3 is a synchronous terminal (R-MDM-7): SDLC in V.80 frames, its line framing sdlc.
    framing: ['async', 'async', 'sdlc'],
    platform: { faults: [{ terminalId: terminalIdOf(1), mti: '0200', stan: '000002', action: 'no-response' }] },
    responseTimeoutSeconds: RESPONSE_TIMEOUT_SECONDS,
    posTimeoutMs: 3000,
  });
  // POS 1's keys go into an emulated SZZT PIN pad that already holds the TMK (the host never
  // sees them in clear); its cardholder types the card's PIN on the pad.
  const padSim = await startPinPadSim({ serial: { kind: 'tcp', host: '127.0.0.1', port: 0 }, masterIndex: 1, master: SecretKey.fromHex(BENCH_TMK), typedPin: BENCH_CARD.pin });
  const pad = await SzztPinPad.open(padSim.path, loadPinPadProfile('szzt-emulator'));
  const rows: [string, string, string, string][] = [];
  let keysOk = true;
  try {
    out(`== simulated bench on loopback: platform simulator on 127.0.0.1:${b.sim.ports.join(' and :')}`);
    out(`   NAC lines: ${b.nac.lines.map((l) => `${l.line.name} (address ${l.address}, DNIS ${l.dnis}, ${l.sdlc ? 'sdlc' : 'async'}) on ${b.ends[b.nac.lines.indexOf(l)].path}`).join('; ')}`);
    out(`   host cups: 2 duplex links (warning: ${[...b.nac.relay.hosts.values()][0].group.warning})`);
    b.nac.relay.on('request', (session, host, payload) => out(`   ${session.label.padEnd(14)} -> ${host}  ${traceLine(codec, payload)}`));
    b.nac.relay.on('response', (session, host, payload, ms) => out(`   ${session.label.padEnd(14)} <- ${host}  ${traceLine(codec, payload)}  (${ms} ms)`));
    // POS 2's first sale is one the platform was told never to answer: its timeout is the plan.
    let plannedTimeout = false;
    b.nac.relay.on('drop', (reason, detail, session) => {
      const label = (session?.label ?? '-').padEnd(14);
      if (plannedTimeout && reason === 'timeout') out(`   ${label} -- no answer, as planned: the platform never answers this sale; the NAC gave up after ${RESPONSE_TIMEOUT_SECONDS} s`);
      else out(`   ${label} xx ${reason}: ${detail}`);
    });
    for (const { line } of b.nac.lines) {
      line.on('connected', (call) => out(`   ${line.name} answered after ${call.rings} ring(s): caller ID ${call.callerId?.number ?? `absent (${call.callerId?.absent ?? 'none'})`}, ${call.connect}`));
    }
    const note = (who: string, what: string, r: TransactionResult | string) =>
      typeof r === 'string' ? rows.push([who, what, r, '-']) : rows.push([who, what, r.responseCode, r.macOk ? 'ok' : 'FAILED']);

    const card = { pan: BENCH_CARD.pan };
    const call = await b.dial(0, '50582613');
    const a = { terminal: benchTerminal(0, codec, asyncFrameChannel(call.pos, 10_000), pad) };
    const signOnA = await a.terminal.signOn();
    note('POS 1', 'sign-on', signOnA);
    out('');
    out(`   POS 1 key loading into ${pad.description}`);
    out('   key                 slot  field 62 check  PIN pad check    result');
    for (const k of signOnA.keys) out(`   ${k.type.padEnd(19)} ${String(k.slot).padEnd(5)} ${k.expected.padEnd(15)} ${k.device.padEnd(16)} ${k.pass ? 'PASS' : 'FAIL'}`);
    out('');
    keysOk &&= signOnA.keys.every((k) => k.pass);
    const sale = await a.terminal.sale(card, '1234', BENCH_CARD.pin);
    note('POS 1', 'sale 12.34', sale);
    note('POS 1', 'void of it', await a.terminal.voidSale(card, '1234', sale, BENCH_CARD.pin));
    note('POS 1', 'sale 1.00', await a.terminal.sale(card, '100', BENCH_CARD.pin));
    await b.nac.lines[0].line.hangup('requested');

    const c = await b.dial(1, null, 'private');
    const signOnB = await c.terminal.signOn();
    keysOk &&= signOnB.keys.every((k) => k.pass);
    note('POS 2', 'sign-on', signOnB);
    plannedTimeout = true;
    try {
      note('POS 2', 'sale 5.00', await c.terminal.sale(card, '500', BENCH_CARD.pin));
    } catch {
      note('POS 2', 'sale 5.00', 'no answer');
      plannedTimeout = false;
      if (c.terminal.lastRequest) note('POS 2', 'reversal (98)', await c.terminal.reverse(c.terminal.lastRequest, '98'));
    }
    plannedTimeout = false;
    note('POS 2', 'sale, wrong PIN', await c.terminal.sale(card, '100', '999999'));
    note('POS 2', 'settlement', await c.terminal.settle());
    await b.nac.lines[1].line.hangup('requested');

    // A synchronous POS: the NAC polls it as the SDLC primary; the same relay, keys and MACs.
    const d = await b.dial(2, '50582614');
    const signOnC = await d.terminal.signOn();
    keysOk &&= signOnC.keys.every((k) => k.pass);
    note('POS 3 sync', 'sign-on', signOnC);
    note('POS 3 sync', 'sale 20.00', await d.terminal.sale(card, '2000', BENCH_CARD.pin));
    await b.nac.lines[2].line.hangup('requested');
    const sdlc = b.nac.lines[2].sdlc;
    if (sdlc) out(`   line3 SDLC: link up ${sdlc.linksUp} time(s), ${sdlc.polls} poll(s), I-frames ${sdlc.iFramesIn} in / ${sdlc.iFramesOut} out, ${sdlc.linkResets} link reset(s), receive rate ${sdlc.connectRateBps} bps`);

    out('');
    out('   terminal    transaction       39         response MAC');
    for (const [who, what, rc, mac] of rows) out(`   ${who.padEnd(11)} ${what.padEnd(17)} ${rc.padEnd(10)} ${mac}`);
    const expected = ['00', '00', '00', '00', '00', 'no answer', '00', '55', '00', '00', '00'];
    const asExpected = rows.length === expected.length && rows.every(([, , rc, mac], i) => rc === expected[i] && mac !== 'FAILED');
    const relay = b.nac.relay.counters;
    out('');
    out(`   relay: ${relay.requests} requests, ${relay.responses} responses, dropped ${JSON.stringify(relay.dropped)}`);
    out(`   keys loaded and proved: ${keysOk ? 'yes' : 'NO'}; every transaction as expected: ${asExpected ? 'yes' : 'NO'}`);
    return keysOk && asExpected;
  } finally {
    await b.close();
    await pad.close();
    await padSim.close();
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('the simulated bench on loopback: platform simulator, NAC with emulated modem lines, POS terminals dialling in')
    .action(async () => {
      const codec = new MessageCodec(unionpayPos);
      const sampleOk = codecSample(codec);
      const benchOk = await bench(codec);
      out('');
      out('POS 1 used an emulated SZZT-family PIN pad (keys loaded encrypted, PIN typed on the pad); POS 2 and POS 3 a software key store.');
      out('POS 3 was a synchronous terminal: SDLC over a V.80 modem on a line with framing sdlc (R-MDM-7).');
      process.exitCode = sampleOk && benchOk ? 0 : 1;
    });
}
