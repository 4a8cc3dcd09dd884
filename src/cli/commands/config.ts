// `podbgp config check FILE`: validates a config file (with the environment's overrides) and
// prints every error, or a short summary of what the file means. Runs nothing, binds nothing.
// Exit status: 0 valid, 2 invalid (the same status `podbgp run` uses for a bad config).
import type { Argv, CommandModule } from 'yargs';
import { stringify } from 'yaml';
import {
  formatConfigErrors,
  loadConfig,
  type ConfigError,
  type Env,
  type PodbgpConfig,
} from '../../config/index.js';

export const EXIT_INVALID_CONFIG = 2;

export interface ConfigCheckArgs {
  file: string;
  'ignore-env'?: boolean;
  print?: boolean;
  json?: boolean;
}

export interface Output {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** A few lines saying what the config means, for a human checking it. */
export function summarizeConfig(c: PodbgpConfig): string[] {
  const fam = (f: PodbgpConfig['node']['ipv4']): string =>
    f.address === 'autodetect' ? `autodetect (${f.autodetectionMethod})` : f.address;
  const ibgp = c.peers.filter((p) => p.asn === c.node.asn).length;
  return [
    `node ${c.node.name ?? '(host name)'} AS ${c.node.asn}, router id ${c.node.routerId ?? '(IPv4 address)'}`,
    `  IPv4 ${fam(c.node.ipv4)}; IPv6 ${fam(c.node.ipv6)}`,
    `  pools: ${c.pools.map((p) => `${p.cidr} /${p.blockSize} ipip ${p.ipipMode}`).join(', ') || 'none'}`,
    `  static blocks: ${c.staticBlocks.join(', ') || 'none'}`,
    `  peers: ${c.peers.length} (${ibgp} iBGP, ${c.peers.length - ibgp} eBGP); policies: ${Object.keys(c.policies).length}; prefix lists: ${Object.keys(c.prefixLists).length}`,
    `  kubernetes: ${c.kubernetes.enabled ? `on, mesh ${c.kubernetes.mesh ? 'on' : 'off'}` : 'off'}`,
    `  listen ${c.listen.address ?? '*'}:${c.listen.port}; control ${c.control.socket}; metrics ${c.metrics.listen}`,
  ];
}

export function runConfigCheck(args: ConfigCheckArgs, env: Env, out: Output): number {
  const r = loadConfig({ path: args.file }, args['ignore-env'] ? {} : env);
  if (!r.ok) {
    if (args.json)
      out.stdout(
        JSON.stringify({ valid: false, errors: r.errors satisfies ConfigError[] }, null, 2),
      );
    else
      out.stderr(
        formatConfigErrors(
          r.errors,
          `${args.file}: ${r.errors.length} error${r.errors.length === 1 ? '' : 's'}:`,
        ),
      );
    return EXIT_INVALID_CONFIG;
  }
  if (args.json) {
    out.stdout(
      JSON.stringify(
        { valid: true, warnings: r.warnings, config: args.print ? r.config : undefined },
        null,
        2,
      ),
    );
    return 0;
  }
  out.stdout([`${args.file}: OK`, ...summarizeConfig(r.config)].join('\n'));
  for (const w of r.warnings) out.stderr(`warning: ${w}`);
  if (args.print) out.stdout(`---\n${stringify(r.config).trimEnd()}`);
  return 0;
}

const check: CommandModule<object, ConfigCheckArgs> = {
  command: 'check <file>',
  describe: 'Validate a config file without running anything (exit 2 if invalid)',
  builder: (yargs: Argv<object>) =>
    yargs
      .positional('file', { type: 'string', demandOption: true, describe: 'the YAML config file' })
      .option('ignore-env', {
        type: 'boolean',
        describe: 'check the file alone, without NODENAME, IP, AS, CALICO_IPV4POOL_* ... overrides',
      })
      .option('print', {
        type: 'boolean',
        describe: 'also print the effective config, defaults filled in',
      })
      .option('json', { type: 'boolean', describe: 'machine-readable result on stdout' })
      .example('$0 config check /etc/podbgp/podbgp.yaml', 'validate with the current environment'),
  handler: (args) => {
    process.exitCode = runConfigCheck(args, process.env, {
      stdout: (s) => process.stdout.write(`${s}\n`),
      stderr: (s) => process.stderr.write(`${s}\n`),
    });
  },
};

export const command: CommandModule = {
  command: 'config <command>',
  describe: 'Work with config files (check)',
  builder: (yargs: Argv) => yargs.command(check).demandCommand(1, 'Name a config command: check'),
  handler: () => {},
};
