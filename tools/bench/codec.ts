/**
 * npm run bench:codec: nacbridge's codec against the npm package iso_8583 on the same messages,
 * paired (measure.ts: A and B alternate in rounds; the median of the per-round ratios is
 * reported with its min and max). Two messages: the realistic 0200 sale (samples.ts: fields 2,
 * 3, 4, 11, 14, 22, 23, 25, 26, 35, 36, 41, 42, 49, 52, 53, 55, 60, 64; 337 bytes) and the
 * 0810 sign-on response with field 62. Two modes, reported separately:
 *
 * - validate-and-copy: unpack into a private copy (every byte validated, no value built), pack
 *   again (fields copied as they came). What a relay or a field-by-field inspector needs.
 *   iso_8583 has no such mode: the least it can do bytes in, bytes out is its full parse and
 *   pack, so its side here is the full mode's and this ratio is not like for like (it is printed
 *   so, and no target reads it).
 * - full: unpack, decode every field's value (strings; bytes for b fields) into a plain object,
 *   encode a message from those values (MessageData: nothing is copied through). iso_8583:
 *   getIsoJSON (every value as a string) and a new Iso8583 from those values, getBufferMessage. The same work; nacbridge also reads and writes
 *   the TPDU and message header, which iso_8583 has no notion of.
 *
 * Every operation is run once and its output checked before it is timed. CODEC_BASELINE=<a dist
 * directory of another build> adds a paired A/B of the sale's full mode, this build against it.
 * Target (issue 23): >= 1,000,000 realistic sales per second, full decode + encode.
 */
import { resolve } from 'node:path';
import type { PadNibble } from '../../src/codec/bcd';
import { toHex } from '../../src/codec/hex';
import type { FieldValues } from '../../src/iso8583/message';
import { maxTerminalPayload, readTerminalMessage, writeTerminalMessage, type TerminalMessage } from '../../src/iso8583/terminal-message';
import { formatPaired, loadNote, paired, targetLine, type Paired, type Side } from './measure';
import { codec, salePayload, SIGNON_0810_PAYLOAD } from './samples';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Iso8583 = require('iso_8583') as new (data?: Record<string, string>, formats?: Record<string, IsoFormat>) => {
  getBufferMessage(): Buffer | { error: string };
  getIsoJSON(buffer: Buffer): Record<string, string> | { error: string };
};
interface IsoFormat {
  ContentType: string;
  Label: string;
  LenType: string;
  MaxLen: number;
  MinLen?: number;
}

/** iso_8583's defaults where they differ from the UnionPay table: track 3 has separators, 53 is n16, the MAC as 16 hex digits. */
const FORMATS: Record<string, IsoFormat> = {
  36: { ContentType: 'z', Label: 'Track 3 data', LenType: 'lllvar', MaxLen: 104 },
  53: { ContentType: 'n', Label: 'Security related control information', LenType: 'fixed', MaxLen: 16 },
  64: { ContentType: 'b', Label: 'Message authentication code', LenType: 'fixed', MaxLen: 16 },
};

const out = Buffer.allocUnsafe(maxTerminalPayload(codec));

function check(name: string, got: string, want: string): void {
  if (got !== want) throw new Error(`${name}: output differs from the input\n got  ${got}\n want ${want}`);
}

function validateAndCopy(name: string, payload: Buffer): Side {
  const op = (): number => writeTerminalMessage(codec, readTerminalMessage(codec, payload, 0, payload.length, { copy: true }), out, 0);
  check(name, toHex(out, 0, op()), toHex(payload));
  return { name: `nacbridge ${name}: validate-and-copy`, op };
}

interface CodecBuild {
  codec: typeof codec;
  readTerminalMessage: typeof readTerminalMessage;
  writeTerminalMessage: typeof writeTerminalMessage;
}
const THIS_BUILD: CodecBuild = { codec, readTerminalMessage, writeTerminalMessage };

/**
 * Another build of nacbridge (its dist directory, e.g. a copy made before a change), for an A/B
 * of the codec against this one: CODEC_BASELINE=/path/to/dist npm run bench:codec.
 */
function loadBuild(dist: string): CodecBuild {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = (file: string): Record<string, unknown> => require(resolve(dist, file)) as Record<string, unknown>;
  const terminal = load('src/iso8583/terminal-message.js');
  return {
    codec: load('tools/bench/samples.js').codec as typeof codec,
    readTerminalMessage: terminal.readTerminalMessage as typeof readTerminalMessage,
    writeTerminalMessage: terminal.writeTerminalMessage as typeof writeTerminalMessage,
  };
}

/** `pad`: the pad nibble this terminal writes for odd-length left-aligned digits (R-MSG-4). */
function full(name: string, payload: Buffer, pad: PadNibble, build = THIS_BUILD, label = 'nacbridge'): Side {
  const { codec, readTerminalMessage, writeTerminalMessage } = build;
  const target = Buffer.allocUnsafe(out.length);
  const op = (): number => {
    const read = readTerminalMessage(codec, payload, 0, payload.length, { copy: true });
    const fields: FieldValues = {};
    for (const n of read.message.numbers()) fields[n] = read.message.get(n);
    const rebuilt: TerminalMessage = { tpdu: read.tpdu, dialMonitor: read.dialMonitor, header: read.header, message: { mti: read.message.mti, fields } };
    return writeTerminalMessage(codec, rebuilt, target, 0, { pad });
  };
  check(`${label} ${name}`, toHex(target, 0, op()), toHex(payload));
  return { name: `${label} ${name}: full decode + encode`, op };
}

/** The same message content in iso_8583's own encoding (ASCII; b fields as hex text). */
function theirs(name: string, payload: Buffer): Side {
  const message = readTerminalMessage(codec, payload).message;
  const data: Record<string, string> = { 0: message.mti };
  for (const n of message.numbers()) {
    const v = message.get(n) as string | Buffer;
    data[n] = typeof v === 'string' ? v : toHex(v);
  }
  const wire = new Iso8583(data, FORMATS).getBufferMessage();
  if (!Buffer.isBuffer(wire)) throw new Error(`iso_8583 ${name}: ${wire.error}`);
  const op = (): Buffer => {
    const json = new Iso8583(undefined, FORMATS).getIsoJSON(wire);
    const again = new Iso8583(json as Record<string, string>, FORMATS).getBufferMessage();
    if (!Buffer.isBuffer(again)) throw new Error(`iso_8583 ${name}: ${again.error}`);
    return again;
  };
  const decoded = new Iso8583(undefined, FORMATS).getIsoJSON(wire) as Record<string, string>;
  for (const [k, v] of Object.entries(data)) if (decoded[k]?.toUpperCase() !== v.toUpperCase()) throw new Error(`iso_8583 ${name}: field ${k} decodes as ${decoded[k]}, not ${v}`);
  check(`iso_8583 ${name}`, toHex(op()), toHex(wire));
  return { name: `iso_8583 ${name}: full decode + encode`, op, batch: 20 };
}

function main(): void {
  const sale = salePayload();
  console.log(`bench:codec  node ${process.version}, one core, ${loadNote()}`);
  console.log(`paired rounds (A and B alternate, ${process.env.BENCH_SECONDS ?? 0.2} s windows); figures are medians over the rounds (wall rate and CPU time per message), with the slowest and fastest window\n`);
  const results: Record<string, Paired> = {};
  // The 0810 came from a host that pads field 60 with F.
  for (const [name, payload, pad] of [
    [`0200 sale (${sale.length} bytes)`, sale, 0x0],
    [`0810 sign-on (${SIGNON_0810_PAYLOAD.length} bytes)`, SIGNON_0810_PAYLOAD, 0xf],
  ] as const) {
    const reference = theirs(name, payload);
    const copy = paired(validateAndCopy(name, payload), reference);
    console.log(formatPaired(copy, 'ratio (NOT like for like: iso_8583 has no copy mode)') + '\n');
    const decoded = paired(full(name, payload, pad), reference);
    console.log(formatPaired(decoded, 'ratio nacbridge / iso_8583, same work') + '\n');
    results[name.slice(0, 4)] = decoded;
    results[`${name.slice(0, 4)} copy`] = copy;
  }
  const baseline = process.env.CODEC_BASELINE;
  if (baseline) {
    const ab = paired(full(`0200 sale (${sale.length} bytes)`, sale, 0x0), full(`0200 sale (${sale.length} bytes)`, sale, 0x0, loadBuild(baseline), 'baseline'));
    console.log(formatPaired(ab, `ratio this build / baseline ${baseline}`) + '\n');
  }
  // The target reads CPU time per message (what one core does; the wall rate is printed beside it).
  const sale0200 = results['0200'].a;
  const perCoreSecond = 1e9 / sale0200.cpuNsPerOp;
  const n = (x: number): string => Math.round(x).toLocaleString('en-US');
  console.log(
    targetLine('codec 0200 full decode+encode', `${n(perCoreSecond)} /s per core-second of CPU (${n(sale0200.perSecond)} /s wall)`, '>= 1,000,000 /s', perCoreSecond >= 1_000_000),
  );
}

main();
