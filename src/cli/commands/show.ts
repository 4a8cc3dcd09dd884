// `podbgp show ...` and `podbgp peer ...`: ask the running daemon over the control socket and
// print the answer as a table (or unchanged JSON with --json). Exit 3 if no daemon answers.

import type { Argv, CommandModule } from 'yargs';
import { ControlError, DaemonNotRunning, request } from '../../control/client.js';
import {
  DEFAULT_SOCKET_PATH,
  type Command,
  type PeerDetail,
  type PeerSummary,
  type RoutesResult,
} from '../../control/protocol.js';
import type { KernelStatus } from '../../kernel/types.js';
import {
  formatConfig,
  formatKernel,
  formatNode,
  formatPeer,
  formatPeers,
  formatRoutes,
  type NodeView,
} from '../format.js';

interface CommonArgs {
  socket: string;
  json: boolean;
}

function common<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return y
    .option('socket', {
      type: 'string',
      default: process.env.PODBGP_SOCKET ?? DEFAULT_SOCKET_PATH,
      describe: 'control socket of the daemon',
    })
    .option('json', {
      type: 'boolean',
      default: false,
      describe: 'print the daemon reply as JSON',
    });
}

/** Runs one request and prints it; maps failures to exit codes (3: no daemon, 1: error). */
async function run(
  args: CommonArgs,
  cmd: Command,
  params: Record<string, unknown>,
  human: (result: unknown) => string,
): Promise<void> {
  try {
    const result = await request(args.socket, cmd, params);
    console.log(args.json ? JSON.stringify(result, null, 2) : human(result));
  } catch (err) {
    if (err instanceof DaemonNotRunning) {
      console.error(err.message);
      process.exit(3);
    }
    console.error(err instanceof ControlError ? `error: ${err.message}` : String(err));
    process.exit(1);
  }
}

const asJson = (r: unknown) => JSON.stringify(r, null, 2);

export const showCommand: CommandModule = {
  command: 'show <what>',
  describe: 'Show daemon state: peers, peer ADDR, routes, rib, kernel, node, config',
  builder: (y) =>
    common(y)
      .command(
        'peers',
        'One line per peer: state, uptime, prefixes, last error',
        (y) => y,
        (a) =>
          run(a as unknown as CommonArgs, 'show-peers', {}, (r) => formatPeers(r as PeerSummary[])),
      )
      .command(
        'peer <address>',
        'Negotiated capabilities, timers, counters and the last NOTIFICATION of one peer',
        (y) => y.positional('address', { type: 'string', demandOption: true }),
        (a) =>
          run(a as unknown as CommonArgs, 'show-peer', { address: a.address }, (r) =>
            formatPeer(r as PeerDetail),
          ),
      )
      .command(
        'routes [prefix]',
        'The RIB joined with the kernel: which path is best and how it is installed',
        (y) =>
          y
            .positional('prefix', {
              type: 'string',
              describe: 'only this prefix (or the routes covering this address)',
            })
            .option('peer', { type: 'string', describe: 'only paths from this peer' })
            .option('family', { choices: ['ipv4', 'ipv6'] as const })
            .option('all', {
              type: 'boolean',
              default: false,
              describe: 'include non-selected paths',
            }),
        (a) =>
          run(
            a as unknown as CommonArgs,
            'show-routes',
            { prefix: a.prefix, peer: a.peer, family: a.family, all: a.all },
            (r) => formatRoutes((r as RoutesResult).routes),
          ),
      )
      .command(
        'rib <direction> <address>',
        'Adj-RIB-In or Adj-RIB-Out of one peer',
        (y) =>
          y
            .positional('direction', { choices: ['in', 'out'] as const, demandOption: true })
            .positional('address', { type: 'string', demandOption: true }),
        (a) =>
          run(
            a as unknown as CommonArgs,
            'show-rib',
            { direction: a.direction, address: a.address },
            (r) => formatRoutes((r as RoutesResult).routes),
          ),
      )
      .command(
        'kernel',
        'Routes podbgp owns in the kernel table, with their shape and errors',
        (y) => y,
        (a) =>
          run(a as unknown as CommonArgs, 'show-kernel', {}, (r) =>
            formatKernel(r as KernelStatus),
          ),
      )
      .command(
        'node',
        'This node: name, ASN, router id, address and how autodetection chose it',
        (y) => y,
        (a) => run(a as unknown as CommonArgs, 'show-node', {}, (r) => formatNode(r as NodeView)),
      )
      .command(
        'config',
        'The effective configuration, as YAML (--json: as JSON)',
        (y) => y,
        (a) => run(a as unknown as CommonArgs, 'show-config', {}, formatConfig),
      )
      .demandCommand(1),
  handler: () => undefined,
};

export const peerCommand: CommandModule = {
  command: 'peer <action> <address>',
  describe: 'Reset (hard or --soft in|out), disable or enable one peer',
  builder: (y) =>
    common(y)
      .positional('action', {
        choices: ['reset', 'disable', 'enable'] as const,
        demandOption: true,
      })
      .positional('address', { type: 'string', demandOption: true })
      .option('soft', {
        choices: ['in', 'out'] as const,
        describe: 'soft reset direction (reset only)',
      })
      .option('message', {
        type: 'string',
        describe: 'shutdown communication sent to the peer (RFC 9003)',
      }),
  handler: (a) => {
    const cmd = `peer-${String(a.action)}` as Command;
    return run(
      a as unknown as CommonArgs,
      cmd,
      { address: a.address, soft: a.soft, message: a.message },
      (r) => (typeof r === 'string' ? r : asJson(r)),
    );
  },
};
