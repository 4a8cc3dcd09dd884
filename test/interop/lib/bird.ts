// Test-only launcher for BIRD 2 in a network namespace: writes the config, runs `bird -f`, and
// queries it with `birdc -s SOCK`. Must not touch the system BIRD (/etc/bird, /run/bird).
// No RFC: BIRD's CLI has no JSON, so state is read from its text output.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cleanup, runOk, spawnProcess, tempDir, waitFor, type ProcessHandle } from './netns.js';
import { missingReason, versionOf } from './probe.js';

export interface BirdOptions {
  ns: string;
  /** Complete bird.conf text; see {@link birdPeerConfig} for the common case. */
  config: string;
  /** Extra argv for bird. */
  args?: string[];
  startTimeoutMs?: number;
}

export interface BirdHandle {
  daemon: 'bird';
  ns: string;
  dir: string;
  socket: string;
  configPath: string;
  process: ProcessHandle;
  /** Runs one birdc command and returns its text output (throws on a CLI error). */
  cli(command: string): Promise<string>;
  /** The BGP state of protocol NAME (`Established`, `Active`, ...), or undefined. */
  bgpState(protocol: string): Promise<string | undefined>;
  isEstablished(protocol: string): Promise<boolean>;
  waitEstablished(protocol: string, timeoutMs?: number): Promise<void>;
  /** Replaces the config file and runs `birdc configure`. */
  reconfigure(config: string): Promise<void>;
  stop(): Promise<void>;
  version(): Promise<string>;
}

/** Starts BIRD in `opts.ns`; throws with the skip reason if BIRD is not installed. */
export async function startBird(cleanup: Cleanup, opts: BirdOptions): Promise<BirdHandle> {
  const missing = await missingReason('bird');
  if (missing) throw new Error(missing);
  const dir = await tempDir(cleanup, 'podbgp-bird-');
  const configPath = join(dir, 'bird.conf');
  const socket = join(dir, 'bird.ctl');
  await writeFile(configPath, opts.config);
  const proc = spawnProcess(
    cleanup,
    '/usr/sbin/bird',
    ['-f', '-c', configPath, '-s', socket, '-P', join(dir, 'bird.pid'), ...(opts.args ?? [])],
    { ns: opts.ns },
  );
  const cli = async (command: string): Promise<string> => {
    const out = await runOk('/usr/sbin/birdc', ['-s', socket, ...command.split(' ')], {
      ns: opts.ns,
    });
    // birdc reports command errors on stdout with exit code 0; surface them.
    if (/^(syntax error|.*Protocol .* not found)/m.test(out))
      throw new Error(`birdc ${command}: ${out.trim()}`);
    return out;
  };
  await waitFor(
    async () => {
      if (!proc.isRunning()) throw new Error(`bird exited: ${proc.output().trim()}`);
      return (await cli('show status')).includes('Daemon is up and running');
    },
    { timeoutMs: opts.startTimeoutMs ?? 20_000, what: 'BIRD to start' },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nbird output:\n${proc.output()}`);
  });
  const bgpState = async (protocol: string): Promise<string | undefined> => {
    const out = await cli(`show protocols all ${protocol}`);
    return /BGP state:\s+(\S+)/.exec(out)?.[1];
  };
  return {
    daemon: 'bird',
    ns: opts.ns,
    dir,
    socket,
    configPath,
    process: proc,
    cli,
    bgpState,
    isEstablished: async (p) => (await bgpState(p)) === 'Established',
    waitEstablished: async (p, timeoutMs = 60_000) => {
      await waitFor(async () => (await bgpState(p)) === 'Established', {
        timeoutMs,
        what: `BIRD protocol ${p} Established`,
      }).catch(async (err: Error) => {
        const info = await cli(`show protocols all ${p}`).catch((e: Error) => e.message);
        throw new Error(`${err.message}\n${info}\nbird output:\n${proc.output().slice(-3000)}`);
      });
    },
    reconfigure: async (config) => {
      await writeFile(configPath, config);
      const out = await cli('configure');
      if (!/Reconfigur|Reconfiguration in progress|Reconfigured/.test(out)) throw new Error(out);
    },
    stop: () => proc.stop(),
    version: () => versionOf('bird'),
  };
}

export interface BirdNeighbor {
  /** Protocol name, used by birdc (letters, digits, underscores). */
  name: string;
  address: string;
  asn: number;
  localAddress?: string;
  /** Extra lines inside the `protocol bgp` block. */
  extra?: string;
}

export interface BirdPeerConfigOptions {
  routerId: string;
  asn: number;
  neighbors: BirdNeighbor[];
  /** Prefixes announced from a static protocol (IPv4 and IPv6 mixed). */
  announce?: string[];
  holdTime?: number;
}

/** A minimal bird.conf: device protocol, static routes, and one BGP protocol per neighbor. */
export function birdPeerConfig(o: BirdPeerConfigOptions): string {
  const v4 = (o.announce ?? []).filter((p) => !p.includes(':'));
  const v6 = (o.announce ?? []).filter((p) => p.includes(':'));
  const lines = [
    `router id ${o.routerId};`,
    'protocol device {}',
    `protocol static static4 { ipv4; ${v4.map((p) => `route ${p} blackhole;`).join(' ')} }`,
    `protocol static static6 { ipv6; ${v6.map((p) => `route ${p} blackhole;`).join(' ')} }`,
  ];
  for (const n of o.neighbors) {
    lines.push(
      `protocol bgp ${n.name} {`,
      `  local ${n.localAddress ? `${n.localAddress} ` : ''}as ${o.asn};`,
      `  neighbor ${n.address} as ${n.asn};`,
      `  hold time ${o.holdTime ?? 90};`,
      '  ipv4 { import all; export all; };',
      '  ipv6 { import all; export all; };',
      n.extra ?? '',
      '}',
    );
  }
  return lines.join('\n') + '\n';
}
