#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerCheckConfigCommand } from './check-config';
import { registerCodecCommands } from './codec-commands';
import { registerCryptoCommands } from './crypto-commands';
import { registerDemoCommand } from './demo';
import { registerModemCommands } from './modem-commands';
import { registerNacCommands } from './nac-commands';
import { registerPinPadCommands } from './pinpad-commands';
import { registerSignonCommands } from './signon-commands';
import { registerSimCommands } from './sim-commands';
import { errorLine, EXIT_BAD_INPUT, EXIT_MISMATCH } from './io';
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
  registerPinPadCommands(program);
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

/**
 * The command that `args` name when it only groups others and nothing follows it: bare
 * `nacbridge`, `nacbridge sim`, `nacbridge crypto`. Null for anything else.
 */
function bareGroup(program: Command, args: readonly string[]): Command | null {
  let command = program;
  for (const arg of args) {
    const sub = command.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (sub === undefined) return null;
    command = sub;
  }
  return command.commands.length > 0 ? command : null;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  // Asked for nothing: the help on stdout, where it can be paged, and exit 1, since nothing was
  // done (commander put it on stderr with exit 2, as for a usage error; --help exits 0).
  const group = bareGroup(program, argv.slice(2));
  if (group !== null) {
    group.outputHelp();
    process.exitCode = EXIT_MISMATCH;
    return;
  }
  try {
    await program.parseAsync(argv);
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
