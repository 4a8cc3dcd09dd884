// Test-only launcher for OpenBGPD (portable, Debian's `openbgpd`) in a network namespace, with its
// control socket in a temp dir, queried with `bgpctl -s SOCK` (JSON with -j). Must not touch
// /etc/bgpd.conf or the system socket. No RFC: test plumbing.
import { mkdir, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Cleanup,
  run,
  runOk,
  spawnProcess,
  tempDir,
  waitFor,
  type ProcessHandle,
} from './netns.js';
import { missingReason, versionOf } from './probe.js';

/**
 * Debian's build runs its unprivileged processes as `_openbgpd`, chrooted into that user's home
 * (/run/openbgpd); OpenBSD's upstream name is `_bgpd`. The directory must exist before start.
 */
export const OPENBGPD_CHROOT = '/run/openbgpd';

export interface OpenbgpdOptions {
  ns: string;
  /** bgpd.conf text WITHOUT a `socket` line: the launcher prepends its own. See {@link openbgpdPeerConfig}. */
  config: string;
  args?: string[];
  startTimeoutMs?: number;
}

export interface OpenbgpdHandle {
  daemon: 'openbgpd';
  ns: string;
  dir: string;
  socket: string;
  configPath: string;
  process: ProcessHandle;
  /** Runs `bgpctl -s SOCK ARGS` and returns the text output. */
  cli(args: string[]): Promise<string>;
  /** Runs `bgpctl -j -s SOCK ARGS` and parses the JSON. */
  json<T = unknown>(args: string[]): Promise<T>;
  /** The session state (`Established`, `Active`, ...) of a neighbor, by address. */
  state(address: string): Promise<string | undefined>;
  isEstablished(address: string): Promise<boolean>;
  waitEstablished(address: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  version(): Promise<string>;
}

interface BgpctlNeighbors {
  neighbors?: { remote_addr?: string; state?: string }[];
}

/** The privilege-separation user the installed bgpd drops to, if it exists. */
export async function openbgpdUser(): Promise<string | undefined> {
  for (const user of ['_openbgpd', '_bgpd']) {
    const res = await run('getent', ['passwd', user]);
    if (res.code === 0) return user;
  }
  return undefined;
}

/** Starts OpenBGPD in `opts.ns`; throws with the skip reason if it is not installed. */
export async function startOpenbgpd(
  cleanup: Cleanup,
  opts: OpenbgpdOptions,
): Promise<OpenbgpdHandle> {
  const missing = await missingReason('openbgpd');
  if (missing) throw new Error(missing);
  if (!(await openbgpdUser()))
    throw new Error('openbgpd: neither _openbgpd nor _bgpd user exists (reinstall openbgpd)');
  await mkdir(OPENBGPD_CHROOT, { recursive: true });
  const dir = await tempDir(cleanup, 'podbgp-openbgpd-');
  const configPath = join(dir, 'bgpd.conf');
  const socket = join(dir, 'bgpd.sock');
  // bgpd refuses a config file that others can write; 0600 like /etc/bgpd.conf.
  await writeFile(configPath, `socket "${socket}"\n${opts.config}`);
  await chmod(configPath, 0o600);
  const proc = spawnProcess(
    cleanup,
    '/usr/sbin/bgpd',
    ['-d', '-f', configPath, ...(opts.args ?? [])],
    {
      ns: opts.ns,
    },
  );
  const cli = (args: string[]): Promise<string> =>
    runOk('/usr/sbin/bgpctl', ['-s', socket, ...args], { ns: opts.ns });
  const json = async <T>(args: string[]): Promise<T> =>
    JSON.parse(
      await runOk('/usr/sbin/bgpctl', ['-j', '-s', socket, ...args], { ns: opts.ns }),
    ) as T;
  await waitFor(
    async () => {
      if (!proc.isRunning()) throw new Error(`bgpd exited: ${proc.output().trim()}`);
      await cli(['show', 'summary']);
      return true;
    },
    { timeoutMs: opts.startTimeoutMs ?? 20_000, what: 'OpenBGPD to start' },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nbgpd output:\n${proc.output()}`);
  });
  const state = async (address: string): Promise<string | undefined> => {
    const out = await json<BgpctlNeighbors>(['show', 'neighbor', address]);
    return out.neighbors?.[0]?.state;
  };
  return {
    daemon: 'openbgpd',
    ns: opts.ns,
    dir,
    socket,
    configPath,
    process: proc,
    cli,
    json,
    state,
    isEstablished: async (a) => (await state(a))?.toLowerCase() === 'established',
    waitEstablished: async (a, timeoutMs = 60_000) => {
      await waitFor(async () => (await state(a))?.toLowerCase() === 'established', {
        timeoutMs,
        what: `OpenBGPD neighbor ${a} Established`,
      });
    },
    stop: () => proc.stop(),
    version: () => versionOf('openbgpd'),
  };
}

export interface OpenbgpdNeighborConfig {
  address: string;
  asn: number;
  /** Extra lines inside the neighbor block. */
  extra?: string[];
}

export interface OpenbgpdPeerConfigOptions {
  routerId: string;
  asn: number;
  neighbors: OpenbgpdNeighborConfig[];
  announce?: string[];
  holdTime?: number;
}

/** A minimal bgpd.conf: networks, neighbors, and allow-all filters (OpenBGPD denies nothing by default). */
export function openbgpdPeerConfig(o: OpenbgpdPeerConfigOptions): string {
  const lines = [
    `AS ${o.asn}`,
    `router-id ${o.routerId}`,
    'fib-update no',
    `holdtime ${o.holdTime ?? 90}`,
  ];
  for (const p of o.announce ?? []) lines.push(`network ${p}`);
  for (const n of o.neighbors) {
    lines.push(
      `neighbor ${n.address} {`,
      `  remote-as ${n.asn}`,
      ...(n.extra ?? []).map((l) => `  ${l}`),
      '}',
    );
  }
  lines.push('allow from any', 'allow to any');
  return lines.join('\n') + '\n';
}
