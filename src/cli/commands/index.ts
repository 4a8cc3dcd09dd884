// The list of CLI commands, in the order `podbgp --help` shows them.

import type { CommandModule } from 'yargs';
import { command as configCommand } from './config.js';
import { peerCommand, showCommand } from './show.js';

export const commands: CommandModule[] = [showCommand, peerCommand, configCommand];
