import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { probeModem, probeTable } from '../modem/probe';
import { openSerialLine } from '../serial/port';
import { wholeNumber } from './options';

/** `nacbridge modem ...`: tools for a modem before it goes into service. */
export function registerModemCommands(program: Command): void {
  const modem = program.command('modem').description('modem tools');
  modem
    .command('probe')
    .description('ask a modem who it is and which caller-ID, modulation, fast-connect and V.80 commands it accepts (=? queries only, nothing that dials or answers); print a table and a starting profile')
    .argument('<port>', 'device path, tcp://host:port or rfc2217://host:port')
    .option('--baud <rate>', 'baud rate', wholeNumber(50), 9600)
    .option('--timeout-ms <ms>', 'how long each command may take', wholeNumber(100), 3000)
    .option('--write <file>', 'write the starting profile (JSON) to FILE')
    .option('--json', 'print the probe as JSON', false)
    .action(async (port: string, o: { baud: number; timeoutMs: number; write?: string; json: boolean }) => {
      const line = await openSerialLine(port, { baudRate: o.baud, controlLines: false });
      try {
        const result = await probeModem(line, { path: port, timeoutMs: o.timeoutMs });
        process.stdout.write(o.json ? JSON.stringify(result) + '\n' : probeTable(result));
        if (o.write) {
          writeFileSync(o.write, JSON.stringify(result.profile, null, 2) + '\n');
          process.stdout.write(`profile written to ${o.write} (name it in a line's "modem" key; docs/modem-profiles.md)\n`);
        }
      } finally {
        await line.close();
      }
    });
}
