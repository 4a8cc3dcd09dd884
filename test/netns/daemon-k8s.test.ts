// The daemon with Kubernetes end to end: three node namespaces on one bridge, each running
// `podbgp run` with kubernetes.enabled against the fake API server (fake-apiserver-main.ts) in a
// hub namespace. Checks annotations, the full mesh, kernel routes, node deletion, a node-specific
// BGPPeer and an API outage that withdraws nothing. RFC 4271 §8 (sessions), RFC 4456 not used.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { request } from '../../src/control/client.js';
import type { PeerSummary } from '../../src/control/protocol.js';
import { ANNOTATION_IPV4 } from '../../src/k8s/types.js';
import { makeBgpPeer, makeNode, type KObject } from '../k8s/fake-apiserver.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const TSX = ['--import', 'tsx'];
const CLI = [...TSX, path.join(ROOT, 'src/cli/main.ts')];
const API_MAIN = path.join(ROOT, 'test/netns/fake-apiserver-main.ts');

type K = 'a' | 'b' | 'c';
const KEYS: K[] = ['a', 'b', 'c'];
const HUB = 'pbk8-hub';
const NS: Record<K, string> = { a: 'pbk8-a', b: 'pbk8-b', c: 'pbk8-c' };
const NAME: Record<K, string> = { a: 'pbk8-node-a', b: 'pbk8-node-b', c: 'pbk8-node-c' };
const PREFIXLEN = 24;
const ADDR: Record<K, string> = { a: '192.168.78.1', b: '192.168.78.2', c: '192.168.78.3' };
const API = { host: '192.168.78.254', port: 6443 };
// One /26 block each from the pool 10.247.0.0/16 (blockSize 26: 64 addresses per block).
const POOL = '10.247.0.0/16';
const BLOCK: Record<K, string> = { a: '10.247.0.0/26', b: '10.247.0.64/26', c: '10.247.0.128/26' };
const ASN = 64512;
// On the segment, but no one has it: the session never gets past Connect/Active.
const TOR = '192.168.78.200';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root for network namespaces (not running as root)';

function sh(cmd: string, args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60000 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 30000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

interface Reply {
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** The fake API server process in the hub namespace, driven by JSON lines on its stdin. */
class ApiProcess {
  private readonly pending = new Map<number, (r: Reply) => void>();
  private nextId = 1;
  readonly ready: Promise<void>;
  readonly stderr: string[] = [];

  constructor(readonly proc: ChildProcess) {
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    proc.stderr?.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    proc.once('exit', (code) =>
      readyReject(new Error(`fake API server exited (${code}): ${this.stderr.join('')}`)),
    );
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let msg: Reply & { id: number };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return;
      }
      if (msg.id === 0) readyResolve();
      this.pending.get(msg.id)?.(msg);
      this.pending.delete(msg.id);
    });
  }

  async call(op: string, args: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    const reply = new Promise<Reply>((r) => this.pending.set(id, r));
    this.proc.stdin!.write(JSON.stringify({ id, op, ...args }) + '\n');
    const r: Reply = await Promise.race([
      reply,
      sleep(10000).then(() => ({ ok: false, error: `no reply to ${op}` })),
    ]);
    if (!r.ok) throw new Error(`fake API server ${op}: ${r.error}`);
    return r.result;
  }

  getNode(name: string): Promise<KObject | null> {
    return this.call('get', { resource: 'nodes', name }) as Promise<KObject | null>;
  }
}

interface Node {
  key: K;
  config: string;
  sock: string;
  log: string;
  proc: ChildProcess | null;
}

interface Route {
  dst: string;
  gateway?: string;
  dev?: string;
  type?: string;
}

function routes(k: K): Route[] {
  const r = sh('ip', ['-n', NS[k], '-json', 'route', 'show', 'proto', 'bgp']);
  return r.code === 0 && r.out.trim() ? (JSON.parse(r.out) as Route[]) : [];
}

async function peers(n: Node): Promise<PeerSummary[]> {
  try {
    return (await request(n.sock, 'show-peers', {}, 5000)) as PeerSummary[];
  } catch {
    return [];
  }
}

async function apiConnected(n: Node): Promise<boolean | undefined> {
  try {
    const r = (await request(n.sock, 'show-node', {}, 5000)) as {
      kubernetes: { connected: boolean; synced: boolean } | null;
    };
    return r.kubernetes?.connected;
  } catch {
    return undefined;
  }
}

/** `podbgp show peers --json` through the real CLI, inside the node's namespace. */
function cliPeers(n: Node): PeerSummary[] {
  const r = sh('ip', [
    'netns',
    'exec',
    NS[n.key],
    process.execPath,
    ...CLI,
    'show',
    'peers',
    '--json',
    '--socket',
    n.sock,
  ]);
  if (r.code !== 0) throw new Error(`podbgp show peers failed (${r.code}): ${r.err}`);
  return JSON.parse(r.out) as PeerSummary[];
}

const others = (k: K): K[] => KEYS.filter((o) => o !== k);
// A peer's identity, and for mesh sessions their state and since. The unanswered BGPPeer peer
// legitimately moves between Connect, Active and Idle on its own.
const shape = (p: PeerSummary): unknown[] =>
  p.type === 'mesh' ? [p.address, p.type, p.state, p.since] : [p.address, p.type];
const sinceOf = (ps: PeerSummary[], addr: string): number | undefined =>
  ps.find((p) => p.address === addr)?.since;

t.test('three podbgp daemons build their mesh from the Kubernetes API', { skip }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pbk8-'));
  const kubeconfig = path.join(dir, 'kubeconfig.yaml');
  const nodes = Object.fromEntries(
    KEYS.map((k) => [
      k,
      {
        key: k,
        config: path.join(dir, `${k}.yaml`),
        sock: path.join(dir, `${k}.sock`),
        log: path.join(dir, `${k}.log`),
        proc: null,
      } satisfies Node,
    ]),
  ) as Record<K, Node>;
  let api: ApiProcess | null = null;

  const cleanup = (): void => {
    for (const n of Object.values(nodes)) {
      if (n.proc && n.proc.exitCode === null) n.proc.kill('SIGKILL');
      n.proc = null;
    }
    if (api && api.proc.exitCode === null) {
      api.proc.stdin?.end();
      api.proc.kill('SIGKILL');
    }
    for (const n of [...Object.values(NS), HUB]) sh('ip', ['netns', 'del', n]);
  };
  t.teardown(() => {
    cleanup();
    if (process.env.PBK8_KEEP_LOGS) t.comment(`logs kept in ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  });
  cleanup();

  // --- the network: one bridge in the hub namespace, a veth to each node namespace
  t.equal(sh('ip', ['netns', 'add', HUB]).code, 0, 'hub namespace');
  sh('ip', ['-n', HUB, 'link', 'set', 'lo', 'up']);
  sh('ip', ['-n', HUB, 'link', 'add', 'br0', 'type', 'bridge']);
  sh('ip', ['-n', HUB, 'addr', 'add', `${API.host}/${PREFIXLEN}`, 'dev', 'br0']);
  sh('ip', ['-n', HUB, 'link', 'set', 'br0', 'up']);
  for (const k of KEYS) {
    sh('ip', ['netns', 'add', NS[k]]);
    const made = sh('ip', [
      'link',
      'add',
      `pbk8-n${k}`,
      'netns',
      NS[k],
      'type',
      'veth',
      'peer',
      'name',
      `pbk8-h${k}`,
      'netns',
      HUB,
    ]);
    t.equal(made.code, 0, `veth for node ${k}`, { err: made.err });
    sh('ip', ['-n', NS[k], 'link', 'set', `pbk8-n${k}`, 'name', 'eth0']);
    sh('ip', ['-n', NS[k], 'addr', 'add', `${ADDR[k]}/${PREFIXLEN}`, 'dev', 'eth0']);
    sh('ip', ['-n', NS[k], 'link', 'set', 'eth0', 'up']);
    sh('ip', ['-n', NS[k], 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', HUB, 'link', 'set', `pbk8-h${k}`, 'master', 'br0', 'up']);
  }

  // --- the API server, seeded with three Nodes as the kubelet and node controller make them
  api = new ApiProcess(
    spawn(
      'ip',
      [
        'netns',
        'exec',
        HUB,
        process.execPath,
        ...TSX,
        API_MAIN,
        '--listen',
        `${API.host}:${API.port}`,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'], cwd: ROOT },
    ),
  );
  await api.ready;
  for (const k of KEYS) {
    await api.call('create', {
      resource: 'nodes',
      object: makeNode(NAME[k], { internalIP: ADDR[k], podCIDRs: [BLOCK[k]] }),
    });
  }
  // client-node 1.4 refuses a plain http:// server unless insecure-skip-tls-verify is set.
  fs.writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `  - name: fake`,
      `    cluster: { server: "http://${API.host}:${API.port}", insecure-skip-tls-verify: true }`,
      'users:',
      '  - name: podbgp',
      '    user: {}',
      'contexts:',
      '  - name: fake',
      '    context: { cluster: fake, user: podbgp }',
      'current-context: fake',
      '',
    ].join('\n'),
  );

  // --- the daemons: no static peers, no static blocks; the node name and address from the env
  for (const k of KEYS) {
    const n = nodes[k];
    fs.writeFileSync(
      n.config,
      [
        `node: { asn: ${ASN} }`,
        `pools: [{ cidr: ${POOL}, blockSize: 26, ipipMode: CrossSubnet }]`,
        `kubernetes: { enabled: true, kubeconfig: ${kubeconfig}, mesh: true }`,
        `control: { socket: ${n.sock} }`,
        `metrics: { listen: 127.0.0.1:19181 }`,
        '',
      ].join('\n'),
    );
    const out = fs.openSync(n.log, 'a');
    n.proc = spawn(
      'ip',
      [
        'netns',
        'exec',
        NS[k],
        process.execPath,
        ...CLI,
        'run',
        '--config',
        n.config,
        '--no-pretty',
      ],
      {
        stdio: ['ignore', out, out],
        cwd: ROOT,
        env: { ...process.env, NODENAME: NAME[k], IP: 'autodetect', LOG_LEVEL: 'info' },
      },
    );
    fs.closeSync(out);
  }
  const logOf = (k: K): string => {
    try {
      return fs.readFileSync(nodes[k].log, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '';
    }
  };

  // (1) Each daemon writes its autodetected address into its own Node's annotation.
  await t.test('each daemon annotates its Node', async (t) => {
    for (const k of KEYS) {
      const want = `${ADDR[k]}/${PREFIXLEN}`;
      const node = await until(
        `${NAME[k]} annotated`,
        async () => {
          const o = await api!.getNode(NAME[k]);
          return o?.metadata.annotations?.[ANNOTATION_IPV4] === want ? o : undefined;
        },
        40000,
      ).catch((e: Error) => {
        t.comment(logOf(k));
        throw e;
      });
      t.equal(node.metadata.annotations?.[ANNOTATION_IPV4], want, `${NAME[k]} ${ANNOTATION_IPV4}`);
      // The patch touches only our annotation: what the kubelet wrote is still there.
      t.equal(
        node.metadata.annotations?.['node.alpha.kubernetes.io/ttl'],
        '0',
        'other annotation kept',
      );
      t.equal(node.metadata.labels?.['kubernetes.io/hostname'], NAME[k], 'labels kept');
      t.same(node.spec?.podCIDRs, [BLOCK[k]], 'spec kept');
    }
    const reqs = (await api!.call('requests')) as Array<{
      verb: string;
      name?: string;
      contentType?: string;
      status: number;
    }>;
    const patches = reqs.filter((r) => r.verb === 'patch');
    t.same(
      [...new Set(patches.map((p) => p.name))].sort(),
      KEYS.map((k) => NAME[k]).sort(),
      'each daemon patched only its own Node',
    );
    t.ok(
      patches.every((p) => p.status === 200 && /merge-patch\+json/.test(p.contentType ?? '')),
      'merge patches, allowed by examples/rbac.yaml',
    );
  });

  // (2) Full iBGP mesh: every daemon has exactly the two others, type mesh, Established.
  await t.test('every daemon Establishes a mesh session with the two others', async (t) => {
    for (const k of KEYS) {
      await until(
        `${k}: two mesh peers Established`,
        async () => {
          const ps = await peers(nodes[k]);
          return ps.length === 2 && ps.every((p) => p.state === 'Established');
        },
        40000,
      ).catch((e: Error) => {
        t.comment(logOf(k));
        throw e;
      });
    }
    for (const k of KEYS) {
      const ps = cliPeers(nodes[k]);
      t.same(
        ps
          .map((p) => ({ address: p.address, asn: p.asn, type: p.type, state: p.state }))
          .sort((x, y) => (x.address < y.address ? -1 : 1)),
        others(k).map((o) => ({ address: ADDR[o], asn: ASN, type: 'mesh', state: 'Established' })),
        `${k}: show peers --json lists the two other nodes as mesh peers`,
      );
    }
  });

  // (3) Kernel: the two other blocks via their node, directly (same segment); own block blackholed.
  await t.test('kernel routes: other blocks via their node, own block blackholed', async (t) => {
    for (const k of KEYS) {
      const rs = await until(`${k}: three bgp routes`, () => {
        const r = routes(k);
        return r.length === 3 ? r : undefined;
      });
      for (const o of others(k)) {
        const r = rs.find((x) => x.dst === BLOCK[o]);
        t.same(
          { gateway: r?.gateway, dev: r?.dev },
          { gateway: ADDR[o], dev: 'eth0' },
          `${k}: ${BLOCK[o]} via ${ADDR[o]} dev eth0`,
        );
      }
      t.equal(rs.find((x) => x.dst === BLOCK[k])?.type, 'blackhole', `${k}: own block blackhole`);
    }
  });

  const snapshot = async (): Promise<Record<K, PeerSummary[]>> =>
    Object.fromEntries(
      await Promise.all(KEYS.map(async (k) => [k, await peers(nodes[k])])),
    ) as Record<K, PeerSummary[]>;

  // (5) A BGPPeer selecting node a adds a peer on a only; the mesh does not flap.
  await t.test('a node-specific BGPPeer adds a peer on the selected node only', async (t) => {
    const before = await snapshot();
    await api!.call('create', {
      resource: 'bgppeers',
      object: makeBgpPeer('pbk8-tor-a', {
        peerAddress: TOR,
        peerASN: 64600,
        nodeSelector: { matchLabels: { 'kubernetes.io/hostname': NAME.a } },
      }),
    });
    await until('a: ToR peer added', async () =>
      (await peers(nodes.a)).some((p) => p.address === TOR),
    );
    await sleep(1500); // the other nodes got the same watch event by now
    const tor = cliPeers(nodes.a).find((p) => p.address === TOR);
    t.equal(tor?.type, 'node-specific', 'a: show peers lists it as node-specific');
    t.equal(tor?.asn, 64600, 'with the resource ASN');
    const after = await snapshot();
    for (const k of ['b', 'c'] as const) {
      t.notOk(
        after[k].some((p) => p.address === TOR),
        `${k}: not selected, no such peer`,
      );
    }
    for (const k of KEYS) {
      for (const o of others(k)) {
        const p = after[k].find((x) => x.address === ADDR[o]);
        t.equal(p?.state, 'Established', `${k}->${o} still Established`);
        t.equal(p?.since, sinceOf(before[k], ADDR[o]), `${k}->${o} did not flap`);
      }
    }
  });

  // (6) API outage: nothing is withdrawn while it lasts; the daemons reconnect by themselves.
  await t.test('an API outage withdraws nothing, and the daemons recover', async (t) => {
    const before = await snapshot();
    const kernelBefore = Object.fromEntries(KEYS.map((k) => [k, routes(k)])) as Record<K, Route[]>;
    await api!.call('stop');
    for (const k of KEYS) {
      await until(`${k} notices the outage`, async () => (await apiConnected(nodes[k])) === false);
    }
    t.pass('every daemon reports the API as unreachable');
    await sleep(5000);
    const during = await snapshot();
    for (const k of KEYS) {
      t.same(
        during[k].map(shape),
        before[k].map(shape),
        `${k}: same peers, states and since after 5 s of outage`,
      );
      t.same(routes(k), kernelBefore[k], `${k}: kernel routes unchanged during the outage`);
      t.match(fs.readFileSync(nodes[k].log, 'utf8'), /Kubernetes API unreachable/, `${k}: logged`);
    }
    await api!.call('start');
    for (const k of KEYS) {
      await until(
        `${k} reconnects to the API`,
        async () => (await apiConnected(nodes[k])) === true,
        40000,
      );
    }
    t.pass('every daemon reports the API as reachable again');
    const after = await snapshot();
    for (const k of KEYS) {
      t.same(after[k].map(shape), before[k].map(shape), `${k}: nothing flapped across the outage`);
    }
  });

  // (4) A deleted Node disappears: its session and routes go; the other session stays up.
  // Coming after the outage, this also shows that the watches work again.
  await t.test('a node deleted from the API is dropped by the others', async (t) => {
    const before = await snapshot();
    await api!.call('delete', { resource: 'nodes', name: NAME.c });
    for (const k of ['a', 'b'] as const) {
      await until(`${k}: peer c removed`, async () =>
        (await peers(nodes[k])).every((p) => p.address !== ADDR.c),
      );
      await until(`${k}: route to c's block removed`, () =>
        routes(k).every((r) => r.dst !== BLOCK.c),
      ).catch((e: Error) => {
        t.comment(JSON.stringify(routes(k)));
        throw e;
      });
      t.pass(`${k}: peer ${ADDR.c} and route ${BLOCK.c} gone`);
    }
    await sleep(1500);
    const after = await snapshot();
    for (const [k, o] of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const) {
      const p = after[k].find((x) => x.address === ADDR[o]);
      t.equal(p?.state, 'Established', `${k}->${o} Established`);
      t.equal(p?.since, sinceOf(before[k], ADDR[o]), `${k}->${o} did not flap`);
      t.ok(
        routes(k).some((r) => r.dst === BLOCK[o] && r.gateway === ADDR[o]),
        `${k}: route to ${o}'s block kept`,
      );
      t.notOk(
        after[k].some((x) => x.address === ADDR.c),
        `${k}: c still gone`,
      );
    }
    t.ok(
      after.a.some((p) => p.address === TOR),
      'a: the BGPPeer peer is untouched',
    );
  });
});
