// `podbgp lab up|status|down`: builds the namespace datacenter, starts the ToR and one podbgp
// per node, reports sessions, routes and the pod ping matrix, and removes it all again.
// Must not touch anything outside its namespaces and state dir. BGP behaviour comes from the
// generated configs (configs.ts); this file only orchestrates.

import { mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { request } from '../control/client.js';
import type { PeerSummary } from '../control/protocol.js';
import { nodeConfigYaml } from './configs.js';
import { mapLimit, runOk, type Runner, type Spawner } from './exec.js';
import { cliCommand, type CliRunner } from './paths.js';
import { formatMatrix, pingMatrix, type PingResult } from './ping.js';
import { buildPlan, DEFAULT_PREFIX, DEFAULT_STATE_DIR, type LabPlan } from './plan.js';
import {
  readState,
  removeStateDir,
  STATE_VERSION,
  statePath,
  writeState,
  type LabProcess,
  type LabState,
} from './state.js';
import { topologySteps } from './topology.js';
import { chooseTor, startTor, torSummary, type TorChoice } from './tor.js';

export interface LabContext {
  run: Runner;
  spawn: Spawner;
  /** Human output (progress, tables). */
  say: (text: string) => void;
  log: Logger;
}

export interface LabLocation {
  prefix?: string;
  stateDir?: string;
}

export interface UpOptions extends LabLocation {
  nodesPerSegment?: number;
  podsPerNode?: number;
  tor?: TorChoice;
  /** apt-get install frr when neither FRR nor BIRD is there (default true). */
  installTor?: boolean;
  cli?: CliRunner;
  /** Whether to design for IPIP; default: probe the kernel. */
  ipip?: boolean;
  logLevel?: string;
  /** How long to wait for every session and route (default 45 s). */
  convergeTimeoutMs?: number;
  /** Graceful restart time (s) the nodes advertise (default: podbgp's); see configs.ts. */
  restartTime?: number;
}

const elapsed = (t0: number): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

function planOf(state: LabState): LabPlan {
  return buildPlan({ prefix: state.prefix, stateDir: state.stateDir, ...state.size });
}

/** The lab's namespaces that exist now (by prefix). */
async function existingNamespaces(run: Runner, prefix: string): Promise<string[]> {
  const out = await runOk(run, 'ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n) => n && n.startsWith(prefix));
}

/** Whether this kernel can make an IPIP device (tried in a lab namespace). */
async function probeIpip(run: Runner, ns: string): Promise<boolean> {
  const r = await run('ip', ['-n', ns, 'link', 'add', 'pbl-ipip-probe', 'type', 'ipip']);
  if (r.code !== 0) return false;
  await run('ip', ['-n', ns, 'link', 'del', 'pbl-ipip-probe']);
  return true;
}

async function buildTopology(ctx: LabContext, plan: LabPlan): Promise<void> {
  const steps = topologySteps(plan);
  await mapLimit(steps.namespaces, 8, (ns) => runOk(ctx.run, 'ip', ['netns', 'add', ns]));
  await runOk(ctx.run, 'ip', ['-batch', '-'], { input: steps.links.join('\n') + '\n' });
  await mapLimit([...steps.perNamespace], 8, ([ns, lines]) =>
    runOk(ctx.run, 'ip', ['-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n' }),
  );
  await mapLimit([...steps.sysctls], 8, ([ns, kv]) =>
    runOk(ctx.run, 'ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...kv]),
  );
}

interface Convergence {
  ok: boolean;
  missing: string[];
}

/** Every session Established and every other node's block in each node's kernel. */
async function convergence(ctx: LabContext, plan: LabPlan): Promise<Convergence> {
  const missing: string[] = [];
  await Promise.all(
    plan.nodes.map(async (n) => {
      try {
        const peers = (await request(n.socketPath, 'show-peers', {}, 3000)) as PeerSummary[];
        for (const p of peers) {
          if (p.state !== 'Established') missing.push(`${n.name}: peer ${p.address} ${p.state}`);
        }
        if (peers.length < plan.nodes.length) {
          missing.push(`${n.name}: ${peers.length} peers, expected ${plan.nodes.length}`);
        }
      } catch (err) {
        missing.push(`${n.name}: ${(err as Error).message}`);
        return;
      }
      const r = await ctx.run('ip', ['-n', n.ns, '-json', 'route', 'show', 'proto', '186']);
      const have = new Set(
        r.code === 0 ? (JSON.parse(r.stdout || '[]') as { dst: string }[]).map((x) => x.dst) : [],
      );
      for (const o of plan.nodes) {
        if (o !== n && !have.has(o.block)) missing.push(`${n.name}: no kernel route ${o.block}`);
      }
    }),
  );
  return { ok: missing.length === 0, missing };
}

/** Builds the lab and waits until it has converged. Throws (leaving state for `down`) on failure. */
export async function labUp(ctx: LabContext, opts: UpOptions = {}): Promise<LabState> {
  const t0 = Date.now();
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
  if (process.getuid && process.getuid() !== 0) throw new Error('podbgp lab needs root');
  if (await readState(stateDir)) {
    throw new Error(`a lab is already up (${statePath(stateDir)}): run podbgp lab down first`);
  }
  const leftovers = await existingNamespaces(ctx.run, prefix);
  if (leftovers.length) {
    throw new Error(`namespaces ${leftovers.join(', ')} exist: run podbgp lab down first`);
  }
  const size = { nodesPerSegment: opts.nodesPerSegment ?? 2, podsPerNode: opts.podsPerNode ?? 2 };
  const plan = buildPlan({ prefix, stateDir, ...size });
  const tor = await chooseTor(ctx.run, opts.tor ?? 'auto', opts.installTor ?? true, ctx.say);
  const cli = cliCommand(opts.cli ?? 'auto');
  await mkdir(stateDir, { recursive: true, mode: 0o755 });
  const state: LabState = {
    version: STATE_VERSION,
    createdAt: new Date().toISOString(),
    prefix,
    stateDir,
    size,
    tor,
    ipip: false,
    cli: { argv: cli.argv, cwd: cli.cwd },
    namespaces: plan.namespaces,
    processes: [],
    files: [],
  };
  // Recorded before anything exists, so `down` can clean up a half-built lab.
  await writeState(state);

  await buildTopology(ctx, plan);
  state.ipip = opts.ipip ?? (await probeIpip(ctx.run, plan.switchNs));
  ctx.say(
    `namespaces, bridges and veths: ${plan.namespaces.length} namespaces (${elapsed(t0)}); ` +
      `IPIP ${state.ipip ? 'available: cross-segment mesh routes use tunl0' : 'missing: cross-segment traffic goes through the ToR'}`,
  );

  const torProcs = await startTor(ctx.run, ctx.spawn, plan, tor);
  state.processes.push(...torProcs);
  await writeState(state);
  ctx.say(`ToR (${tor}) up in ${plan.torNs} (${elapsed(t0)})`);

  for (const n of plan.nodes) {
    const text = nodeConfigYaml(plan, n, {
      ipip: state.ipip,
      logLevel: opts.logLevel,
      restartTime: opts.restartTime,
    });
    await writeFile(n.configPath, text, { mode: 0o644 });
  }
  for (const n of plan.nodes) {
    const pid = ctx.spawn(
      'ip',
      ['netns', 'exec', n.ns, ...cli.argv, 'run', '--config', n.configPath],
      { logPath: n.logPath, cwd: cli.cwd },
    );
    const proc: LabProcess = { role: `node:${n.name}`, pid, ns: n.ns, logPath: n.logPath };
    state.processes.push(proc);
  }
  await writeState(state);
  ctx.say(`podbgp started on ${plan.nodes.length} nodes via ${cli.runner} (${elapsed(t0)})`);

  const deadline = Date.now() + (opts.convergeTimeoutMs ?? 45_000);
  for (;;) {
    for (const p of state.processes) {
      if (!isAlive(p.pid)) {
        throw new Error(`${p.role} (pid ${p.pid}) exited: see ${p.logPath}\n${tail(p.logPath)}`);
      }
    }
    const last = await convergence(ctx, plan);
    if (last.ok) break;
    if (Date.now() > deadline) {
      throw new Error(
        `the lab did not converge in time; still missing:\n  ${last.missing.join('\n  ')}\n` +
          `logs: ${plan.stateDir}/*.log (podbgp lab down removes everything)`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  ctx.say(
    `converged: every session Established, every block in every node's kernel (${elapsed(t0)})`,
  );
  return state;
}

function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie has exited too.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export interface NodeReport {
  name: string;
  ns: string;
  peers: string;
  routes: string;
  /** Exit status of the two CLI calls (0 when both worked). */
  code: number;
}

export interface StatusReport {
  ok: boolean;
  nodes: NodeReport[];
  tor: string;
  matrix: PingResult[];
}

export interface StatusOptions extends LabLocation {
  color?: boolean;
  /** CLI processes run at once (default 3). */
  concurrency?: number;
}

/** Prints each node's `show peers` and `show routes` and the ping matrix; `ok` when all green. */
export async function labStatus(ctx: LabContext, opts: StatusOptions = {}): Promise<StatusReport> {
  const state = await readState(opts.stateDir ?? DEFAULT_STATE_DIR);
  if (!state) throw new Error('no lab is up (podbgp lab up)');
  const plan = planOf(state);
  // The CLI as an operator runs it, inside each node's namespace; a few at a time, since
  // each is a Node.js start-up.
  const calls = plan.nodes.flatMap((n) => [
    { n, args: ['show', 'peers'] },
    { n, args: ['show', 'routes', '--all'] },
  ]);
  const outputs = await mapLimit(calls, opts.concurrency ?? 3, async ({ n, args }) => {
    const argv = ['netns', 'exec', n.ns, ...state.cli.argv, ...args, '--socket', n.socketPath];
    const r = await ctx.run('ip', argv, { cwd: state.cli.cwd, timeoutMs: 60_000 });
    return { code: r.code, text: r.stdout + r.stderr };
  });
  const nodes = plan.nodes.map((n, i): NodeReport => ({
    name: n.name,
    ns: n.ns,
    peers: outputs[2 * i].text,
    routes: outputs[2 * i + 1].text,
    code: outputs[2 * i].code || outputs[2 * i + 1].code,
  }));
  for (const n of nodes) {
    ctx.say(`=== ${n.name} (${n.ns}): podbgp show peers`);
    ctx.say(n.peers.trimEnd());
    ctx.say(`=== ${n.name} (${n.ns}): podbgp show routes --all`);
    ctx.say(n.routes.trimEnd());
  }
  const tor = await torSummary(ctx.run, plan, state.tor);
  ctx.say(`=== ToR (${state.tor}, ${plan.torNs})`);
  ctx.say(tor.trimEnd());
  const matrix = await pingMatrix(ctx.run, plan);
  ctx.say('=== ping matrix (row: from, column: to)');
  ctx.say(formatMatrix(plan, matrix, opts.color ?? false));
  const ok = matrix.every((r) => r.ok) && nodes.every((n) => n.code === 0);
  return { ok, nodes, tor, matrix };
}

/**
 * Stops every process the lab started (SIGTERM, then SIGKILL after `graceMs`), deletes its
 * namespaces and its state dir. Idempotent: with nothing up it does nothing.
 */
export async function labDown(
  ctx: LabContext,
  opts: LabLocation & { graceMs?: number } = {},
): Promise<{ namespaces: number; processes: number }> {
  const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
  const state = await readState(stateDir).catch(() => null);
  const prefix = state?.prefix ?? opts.prefix ?? DEFAULT_PREFIX;
  const namespaces = [
    ...new Set([...(state?.namespaces ?? []), ...(await existingNamespaces(ctx.run, prefix))]),
  ];
  const existing = new Set(await existingNamespaces(ctx.run, prefix));
  const live = namespaces.filter((ns) => existing.has(ns));

  // Nodes first (they send Cease to the ToR), then the ToR; only pids still in our namespaces.
  const recorded = [...(state?.processes ?? [])].sort(
    (a, b) => Number(a.role.startsWith('tor')) - Number(b.role.startsWith('tor')),
  );
  const pids = new Set<number>();
  for (const p of recorded) {
    if (!isAlive(p.pid)) continue;
    const r = await ctx.run('ip', ['netns', 'identify', String(p.pid)]);
    if (r.stdout.split(/\s+/).includes(p.ns)) pids.add(p.pid);
  }
  // Anything else running inside the lab's namespaces (for example a lost state file).
  for (const ns of live) {
    const r = await ctx.run('ip', ['netns', 'pids', ns]);
    for (const s of r.stdout.split(/\s+/)) if (/^\d+$/.test(s)) pids.add(Number(s));
  }
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + (opts.graceMs ?? 5000);
  while ([...pids].some(isAlive) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const pid of pids) if (isAlive(pid)) signal(pid, 'SIGKILL');

  await mapLimit(live, 8, (ns) => runOk(ctx.run, 'ip', ['netns', 'del', ns]));
  // Only a directory that is (or was) a lab's state dir is removed.
  if (state || stateDir === DEFAULT_STATE_DIR) await removeStateDir(stateDir);
  ctx.log.debug({ namespaces: live.length, processes: pids.size }, 'lab down');
  return { namespaces: live.length, processes: pids.size };
}
