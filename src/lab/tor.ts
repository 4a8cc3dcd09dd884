// The lab's top-of-rack router: picks FRR or BIRD 2 (installing FRR when neither is there),
// starts it in the ToR namespace with the generated config, and asks it for a summary.
// Must not touch the system's FRR or BIRD (/etc/frr, /run/frr, /etc/bird). No RFC here.

import { existsSync } from 'node:fs';
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { birdTorConfig, frrTorConfig } from './configs.js';
import type { Runner, Spawner } from './exec.js';
import { runOk } from './exec.js';
import type { LabPlan } from './plan.js';
import type { LabProcess, TorDaemon } from './state.js';

export const FRR_ZEBRA = '/usr/lib/frr/zebra';
export const FRR_BGPD = '/usr/lib/frr/bgpd';
export const VTYSH = '/usr/bin/vtysh';
export const BIRD = '/usr/sbin/bird';
export const BIRDC = '/usr/sbin/birdc';

export type TorChoice = TorDaemon | 'auto';

const haveFrr = (): boolean => existsSync(FRR_ZEBRA) && existsSync(FRR_BGPD) && existsSync(VTYSH);
const haveBird = (): boolean => existsSync(BIRD) && existsSync(BIRDC);

/** What is missing for a ToR daemon, or null when it can run. */
export function torMissing(d: TorDaemon): string | null {
  if (d === 'frr') return haveFrr() ? null : `FRR is not installed (${FRR_BGPD}, ${FRR_ZEBRA})`;
  return haveBird() ? null : `BIRD 2 is not installed (${BIRD})`;
}

/**
 * FRR if installed, else BIRD 2; with neither, installs FRR with apt-get when `install` is
 * true. An explicit choice must be installed already.
 */
export async function chooseTor(
  run: Runner,
  choice: TorChoice,
  install: boolean,
  say: (line: string) => void,
): Promise<TorDaemon> {
  if (choice !== 'auto') {
    const missing = torMissing(choice);
    if (missing) throw new Error(missing);
    return choice;
  }
  if (haveFrr()) return 'frr';
  if (haveBird()) return 'bird';
  if (!install) throw new Error('neither FRR nor BIRD 2 is installed (apt-get install frr)');
  say('neither FRR nor BIRD 2 is installed: apt-get install frr');
  await runOk(run, 'apt-get', ['update'], { timeoutMs: 300_000 });
  await runOk(
    run,
    'env',
    [
      'DEBIAN_FRONTEND=noninteractive',
      'apt-get',
      'install',
      '-y',
      '--no-install-recommends',
      'frr',
    ],
    { timeoutMs: 600_000 },
  );
  if (!haveFrr()) throw new Error('apt-get install frr finished but bgpd/zebra are missing');
  return 'frr';
}

export const torDir = (plan: LabPlan): string => join(plan.stateDir, 'tor');

async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Starts the ToR daemon(s); returns the processes to record. */
export async function startTor(
  run: Runner,
  spawn: Spawner,
  plan: LabPlan,
  daemon: TorDaemon,
): Promise<LabProcess[]> {
  const dir = torDir(plan);
  await mkdir(dir, { recursive: true });
  const ns = plan.torNs;
  const inNs = (cmd: string, args: string[]): [string, string[]] => [
    'ip',
    ['netns', 'exec', ns, cmd, ...args],
  ];
  if (daemon === 'frr') {
    // zebra refuses to run as root without the frrvty group; it runs as `frr` and needs to
    // create its sockets here.
    await chmod(dir, 0o777);
    const zconf = join(dir, 'zebra.conf');
    const bconf = join(dir, 'bgpd.conf');
    const zserv = join(dir, 'zserv.api');
    await writeFile(zconf, `frr defaults traditional\nhostname ${ns}\n`);
    await writeFile(bconf, frrTorConfig(plan));
    await chmod(zconf, 0o644);
    await chmod(bconf, 0o644);
    const zlog = join(dir, 'zebra.log');
    const zpid = spawn(
      ...inNs(FRR_ZEBRA, [
        ...['-f', zconf, '-i', join(dir, 'zebra.pid'), '-z', zserv, '--vty_socket', dir],
        ...['-u', 'frr', '-g', 'frr', '-P', '0', '--log', 'stdout'],
      ]),
      { logPath: zlog },
    );
    await waitFor('FRR zebra to open its socket', 15_000, async () => {
      if (!alive(zpid)) throw new Error(`zebra exited; see ${zlog}`);
      return (await stat(zserv).catch(() => null)) !== null;
    });
    const blog = join(dir, 'bgpd.log');
    // -S: keep root (no frr user for bgpd); -P 0: no TCP vty.
    const bpid = spawn(
      ...inNs(FRR_BGPD, [
        ...['-f', bconf, '-i', join(dir, 'bgpd.pid'), '-z', zserv, '--vty_socket', dir],
        ...['-S', '-P', '0', '-p', '179', '--log', 'stdout'],
      ]),
      { logPath: blog },
    );
    await waitFor('FRR bgpd to answer vtysh', 15_000, async () => {
      if (!alive(bpid)) throw new Error(`bgpd exited; see ${blog}`);
      const r = await run(VTYSH, ['--vty_socket', dir, '-d', 'bgpd', '-c', 'show bgp summary']);
      return r.code === 0;
    });
    return [
      { role: 'tor:zebra', pid: zpid, ns, logPath: zlog },
      { role: 'tor:bgpd', pid: bpid, ns, logPath: blog },
    ];
  }
  const conf = join(dir, 'bird.conf');
  const sock = join(dir, 'bird.ctl');
  await writeFile(conf, birdTorConfig(plan));
  const log = join(dir, 'bird.log');
  const pid = spawn(...inNs(BIRD, ['-f', '-c', conf, '-s', sock, '-P', join(dir, 'bird.pid')]), {
    logPath: log,
  });
  await waitFor('BIRD to answer birdc', 15_000, async () => {
    if (!alive(pid)) throw new Error(`bird exited; see ${log}`);
    const r = await run(BIRDC, ['-s', sock, 'show', 'status']);
    return r.code === 0 && r.stdout.includes('Daemon is up');
  });
  return [{ role: 'tor:bird', pid, ns, logPath: log }];
}

/** The ToR's view of its sessions and routes, as its own CLI prints them. */
export async function torSummary(run: Runner, plan: LabPlan, daemon: TorDaemon): Promise<string> {
  const dir = torDir(plan);
  if (daemon === 'frr') {
    const r = await run(VTYSH, [
      ...['--vty_socket', dir, '-d', 'bgpd'],
      ...['-c', 'show bgp summary', '-c', 'show bgp ipv4 unicast'],
    ]);
    return r.code === 0 ? r.stdout : `vtysh failed: ${r.stderr.trim()}`;
  }
  const sock = join(dir, 'bird.ctl');
  const a = await run(BIRDC, ['-s', sock, 'show', 'protocols']);
  const b = await run(BIRDC, ['-s', sock, 'show', 'route']);
  return a.code === 0 ? a.stdout + b.stdout : `birdc failed: ${a.stderr.trim()}`;
}
