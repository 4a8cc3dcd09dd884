// Test-only probe: which peer daemons are installed here, their versions, and skip reasons.
// Reads only the filesystem and `--version` output; starts no daemon.
// No RFC: this is test plumbing.
import { access, constants } from 'node:fs/promises';
import { isRoot, run } from './netns.js';

export type DaemonName = 'bird' | 'frr' | 'gobgp' | 'openbgpd' | 'exabgp';

export const DAEMONS: readonly DaemonName[] = ['bird', 'frr', 'gobgp', 'openbgpd', 'exabgp'];

/** The binaries each daemon's launcher needs, and the Debian package that ships them. */
export const BINARIES: Record<DaemonName, { pkg: string; bins: string[] }> = {
  bird: { pkg: 'bird2', bins: ['/usr/sbin/bird', '/usr/sbin/birdc'] },
  frr: { pkg: 'frr', bins: ['/usr/lib/frr/bgpd', '/usr/bin/vtysh'] },
  gobgp: { pkg: 'gobgpd', bins: ['/usr/bin/gobgpd', '/usr/bin/gobgp'] },
  openbgpd: { pkg: 'openbgpd', bins: ['/usr/sbin/bgpd', '/usr/sbin/bgpctl'] },
  exabgp: { pkg: 'exabgp', bins: ['/usr/sbin/exabgp'] },
};

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why `daemon` cannot be launched here, or undefined when it can (binaries present and root). */
export async function missingReason(daemon: DaemonName): Promise<string | undefined> {
  const { pkg, bins } = BINARIES[daemon];
  const missing: string[] = [];
  for (const b of bins) if (!(await executable(b))) missing.push(b);
  if (missing.length > 0)
    return `${daemon}: ${missing.join(', ')} not installed (Debian package ${pkg})`;
  if (!isRoot()) return `${daemon}: interop tests need root for network namespaces`;
  return undefined;
}

/** Every daemon with the reason it is unavailable (undefined when available). */
export async function installedDaemons(): Promise<Record<DaemonName, string | undefined>> {
  const out = {} as Record<DaemonName, string | undefined>;
  for (const d of DAEMONS) out[d] = await missingReason(d);
  return out;
}

const VERSION_CMD: Record<DaemonName, [string, string[], RegExp]> = {
  bird: ['/usr/sbin/bird', ['--version'], /BIRD version (\S+)/],
  frr: ['/usr/lib/frr/bgpd', ['--version'], /bgpd version (\S+)/],
  gobgp: ['/usr/bin/gobgpd', ['--version'], /gobgpd version (\S+)/],
  openbgpd: ['/usr/sbin/bgpd', ['-V'], /OpenBGPD (\S+)/],
  exabgp: ['/usr/sbin/exabgp', ['--version'], /ExaBGP : (\S+)/],
};

const versions = new Map<DaemonName, string>();

/** The daemon's upstream version, e.g. `2.0.12` for BIRD; throws if it is not installed. */
export async function versionOf(daemon: DaemonName): Promise<string> {
  const cached = versions.get(daemon);
  if (cached) return cached;
  const [cmd, args, re] = VERSION_CMD[daemon];
  const res = await run(cmd, args, { timeoutMs: 15_000 });
  const m = re.exec(res.stdout + res.stderr);
  if (!m)
    throw new Error(`cannot read ${daemon} version from: ${(res.stdout + res.stderr).trim()}`);
  versions.set(daemon, m[1]);
  return m[1];
}
