import type { Command } from 'commander';
import { fromHex, toHex } from '../codec/hex';
import { readTerminalEnvelope } from '../codec/terminal-envelope';
import { SecretKey } from '../crypto/secret-key';
import { SoftwareKeyStore } from '../crypto/software-key-store';
import { MessageCodec } from '../iso8583/codec';
import { describeTerminalMessage } from '../iso8583/describe';
import { maskPan } from '../iso8583/redact';
import { unionpayPos } from '../iso8583/specs/unionpay-pos';
import { buildTerminalMessage, readTerminalMessage } from '../iso8583/terminal-message';
import { Link } from '../link/link';
import { LinkGroup } from '../link/link-group';
import { Terminal, terminalRoleKeys, type TransactionResult } from '../terminal/terminal';
import { platformConfigSchema } from '../../tools/platform-sim/config';
import { PlatformSimulator } from '../../tools/platform-sim/simulator';

/**
 * The simulated bench, as far as nacbridge is built today: the codec on published sample frames,
 * then a platform simulator on two loopback ports, a terminal that signs on over a two-link group,
 * loads and proves its work keys in a software key store, and runs a few transactions.
 * (The NAC with modem lines and PIN pad drivers join this bench as they are built.)
 */
const SAMPLES: { title: string; frame: string; pad: 0 | 0xf }[] = [
  {
    title: 'published sign-on response 0810 (field 60 padded with F by the host)',
    frame:
      '007960000000046031003100000810003800010AC000140134870918340322084861584032313033323230393138333430303030323130303031383631343430333630313230303231001100000001003F0040A0F4BAB158444777DCCEFA04F3B4652318ECC792EF3AEC72A5011D350000000000000000F1737A9E',
    pad: 0xf,
  },
];

/** Demo-only test keys and card: never real ones. */
const DEMO_TMK = 'CA5D92598DCA48CE8A4C76361A9269E9';
const CARD = { pan: '6212142000000000012', pin: '123456', balance: '000000100000' };

const out = (line = ''): boolean => process.stdout.write(line + '\n');

function codecSamples(codec: MessageCodec): boolean {
  let ok = true;
  for (const sample of SAMPLES) {
    const frame = fromHex(sample.frame);
    const terminal = readTerminalMessage(codec, frame, 2);
    const same = toHex(buildTerminalMessage(codec, terminal, { pad: sample.pad })) === toHex(frame.subarray(2));
    ok &&= same;
    out(`== ${sample.title}: ${frame.length} bytes`);
    out(describeTerminalMessage(codec, terminal));
    out(`re-encoded byte for byte: ${same ? 'yes' : 'NO'}`);
    out();
  }
  return ok;
}

/** One line per frame, redacted: what a bench engineer watches. */
function traceLine(codec: MessageCodec, direction: string, where: string, payload: Buffer): string {
  try {
    const envelope = readTerminalEnvelope(payload);
    const m = codec.unpack(payload, envelope.messageOffset);
    const parts = [`${direction} ${where.padEnd(6)} ${m.mti}`, `STAN ${m.getString(11) ?? '-'}`];
    const pan = m.getString(2);
    if (pan) parts.push(`PAN ${maskPan(pan)}`);
    const amount = m.getString(4);
    if (amount) parts.push(`amount ${Number(amount) / 100} CNY`);
    const rc = m.getString(39);
    if (rc) parts.push(`39=${rc}`);
    if (m.has(52)) parts.push('PIN block ***');
    if (m.has(62)) parts.push('62 ***');
    if (m.has(64)) parts.push('MAC');
    return parts.join('  ');
  } catch {
    return `${direction} ${where} ${payload.length} bytes (not a terminal message)`;
  }
}

async function bench(codec: MessageCodec): Promise<boolean> {
  const config = platformConfigSchema.parse({
    listen: [
      { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
      { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
    ],
    terminals: [{ terminalId: '12345678', merchantId: '123456789012345', tmk: DEMO_TMK, keyMode: '003', macAlgorithm: 'unionpay-ecb' }],
    cards: [CARD],
  });
  const sim = new PlatformSimulator(config);
  await sim.start();
  const links = sim.ports.map((port, i) => new Link({ name: `link${i + 1}`, host: '127.0.0.1', port, framing: 'binary2' }));
  const group = new LinkGroup({ name: 'platform', links, keys: terminalRoleKeys(codec), allowSingleLink: true, responseTimeoutMs: 10_000 });
  const store = new SoftwareKeyStore('software key store');
  const rows: [string, string, string][] = [];
  try {
    out(`== simulated bench: platform simulator on 127.0.0.1:${sim.ports.join(' and :')}, two duplex links`);
    out(`   (${group.warning})`);
    group.on('link-state', (link, state) => out(`   link ${link.name} ${state}`));
    group.on('inbound', (payload, link) => out('   ' + traceLine(codec, '<-', link.name, payload)));
    group.start();
    await new Promise<void>((resolve) => {
      const check = () => (group.upLinks.length === 2 ? resolve() : setTimeout(check, 5));
      check();
    });
    await store.loadMasterKey(1, SecretKey.fromHex(DEMO_TMK));
    const channel = {
      request: (payload: Buffer) => {
        out('   ' + traceLine(codec, '->', 'group', payload));
        return group.request(payload);
      },
    };
    const terminal = new Terminal({
      codec,
      channel,
      store,
      terminalId: '12345678',
      merchantId: '123456789012345',
      keyMode: '003',
      macAlgorithm: 'unionpay-ecb',
      masterIndex: 1,
      slots: { pin: 0, mac: 4 },
      tpdu: { id: 0x60, destination: '0003', originator: '0001' },
      header: '603100310000',
    });
    const note = (name: string, r: TransactionResult) => rows.push([name, r.responseCode, r.macOk ? 'MAC ok' : 'MAC FAILED']);
    const signOn = await terminal.signOn();
    note('sign-on', signOn);
    out('');
    out('   key    slot  field 62 check  key store check  result');
    for (const k of signOn.keys) out(`   ${k.type.padEnd(6)} ${String(k.slot).padEnd(5)} ${k.expected.padEnd(15)} ${k.device.padEnd(16)} ${k.pass ? 'PASS' : 'FAIL'}`);
    out('');
    const card = { pan: CARD.pan };
    note('balance', await terminal.balance(card, CARD.pin));
    const sale = await terminal.sale(card, '1234', CARD.pin);
    note('sale 12.34', sale);
    note('void of the sale', await terminal.voidSale(card, '1234', sale, CARD.pin));
    const second = await terminal.sale(card, '500', CARD.pin);
    note('sale 5.00', second);
    note('reversal of it', await terminal.reverse(second.request, '98'));
    note('sale, wrong PIN', await terminal.sale(card, '100', '999999'));
    note('settlement', await terminal.settle());
    const keysOk = signOn.keys.every((k) => k.pass);
    out('');
    out('   transaction        39   response MAC');
    for (const [name, rc, mac] of rows) out(`   ${name.padEnd(18)} ${rc.padEnd(4)} ${mac}`);
    const expected = ['00', '00', '00', '00', '00', '00', '55', '00'];
    const asExpected = rows.every(([, rc, mac], i) => rc === expected[i] && mac === 'MAC ok');
    out('');
    out(`   keys loaded and proved: ${keysOk ? 'yes' : 'NO'}; every transaction as expected: ${asExpected ? 'yes' : 'NO'}`);
    out(`   link group: ${JSON.stringify(group.counters)}`);
    return keysOk && asExpected;
  } finally {
    await group.close();
    await sim.close();
    await store.close();
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('the simulated bench on loopback: codec samples, platform simulator, sign-on with key loading, transactions')
    .action(async () => {
      const codec = new MessageCodec(unionpayPos);
      const samplesOk = codecSamples(codec);
      const benchOk = await bench(codec);
      out('');
      out('nacbridge today: codec, ISO 8583, crypto and key store, duplex links, platform simulator, terminal role.');
      out('Not built yet: the NAC relay with modem lines, the POS and modem simulators, PIN pad drivers.');
      process.exitCode = samplesOk && benchOk ? 0 : 1;
    });
}
