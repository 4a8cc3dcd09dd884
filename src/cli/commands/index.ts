// The list of CLI commands, in the order `podbgp --help` shows them.

import type { CommandModule } from 'yargs';
import { command as configCommand } from './config.js';
import { command as decodeCommand } from './decode.js';
import { command as labCommand } from './lab.js';
import { runCommand } from './run.js';
import { peerCommand, showCommand } from './show.js';

export const commands: CommandModule[] = [
  runCommand as unknown as CommandModule,
  showCommand,
  peerCommand,
  configCommand,
  decodeCommand as unknown as CommandModule,
  labCommand as unknown as CommandModule,
];
