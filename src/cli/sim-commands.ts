import type { Command } from 'commander';
import { loadConfigFile } from '../config/load';
import { platformConfigSchema } from '../../tools/platform-sim/config';
import { PlatformSimulator } from '../../tools/platform-sim/simulator';

/** Resolve when the process is asked to stop (SIGINT from a terminal, SIGTERM from systemd or a test). */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function registerSimCommands(program: Command): void {
  const sim = program.command('sim').description('simulators of the other parties');
  sim
    .command('platform')
    .description('an offline UnionPay platform: sign-on with work keys, financial transactions, scripted faults')
    .requiredOption('--config <file>', 'simulator configuration (JSON or YAML)')
    .action(async (options: { config: string }) => {
      const config = loadConfigFile(platformConfigSchema, options.config);
      const simulator = new PlatformSimulator(config);
      await simulator.start();
      const where = config.listen.map((l, i) => `${l.host}:${simulator.ports[i]}`).join(', ');
      process.stdout.write(`platform simulator listening on ${where} (${config.framing}, ${config.terminals.length} terminal(s))\n`);
      const signal = await stopSignal();
      await simulator.close();
      const entries = simulator.journal.entries.length;
      process.stdout.write(`platform simulator stopped (${signal}) after ${entries} request(s)\n`);
    });
  for (const command of sim.commands) command.exitOverride();
  sim.exitOverride();
}
