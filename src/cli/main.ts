#!/usr/bin/env -S node --max-semi-space-size=4
// The podbgp command line: registers every command module and runs yargs.
// Only this file and daemon.ts read argv and the environment.
// The launcher line caps V8's young generation at 4 MiB semi-spaces (default 16): a full table then
// peaks about 40 MiB lower at no cost in load time (BENCHMARKS.md, full table).

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commands } from './commands/index.js';

export async function main(argv: string[]): Promise<void> {
  let cli = yargs(argv)
    .scriptName('podbgp')
    .usage('$0 <command> [options]\n\nBGP route distribution for Kubernetes nodes.')
    .strict()
    .demandCommand(1, 'Name a command: see --help.')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(100, process.stdout.columns || 100));
  for (const command of commands) cli = cli.command(command);
  await cli.parseAsync();
}

main(hideBin(process.argv)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
