// The daemon end to end in two network namespaces: `podbgp run` on each node, static peers,
// kernel routes checked with `ip -json route`, the CLI in JSON and human form, metrics,
// a restart that changes no kernel route, SIGHUP adding a peer, and bad input.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CLI = ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts')];
const NS = { a: 'pbd-a', b: 'pbd-b' };
const ADDR = { a: '192.168.77.1', b: '192.168.77.2' };
const BLOCK = { a: '10.246.1.0/26', b: '10.246.2.0/26' };

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root for network namespaces';

function sh(
  cmd: string,
  args: string[],
  input?: string,
): { code: number; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 60000 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

function ns(n: string, ...args: string[]) {
  return sh('ip', ['netns', 'exec', n, ...args]);
}

function cli(n: string, sock: string, ...args: string[]) {
  return ns(n, process.execPath, ...CLI, ...args, '--socket', sock);
}

async function until<T>(what: string, fn: () => T | undefined | false, ms = 30000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Node {
  name: 'a' | 'b';
  dir: string;
  config: string;
  sock: string;
  proc: ChildProcess | null;
  log: string;
}

function writeConfig(
  node: Node,
  peers: { address: string; passive?: boolean }[],
  logLevel = 'info',
): void {
  const other = node.name === 'a' ? 'b' : 'a';
  void other;
  fs.writeFileSync(
    node.config,
    [
      `node: { name: node-${node.name}, asn: 64512, routerId: ${ADDR[node.name]}, ipv4: { address: ${ADDR[node.name]}/24 } }`,
      `pools: [{ cidr: 10.246.0.0/16, blockSize: 26, ipipMode: CrossSubnet }]`,
      `staticBlocks: [${BLOCK[node.name]}]`,
      `peers:`,
      ...peers.map(
        (p) =>
          `  - { address: ${p.address}, asn: 64512, holdTime: 9, passive: ${p.passive ?? false} }`,
      ),
      `kubernetes: { enabled: false }`,
      `control: { socket: ${node.sock} }`,
      `metrics: { listen: 127.0.0.1:19180 }`,
      `logLevel: ${logLevel}`,
      '',
    ].join('\n'),
  );
}

function startDaemon(node: Node): void {
  const out = fs.openSync(node.log, 'a');
  node.proc = spawn(
    'ip',
    [
      'netns',
      'exec',
      NS[node.name],
      process.execPath,
      ...CLI,
      'run',
      '--config',
      node.config,
      '--no-pretty',
    ],
    {
      stdio: ['ignore', out, out],
    },
  );
}

async function stopDaemon(node: Node, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  const p = node.proc;
  if (!p || p.exitCode !== null) return p?.exitCode ?? null;
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  p.kill(signal);
  const code = await Promise.race([
    exited,
    new Promise<null>((r) => setTimeout(() => r(null), 10000)),
  ]);
  if (p.exitCode === null) p.kill('SIGKILL');
  node.proc = null;
  return code;
}

function routes(n: string): { dst: string; gateway?: string; dev?: string; type?: string }[] {
  const r = sh('ip', ['-n', n, '-json', 'route', 'show', 'proto', 'bgp']);
  return r.code === 0 && r.out.trim() ? JSON.parse(r.out) : [];
}

function peersJson(node: Node): { address: string; state: string; since: number }[] {
  const r = cli(NS[node.name], node.sock, 'show', 'peers', '--json');
  return r.code === 0 ? JSON.parse(r.out) : [];
}

t.test(
  'two podbgp daemons peer, install routes, restart losslessly and reload',
  { skip },
  async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pbd-'));
    const nodes: Record<'a' | 'b', Node> = {
      a: {
        name: 'a',
        dir,
        config: path.join(dir, 'a.yaml'),
        sock: path.join(dir, 'a.sock'),
        proc: null,
        log: path.join(dir, 'a.log'),
      },
      b: {
        name: 'b',
        dir,
        config: path.join(dir, 'b.yaml'),
        sock: path.join(dir, 'b.sock'),
        proc: null,
        log: path.join(dir, 'b.log'),
      },
    };
    t.teardown(async () => {
      for (const n of Object.values(nodes)) await stopDaemon(n, 'SIGKILL');
      for (const n of Object.values(NS)) sh('ip', ['netns', 'del', n]);
      fs.rmSync(dir, { recursive: true, force: true });
    });
    for (const n of Object.values(NS)) sh('ip', ['netns', 'del', n]);
    sh('ip', ['netns', 'add', NS.a]);
    sh('ip', ['netns', 'add', NS.b]);
    t.equal(
      sh('ip', [
        'link',
        'add',
        'pbd-va',
        'netns',
        NS.a,
        'type',
        'veth',
        'peer',
        'name',
        'pbd-vb',
        'netns',
        NS.b,
      ]).code,
      0,
      'veth',
    );
    for (const k of ['a', 'b'] as const) {
      sh('ip', ['-n', NS[k], 'link', 'set', `pbd-v${k}`, 'name', 'eth0']);
      sh('ip', ['-n', NS[k], 'addr', 'add', `${ADDR[k]}/24`, 'dev', 'eth0']);
      sh('ip', ['-n', NS[k], 'link', 'set', 'eth0', 'up']);
      sh('ip', ['-n', NS[k], 'link', 'set', 'lo', 'up']);
    }
    writeConfig(nodes.a, [{ address: ADDR.b }]);
    writeConfig(nodes.b, [{ address: ADDR.a }]);
    startDaemon(nodes.a);
    startDaemon(nodes.b);

    // --- sessions and kernel routes
    await until(
      'A and B Established',
      () =>
        peersJson(nodes.a)[0]?.state === 'Established' &&
        peersJson(nodes.b)[0]?.state === 'Established',
    );
    const ra = await until('B block in A kernel', () =>
      routes(NS.a).find((r) => r.dst === BLOCK.b),
    );
    t.equal(ra.gateway, ADDR.b, 'via the peer');
    t.equal(ra.dev, 'eth0', 'directly: the next hop is on the same segment');
    const own = routes(NS.a).find((r) => r.dst === BLOCK.a);
    t.equal(own?.type, 'blackhole', 'own block as a blackhole');

    // --- CLI, human and JSON
    const human = cli(NS.a, nodes.a.sock, 'show', 'routes');
    t.equal(human.code, 0);
    t.match(
      human.out,
      new RegExp(`\\*>\\s+${BLOCK.b.replace(/[./]/g, '\\$&')}\\s+${ADDR.b.replace(/\./g, '\\.')}`),
      'best path line',
    );
    t.match(human.out, /direct eth0/, 'kernel column');
    t.match(human.out, /blackhole/);
    const json = JSON.parse(cli(NS.a, nodes.a.sock, 'show', 'routes', BLOCK.b, '--json').out);
    t.equal(json.routes.length, 1);
    t.same(
      {
        prefix: json.routes[0].prefix,
        nextHop: json.routes[0].nextHop,
        best: json.routes[0].best,
        kernel: json.routes[0].kernel.shape,
      },
      { prefix: BLOCK.b, nextHop: ADDR.b, best: true, kernel: 'direct' },
    );
    const detail = JSON.parse(cli(NS.a, nodes.a.sock, 'show', 'peer', ADDR.b, '--json').out);
    t.equal(detail.capabilities.fourOctetAs, true);
    t.equal(detail.holdTime.negotiated, 9);
    t.ok(detail.capabilities.gracefulRestart, 'graceful restart negotiated');
    t.match(
      cli(NS.a, nodes.a.sock, 'show', 'peers').out,
      /192\.168\.77\.2\s+64512\s+global\s+Established/,
    );
    const missing = cli(NS.a, path.join(dir, 'nope.sock'), 'show', 'peers');
    t.equal(missing.code, 3, 'no daemon: exit 3');
    t.match(missing.err, /nope\.sock/, 'names the socket');

    // --- metrics
    const metrics = ns(
      NS.a,
      process.execPath,
      '-e',
      `fetch('http://127.0.0.1:19180/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))`,
    ).out;
    t.match(
      metrics,
      /podbgp_peer_state\{peer="192\.168\.77\.2",type="global",state="Established"\} 1/,
    );
    t.match(metrics, /podbgp_kernel_routes\{shape="direct"\} 1/);
    t.match(metrics, /podbgp_kernel_routes\{shape="blackhole"\} 1/);
    t.match(metrics, /podbgp_peer_prefixes\{peer="192\.168\.77\.2",kind="accepted"\} 1/);

    // --- restart A: not one route deleted or re-added on either node
    const monitors = (['a', 'b'] as const).map((k) => {
      const lines: string[] = [];
      const m = spawn('ip', ['-n', NS[k], 'monitor', 'route']);
      m.stdout.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
      return { m, lines };
    });
    t.teardown(() => monitors.forEach(({ m }) => m.kill()));
    await new Promise((r) => setTimeout(r, 300));
    t.equal(await stopDaemon(nodes.a), 0, 'SIGTERM exits 0');
    t.ok(
      routes(NS.a).some((r) => r.dst === BLOCK.b),
      'A keeps its routes while down',
    );
    t.ok(
      routes(NS.b).some((r) => r.dst === BLOCK.a),
      'B keeps A block (graceful restart helper)',
    );
    startDaemon(nodes.a);
    await until('A Established again', () => peersJson(nodes.a)[0]?.state === 'Established');
    await new Promise((r) => setTimeout(r, 1500));
    t.same(monitors[0].lines, [], 'no kernel route change on A across its restart');
    t.same(monitors[1].lines, [], 'no kernel route change on B across A restart');

    // --- SIGHUP adds a peer and lowers the log level; the established one does not flap
    const before = peersJson(nodes.a).find((p) => p.address === ADDR.b)!;
    const logBefore = fs.readFileSync(nodes.a.log, 'utf8').length;
    writeConfig(
      nodes.a,
      [{ address: ADDR.b }, { address: '192.168.77.3', passive: true }],
      'debug',
    );
    nodes.a.proc!.kill('SIGHUP');
    const after = await until('two peers', () => {
      const p = peersJson(nodes.a);
      return p.length === 2 ? p : undefined;
    });
    const b = after.find((p) => p.address === ADDR.b)!;
    t.equal(b.state, 'Established');
    t.equal(b.since, before.since, 'the unchanged peer kept its session');
    // The new level applies at once: the new peer's state changes are logged at debug.
    const reloadLog = fs.readFileSync(nodes.a.log, 'utf8').slice(logBefore);
    t.match(reloadLog, /log level changed/);
    t.match(reloadLog, /state change/, 'debug records are written after the reload');
    // An invalid reload is rejected and the running config stays.
    fs.writeFileSync(nodes.a.config, 'node: { asn: 0 }\n');
    nodes.a.proc!.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 1000));
    t.equal(peersJson(nodes.a).length, 2, 'still two peers after a bad reload');
    t.match(fs.readFileSync(nodes.a.log, 'utf8'), /config reload rejected/);
  },
);

t.test('an invalid config names the field and exits 2', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pbd-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'bad.yaml');
  fs.writeFileSync(
    file,
    'node: { asn: 4294967296 }\npeers: [{ address: 10.0.0.1, asn: 65000, holdTime: 2 }]\n',
  );
  const r = sh(process.execPath, [...CLI, 'run', '--config', file]);
  t.equal(r.code, 2);
  t.match(r.err, /node\.asn/);
  t.match(r.err, /peers\[0\]\.holdTime/);
});
