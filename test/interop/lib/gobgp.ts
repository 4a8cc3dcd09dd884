// Test-only launcher for GoBGP (gobgpd) in a network namespace, with its gRPC API on the
// namespace's own loopback, queried with `gobgp -p PORT ... -j`. Touches nothing outside its dir.
// No RFC: test plumbing.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cleanup, runOk, spawnProcess, tempDir, waitFor, type ProcessHandle } from './netns.js';
import { missingReason, versionOf } from './probe.js';

export interface GobgpOptions {
  ns: string;
  /** Complete gobgpd TOML config; see {@link gobgpPeerConfig}. */
  config: string;
  /** gRPC API port on 127.0.0.1 inside the namespace (default 50051). */
  apiPort?: number;
  args?: string[];
  startTimeoutMs?: number;
}

/** One entry of `gobgp neighbor -j` (loosely typed). */
export interface GobgpNeighbor {
  conf?: { neighbor_address?: string; peer_asn?: number };
  state?: { session_state?: number | string; neighbor_address?: string };
  [k: string]: unknown;
}

export interface GobgpHandle {
  daemon: 'gobgp';
  ns: string;
  dir: string;
  configPath: string;
  apiPort: number;
  process: ProcessHandle;
  /** Runs `gobgp -p PORT ARGS` and returns the text output. */
  cli(args: string[]): Promise<string>;
  /** Runs `gobgp -p PORT ARGS -j` and parses the JSON output. */
  json<T = unknown>(args: string[]): Promise<T>;
  neighbors(): Promise<GobgpNeighbor[]>;
  isEstablished(address: string): Promise<boolean>;
  waitEstablished(address: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  version(): Promise<string>;
}

/** GoBGP encodes session_state as an enum; 6 (or "ESTABLISHED") is Established. */
export function gobgpStateIsEstablished(state: number | string | undefined): boolean {
  return state === 6 || (typeof state === 'string' && state.toUpperCase().includes('ESTABLISHED'));
}

/** Starts gobgpd in `opts.ns`; throws with the skip reason if GoBGP is not installed. */
export async function startGobgp(cleanup: Cleanup, opts: GobgpOptions): Promise<GobgpHandle> {
  const missing = await missingReason('gobgp');
  if (missing) throw new Error(missing);
  const dir = await tempDir(cleanup, 'podbgp-gobgp-');
  const configPath = join(dir, 'gobgpd.toml');
  const apiPort = opts.apiPort ?? 50051;
  await writeFile(configPath, opts.config);
  const proc = spawnProcess(
    cleanup,
    '/usr/bin/gobgpd',
    [
      '-f',
      configPath,
      '-t',
      'toml',
      '-p',
      '--pprof-disable',
      `--api-hosts=127.0.0.1:${apiPort}`,
      ...(opts.args ?? []),
    ],
    { ns: opts.ns },
  );
  const cli = (args: string[]): Promise<string> =>
    runOk('/usr/bin/gobgp', ['-u', '127.0.0.1', '-p', String(apiPort), ...args], { ns: opts.ns });
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await cli([...args, '-j'])) as T;
  await waitFor(
    async () => {
      if (!proc.isRunning()) throw new Error(`gobgpd exited: ${proc.output().trim()}`);
      await cli(['global']);
      return true;
    },
    { timeoutMs: opts.startTimeoutMs ?? 20_000, what: 'gobgpd to start' },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\ngobgpd output:\n${proc.output()}`);
  });
  const neighbors = async (): Promise<GobgpNeighbor[]> =>
    (await json<GobgpNeighbor[] | null>(['neighbor'])) ?? [];
  const isEstablished = async (address: string): Promise<boolean> => {
    const n = (await neighbors()).find(
      (x) => x.conf?.neighbor_address === address || x.state?.neighbor_address === address,
    );
    return gobgpStateIsEstablished(n?.state?.session_state);
  };
  return {
    daemon: 'gobgp',
    ns: opts.ns,
    dir,
    configPath,
    apiPort,
    process: proc,
    cli,
    json,
    neighbors,
    isEstablished,
    waitEstablished: async (a, timeoutMs = 60_000) => {
      await waitFor(() => isEstablished(a), { timeoutMs, what: `GoBGP neighbor ${a} Established` });
    },
    stop: () => proc.stop(),
    version: () => versionOf('gobgp'),
  };
}

export interface GobgpNeighborConfig {
  address: string;
  asn: number;
  /** Extra TOML lines appended inside this [[neighbors]] entry (after the afi-safis). */
  extra?: string;
}

export interface GobgpPeerConfigOptions {
  routerId: string;
  asn: number;
  neighbors: GobgpNeighborConfig[];
  holdTime?: number;
  /** Listen port (default 179; -1 = do not listen). */
  port?: number;
}

/** A minimal gobgpd TOML: global AS/router id and neighbors with IPv4 and IPv6 unicast. */
export function gobgpPeerConfig(o: GobgpPeerConfigOptions): string {
  const hold = o.holdTime ?? 90;
  const lines = [
    '[global.config]',
    `  as = ${o.asn}`,
    `  router-id = "${o.routerId}"`,
    `  port = ${o.port ?? 179}`,
  ];
  for (const n of o.neighbors) {
    lines.push(
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${n.address}"`,
      `    peer-as = ${n.asn}`,
      '  [neighbors.timers.config]',
      `    hold-time = ${hold}`,
      `    keepalive-interval = ${Math.max(1, Math.floor(hold / 3))}`,
      '    connect-retry = 2',
      '  [[neighbors.afi-safis]]',
      '    [neighbors.afi-safis.config]',
      '      afi-safi-name = "ipv4-unicast"',
      '  [[neighbors.afi-safis]]',
      '    [neighbors.afi-safis.config]',
      '      afi-safi-name = "ipv6-unicast"',
      n.extra ?? '',
    );
  }
  return lines.join('\n') + '\n';
}
