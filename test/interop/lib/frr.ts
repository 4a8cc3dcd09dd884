// Test-only launcher for FRR's bgpd (with or without zebra, no watchfrr) in a network namespace, queried
// with `vtysh --vty_socket DIR`. Must not touch the system FRR (/etc/frr, /run/frr).
// No RFC: test plumbing. Works with FRR 8.4 (`-n -S`, optional `-Z`, vtysh JSON output).
import { chmod, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cleanup, runOk, spawnProcess, tempDir, waitFor, type ProcessHandle } from './netns.js';
import { missingReason, versionOf } from './probe.js';

export interface FrrOptions {
  ns: string;
  /** Complete bgpd.conf text; see {@link frrPeerConfig}. */
  config: string;
  /** BGP listen port (default 179; 0 = do not listen). */
  bgpPort?: number;
  /**
   * Also run zebra in the namespace (default true). Without zebra, bgpd knows no interfaces and
   * rejects IPv6 link-local next hops (it withdraws them and may send NOTIFICATION 3/10); with it,
   * bgpd still keeps routes out of the kernel (`-n`).
   */
  zebra?: boolean;
  args?: string[];
  startTimeoutMs?: number;
}

/** One neighbor from `show bgp neighbors json`, loosely typed (FRR's JSON is large). */
export type FrrNeighbor = Record<string, unknown> & { bgpState?: string };

export interface FrrHandle {
  daemon: 'frr';
  ns: string;
  dir: string;
  configPath: string;
  process: ProcessHandle;
  /** Runs one or more vtysh commands (each a separate -c) and returns the text output. */
  cli(...commands: string[]): Promise<string>;
  /** Runs one show command ending in `json` and parses its output. */
  json<T = unknown>(command: string): Promise<T>;
  /** Runs commands in `configure terminal` under `router bgp` when `asn` is given. */
  configure(lines: string[], asn?: number): Promise<string>;
  neighbor(address: string): Promise<FrrNeighbor | undefined>;
  isEstablished(address: string): Promise<boolean>;
  waitEstablished(address: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  version(): Promise<string>;
}

/** Starts FRR bgpd in `opts.ns`; throws with the skip reason if FRR is not installed. */
export async function startFrr(cleanup: Cleanup, opts: FrrOptions): Promise<FrrHandle> {
  const missing = await missingReason('frr');
  if (missing) throw new Error(missing);
  const dir = await tempDir(cleanup, 'podbgp-frr-');
  const configPath = join(dir, 'bgpd.conf');
  await writeFile(configPath, opts.config);
  const zserv = join(dir, 'zserv.api');
  const withZebra = opts.zebra ?? true;
  if (withZebra) {
    const zconf = join(dir, 'zebra.conf');
    await writeFile(zconf, 'frr defaults traditional\n');
    // zebra refuses to run as root unless root is in the frrvty group; it runs as `frr` instead,
    // which must be able to create its sockets in this (test-only) directory.
    await chmod(dir, 0o777);
    const zebra = spawnProcess(
      cleanup,
      '/usr/lib/frr/zebra',
      [
        '-f',
        zconf,
        '-i',
        join(dir, 'zebra.pid'),
        '-z',
        zserv,
        '--vty_socket',
        dir,
        '-u',
        'frr',
        '-g',
        'frr',
        '-P',
        '0',
        '--log',
        'stdout',
      ],
      { ns: opts.ns },
    );
    await waitFor(
      async () => {
        if (!zebra.isRunning()) throw new Error(`zebra exited: ${zebra.output().trim()}`);
        return (await stat(zserv).catch(() => undefined)) !== undefined;
      },
      { timeoutMs: 20_000, what: 'FRR zebra socket' },
    );
  }
  // -Z: no zebra; -n: no kernel routes; -S: keep root (no frr user needed); -P 0: no TCP vty.
  const proc = spawnProcess(
    cleanup,
    '/usr/lib/frr/bgpd',
    [
      '-f',
      configPath,
      '-i',
      join(dir, 'bgpd.pid'),
      '-z',
      zserv,
      '--vty_socket',
      dir,
      ...(withZebra ? [] : ['-Z']),
      '-n',
      '-S',
      '-P',
      '0',
      '-p',
      String(opts.bgpPort ?? 179),
      '--log',
      'stdout',
      ...(opts.args ?? []),
    ],
    { ns: opts.ns },
  );
  const cli = async (...commands: string[]): Promise<string> =>
    runOk(
      '/usr/bin/vtysh',
      ['--vty_socket', dir, '-d', 'bgpd', ...commands.flatMap((c) => ['-c', c])],
      {
        ns: opts.ns,
      },
    );
  const json = async <T>(command: string): Promise<T> => JSON.parse(await cli(command)) as T;
  await waitFor(
    async () => {
      if (!proc.isRunning()) throw new Error(`bgpd exited: ${proc.output().trim()}`);
      return (await cli('show version')).includes('FRRouting');
    },
    { timeoutMs: opts.startTimeoutMs ?? 20_000, what: 'FRR bgpd to start' },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nbgpd output:\n${proc.output()}`);
  });
  const neighbor = async (address: string): Promise<FrrNeighbor | undefined> => {
    const all = await json<Record<string, FrrNeighbor>>(`show bgp neighbors ${address} json`);
    return all[address];
  };
  return {
    daemon: 'frr',
    ns: opts.ns,
    dir,
    configPath,
    process: proc,
    cli,
    json,
    configure: (lines, asn) =>
      cli(
        'configure terminal',
        ...(asn === undefined ? [] : [`router bgp ${asn}`]),
        ...lines,
        'end',
      ),
    neighbor,
    isEstablished: async (a) => (await neighbor(a))?.bgpState === 'Established',
    waitEstablished: async (a, timeoutMs = 60_000) => {
      await waitFor(async () => (await neighbor(a))?.bgpState === 'Established', {
        timeoutMs,
        what: `FRR neighbor ${a} Established`,
      }).catch(async (err: Error) => {
        const n = await neighbor(a).catch(() => undefined);
        const why = n
          ? `state ${n.bgpState}, last reset: ${String(n.lastResetDueTo ?? 'none')}`
          : 'neighbor unknown';
        throw new Error(`${err.message} (${why})\nbgpd output:\n${proc.output().slice(-3000)}`);
      });
    },
    stop: () => proc.stop(),
    version: () => versionOf('frr'),
  };
}

export interface FrrNeighborConfig {
  address: string;
  asn: number;
  /** Extra `neighbor X ...` suffixes, e.g. `timers 3 9`. */
  options?: string[];
}

export interface FrrPeerConfigOptions {
  hostname?: string;
  routerId: string;
  asn: number;
  neighbors: FrrNeighborConfig[];
  announce?: string[];
  holdTime?: number;
}

/** A minimal bgpd.conf: one router bgp with IPv4 and IPv6 unicast activated for each neighbor. */
export function frrPeerConfig(o: FrrPeerConfigOptions): string {
  const v4 = (o.announce ?? []).filter((p) => !p.includes(':'));
  const v6 = (o.announce ?? []).filter((p) => p.includes(':'));
  const hold = o.holdTime ?? 90;
  const lines = [
    'frr defaults traditional',
    `hostname ${o.hostname ?? 'frr'}`,
    `router bgp ${o.asn}`,
    ` bgp router-id ${o.routerId}`,
    ' no bgp ebgp-requires-policy',
    ' no bgp network import-check',
    ` timers bgp ${Math.max(1, Math.floor(hold / 3))} ${hold}`,
  ];
  for (const n of o.neighbors) {
    lines.push(` neighbor ${n.address} remote-as ${n.asn}`);
    for (const opt of n.options ?? []) lines.push(` neighbor ${n.address} ${opt}`);
  }
  for (const [af, nets] of [
    ['ipv4', v4],
    ['ipv6', v6],
  ] as const) {
    lines.push(` address-family ${af} unicast`);
    for (const p of nets) lines.push(`  network ${p}`);
    for (const n of o.neighbors) lines.push(`  neighbor ${n.address} activate`);
    lines.push(' exit-address-family');
  }
  return lines.join('\n') + '\n';
}
