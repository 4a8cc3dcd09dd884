// Tests for the human output of `show kernel`, `show node` and `show config`
// (src/cli/format.ts): inputs built by hand from the control types; every header fact and
// every route row is checked against the input, `-` stands for missing values, and the YAML
// of `show config` parses back to the same object.

import t from 'tap';
import { parse } from 'yaml';
import {
  formatConfig,
  formatKernel,
  formatNode,
  table,
  type NodeView,
} from '../../src/cli/format.js';
import { loadConfig } from '../../src/config/index.js';
import type { KernelStatus, RouteStatus } from '../../src/kernel/types.js';

const NOW = 1_700_000_000_000;

/** Cells of one table line: columns are separated by two or more spaces, cells hold at most one. */
const cells = (line: string) => line.trim().split(/ {2,}/);

function route(p: Partial<RouteStatus> & { prefix: string }): RouteStatus {
  return {
    installed: true,
    shape: 'direct',
    interfaces: [],
    nexthops: [],
    skipped: [],
    reason: null,
    lastError: null,
    lastErrorAt: null,
    origin: 'remote',
    ...p,
  };
}

const ROUTES: RouteStatus[] = [
  route({
    prefix: '10.244.5.192/26',
    interfaces: ['eth0'],
    nexthops: [{ via: '192.168.30.72', dev: 'eth0', shape: 'direct' }],
  }),
  route({
    prefix: '10.244.9.0/26',
    shape: 'ipip',
    interfaces: ['tunl0'],
    nexthops: [{ via: '192.168.26.73', dev: 'tunl0', shape: 'ipip' }],
  }),
  route({ prefix: '10.244.118.192/26', shape: 'blackhole', origin: 'own' }),
  route({
    prefix: '10.244.12.64/26',
    installed: false,
    shape: null,
    reason: 'no usable next hop',
    skipped: [{ via: '10.0.7.5', reason: 'not on a connected segment and IPIP unavailable' }],
  }),
  route({
    prefix: '10.244.20.0/26',
    installed: false,
    shape: 'ecmp',
    interfaces: ['eth0', 'eth1'],
    nexthops: [
      { via: '192.168.30.80', dev: 'eth0', shape: 'direct' },
      { via: '192.168.31.80', dev: 'eth1', shape: 'direct' },
    ],
    reason: 'RTNETLINK answers: File exists',
    lastError: 'RTNETLINK answers: File exists',
    lastErrorAt: NOW - 5_000,
  }),
  route({
    prefix: 'fd00:10:244:5::/64',
    origin: 'adopted',
    interfaces: ['eth0'],
    nexthops: [{ via: 'fe80::1', dev: 'eth0', shape: 'direct' }],
    lastError: 'RTNETLINK answers: No such process',
    lastErrorAt: NOW - 65_000,
  }),
];

function kernel(p: Partial<KernelStatus> = {}): KernelStatus {
  return {
    table: 'main',
    protocol: 'bgp',
    converged: false,
    routes: ROUTES,
    counts: {
      installed: 4,
      notInstalled: 2,
      byShape: { direct: 3, ipip: 1, blackhole: 1, ecmp: 1 },
    },
    tunnel: {
      wanted: true,
      available: null,
      name: 'tunl0',
      up: false,
      mtu: null,
      address: null,
      pmtudisc: null,
      error: 'ipip module not available',
    },
    lastReconcileAt: NOW - 4_000,
    reconciles: 12,
    reconcileErrors: 3,
    driftRepaired: 2,
    ...p,
  };
}

t.test('table: aligned columns, last column unpadded, optional indent', async (t) => {
  const out = table(
    ['A', 'Long header', 'Z'],
    [
      ['xxxx', 'y', 'last  '],
      ['1', '', ''],
    ],
    '  ',
  );
  const lines = out.split('\n');
  t.equal(lines.length, 3);
  // Column 2 starts after the widest first cell (4) and two spaces, plus the indent.
  for (const l of lines) t.ok(l.startsWith('  '), 'indented');
  t.equal(lines[0].indexOf('Long header'), 2 + 4 + 2);
  t.equal(lines[1].indexOf('y'), 2 + 4 + 2);
  t.equal(lines[1].indexOf('last'), 2 + 4 + 2 + 'Long header'.length + 2);
  t.notOk(lines[1].endsWith(' '), 'trailing blanks trimmed');
  t.equal(lines[2], '  1');
});

t.test('show kernel: header facts', async (t) => {
  const k = kernel();
  const out = formatKernel(k, NOW);
  const lines = out.split('\n');
  t.match(lines[0], /table main/);
  t.match(lines[0], /protocol bgp/);
  t.match(lines[0], /converged no/);
  const tunnel = lines.find((l) => l.includes('Tunnel:'));
  t.ok(tunnel, 'a tunnel line');
  t.match(tunnel, /tunl0/);
  t.match(tunnel, /wanted yes/);
  t.match(tunnel, /available -/, 'unknown availability is -');
  t.match(tunnel, /up no/);
  t.match(tunnel, /MTU -/);
  t.match(tunnel, /address -/);
  t.match(tunnel, /pmtudisc -/);
  t.ok(
    lines.some((l) => /Tunnel error:\s+ipip module not available$/.test(l)),
    'tunnel error',
  );
  const counts = lines.find((l) => l.includes('Routes:'));
  t.match(counts, /4 installed, 2 not installed/);
  for (const [shape, n] of Object.entries(k.counts.byShape)) {
    t.match(counts, `${shape} ${n}`, `count of ${shape}`);
  }
  const rec = lines.find((l) => l.includes('Reconciles:'));
  t.match(rec, /12, 3 errors, 2 drift repaired/);
  t.match(rec, /last 00:00:04 ago/, '4 s before now');

  const fine = formatKernel(
    kernel({
      converged: true,
      lastReconcileAt: null,
      tunnel: {
        wanted: false,
        available: true,
        name: 'tunl0',
        up: true,
        mtu: 1480,
        address: '10.244.118.192',
        pmtudisc: true,
        error: null,
      },
    }),
    NOW,
  );
  t.match(fine, /converged yes/);
  t.match(
    fine,
    'tunl0: wanted no, available yes, up yes, MTU 1480, address 10.244.118.192, pmtudisc yes',
  );
  t.notMatch(fine, /Tunnel error/, 'no error line without an error');
  t.match(fine, /last -$/m, 'never reconciled is -');
});

t.test(
  'show kernel: one row per route with prefix, origin, shape, via, installed, reason',
  async (t) => {
    const out = formatKernel(kernel(), NOW);
    const lines = out.split('\n');
    const h = lines.findIndex((l) => l.startsWith('Prefix'));
    t.ok(h > 0, 'a table header');
    t.same(cells(lines[h]), [
      'Prefix',
      'Origin',
      'Shape',
      'Via/Interfaces',
      'Installed',
      'Reason/Last error',
    ]);
    const rows = lines.slice(h + 1);
    t.equal(rows.length, ROUTES.length, 'every route, nothing else');
    const originCol = lines[h].indexOf('Origin');
    const byPrefix = new Map(rows.map((l) => [cells(l)[0], cells(l)]));
    for (const l of rows) t.equal(l.indexOf(cells(l)[1]), originCol, 'columns aligned');

    const row = (p: string) => byPrefix.get(p) ?? [];
    t.same(row('10.244.5.192/26'), [
      '10.244.5.192/26',
      'remote',
      'direct',
      '192.168.30.72 eth0',
      'yes',
      '-',
    ]);
    t.same(row('10.244.9.0/26'), [
      '10.244.9.0/26',
      'remote',
      'ipip',
      '192.168.26.73 tunl0',
      'yes',
      '-',
    ]);
    t.same(row('10.244.118.192/26'), ['10.244.118.192/26', 'own', 'blackhole', '-', 'yes', '-']);
    t.same(row('10.244.12.64/26'), [
      '10.244.12.64/26',
      'remote',
      '-',
      '-',
      'no',
      'no usable next hop; skipped 10.0.7.5: not on a connected segment and IPIP unavailable',
    ]);
    // The reason equals the last error: said once.
    t.same(row('10.244.20.0/26'), [
      '10.244.20.0/26',
      'remote',
      'ecmp',
      '192.168.30.80 eth0, 192.168.31.80 eth1',
      'no',
      'RTNETLINK answers: File exists',
    ]);
    // Installed, but an earlier error is kept (65 s ago).
    t.same(row('fd00:10:244:5::/64'), [
      'fd00:10:244:5::/64',
      'adopted',
      'direct',
      'fe80::1 eth0',
      'yes',
      'last error 00:01:05 ago: RTNETLINK answers: No such process',
    ]);
  },
);

t.test('show kernel: interfaces alone, and no routes', async (t) => {
  const out = formatKernel(
    kernel({ routes: [route({ prefix: '10.1.0.0/24', interfaces: ['eth2'] })] }),
    NOW,
  );
  t.match(out, /^10\.1\.0\.0\/24\s+remote\s+direct\s+eth2\s+yes\s+-$/m);
  t.match(formatKernel(kernel({ routes: [] }), NOW), /No routes\.$/);
});

t.test('show kernel: a full table prints every route', async (t) => {
  // More rows than V8 accepts as spread arguments: the widths must not come from Math.max(...rows).
  const n = 300_000;
  const routes = new Array<RouteStatus>(n);
  for (let i = 0; i < n; i++) {
    routes[i] = route({
      prefix: `10.${(i >> 10) & 255}.${(i >> 2) & 255}.${(i & 3) * 64}/26`,
      interfaces: ['eth0'],
      nexthops: [{ via: '192.168.30.72', dev: 'eth0', shape: 'direct' }],
    });
  }
  routes[n - 1] = route({ prefix: '172.16.0.0/12', installed: false, reason: 'pending' });
  const out = formatKernel(kernel({ routes }), NOW);
  const lines = out.split('\n');
  const h = lines.findIndex((l) => l.startsWith('Prefix'));
  t.equal(lines.length - h - 1, n, 'one line per route');
  t.same(cells(lines[h + 1]), [
    routes[0].prefix,
    'remote',
    'direct',
    '192.168.30.72 eth0',
    'yes',
    '-',
  ]);
  t.same(cells(lines[lines.length - 1]), [
    '172.16.0.0/12',
    'remote',
    'direct',
    '-',
    'no',
    'pending',
  ]);
});

const NODE: NodeView = {
  name: 'node-a.example',
  nameSource: 'hostname',
  asn: 64512,
  routerId: '192.168.30.71',
  routerIdSource: 'ipv4-address',
  ipv4: {
    family: 4,
    address: '192.168.30.71',
    prefixLength: 24,
    cidr: '192.168.30.71/24',
    interface: 'eth0',
  },
  ipv6: null,
  decisions: [
    {
      family: 4,
      method: 'first-found',
      result: {
        family: 4,
        address: '192.168.30.71',
        prefixLength: 24,
        cidr: '192.168.30.71/24',
        interface: 'eth0',
      },
      candidates: [
        { interface: 'docker0', verdict: 'skipped', reason: 'excluded by ^docker.*' },
        {
          interface: 'eth0',
          address: '192.168.30.71/24',
          verdict: 'chosen',
          reason: 'first usable address',
        },
        {
          interface: 'eth0',
          address: '192.168.30.200/32',
          verdict: 'skipped',
          reason: 'a /32 loses to the primary address',
        },
      ],
      summary: 'IPv4 192.168.30.71/24 on eth0 by first-found',
    },
  ],
  kubernetes: {
    synced: true,
    connected: false,
    outageSince: NOW - 90_000,
    lastError: 'connect ECONNREFUSED 10.96.0.1:443',
  },
  startedAt: NOW - 3_723_000,
  converged: true,
};

t.test('show node: identity, addresses, Kubernetes, decisions', async (t) => {
  const out = formatNode(NODE, NOW);
  const lines = out.split('\n');
  const field = (label: string) => lines.find((l) => l.trimStart().startsWith(`${label}:`)) ?? '';
  t.match(lines[0], /^Node node-a\.example \(name from the host name\)$/);
  t.match(field('AS'), /64512$/);
  t.match(field('Router id'), /192\.168\.30\.71 \(the IPv4 address\)$/);
  t.match(field('IPv4 address'), /192\.168\.30\.71\/24 on eth0, by first-found$/);
  t.match(field('IPv6 address'), /:\s+-$/, 'no IPv6 address is -');
  t.notMatch(out, /Pod blocks/, 'no blocks line when the reply carries none');
  t.match(field('Converged'), /yes$/);
  t.match(field('Up for'), /01:02:03$/, '3723 s');
  t.match(
    field('Kubernetes API'),
    /synced yes, connected no, down for 00:01:30, last error: connect ECONNREFUSED 10\.96\.0\.1:443$/,
  );
  t.ok(
    lines.some((l) =>
      l.includes('IPv4 by first-found: IPv4 192.168.30.71/24 on eth0 by first-found'),
    ),
  );
  const h = lines.findIndex((l) => l.trim().startsWith('Interface'));
  t.same(cells(lines[h]), ['Interface', 'Address', 'Verdict', 'Reason']);
  const cand = lines.slice(h + 1, h + 1 + NODE.decisions[0].candidates.length).map(cells);
  t.same(
    cand,
    NODE.decisions[0].candidates.map((c) => [c.interface, c.address ?? '-', c.verdict, c.reason]),
    'every candidate, - for a missing address',
  );
});

t.test('show node: static addresses, no Kubernetes, pod blocks, a failed family', async (t) => {
  const n: NodeView = {
    ...NODE,
    name: 'n1',
    nameSource: 'config',
    routerId: '10.0.0.1',
    routerIdSource: 'config',
    ipv4: null,
    ipv6: {
      family: 6,
      address: 'fd00::5',
      prefixLength: 64,
      cidr: 'fd00::5/64',
      interface: null,
    },
    decisions: [
      {
        family: 4,
        method: 'can-reach=192.0.2.1',
        result: null,
        candidates: [],
        summary: 'no IPv4 address found by can-reach=192.0.2.1: no route',
      },
      { family: 6, method: 'static', result: null, candidates: [], summary: 'IPv6 fd00::5/64' },
    ],
    kubernetes: null,
    blocks: ['10.244.118.192/26', 'fd00:10:244:76::/64'],
    converged: false,
  };
  const out = formatNode(n, NOW);
  t.match(out, /^Node n1 \(name from the config\)$/m);
  t.match(out, /Router id:\s+10\.0\.0\.1 \(from the config\)$/m);
  t.match(out, /IPv4 address:\s+- \(no IPv4 address found by can-reach=192\.0\.2\.1: no route\)$/m);
  t.match(out, /IPv6 address:\s+fd00::5\/64 \(on no local interface\), by static$/m);
  t.match(out, /Pod blocks:\s+10\.244\.118\.192\/26, fd00:10:244:76::\/64$/m);
  t.match(out, /Converged:\s+no$/m);
  t.match(out, /Kubernetes API:\s+-$/m);
  t.notMatch(out, /Interface\s+Address/, 'no candidate table without candidates');
  t.match(formatNode({ ...n, decisions: [] }, NOW), /Autodetection:\s+-$/m);
});

t.test('show config: YAML that parses back to the same object', async (t) => {
  const shared = { a: 1 };
  const tricky = {
    node: { name: null, asn: 64512, routerId: '0x1f', ipv4: { address: 'autodetect' } },
    strings: ['yes', 'no', 'null', '', '64512', '1e3', '~', '- item', 'a: b', '#x', "'q'"],
    long: 'x '.repeat(80).trim(),
    multi: 'line one\nline two',
    nested: [[], {}, [{ deep: [1, 2.5, -3, true, false, null] }]],
    // The same object twice must come out twice, not as a YAML alias.
    twice: [shared, shared],
  };
  const y = formatConfig(tricky);
  t.same(parse(y), tricky);
  t.notMatch(y, /[&*]a\d/, 'no anchors or aliases');
  t.notOk(y.endsWith('\n'), 'no trailing newline (console.log adds one)');

  const loaded = loadConfig(
    { path: new URL('../../examples/standalone.yaml', import.meta.url).pathname },
    {},
  );
  t.ok(loaded.ok, 'the example config loads');
  if (!loaded.ok) return;
  // What the CLI receives is the config after a JSON round trip over the socket.
  const wire = JSON.parse(JSON.stringify(loaded.config)) as unknown;
  t.same(parse(formatConfig(wire)), wire);
});
