/**
 * npm run bench:codec: unpack + pack of the published 0200 sale and 0810 sign-on response
 * (the whole terminal payload: TPDU, header, ISO 8583 message), beside the same message content
 * through the npm package iso_8583 in the same run.
 *
 * Targets (issue 2): >= 500,000 /s for the 0200 on one core (1,000,000 the goal), >= 10x iso_8583.
 * Target (issue 3): a MAC of the 0200 in under 10 us.
 * The headline is how nacbridge itself works: frames from its decoders are handed over to
 * unpack ({ copy: false }), values are decoded when read. The other lines show what a private
 * copy and reading every field cost, so nothing is hidden.
 */
import { fromHex, toHex } from '../../src/codec/hex';
import { computeMac, MAC_ALGORITHMS, type MacAlgorithm } from '../../src/crypto/mac';
import { macInput } from '../../src/crypto/message-security';
import { SecretKey } from '../../src/crypto/secret-key';
import { MessageCodec } from '../../src/iso8583/codec';
import type { FieldNumber } from '../../src/iso8583/message';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { maxTerminalPayload, readTerminalMessage, writeTerminalMessage } from '../../src/iso8583/terminal-message';
import { formatRate, measure, warmUp, type Measurement, type MeasureOptions } from './measure';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Iso8583 = require('iso_8583') as new (data?: Record<string, string>) => {
  getBufferMessage(): Buffer;
  getIsoJSON(buffer: Buffer): Record<string, string>;
};

export const SALE_0200 =
  '007F600003000060321032007202003020048000C08015000000000000001234000002030099303030303030303139353237313831383232313738373531353600192600000100060000000000435F01123238343431323334353637383930313233345F03063136303033365F04063230303832365C0230314233413039324145';
export const SIGNON_0810 =
  '007960000000046031003100000810003800010AC000140134870918340322084861584032313033323230393138333430303030323130303031383631343430333630313230303231001100000001003F0040A0F4BAB158444777DCCEFA04F3B4652318ECC792EF3AEC72A5011D350000000000000000F1737A9E';

const timing: MeasureOptions = { seconds: Number(process.env.BENCH_SECONDS ?? 0.5), runs: Number(process.env.BENCH_RUNS ?? 5) };
const codec = new MessageCodec(unionpayPos);
const out = Buffer.allocUnsafe(maxTerminalPayload(codec));

type Variant = 'handed-over' | 'private copy' | 'read every field';

function ours(name: string, frameHex: string, variant: Variant): Case {
  const payload = fromHex(frameHex).subarray(2);
  const copy = variant !== 'handed-over';
  const readAll = variant === 'read every field';
  const once = (): number => {
    const terminal = readTerminalMessage(codec, payload, 0, payload.length, { copy });
    if (readAll) for (const n of terminal.message.numbers()) terminal.message.get(n as FieldNumber);
    return writeTerminalMessage(codec, terminal, out, 0);
  };
  // The work measured must be the real round trip: check it once.
  if (toHex(out, 0, once()) !== toHex(payload)) throw new Error(`${name}: round trip differs`);
  return { name: `nacbridge ${name}, unpack+pack (${variant})`, op: once };
}

interface Case {
  name: string;
  op: () => void;
  batch?: number;
}

/** The same message content in iso_8583's own encoding (ASCII fields, binary fields as hex text). */
function theirs(name: string, frameHex: string): Case {
  const terminal = readTerminalMessage(codec, fromHex(frameHex).subarray(2));
  const data: Record<string, string> = { 0: terminal.message.mti };
  for (const n of terminal.message.numbers()) {
    const v = terminal.message.get(n) as string | Buffer;
    data[n] = typeof v === 'string' ? v : toHex(v);
  }
  if (data[64] !== undefined) data[64] = Buffer.from(data[64], 'hex').toString('latin1'); // its b8 takes 8 characters
  const wire = new Iso8583(data).getBufferMessage();
  if (new Iso8583().getIsoJSON(wire)[11] !== data[11]) throw new Error(`iso_8583 ${name}: round trip differs`);
  return {
    name: `iso_8583 ${name}, unpack+pack`,
    op: () => {
      new Iso8583(new Iso8583().getIsoJSON(wire)).getBufferMessage();
    },
    batch: 50,
  };
}

/** Warm every case first: measured one after another, the first would pay for the JIT's settling. */
function measureAll(cases: Case[]): Measurement[] {
  for (const c of cases) warmUp(c.op);
  return cases.map((c) => measure(c.name, c.op, { ...timing, batch: c.batch ?? 1000 }));
}

/** MAC of the 0200 sample: over its MAC input (R-MSG-9), and with the input taken from the message. */
function macs(): Measurement[] {
  const payload = fromHex(SALE_0200).subarray(2);
  const message = readTerminalMessage(codec, payload).message;
  const input = macInput(codec, message);
  const keys: Record<MacAlgorithm, SecretKey> = {
    'unionpay-ecb': SecretKey.fromHex('0723C80DB5F4CD3D'),
    'x9.9': SecretKey.fromHex('0723C80DB5F4CD3D'),
    'x9.19': SecretKey.fromHex('0123456789ABCDEFFEDCBA9876543210'),
  };
  if (computeMac('unionpay-ecb', keys['unionpay-ecb'], input).toString('latin1') !== 'B3A092AE') throw new Error('MAC differs');
  return measureAll([
    ...MAC_ALGORITHMS.map((a) => ({
      name: `MAC ${a} of the 0200 (${input.length}-byte input)`,
      op: () => computeMac(a, keys[a], input),
      batch: 100,
    })),
    {
      name: 'MAC unionpay-ecb of the 0200, input taken from the message',
      op: () => computeMac('unionpay-ecb', keys['unionpay-ecb'], macInput(codec, message)),
      batch: 100,
    },
  ]);
}

function main(): void {
  console.log(`bench:codec  node ${process.version}, median of ${timing.runs} runs of ${timing.seconds} s, one core\n`);
  const results = measureAll([
    ours('0200 sale', SALE_0200, 'handed-over'),
    ours('0200 sale', SALE_0200, 'private copy'),
    ours('0200 sale', SALE_0200, 'read every field'),
    theirs('0200 sale', SALE_0200),
    ours('0810 sign-on', SIGNON_0810, 'handed-over'),
    ours('0810 sign-on', SIGNON_0810, 'read every field'),
    theirs('0810 sign-on', SIGNON_0810),
  ]);
  for (const m of results) console.log(formatRate(m));
  const [sale, , , saleTheirs, signOn, , signOnTheirs] = results;
  const saleRatio = sale.perSecond / saleTheirs.perSecond;
  const signOnRatio = signOn.perSecond / signOnTheirs.perSecond;
  console.log(`\nratio nacbridge / iso_8583: 0200 ${saleRatio.toFixed(1)}x, 0810 ${signOnRatio.toFixed(1)}x`);
  console.log(`target 0200 >= 500,000 /s (goal 1,000,000): ${sale.perSecond >= 500_000 ? 'met' : 'NOT met'}`);
  console.log(`target >= 10x iso_8583: ${saleRatio >= 10 && signOnRatio >= 10 ? 'met' : 'NOT met'}\n`);
  const macFigures = macs();
  for (const m of macFigures) console.log(formatRate(m));
  console.log(`\ntarget MAC of the 0200 (unionpay-ecb) < 10 us: ${macFigures[0].nsPerOp < 10_000 ? 'met' : 'NOT met'}`);
}

main();
