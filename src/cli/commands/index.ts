// The list of CLI commands, in the order `podbgp --help` shows them.

import type { CommandModule } from 'yargs';

export const commands: CommandModule[] = [];
