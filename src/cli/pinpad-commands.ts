import type { Command } from 'commander';
import { familyName, probePinPad } from '../pinpad/probe';
import { EXIT_MISMATCH } from './io';
import { wholeNumber } from './options';

export function registerPinPadCommands(program: Command): void {
  const pinpad = program.command('pinpad').description('PIN pads on serial ports');
  pinpad
    .command('probe')
    .description("which PIN pad is on PORT: each family's read-only device-information command in turn (exit 1 when none answers)")
    .argument('<port>', 'a serial device path or tcp://host:port')
    .option('--timeout-ms <ms>', 'how long each family is given to answer', wholeNumber(50, 60_000), 500)
    .option('--json', 'print JSON', false)
    .action(async (port: string, o: { timeoutMs: number; json: boolean }) => {
      const { found, attempts } = await probePinPad(port, { timeoutMs: o.timeoutMs });
      if (o.json) process.stdout.write(JSON.stringify({ found, attempts }) + '\n');
      else if (found) {
        process.stdout.write(`family:   ${familyName(found.family)}\nmodel:    ${found.model}\nfirmware: ${found.firmware}\n`);
        if (found.serial) process.stdout.write(`serial:   ${found.serial}\n`);
        process.stdout.write(`profile:  ${found.profiles[0]}${found.profiles.length > 1 ? ` (also ${found.profiles.slice(1).join(', ')})` : ''}\n`);
      } else {
        process.stdout.write(`no known PIN pad family answered on ${port}: ${attempts.map((a) => `${a.family} ${a.outcome}`).join(', ')}\n`);
      }
      if (!found) process.exitCode = EXIT_MISMATCH;
    });
}
