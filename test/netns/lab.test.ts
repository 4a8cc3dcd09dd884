// `podbgp lab` end to end (root, FRR or BIRD): per-pair pod pings, designed kernel route shapes,
// sessions Established (`show peers --json`), `lab status` exit 0, `lab down` leaves nothing.
// Without root: generated node configs pass the loader, ToR configs pass FRR/BIRD checkers.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
import { request } from '../../src/control/client.js';
import type { PeerSummary } from '../../src/control/protocol.js';
import {
  allPods,
  birdTorConfig,
  buildPlan,
  cliCommand,
  frrTorConfig,
  labDown,
  labUp,
  nodeConfigYaml,
  pingCommand,
  readState,
  realRunner,
  realSpawner,
  repoRoot,
  topologySteps,
  torMissing,
  formatMatrix,
  type LabContext,
  type LabPlan,
  type LabState,
} from '../../src/lab/index.js';
import { cidrContains, parseCidr, parseIp } from '../../src/node/addr.js';

const PREFIX = 'pbl-';
const STATE_DIR = '/tmp/pbl-lab-test';
const root = repoRoot();
// RFC 4271 §5.1.5 / common practice: LOCAL_PREF defaults to 100 when not set.
const DEFAULT_LOCAL_PREF = 100;

const sh = (cmd: string, args: string[], cwd = root) =>
  new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(cmd, args, { cwd, timeout: 60_000, maxBuffer: 8 << 20 }, (e, stdout, stderr) => {
      const code = e ? (typeof e.code === 'number' ? e.code : 127) : 0;
      resolve({ code, out: String(stdout), err: String(stderr) });
    });
  });

t.test('generated lab configs are valid', async (t) => {
  const plan = buildPlan({ prefix: PREFIX, stateDir: STATE_DIR });
  const pool = parseCidr('10.244.0.0/16')!;
  for (const ipip of [false, true]) {
    for (const n of plan.nodes) {
      const text = nodeConfigYaml(plan, n, { ipip });
      const r = parseConfig(text, {}, `${n.name}.yaml`);
      t.ok(r.ok, `${n.name} (ipip ${ipip}) passes the config loader`);
      if (!r.ok) continue;
      const c = r.config;
      t.equal(c.peers.length, plan.nodes.length, 'a peer per other node plus the ToR');
      t.same(c.staticBlocks, [n.block], 'announces its own block');
      const seg = parseCidr(n.segment.subnet)!;
      t.ok(cidrContains(seg, parseIp(n.address)!), 'node address inside its segment');
      t.ok(cidrContains(pool, parseIp(n.block.split('/')[0])!), 'block inside the pool');
      // The cross-segment choice: without IPIP, mesh routes from the other segment must lose
      // to the ToR's route on LOCAL_PREF (RFC 4271 §9.1.1); with IPIP they keep the default.
      const raw = parseYaml(text) as {
        policies: Record<string, { import: { set?: { localPref?: number } }[] }>;
      };
      for (const p of c.peers) {
        const other = plan.nodes.find((o) => o.address === p.address);
        if (!other || other.segment === n.segment) continue;
        const lp = raw.policies[p.policy!].import[0].set?.localPref ?? DEFAULT_LOCAL_PREF;
        if (ipip) t.equal(lp, DEFAULT_LOCAL_PREF, `${n.name}->${other.name} keeps the default`);
        else t.ok(lp < DEFAULT_LOCAL_PREF, `${n.name}->${other.name} below the ToR route`);
      }
    }
  }
  const names = topologySteps(plan);
  const ifNames = [...names.links.join(' ').matchAll(/(?:add|name) (\S+)/g)].map((m) => m[1]);
  for (const i of ifNames) t.ok(i.length <= 15, `interface name ${i} fits IFNAMSIZ`);
  t.equal(new Set(plan.nodes.map((n) => n.block)).size, plan.nodes.length, 'blocks unique');
  t.equal(new Set(allPods(plan).map((p) => p.address)).size, allPods(plan).length, 'pods unique');
  t.ok(
    plan.namespaces.every((ns) => ns.startsWith(PREFIX)),
    'every namespace is pbl-',
  );
});

t.test('generated ToR configs pass the daemons’ checkers', async (t) => {
  const plan = buildPlan({ prefix: PREFIX, stateDir: STATE_DIR });
  const dir = await mkdtemp('/tmp/pbl-lab-conf-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  t.test('FRR', { skip: torMissing('frr') ?? false }, async (t) => {
    const f = join(dir, 'frr.conf');
    await writeFile(f, frrTorConfig(plan));
    const r = await sh('/usr/bin/vtysh', ['--dryrun', '-f', f]);
    t.equal(r.code, 0, `vtysh --dryrun ${r.out}${r.err}`);
  });
  t.test('BIRD', { skip: torMissing('bird') ?? false }, async (t) => {
    const f = join(dir, 'bird.conf');
    await writeFile(f, birdTorConfig(plan));
    const r = await sh('/usr/sbin/bird', ['-p', '-c', f]);
    t.equal(r.code, 0, `bird -p ${r.out}${r.err}`);
  });
});

/** Our own ping per ordered pair of pods (independent of the lab's matrix code), one assert each. */
async function pingEveryPair(t: Test, plan: LabPlan): Promise<number> {
  const pods = allPods(plan);
  const ping = pingCommand();
  const pairs = pods.flatMap((a) => pods.filter((b) => b !== a).map((b) => [a, b] as const));
  const results = await Promise.all(
    pairs.map(async ([a, b]) => {
      const r = await sh('ip', ['netns', 'exec', a.ns, ...ping, '-c', '1', '-W', '2', b.address]);
      return { a, b, ok: r.code === 0 };
    }),
  );
  for (const { a, b, ok } of results) {
    const how = a.node.segment === b.node.segment ? 'same segment' : 'across the ToR';
    t.ok(ok, `${a.name} (${a.address}) -> ${b.name} (${b.address}), ${how}`);
  }
  return pairs.length;
}

/**
 * The design in the kernel: a block of the same segment goes straight to its node; a block of
 * the other segment goes to this segment's ToR address (no IPIP here); own block blackholed.
 */
async function checkKernelRoutes(t: Test, plan: LabPlan): Promise<void> {
  for (const n of plan.nodes) {
    const r = await sh('ip', ['-n', n.ns, '-json', 'route', 'show', 'proto', '186']);
    const routes = JSON.parse(r.out || '[]') as { dst: string; gateway?: string; type?: string }[];
    for (const o of plan.nodes) {
      const route = routes.find((x) => x.dst === o.block);
      if (o === n) {
        t.equal(route?.type, 'blackhole', `${n.name}: own block ${o.block} is a blackhole`);
      } else if (o.segment === n.segment) {
        t.equal(route?.gateway, o.address, `${n.name}: ${o.block} direct via ${o.name}`);
      } else {
        t.equal(route?.gateway, n.segment.torAddress, `${n.name}: ${o.block} via the ToR`);
      }
    }
  }
}

/** Not gone and not a zombie (an exited child this process has not reaped yet). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function labContext(lines: string[]): LabContext {
  return {
    run: realRunner,
    spawn: realSpawner,
    say: (s) => lines.push(s),
    log: pino({ level: 'silent' }),
  };
}

function e2eSkip(): string | false {
  if (process.getuid?.() !== 0) return 'not root: the lab needs network namespaces';
  if (torMissing('frr') && torMissing('bird')) return 'neither FRR nor BIRD 2 is installed';
  if (!existsSync(join(root, 'src', 'daemon.ts'))) return 'src/daemon.ts (podbgp run) is missing';
  if (!existsSync(join(root, 'src', 'cli', 'commands', 'run.ts'))) {
    return 'src/cli/commands/run.ts (podbgp run) is missing';
  }
  return false;
}

t.test('lab up, all pods reach each other, lab down', { skip: e2eSkip() }, async (t) => {
  const lines: string[] = [];
  const ctx = labContext(lines);
  const where = { prefix: PREFIX, stateDir: STATE_DIR };
  t.teardown(async () => {
    await labDown(ctx, where).catch(() => undefined);
  });
  // A lab from an earlier, killed run of this file.
  await labDown(ctx, where);

  const t0 = Date.now();
  let state: LabState;
  try {
    state = await labUp(ctx, {
      ...where,
      cli: 'auto',
      logLevel: 'debug',
      convergeTimeoutMs: 40_000,
    });
  } catch (err) {
    t.fail(`lab up: ${(err as Error).message}\n${lines.join('\n')}`);
    return;
  }
  const tUp = Date.now() - t0;
  t.comment(lines.join('\n'));
  const plan = buildPlan({ prefix: PREFIX, stateDir: STATE_DIR, ...state.size });

  const pairs = await pingEveryPair(t, plan);
  await checkKernelRoutes(t, plan);

  // Every session Established. The first node through the CLI (`show peers --json` inside its
  // namespace); the others through the control client, whose result `--json` prints unchanged
  // (each CLI start-up costs seconds on a loaded machine, and `lab status` runs the CLI too).
  const cli = cliCommand('auto');
  const first = plan.nodes[0];
  const r = await sh('ip', [
    ...['netns', 'exec', first.ns, ...cli.argv],
    ...['show', 'peers', '--json', '--socket', first.socketPath],
  ]);
  t.equal(r.code, 0, `${first.name}: show peers --json exits 0 ${r.err}`);
  const views = [JSON.parse(r.out || '[]') as PeerSummary[]];
  for (const n of plan.nodes.slice(1)) {
    views.push((await request(n.socketPath, 'show-peers', {})) as PeerSummary[]);
  }
  plan.nodes.forEach((n, i) => {
    const peers = views[i];
    const expected = [
      ...plan.nodes.filter((o) => o !== n).map((o) => o.address),
      n.segment.torAddress,
    ].sort();
    t.same(peers.map((p) => p.address).sort(), expected, `${n.name}: the mesh and the ToR`);
    for (const p of peers) t.equal(p.state, 'Established', `${n.name}: ${p.address} Established`);
  });

  // The command module: `lab status` (exit 0 when all green) and `lab down` (twice).
  const entry =
    `import yargs from 'yargs';` +
    `import { command } from ${JSON.stringify(join(root, 'src/cli/commands/lab.ts'))};` +
    `await yargs(process.argv.slice(1)).command(command).strict().parseAsync();`;
  const lab = (action: string) =>
    sh(process.execPath, [
      ...['--import', 'tsx', '--input-type=module', '-e', entry],
      ...['lab', action, '--prefix', PREFIX, '--state-dir', STATE_DIR, '--runner', 'auto'],
    ]);
  const t1 = Date.now();
  const status = await lab('status');
  const tStatus = Date.now() - t1;
  t.equal(status.code, 0, `lab status exits 0 ${status.err}`);
  t.match(status.out, `${pairs}/${pairs} pairs answered`, 'the matrix is all green');
  for (const n of plan.nodes) t.match(status.out, `=== ${n.name} (${n.ns}): podbgp show peers`);

  const pids = (await readState(STATE_DIR))!.processes.map((p) => p.pid);
  const t2 = Date.now();
  const down = await lab('down');
  const tDown = Date.now() - t2;
  t.equal(down.code, 0, `lab down exits 0 ${down.err}`);
  const left = (await sh('ip', ['netns', 'list'])).out
    .split('\n')
    .filter((l) => l.startsWith(PREFIX));
  t.same(left, [], 'no pbl- namespace left');
  const alive = pids.filter(running);
  t.same(alive, [], 'no lab process left');
  t.notOk(existsSync(STATE_DIR), 'state dir removed');
  const again = await lab('down');
  t.equal(again.code, 0, 'lab down again is a no-op');
  t.comment(
    `timings: up ${tUp} ms, status ${tStatus} ms, down ${tDown} ms (runner ${state.cli.argv.includes('tsx') ? 'tsx' : 'dist'})`,
  );
});

t.test(
  'the same lab with a BIRD 2 ToR',
  {
    skip:
      e2eSkip() ||
      (torMissing('bird') ?? false) ||
      (torMissing('frr') === null ? false : 'FRR is missing, so the test above already used BIRD'),
  },
  async (t) => {
    const lines: string[] = [];
    const ctx = labContext(lines);
    const where = { prefix: PREFIX, stateDir: STATE_DIR };
    t.teardown(async () => {
      await labDown(ctx, where).catch(() => undefined);
    });
    await labDown(ctx, where);
    try {
      const state = await labUp(ctx, { ...where, tor: 'bird', convergeTimeoutMs: 40_000 });
      t.equal(state.tor, 'bird', 'BIRD is the ToR');
    } catch (err) {
      t.fail(`lab up --tor bird: ${(err as Error).message}\n${lines.join('\n')}`);
      return;
    }
    const plan = buildPlan({ prefix: PREFIX, stateDir: STATE_DIR });
    await pingEveryPair(t, plan);
    await checkKernelRoutes(t, plan);
    // `down` without the state file (lost, or deleted by hand) still finds everything by the
    // namespace prefix and the processes inside those namespaces.
    const pids = (await readState(STATE_DIR))!.processes.map((p) => p.pid);
    await rm(join(STATE_DIR, 'state.json'));
    const r = await labDown(ctx, where);
    t.equal(r.namespaces, plan.namespaces.length, 'down removed every namespace');
    const left = (await sh('ip', ['netns', 'list'])).out
      .split('\n')
      .filter((l) => l.startsWith(PREFIX));
    t.same(left, [], 'no pbl- namespace left');
    t.same(pids.filter(running), [], 'no lab process left');
    await rm(STATE_DIR, { recursive: true, force: true });
  },
);

t.test('the ping matrix shows each failed pair', async (t) => {
  const plan = buildPlan({
    prefix: PREFIX,
    stateDir: STATE_DIR,
    nodesPerSegment: 1,
    podsPerNode: 1,
  });
  const [a, b] = allPods(plan);
  const text = formatMatrix(
    plan,
    [
      { from: a.name, to: b.name, fromAddress: a.address, toAddress: b.address, ok: true },
      { from: b.name, to: a.name, fromAddress: b.address, toAddress: a.address, ok: false },
    ],
    false,
  );
  const rows = text.split('\n');
  t.match(rows[1], new RegExp(`^${a.name}\\s+-\\s+ok$`), 'a -> b answered');
  t.match(rows[2], new RegExp(`^${b.name}\\s+XX\\s+-$`), 'b -> a did not');
  t.equal(rows[3], '1/2 pairs answered');
});
