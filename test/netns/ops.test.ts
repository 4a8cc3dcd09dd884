// Operating the lab end to end (root, FRR or BIRD): metrics against the lab's design, every
// `show`/`peer` CLI command in JSON and human form, a daemon restart under continuous pings
// (zero loss), a node that vanishes (routes gone everywhere), and up/status/down timings.

import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { request } from '../../src/control/client.js';
import type { PeerDetail, PeerSummary, RouteRow } from '../../src/control/protocol.js';
import {
  allPods,
  buildPlan,
  labDown,
  labStatus,
  labUp,
  LAB_HOLD_TIME,
  LAB_NODE_ASN,
  LAB_TOR_ASN,
  pingCommand,
  readState,
  realRunner,
  realSpawner,
  REMOTE_MESH_LOCAL_PREF,
  repoRoot,
  torDir,
  torMissing,
  VTYSH,
  writeState,
  type LabContext,
  type LabNode,
  type LabPlan,
  type LabState,
} from '../../src/lab/index.js';
import { parse as parseYaml } from 'yaml';

const PREFIX = 'pbo-';
const STATE_DIR = '/tmp/pbo-ops-test';
const root = repoRoot();
/**
 * The RFC 4724 Restart Time the lab nodes advertise here. A node whose session drops without a
 * Hard Reset keeps its routes on its peers (podbgp and FRR, both with RFC 8538) for this long,
 * so it bounds how long a vanished node's routes live; a restart must be back within it.
 */
const RESTART_TIME = LAB_HOLD_TIME;
/** Route propagation, the kernel's coalescing and our polling, on top of the BGP timers. */
const REMOVAL_MARGIN_S = 5;
// RFC 4271 §5.1.5: a speaker's LOCAL_PREF when no policy sets one (the common default).
const DEFAULT_LOCAL_PREF = 100;
const METRICS_URL = 'http://127.0.0.1:9179';

interface Sh {
  code: number;
  out: string;
  err: string;
}

const sh = (cmd: string, args: string[], timeoutMs = 60_000) =>
  new Promise<Sh>((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: root, timeout: timeoutMs, maxBuffer: 8 << 20 },
      (e, stdout, stderr) => {
        const code = e ? (typeof e.code === 'number' ? e.code : 127) : 0;
        resolve({ code, out: String(stdout), err: String(stderr) });
      },
    );
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  ms = 30_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

interface KernelRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  type?: string;
}

async function kernelRoutes(ns: string): Promise<KernelRoute[]> {
  const r = await sh('ip', ['-n', ns, '-json', 'route', 'show', 'proto', 'bgp']);
  return r.code === 0 && r.out.trim() ? (JSON.parse(r.out) as KernelRoute[]) : [];
}

function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function e2eSkip(): string | false {
  if (process.getuid?.() !== 0) return 'not root: the lab needs network namespaces';
  if (torMissing('frr') && torMissing('bird')) return 'neither FRR nor BIRD 2 is installed';
  if (!existsSync(join(root, 'src', 'daemon.ts'))) return 'src/daemon.ts (podbgp run) is missing';
  try {
    pingCommand();
  } catch {
    return 'no ping: install iputils-ping or busybox-static';
  }
  return false;
}

/** What the lab's design says node `n` selects for node `o`'s block (`o !== n`). */
function designedBest(
  plan: LabPlan,
  state: LabState,
  n: LabNode,
  o: LabNode,
): { peer: string; nextHop: string; shape: string; device: string } {
  if (o.segment === n.segment) {
    return { peer: o.address, nextHop: o.address, shape: 'direct', device: 'eth0' };
  }
  // Across segments: through tunl0 to the node itself with IPIP (CrossSubnet), otherwise the
  // mesh route has a lower LOCAL_PREF and the ToR's route (next hop on-link) wins.
  if (state.ipip) return { peer: o.address, nextHop: o.address, shape: 'ipip', device: 'tunl0' };
  const tor = n.segment.torAddress;
  return { peer: tor, nextHop: tor, shape: 'direct', device: 'eth0' };
}

/** The prefixes the ToR says it advertises to `address` (FRR's own view), or null with BIRD. */
async function torAdvertised(plan: LabPlan, state: LabState, address: string) {
  if (state.tor !== 'frr') return null;
  const r = await sh(VTYSH, [
    ...['--vty_socket', torDir(plan), '-d', 'bgpd', '-c'],
    `show bgp ipv4 unicast neighbors ${address} advertised-routes json`,
  ]);
  if (r.code !== 0) return null;
  const j = JSON.parse(r.out) as { advertisedRoutes?: Record<string, unknown> };
  return Object.keys(j.advertisedRoutes ?? {}).sort();
}

/** Every session of every live node Established, and every live block where the design puts it. */
async function designConverged(plan: LabPlan, state: LabState, nodes: LabNode[]) {
  for (const n of nodes) {
    const peers = (await request(n.socketPath, 'show-peers', {}, 3000).catch(
      () => [],
    )) as PeerSummary[];
    if (peers.length !== plan.nodes.length) return false;
    for (const p of peers) {
      const live = !plan.nodes.some((o) => o.address === p.address && !nodes.includes(o));
      if (live && p.state !== 'Established') return false;
    }
    const routes = await kernelRoutes(n.ns);
    for (const o of nodes) {
      if (o === n) continue;
      const want = designedBest(plan, state, n, o);
      const r = routes.find((x) => x.dst === o.block);
      if (r?.gateway !== want.nextHop || r.dev !== want.device) return false;
    }
  }
  return true;
}

t.test('operating the lab', { skip: e2eSkip() }, async (t) => {
  const lines: string[] = [];
  const ctx: LabContext = {
    run: realRunner,
    spawn: realSpawner,
    say: (s) => lines.push(s),
    log: pino({ level: 'silent' }),
  };
  const where = { prefix: PREFIX, stateDir: STATE_DIR };
  t.teardown(async () => {
    await labDown(ctx, where).catch(() => undefined);
  });
  await labDown(ctx, where);

  const t0 = Date.now();
  let state: LabState;
  try {
    state = await labUp(ctx, {
      ...where,
      cli: 'auto',
      restartTime: RESTART_TIME,
      convergeTimeoutMs: 40_000,
    });
  } catch (err) {
    t.fail(`lab up: ${(err as Error).message}\n${lines.join('\n')}`);
    return;
  }
  const tUp = Date.now() - t0;
  const plan = buildPlan({ prefix: PREFIX, stateDir: STATE_DIR, ...state.size });
  const runner = state.cli.argv.includes('tsx') ? 'tsx' : 'dist';

  const t1 = Date.now();
  const status = await labStatus(ctx, where);
  const tStatus = Date.now() - t1;
  t.ok(status.ok, `lab status: ping matrix all green and every CLI call exited 0`);

  const cli = (n: LabNode, args: string[], socket = n.socketPath) =>
    sh('ip', ['netns', 'exec', n.ns, ...state.cli.argv, ...args, '--socket', socket]);

  await t.test('metrics against the lab state', async (t) => {
    for (const n of plan.nodes) await checkMetrics(t, plan, state, n);
  });

  await t.test(
    'prefixes received after the ToR sends its table again',
    { skip: state.tor === 'frr' ? false : 'needs the FRR ToR (vtysh clear ... soft out)' },
    async (t) => {
      await checkResend(t, plan, state);
    },
  );

  await t.test('every CLI command, JSON and human', async (t) => {
    await checkCli(t, plan, state, cli);
  });

  await t.test('a daemon restart loses no packet', async (t) => {
    await until('the lab back in its designed state', () =>
      designConverged(plan, state, plan.nodes),
    );
    await checkRestart(t, plan, state, ctx);
  });

  await t.test('a vanished node’s routes leave every kernel', async (t) => {
    await checkRemoval(t, plan, state);
  });

  const t2 = Date.now();
  await labDown(ctx, where);
  const tDown = Date.now() - t2;
  const left = (await sh('ip', ['netns', 'list'])).out
    .split('\n')
    .filter((l) => l.startsWith(PREFIX));
  t.same(left, [], 'lab down left no pbo- namespace');
  // Reported, not asserted (timing depends on the machine): the issue's 60 s budget.
  t.comment(
    `lab timings (runner ${runner}, ToR ${state.tor}): up ${tUp} ms, status ${tStatus} ms, ` +
      `down ${tDown} ms, total ${tUp + tStatus + tDown} ms`,
  );
});

// --- counters -----------------------------------------------------------------------------

/**
 * RFC 4271 §3.1: an UPDATE for a prefix already held replaces the route (implicit withdraw).
 * After the ToR re-sends its whole table (FRR `clear ... soft out`), the number of prefixes
 * received from it is still the number it advertises.
 */
async function checkResend(t: Test, plan: LabPlan, state: LabState) {
  const n = plan.nodes[0];
  const tor = n.segment.torAddress;
  const before = (await request(n.socketPath, 'show-peer', { address: tor })) as PeerDetail;
  const r = await sh(VTYSH, [
    ...['--vty_socket', torDir(plan), '-d', 'bgpd', '-c'],
    `clear bgp ipv4 unicast ${n.address} soft out`,
  ]);
  t.equal(r.code, 0, `vtysh clear soft out ${r.err}`);
  const adv = (await torAdvertised(plan, state, n.address)) ?? [];
  const after = await until('the ToR to send its table again', async () => {
    const p = (await request(n.socketPath, 'show-peer', { address: tor })) as PeerDetail;
    return (p.messages.in.update ?? 0) > (before.messages.in.update ?? 0) ? p : null;
  });
  await sleep(500);
  const p = (await request(n.socketPath, 'show-peer', { address: tor })) as PeerDetail;
  t.equal(p.since, after.since, 'the session stayed up');
  t.equal(p.prefixes.accepted, adv.length, 'accepted: what the ToR advertises');
  t.equal(p.prefixes.received, adv.length, 'received: what the ToR advertises, not twice');
}

// --- metrics ------------------------------------------------------------------------------

async function fetchIn(ns: string, path: string): Promise<{ status: number; body: string }> {
  const script =
    `fetch(${JSON.stringify(METRICS_URL + path)}).then(async r => ` +
    `process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })))`;
  const r = await sh('ip', ['netns', 'exec', ns, process.execPath, '-e', script]);
  if (r.code !== 0) return { status: 0, body: r.err };
  return JSON.parse(r.out) as { status: number; body: string };
}

async function checkMetrics(t: Test, plan: LabPlan, state: LabState, n: LabNode) {
  const m = await fetchIn(n.ns, '/metrics');
  t.equal(m.status, 200, `${n.name}: /metrics 200`);
  const sample = (name: string, labels: string) => {
    const re = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm');
    const hit = re.exec(m.body);
    return hit ? Number(hit[1]) : null;
  };
  // One session per other node and one to the segment's ToR, each Established.
  const sessions = [...plan.nodes.filter((o) => o !== n).map((o) => o.address)];
  sessions.push(n.segment.torAddress);
  const up = [...m.body.matchAll(/^podbgp_peer_state\{peer="([^"]+)",[^}]*state="(\w+)"\} 1$/gm)];
  t.same(
    up.map((x) => x[1]).sort(),
    [...sessions].sort(),
    `${n.name}: one podbgp_peer_state 1 per session`,
  );
  t.ok(
    up.every((x) => x[2] === 'Established'),
    `${n.name}: every session's state is Established`,
  );
  // Prefixes: every node announces exactly its own block (the lab's export policy), so a mesh
  // peer sends one, which the import policy (pool blocks) accepts; we advertise one to everyone.
  for (const o of plan.nodes.filter((x) => x !== n)) {
    const p = `peer="${o.address}"`;
    t.equal(sample('podbgp_peer_prefixes', `${p},kind="received"`), 1, `${n.name}<-${o.name} rcvd`);
    t.equal(sample('podbgp_peer_prefixes', `${p},kind="accepted"`), 1, `${n.name}<-${o.name} acc`);
    t.equal(sample('podbgp_peer_prefixes', `${p},kind="advertised"`), 1, `${n.name}->${o.name}`);
  }
  const tor = `peer="${n.segment.torAddress}"`;
  const torRcvd = sample('podbgp_peer_prefixes', `${tor},kind="received"`);
  const torAcc = sample('podbgp_peer_prefixes', `${tor},kind="accepted"`);
  t.equal(sample('podbgp_peer_prefixes', `${tor},kind="advertised"`), 1, `${n.name}->ToR: own`);
  // The ToR sends pod blocks only, all inside the pool, so all are accepted; at least the other
  // segment's blocks (what the ToR is there for). FRR tells us exactly what it sent.
  const otherSegment = plan.nodes.filter((o) => o.segment !== n.segment).length;
  t.ok((torAcc ?? 0) >= otherSegment, `${n.name}<-ToR accepted ${torAcc} >= ${otherSegment}`);
  t.equal(torAcc, torRcvd, `${n.name}<-ToR: every prefix received is accepted`);
  const adv = await torAdvertised(plan, state, n.address);
  if (adv) t.equal(torRcvd, adv.length, `${n.name}<-ToR received = FRR advertised (${adv})`);

  // Kernel shapes: the metric against the kernel table, and both against the design.
  const routes = await kernelRoutes(n.ns);
  const blackholes = routes.filter((r) => r.type === 'blackhole').length;
  const viaEth0 = routes.filter((r) => r.type !== 'blackhole' && r.dev === 'eth0').length;
  const viaTunl0 = routes.filter((r) => r.dev === 'tunl0').length;
  t.equal(sample('podbgp_kernel_routes', 'shape="blackhole"'), blackholes, `${n.name}: blackhole`);
  t.equal(sample('podbgp_kernel_routes', 'shape="direct"'), viaEth0, `${n.name}: direct`);
  t.equal(sample('podbgp_kernel_routes', 'shape="ipip"'), viaTunl0, `${n.name}: ipip`);
  t.equal(blackholes, 1, `${n.name}: its own block is the one blackhole`);
  const designedDirect = plan.nodes.filter(
    (o) => o !== n && designedBest(plan, state, n, o).shape === 'direct',
  ).length;
  t.equal(viaEth0, designedDirect, `${n.name}: ${designedDirect} direct routes by design`);
  t.equal(sample('podbgp_kernel_routes', 'shape="not-installed"'), 0, `${n.name}: all installed`);

  const ready = await fetchIn(n.ns, '/readyz');
  t.equal(ready.status, 200, `${n.name}: /readyz 200`);
  const body = JSON.parse(ready.body || '{}') as { ready?: boolean; notUp?: string[] };
  t.equal(body.ready, true, `${n.name}: ready`);
  t.same(body.notUp, [], `${n.name}: no peer listed as not up`);
  const health = await fetchIn(n.ns, '/healthz');
  t.equal(health.status, 200, `${n.name}: /healthz 200`);
}

// RFC 4486 Cease subcodes, and RFC 8538 §3's Hard Reset that carries one of them inside when
// both sides set the N bit (as podbgp does): the name then shows the inner subcode.
const CEASE = 6;
const CEASE_ADMIN_SHUTDOWN = 2;
const CEASE_ADMIN_RESET = 4;
const CEASE_HARD_RESET = 9;

function isCease(n: PeerDetail['lastNotification'], subcode: number, name: string): boolean {
  if (n?.code !== CEASE) return false;
  return n.subcode === subcode || (n.subcode === CEASE_HARD_RESET && n.name.includes(name));
}

// --- CLI ----------------------------------------------------------------------------------

type Cli = (n: LabNode, args: string[], socket?: string) => Promise<Sh>;

async function checkCli(t: Test, plan: LabPlan, state: LabState, cli: Cli) {
  const [n1, n2] = plan.nodes;
  const far = plan.nodes.find((o) => o.segment !== n1.segment)!;
  const tor = n1.segment.torAddress;
  const others = plan.nodes.filter((o) => o !== n1);

  // Each CLI call is a Node.js start-up: the read-only ones run a few at a time up front.
  const cache = new Map<string, Promise<Sh>>();
  const key = (n: LabNode, args: string[], socket?: string) =>
    `${n.name} ${args.join(' ')} ${socket ?? ''}`;
  const slots = { free: 4, waiting: [] as (() => void)[] };
  const limited = async (fn: () => Promise<Sh>): Promise<Sh> => {
    if (slots.free === 0) await new Promise<void>((r) => slots.waiting.push(r));
    else slots.free--;
    try {
      return await fn();
    } finally {
      const next = slots.waiting.shift();
      if (next) next();
      else slots.free++;
    }
  };
  const prefetch = (args: string[], n = n1, socket?: string) => {
    const k = key(n, args, socket);
    if (!cache.has(k))
      cache.set(
        k,
        limited(() => cli(n, args, socket)),
      );
  };
  const call = (args: string[], n = n1, socket?: string): Promise<Sh> => {
    const k = key(n, args, socket);
    const hit = cache.get(k);
    cache.delete(k);
    return hit ?? cli(n, args, socket);
  };
  const json = async <T>(args: string[], n = n1): Promise<T> => {
    const r = await call([...args, '--json'], n);
    t.equal(r.code, 0, `${args.join(' ')} --json exits 0 ${r.err}`);
    return JSON.parse(r.out || 'null') as T;
  };
  const human = async (args: string[], n = n1): Promise<string> => {
    const r = await call(args, n);
    t.equal(r.code, 0, `${args.join(' ')} exits 0 ${r.err}`);
    return r.out;
  };
  const unknown = '192.0.2.99';
  const noSock = join(STATE_DIR, 'no-daemon.sock');
  const reads: string[][] = [
    ['show', 'peers'],
    ['show', 'peer', n2.address],
    ['show', 'peer', tor, '--json'],
    ...[n2.block, far.block, n1.block, n2.pods[0].address].map((x) => ['show', 'routes', x]),
    ['show', 'routes', '--peer', n2.address],
    ['show', 'routes', '--family', 'ipv4', '--json'],
    ['show', 'routes', '--family', 'ipv6'],
    ['show', 'routes', far.block, '--all'],
    ['show', 'routes', '--all', '--json'],
    ['show', 'rib', 'in', n2.address],
    ['show', 'rib', 'out', n2.address],
    ['show', 'rib', 'out', tor, '--json'],
    ['show', 'rib', 'in', tor, '--json'],
    ['show', 'kernel'],
    ['show', 'node'],
    ['show', 'config'],
  ];
  for (const args of reads) {
    prefetch(args);
    if (!args.includes('--json')) prefetch([...args, '--json']);
  }
  for (const args of [
    ['show', 'peer', unknown],
    ['show', 'peer', unknown, '--json'],
    ['show', 'rib', 'in', unknown],
    ['peer', 'reset', unknown],
  ]) {
    prefetch(args);
  }
  prefetch(['show', 'peers'], n1, noSock);
  prefetch(['show', 'peers', '--json'], n1, noSock);

  // show peers
  const peers = await json<PeerSummary[]>(['show', 'peers']);
  t.same(
    peers.map((p) => p.address).sort(),
    [...others.map((o) => o.address), tor].sort(),
    'show peers: the mesh and the ToR',
  );
  for (const p of peers) {
    const isTor = p.address === tor;
    t.equal(p.asn, isTor ? LAB_TOR_ASN : LAB_NODE_ASN, `${p.address}: AS`);
    t.equal(p.type, 'global', `${p.address}: a configured peer is a global peer`);
    t.equal(p.state, 'Established', `${p.address}: Established`);
    t.equal(p.enabled, true);
    t.equal(p.prefixes.advertised, 1, `${p.address}: we advertise our block only`);
    if (!isTor) t.same(p.prefixes, { received: 1, accepted: 1, advertised: 1 });
  }
  const peersText = await human(['show', 'peers']);
  t.match(peersText, /^Peer\s+AS\s+Type\s+State\s+Up\/Down\s+Rcvd\/Acc\/Adv/, 'header');
  for (const o of others) {
    t.match(
      peersText,
      new RegExp(
        `^${esc(o.address)}\\s+${LAB_NODE_ASN}\\s+global\\s+Established\\s+\\d\\d:\\d\\d:\\d\\d\\s+1/1/1`,
        'm',
      ),
      `show peers: ${o.name} line`,
    );
  }
  t.match(
    peersText,
    new RegExp(
      `^${esc(tor)}\\s+${LAB_TOR_ASN}\\s+global\\s+Established\\s+\\S+\\s+\\d+/\\d+/1`,
      'm',
    ),
    'show peers: ToR line',
  );

  // show peer ADDR
  const d = await json<PeerDetail>(['show', 'peer', n2.address]);
  t.equal(d.asn, LAB_NODE_ASN);
  t.equal(d.localAsn, LAB_NODE_ASN, 'iBGP mesh: same AS');
  t.equal(d.routerId, n2.address, 'the peer’s router id is its address (lab config)');
  t.equal(d.localAddress, n1.address, 'our side of the session');
  t.same(d.holdTime, { configured: LAB_HOLD_TIME, negotiated: LAB_HOLD_TIME, keepalive: 3 });
  t.ok(d.capabilities?.families.includes('ipv4-unicast'), 'ipv4-unicast negotiated');
  t.equal(d.capabilities?.fourOctetAs, true, 'RFC 6793 4-octet AS');
  t.equal(
    d.capabilities?.gracefulRestart?.restartTime,
    RESTART_TIME,
    'the peer advertises the lab’s restart time (RFC 4724)',
  );
  t.same(d.endOfRib.received, ['ipv4-unicast'], 'End-of-RIB received');
  const dt = await json<PeerDetail>(['show', 'peer', tor]);
  t.equal(dt.asn, LAB_TOR_ASN);
  t.equal(dt.routerId, plan.torRouterId, 'the ToR’s router id');
  t.equal(dt.holdTime.negotiated, LAB_HOLD_TIME, 'hold time: the smaller of both (RFC 4271 §4.2)');
  const detailText = await human(['show', 'peer', n2.address]);
  t.match(
    detailText,
    `Peer ${n2.address}, AS ${LAB_NODE_ASN} (global), local AS ${LAB_NODE_ASN}`,
    'show peer: title line',
  );
  t.match(detailText, /State:\s+Established for/);
  t.match(
    detailText,
    new RegExp(
      `Hold time:\\s+configured ${LAB_HOLD_TIME}s, negotiated ${LAB_HOLD_TIME}s, keepalive 3s`,
    ),
  );
  t.match(detailText, `Router id:        ${n2.address}`);
  t.match(detailText, new RegExp(`Graceful restart:\\s+restart time ${RESTART_TIME}s`));

  // show routes PREFIX: the same segment (direct), the other segment (per design), own block.
  const rowsFor = async (args: string[]) => (await json<{ routes: RouteRow[] }>(args)).routes;
  for (const o of [n2, far]) {
    const want = designedBest(plan, state, n1, o);
    const rows = await rowsFor(['show', 'routes', o.block]);
    t.equal(rows.length, 1, `show routes ${o.block}: the selected path`);
    const r = rows[0];
    t.equal(r?.prefix, o.block);
    t.equal(r?.best, true);
    t.equal(r?.peer, want.peer, `${o.block} from ${want.peer}`);
    t.equal(r?.nextHop, want.nextHop, `${o.block} via ${want.nextHop}`);
    t.equal(r?.kernel.status, 'installed');
    t.equal(r?.kernel.shape, want.shape, `${o.block}: kernel shape ${want.shape}`);
    t.equal(r?.kernel.device, want.device);
    if (want.peer === tor) {
      // eBGP: the ToR's AS first, and the nodes' shared AS replaced (as-override, or BIRD's
      // filter deleting it) so that our loop detection accepts it (RFC 4271 §9.1.2).
      const path = (r?.asPath ?? '').split(' ').filter(Boolean);
      t.equal(path[0], String(LAB_TOR_ASN), 'AS path starts with the ToR');
      t.notOk(path.includes(String(LAB_NODE_ASN)), 'no node AS in the path');
    } else {
      t.equal(r?.asPath, '', 'iBGP: empty AS path');
      t.equal(r?.localPref, DEFAULT_LOCAL_PREF);
    }
    const text = await human(['show', 'routes', o.block]);
    t.match(
      text,
      new RegExp(
        `^\\*>\\s+${esc(o.block)}\\s+${esc(want.nextHop)}\\s+${esc(want.peer)}\\s.*\\s${want.shape} ${want.device}`,
        'm',
      ),
      `show routes ${o.block}: *> line with the kernel column`,
    );
  }
  const own = await rowsFor(['show', 'routes', n1.block]);
  t.equal(own[0]?.peer, 'local', 'own block is local');
  t.equal(own[0]?.kernel.shape, 'blackhole', 'own block is a blackhole');
  t.match(
    await human(['show', 'routes', n1.block]),
    new RegExp(`^\\*>\\s+${esc(n1.block)}\\s.*\\sblackhole`, 'm'),
  );

  // An address inside a block: the routes covering it.
  const pod = n2.pods[0].address;
  const covering = await rowsFor(['show', 'routes', pod]);
  t.same(
    covering.map((r) => r.prefix),
    [n2.block],
    `show routes ${pod}: the block that holds it`,
  );
  t.match(await human(['show', 'routes', pod]), new RegExp(`^\\*>\\s+${esc(n2.block)}\\s`, 'm'));

  // --peer: what a mesh peer gave us is its block; --family: IPv4 only in the lab.
  const fromN2 = await rowsFor(['show', 'routes', '--peer', n2.address]);
  t.same(
    fromN2.map((r) => r.prefix),
    [n2.block],
    'show routes --peer: only that peer’s paths',
  );
  const peerText = await human(['show', 'routes', '--peer', n2.address]);
  t.equal(peerText.trim().split('\n').length, 2, 'header and one route');
  const v4 = await rowsFor(['show', 'routes', '--family', 'ipv4']);
  t.same(
    v4.map((r) => r.prefix).sort(),
    plan.nodes.map((o) => o.block).sort(),
    'show routes --family ipv4: one selected route per block',
  );
  t.same(await rowsFor(['show', 'routes', '--family', 'ipv6']), [], 'no IPv6 in the lab');
  t.equal(
    (await human(['show', 'routes', '--family', 'ipv6'])).trim(),
    'No routes.',
    'human: no IPv6 routes',
  );

  // --all: the other paths too. The far block has the ToR's path and the mesh path.
  const all = await rowsFor(['show', 'routes', far.block, '--all']);
  const mesh = all.find((r) => r.peer === far.address);
  const viaTor = all.find((r) => r.peer === tor);
  t.ok(mesh && viaTor, `--all: ${far.block} from ${far.name} and from the ToR`);
  t.equal(all.filter((r) => r.best).length, 1, 'exactly one best path');
  if (!state.ipip) {
    t.equal(mesh?.best, false, 'the mesh path across segments is not selected');
    t.equal(mesh?.localPref, REMOTE_MESH_LOCAL_PREF, 'lab import policy lowered its LOCAL_PREF');
    t.match(
      await human(['show', 'routes', far.block, '--all']),
      new RegExp(`^\\*\\s+${esc(far.block)}\\s+${esc(far.address)}\\s+${esc(far.address)}\\s`, 'm'),
      'human --all: the other path with a bare * marker',
    );
  }
  const allRows = await rowsFor(['show', 'routes', '--all']);
  t.ok(allRows.length > v4.length, '--all lists more paths than the selected ones');

  // show rib in|out
  const ribIn = await rowsFor(['show', 'rib', 'in', n2.address]);
  t.same(
    ribIn.map((r) => r.prefix),
    [n2.block],
    'rib in from a mesh peer: its block',
  );
  const ribOut = await rowsFor(['show', 'rib', 'out', n2.address]);
  t.same(
    ribOut.map((r) => r.prefix),
    [n1.block],
    'rib out to a mesh peer: our block only',
  );
  t.same(
    (await rowsFor(['show', 'rib', 'out', tor])).map((r) => r.prefix),
    [n1.block],
    'rib out to the ToR: our block only',
  );
  const torIn = (await rowsFor(['show', 'rib', 'in', tor])).map((r) => r.prefix).sort();
  const adv = await torAdvertised(plan, state, n1.address);
  if (adv) t.same(torIn, adv, 'rib in from the ToR = what FRR says it advertised');
  for (const o of plan.nodes.filter((x) => x.segment !== n1.segment)) {
    t.ok(torIn.includes(o.block), `rib in from the ToR has ${o.block}`);
  }
  const ribInText = await human(['show', 'rib', 'in', n2.address]);
  t.match(ribInText, new RegExp(`\\s${esc(n2.block)}\\s`));
  t.match(await human(['show', 'rib', 'out', n2.address]), new RegExp(`\\s${esc(n1.block)}\\s`));
  // RouteRow.learnedAt is when the path was learned; the Adj-RIB-In row is in the kernel.
  t.ok(
    ribIn.every((x) => x.learnedAt > 0),
    'rib in: learnedAt is set',
  );
  t.notMatch(ribInText, new RegExp(`^!.*${esc(n2.block)}`, 'm'), 'rib in: not marked "!"');

  // show kernel, node, config: the JSON documents, then the same facts in the human forms.
  const k = JSON.parse(await human(['show', 'kernel', '--json'])) as {
    converged: boolean;
    routes: { prefix: string; installed: boolean; shape: string; origin: string }[];
    counts: { installed: number; notInstalled: number };
  };
  t.equal(k.converged, true, 'show kernel --json: converged');
  t.same(
    k.routes.map((r) => r.prefix).sort(),
    plan.nodes.map((o) => o.block).sort(),
    'show kernel --json: one route per block',
  );
  const kernelText = await human(['show', 'kernel']);
  t.match(kernelText, /converged yes/, 'show kernel: converged');
  for (const o of plan.nodes) {
    const r = k.routes.find((x) => x.prefix === o.block);
    const want = o === n1 ? 'blackhole' : designedBest(plan, state, n1, o).shape;
    t.equal(r?.shape, want, `show kernel --json: ${o.block} ${want}`);
    t.equal(r?.installed, true);
    t.match(
      kernelText,
      new RegExp(`^\\s*${esc(o.block)}\\s+\\S+\\s+${want}\\s.*\\byes\\b`, 'm'),
      `show kernel: ${o.block} ${want}, installed`,
    );
  }
  const cidr = `${n1.address}/${n1.segment.prefixLength}`;
  const node = JSON.parse(await human(['show', 'node', '--json'])) as {
    name: string;
    asn: number;
    routerId: string;
    ipv4: { cidr: string } | null;
    converged: boolean;
    blocks: string[];
  };
  t.equal(node.name, n1.name, 'show node --json: name');
  t.equal(node.asn, LAB_NODE_ASN);
  t.equal(node.routerId, n1.address);
  t.equal(node.ipv4?.cidr, cidr);
  t.equal(node.converged, true);
  t.same(node.blocks, [n1.block], 'show node --json: the own pod block');
  const nodeText = await human(['show', 'node']);
  t.match(nodeText, new RegExp(`^Node ${esc(n1.name)} `, 'm'), 'show node: name');
  t.match(nodeText, new RegExp(`AS:\\s+${LAB_NODE_ASN}\\b`), 'show node: ASN');
  t.match(nodeText, new RegExp(`Router id:\\s+${esc(n1.address)}\\b`), 'show node: router id');
  t.match(nodeText, new RegExp(`IPv4 address:\\s+${esc(cidr)}\\b`), 'show node: address');
  t.match(nodeText, new RegExp(`Pod blocks:\\s+${esc(n1.block)}`), 'show node: pod block');
  t.match(nodeText, /Converged:\s+yes/, 'show node: converged');
  for (const mode of ['--json', 'human'] as const) {
    const text = await human(mode === '--json' ? ['show', 'config', '--json'] : ['show', 'config']);
    // The human form is YAML, which also reads a JSON document.
    const config = parseYaml(text) as {
      node: { name: string; asn: number };
      peers: { address: string; holdTime: number }[];
      staticBlocks: string[];
    };
    t.equal(config.node.name, n1.name, `show config (${mode}): node`);
    t.same(config.staticBlocks, [n1.block]);
    t.equal(config.peers.length, plan.nodes.length, 'the mesh and the ToR');
    t.ok(config.peers.every((p) => p.holdTime === LAB_HOLD_TIME));
  }

  // Errors: an unknown peer (exit 1), no daemon behind the socket (exit 3).
  for (const args of [
    ['show', 'peer', unknown],
    ['show', 'peer', unknown, '--json'],
    ['show', 'rib', 'in', unknown],
    ['peer', 'reset', unknown],
  ]) {
    const r = await call(args);
    t.equal(r.code, 1, `${args.join(' ')}: exit 1`);
    t.match(r.err, `no such peer: ${unknown}`, 'names the peer');
  }
  for (const j of [[], ['--json']]) {
    const r = await call(['show', 'peers', ...j], n1, noSock);
    t.equal(r.code, 3, `no daemon ${j.join('')}: exit 3`);
    t.match(r.err, noSock, 'names the socket');
  }

  // peer reset (soft in, soft out): the session stays up.
  const since = (await json<PeerDetail>(['show', 'peer', n2.address])).since;
  let r = await cli(n1, ['peer', 'reset', n2.address, '--soft', 'in']);
  t.equal(r.code, 0, `peer reset --soft in ${r.err}`);
  t.match(r.out, /soft reset in requested|does not support/);
  t.notMatch(r.out, /does not support/, 'podbgp peers support route refresh');
  r = await cli(n1, ['peer', 'reset', n2.address, '--soft', 'out', '--json']);
  t.equal(r.code, 0, `peer reset --soft out --json ${r.err}`);
  t.equal(JSON.parse(r.out), 'soft reset out done');
  const afterSoft = await json<PeerDetail>(['show', 'peer', n2.address]);
  t.equal(afterSoft.state, 'Established', 'soft resets keep the session');
  t.equal(afterSoft.since, since, 'no flap from a soft reset');
  t.same(
    (await rowsFor(['show', 'rib', 'in', n2.address])).map((x) => x.prefix),
    [n2.block],
    'routes still there after soft in',
  );

  // Hard reset: Cease / Administrative Reset (RFC 4486), then the session comes back.
  r = await cli(n1, ['peer', 'reset', n2.address]);
  t.equal(r.code, 0, `peer reset ${r.err}`);
  t.match(r.out, 'session reset');
  const back = await until('the reset session back', async () => {
    const p = (await request(n1.socketPath, 'show-peer', { address: n2.address })) as PeerDetail;
    return p.state === 'Established' && p.since !== since ? p : null;
  });
  t.ok(back.flaps >= afterSoft.flaps + 1, 'the reset counts as a flap');
  const seen = (await json<PeerDetail>(['show', 'peer', n1.address], n2)).lastNotification;
  t.equal(seen?.direction, 'received', `${n2.name} received our NOTIFICATION`);
  t.ok(
    isCease(seen, CEASE_ADMIN_RESET, 'Administrative Reset'),
    `Administrative Reset: ${seen?.name}`,
  );

  // Disable with a shutdown communication (RFC 9003); the peer records the message. It is
  // watched from before the command: the peer keeps reconnecting, and the disabled side's
  // Cease / Connection Rejected then replaces its last NOTIFICATION within a retry time.
  const message = 'pbo ops test: maintenance ünïcode';
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const p = (await request(n2.socketPath, 'show-peer', { address: n1.address }).catch(
        () => null,
      )) as PeerDetail | null;
      const n = p?.lastNotification ?? null;
      if (n && n.direction === 'received' && isCease(n, CEASE_ADMIN_SHUTDOWN, 'Shutdown')) return n;
      await sleep(20);
    }
    return null;
  })();
  try {
    r = await cli(n1, ['peer', 'disable', n2.address, '--message', message]);
    t.equal(r.code, 0, `peer disable ${r.err}`);
    t.match(r.out, 'peer disabled');
    const got = await Promise.race([watch, sleep(15_000).then(() => null)]);
    watching = false;
    t.ok(got, `${n2.name} recorded a received Cease / Administrative Shutdown`);
    t.equal(got?.message, message, 'with the RFC 9003 shutdown communication');
    const log = readFileSync(n2.logPath, 'utf8');
    t.ok(
      log.split('\n').some((l) => l.includes(n1.address) && l.includes(JSON.stringify(message))),
      `${n2.name} logged the message`,
    );
    const off = await until('disabled', async () => {
      const p = (await request(n1.socketPath, 'show-peer', { address: n2.address })) as PeerDetail;
      return !p.enabled && p.state !== 'Established' ? p : null;
    });
    t.equal(off.enabled, false, 'show peer: disabled');
    t.ok(isCease(off.lastNotification, CEASE_ADMIN_SHUTDOWN, 'Shutdown'), 'we sent the Cease');
    t.match(
      await human(['show', 'peers']),
      new RegExp(`^${esc(n2.address)}\\s+${LAB_NODE_ASN}\\s+global\\s+\\w+ \\(disabled\\)`, 'm'),
      'show peers marks it disabled',
    );
    t.match(
      await human(['show', 'peer', n2.address]),
      new RegExp(`Last NOTIFICATION: sent .*Administrative Shutdown.* "${esc(message)}"`),
      'human show peer: the NOTIFICATION we sent, with its message',
    );
  } finally {
    watching = false;
    r = await cli(n1, ['peer', 'enable', n2.address]);
  }
  t.equal(r.code, 0, `peer enable ${r.err}`);
  t.match(r.out, 'peer enabled');
  await until('the enabled peer Established', async () => {
    const p = (await request(n1.socketPath, 'show-peer', { address: n2.address })) as PeerDetail;
    return p.enabled && p.state === 'Established';
  });
  t.pass('enabled peer back to Established');
}

// --- restart under load --------------------------------------------------------------------

interface PingRun {
  label: string;
  /** Set when the loss has a known cause outside podbgp (the assertions become TODO). */
  todo: string | false;
  done: Promise<string>;
  stop: () => void;
}

function startPing(fromNs: string, to: string, label: string, todo: string | false): PingRun {
  const child = spawn('ip', ['netns', 'exec', fromNs, ...pingCommand(), '-i', '0.1', to], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<string>((resolve) => child.on('close', () => resolve(out)));
  // SIGINT: ping prints its summary and exits.
  return { label, todo, done, stop: () => child.kill('SIGINT') };
}

/**
 * Losses from ping's own output. Replies carry the echo sequence number: every number up to the
 * last reply must be there. A request sent in the last interval before we stop ping may still
 * be in flight when it prints its summary; that one is not lost, so `sent` may exceed
 * `received` by at most one, and only when that one is past the last reply.
 */
function pingLoss(text: string) {
  const seqs = [...text.matchAll(/(?:icmp_)?seq=(\d+)/g)].map((m) => Number(m[1]));
  const sum = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(text);
  const sent = sum ? Number(sum[1]) : -1;
  const received = sum ? Number(sum[2]) : -1;
  const first = seqs.length ? Math.min(...seqs) : 0;
  const last = seqs.length ? Math.max(...seqs) : -1;
  const missing = last - first + 1 - new Set(seqs).size;
  return { sent, received, missing, last, first, inFlight: sent - received };
}

async function checkRestart(t: Test, plan: LabPlan, state: LabState, ctx: LabContext) {
  const target = plan.nodes[0];
  const sameSeg = plan.nodes.find((o) => o !== target && o.segment === target.segment)!;
  const otherSeg = plan.nodes.find((o) => o.segment !== target.segment)!;
  // Kernel routes for the restarting node's block must not be deleted anywhere (ToR included).
  const watched = [sameSeg.ns, otherSeg.ns, plan.torNs];
  const monitors = watched.map((ns) => {
    const m = spawn('ip', ['-n', ns, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    m.stdout.on('data', (d: Buffer) => (text += d.toString()));
    return { ns, m, text: () => text };
  });
  t.teardown(() => monitors.forEach(({ m }) => m.kill()));
  // BIRD 2.0.12 has no RFC 8538: a Cease ends its graceful restart helper role and it flushes
  // the node's routes, so traffic through a BIRD ToR stops until the node is back.
  const birdTodo =
    state.tor === 'bird' ? 'BIRD 2.0.12 ToR: no RFC 8538, drops the routes on Cease' : false;
  const pings = [
    startPing(
      sameSeg.pods[0].ns,
      target.pods[0].address,
      `same segment ${sameSeg.name}->${target.name}`,
      false,
    ),
    startPing(
      otherSeg.pods[0].ns,
      target.pods[1].address,
      `across the ToR ${otherSeg.name}->${target.name}`,
      birdTodo,
    ),
  ];
  t.teardown(() => pings.forEach((p) => p.stop()));
  await sleep(1000);

  const current = (await readState(STATE_DIR))!;
  const proc = current.processes.find((p) => p.role === `node:${target.name}`)!;
  const tStop = Date.now();
  process.kill(proc.pid, 'SIGTERM');
  await until('the daemon to exit on SIGTERM', async () => !running(proc.pid), 15_000);
  const tExited = Date.now();
  // Started again exactly as `lab up` starts it, and recorded so `lab down` stops it.
  proc.pid = ctx.spawn(
    'ip',
    ['netns', 'exec', target.ns, ...state.cli.argv, 'run', '--config', target.configPath],
    { logPath: target.logPath, cwd: state.cli.cwd },
  );
  await writeState(current);
  await until('the restarted node converged with every session up', async () => {
    const node = (await request(target.socketPath, 'show-node', {}, 2000).catch(() => null)) as {
      converged?: boolean;
    } | null;
    return node?.converged === true && (await designConverged(plan, state, plan.nodes));
  });
  const tBack = Date.now();
  await sleep(1500);
  pings.forEach((p) => p.stop());
  for (const p of pings) {
    const text = await p.done;
    const l = pingLoss(text);
    const todo = { todo: p.todo };
    t.ok(l.sent > 0, `${p.label}: ping ran (${l.sent} sent, ${l.received} received)`);
    t.equal(
      l.missing,
      0,
      `${p.label}: no reply missing up to the last (seq ${l.first}..${l.last})`,
      todo,
    );
    t.ok(
      l.inFlight === 0 || (l.inFlight === 1 && l.sent === l.last - l.first + 2),
      `${p.label}: sent ${l.sent}, received ${l.received}: nothing lost but one in flight at stop`,
      todo,
    );
    t.comment(`${p.label}: ${l.sent} sent, ${l.received} received, ${l.missing} missing`);
  }
  for (const { ns, text } of monitors) {
    const deleted = text()
      .split('\n')
      .filter((l) => l.startsWith('Deleted') && l.includes(target.block));
    const todo = ns === sameSeg.ns ? false : birdTodo;
    t.same(deleted, [], `${ns}: ${target.block} never deleted during the restart`, { todo });
  }
  t.comment(
    `restart of ${target.name}: exit ${tExited - tStop} ms after SIGTERM, converged again ` +
      `${tBack - tExited} ms after the new start`,
  );
}

// --- removal -------------------------------------------------------------------------------

async function checkRemoval(t: Test, plan: LabPlan, state: LabState) {
  const gone = plan.nodes[plan.nodes.length - 1];
  const rest = plan.nodes.filter((n) => n !== gone);
  for (const n of rest) {
    const have = (await kernelRoutes(n.ns)).some((r) => r.dst === gone.block);
    t.ok(have, `${n.name}: ${gone.block} in the kernel before the removal`);
  }
  const proc = (await readState(STATE_DIR))!.processes.find((p) => p.role === `node:${gone.name}`)!;
  // The node vanishes: its uplink first (so not even a TCP FIN leaves it), then its daemon.
  const t0 = Date.now();
  const down = await sh('ip', ['-n', gone.ns, 'link', 'set', 'eth0', 'down']);
  t.equal(down.code, 0, `${gone.name}: uplink down ${down.err}`);
  process.kill(proc.pid, 'SIGKILL');
  // The peers notice at hold timer expiry (RFC 4271 §6.5); the RFC 8538 N bit makes that
  // graceful, so the routes stay for the Restart Time the node advertised (RFC 4724 §4.2),
  // on the nodes and on the ToR alike. Then they must be gone from every kernel.
  const bound = (LAB_HOLD_TIME + RESTART_TIME + REMOVAL_MARGIN_S) * 1000;
  const when = new Map<string, number>();
  await until(
    'the removed block to leave every kernel',
    async () => {
      for (const n of rest) {
        if (when.has(n.name)) continue;
        if (!(await kernelRoutes(n.ns)).some((r) => r.dst === gone.block)) {
          when.set(n.name, Date.now() - t0);
        }
      }
      return when.size === rest.length;
    },
    bound + 20_000,
  ).catch(() => undefined);
  for (const n of rest) {
    const ms = when.get(n.name);
    t.ok(
      ms !== undefined && ms <= bound,
      `${n.name}: ${gone.block} gone after ${ms ?? 'never'} ms (hold ${LAB_HOLD_TIME} s + restart ${RESTART_TIME} s + ${REMOVAL_MARGIN_S} s)`,
    );
  }
  // The rest of the lab still works: every remaining pod pair answers.
  const pods = allPods(plan).filter((p) => p.node !== gone);
  const ping = pingCommand();
  const results = await Promise.all(
    pods.flatMap((a) =>
      pods
        .filter((b) => b !== a && b.node !== a.node)
        .map(async (b) => ({
          a,
          b,
          r: await sh('ip', ['netns', 'exec', a.ns, ...ping, '-c', '1', '-W', '2', b.address]),
        })),
    ),
  );
  t.ok(
    results.every((x) => x.r.code === 0),
    `the ${rest.length} remaining nodes' pods still reach each other: ${results
      .filter((x) => x.r.code !== 0)
      .map((x) => `${x.a.name}->${x.b.name}`)
      .join(' ')}`,
  );
  void state;
}
