#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerCheckConfigCommand } from './check-config';
import { registerCodecCommands } from './codec-commands';
import { registerCryptoCommands } from './crypto-commands';
import { registerDemoCommand } from './demo';
import { registerModemCommands } from './modem-commands';
import { registerNacCommands } from './nac-commands';
import { registerSignonCommands } from './signon-commands';
import { registerSimCommands } from './sim-commands';
import { errorLine, EXIT_BAD_INPUT } from './io';
import { packageVersion } from './version';

function buildProgram(): Command {
  const program = new Command('nacbridge')
    .description('UnionPay NAC and POS / modem / PIN pad bridge')
    .version(packageVersion(), '-V, --version', 'print the version of nacbridge')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerCodecCommands(program);
  registerCryptoCommands(program);
  registerDemoCommand(program);
  registerNacCommands(program);
  registerCheckConfigCommand(program);
  registerModemCommands(program);
  const sim = registerSimCommands(program);
  registerSignonCommands(program, sim);
  // Every command, nested ones too, reports usage errors to main (exit 2) instead of exiting.
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
      return;
    }
    process.stderr.write(`nacbridge: ${errorLine(error)}\n`);
    process.exitCode = EXIT_BAD_INPUT;
  }
}

void main(process.argv);
