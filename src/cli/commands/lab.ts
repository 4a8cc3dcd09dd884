// `podbgp lab up|status|down`: the namespace datacenter (two segments, a ToR, four nodes
// running podbgp, two pods each). Argument parsing and exit codes only; the work is in
// src/lab/. Exit 0 when the lab is up / all green / removed, 1 otherwise.

import { pino } from 'pino';
import type { CommandModule } from 'yargs';
import {
  DEFAULT_PREFIX,
  DEFAULT_STATE_DIR,
  labDown,
  labStatus,
  labUp,
  realRunner,
  realSpawner,
  type LabContext,
} from '../../lab/index.js';

interface LabArgs {
  action: 'up' | 'status' | 'down';
  'state-dir': string;
  prefix: string;
  tor: 'auto' | 'frr' | 'bird';
  runner: 'auto' | 'dist' | 'tsx';
  'log-level': string;
  color: boolean;
  timeout: number;
}

function context(): LabContext {
  return {
    run: realRunner,
    spawn: realSpawner,
    say: (text) => console.log(text),
    log: pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2)),
  };
}

export const command: CommandModule = {
  command: 'lab <action>',
  describe: 'A datacenter in network namespaces: up (build and start), status, down (as root)',
  builder: (y) =>
    y
      .positional('action', { choices: ['up', 'status', 'down'] as const, demandOption: true })
      .option('state-dir', {
        type: 'string',
        default: DEFAULT_STATE_DIR,
        describe: 'where the lab keeps its state, configs, sockets and logs',
      })
      .option('prefix', {
        type: 'string',
        default: DEFAULT_PREFIX,
        describe: 'name prefix of every lab namespace',
      })
      .option('tor', {
        choices: ['auto', 'frr', 'bird'] as const,
        default: 'auto' as const,
        describe: 'ToR router daemon (auto: FRR, else BIRD 2, else apt-get install frr)',
      })
      .option('runner', {
        choices: ['auto', 'dist', 'tsx'] as const,
        default: 'auto' as const,
        describe:
          'run podbgp from dist/ or from src/ through tsx (auto: dist when it is newer than every source file)',
      })
      .option('log-level', {
        type: 'string',
        default: 'info',
        describe: 'log level of the nodes’ daemons',
      })
      .option('color', {
        type: 'boolean',
        default: process.stdout.isTTY === true,
        describe: 'colour the ping matrix',
      })
      .option('timeout', {
        type: 'number',
        default: 45,
        describe: 'seconds to wait for every session and route (up)',
      }),
  handler: async (raw) => {
    const a = raw as unknown as LabArgs;
    const ctx = context();
    const where = { stateDir: a['state-dir'], prefix: a.prefix };
    try {
      if (a.action === 'up') {
        await labUp(ctx, {
          ...where,
          tor: a.tor,
          cli: a.runner,
          logLevel: a['log-level'],
          convergeTimeoutMs: a.timeout * 1000,
        });
        console.log('lab is up: podbgp lab status (ping matrix), podbgp lab down (remove)');
      } else if (a.action === 'status') {
        const report = await labStatus(ctx, { ...where, color: a.color });
        if (!report.ok) process.exitCode = 1;
      } else {
        const r = await labDown(ctx, where);
        console.log(
          `lab down: ${r.processes} processes stopped, ${r.namespaces} namespaces removed`,
        );
      }
    } catch (err) {
      console.error(`podbgp lab ${a.action}: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  },
};
