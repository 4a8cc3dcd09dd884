// A tiny entry point for the CLI tests: a yargs instance with only the `decode` command, so
// the tests do not depend on src/cli/main.ts. Run as `node --import tsx test/cli/run-cli.ts`.

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { command } from '../../src/cli/commands/decode.js';

await yargs(hideBin(process.argv))
  .scriptName('podbgp')
  .command(command)
  .demandCommand(1)
  .strict()
  .parseAsync();
