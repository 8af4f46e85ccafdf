import type { Command } from 'commander';
import { Option } from 'commander';
import { fromLooseHex, toHex } from '../codec/hex';
import { CodecError } from '../errors';
import { MessageCodec } from '../iso8583/codec';
import { unionpayPos } from '../iso8583/specs/unionpay-pos';
import { decodeFrame, encodeFrame, terminalFromJson, type CliFraming } from './frame-json';
import { readStdin } from './io';

const framingOption = () =>
  new Option('--framing <framing>', 'length prefix of the frame').choices(['binary2', 'ascii4', 'none']).default('binary2');

export function registerCodecCommands(program: Command): void {
  program
    .command('decode')
    .description('decode a terminal frame (hex) to JSON; PAN masked and 35, 36, 52, 55, 62 hidden unless --reveal')
    .option('--hex <hex>', 'the frame in hex (default: read hex from stdin, whitespace ignored)')
    .addOption(framingOption())
    .option('--reveal', 'show PAN, track data, PIN block, ICC data and keys in clear', false)
    .action(async (options: { hex?: string; framing: CliFraming; reveal: boolean }) => {
      const hex = options.hex ?? (await readStdin());
      const star = hex.indexOf('*');
      if (star >= 0) {
        throw new CodecError('REDACTED', `frame: '*' at character ${star}: the bytes a --trace file stars (PAN, tracks, PIN block, keys) are gone and cannot be decoded; the trace's "decoded" holds what can be shown`);
      }
      const frame = fromLooseHex(hex, 'frame');
      const json = decodeFrame(new MessageCodec(unionpayPos), frame, options.framing, options.reveal);
      process.stdout.write(JSON.stringify(json) + '\n');
    });

  program
    .command('encode')
    .description('encode the JSON of `nacbridge decode --reveal` (stdin) back to a frame, printed as hex')
    .addOption(framingOption())
    .addOption(new Option('--pad <nibble>', 'pad nibble for odd-length left-aligned digits').choices(['0', 'F', 'f']).default('0'))
    .action(async (options: { framing: CliFraming; pad: string }) => {
      let json: unknown;
      const text = await readStdin();
      try {
        json = JSON.parse(text);
      } catch (e) {
        throw new CodecError('BAD_JSON', `input is not JSON: ${(e as Error).message}`);
      }
      const codec = new MessageCodec(unionpayPos);
      const frame = encodeFrame(codec, terminalFromJson(codec, json), options.framing, options.pad === '0' ? 0 : 0xf);
      process.stdout.write(toHex(frame) + '\n');
    });
}
