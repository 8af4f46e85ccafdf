import type { Command } from 'commander';
import { fromHex, toHex } from '../codec/hex';
import { MessageCodec } from '../iso8583/codec';
import { describeTerminalMessage } from '../iso8583/describe';
import { unionpayPos } from '../iso8583/specs/unionpay-pos';
import { buildTerminalMessage, readTerminalMessage } from '../iso8583/terminal-message';

/**
 * Until the NAC, the simulators and the PIN pad exist, the demo shows what does: the codec at
 * work on the published samples, decoded, redacted and re-encoded byte for byte.
 */
const SAMPLES: { title: string; frame: string; pad: 0 | 0xf }[] = [
  {
    title: 'sign-on response 0810 (field 60 padded with F by the host)',
    frame:
      '007960000000046031003100000810003800010AC000140134870918340322084861584032313033323230393138333430303030323130303031383631343430333630313230303231001100000001003F0040A0F4BAB158444777DCCEFA04F3B4652318ECC792EF3AEC72A5011D350000000000000000F1737A9E',
    pad: 0xf,
  },
  {
    title: 'sale 0200 with MAC',
    frame:
      '007F600003000060321032007202003020048000C08015000000000000001234000002030099303030303030303139353237313831383232313738373531353600192600000100060000000000435F01123238343431323334353637383930313233345F03063136303033365F04063230303832365C0230314233413039324145',
    pad: 0,
  },
];

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('the simulated bench (today: the codec on published sample frames)')
    .action(() => {
      const codec = new MessageCodec(unionpayPos);
      let ok = true;
      for (const sample of SAMPLES) {
        const frame = fromHex(sample.frame);
        const terminal = readTerminalMessage(codec, frame, 2);
        const again = buildTerminalMessage(codec, terminal, { pad: sample.pad });
        const same = toHex(again) === toHex(frame.subarray(2));
        ok &&= same;
        process.stdout.write(`== ${sample.title}: ${frame.length} bytes\n`);
        process.stdout.write(describeTerminalMessage(codec, terminal) + '\n');
        process.stdout.write(`re-encoded byte for byte: ${same ? 'yes' : 'NO'}\n\n`);
      }
      process.stdout.write(
        'nacbridge today: codec and ISO 8583 engine (decode, encode). The NAC relay, links and simulators are not built yet.\n',
      );
      process.exitCode = ok ? 0 : 1;
    });
}
