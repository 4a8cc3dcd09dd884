// Shape decisions: the same-L2 test on the seed topology, Calico's three ipipMode values,
// ECMP with mixed next hops, own blocks as blackholes. Expectations come from issue #5 / Calico docs.
import t from 'tap';
import { parsePrefix } from '../../src/kernel/addr.js';
import { parsePools, planOwnBlock, planRemote, type PlanContext } from '../../src/kernel/plan.js';
import { renderInstall } from '../../src/kernel/routes.js';
import { buildTopology } from '../../src/kernel/topology.js';
import type { IpipMode } from '../../src/kernel/types.js';

const target = { table: 'main', protocol: 'bgp' };

function link(ifname: string, ...addrs: string[]) {
  return {
    ifname,
    mtu: 1500,
    flags: ['UP'],
    addr_info: addrs.map((a) => ({
      family: a.includes(':') ? 'inet6' : 'inet',
      local: a.split('/')[0],
      prefixlen: Number(a.split('/')[1]),
      scope: 'global',
    })),
  };
}

// Issue #5 seed topology.
const nodeA = buildTopology({
  links: [
    link('lo', '127.0.0.1/8'),
    link('ens32', '192.168.26.71/24'),
    link('ens33', '192.168.30.71/24'),
  ],
  linkRoutes: [],
  exclude: new Set(['lo', 'tunl0']),
  protocol: 'bgp',
});
const nodeB = buildTopology({
  links: [link('eth1', '192.168.26.72/24'), link('eth0', '192.168.30.72/24')],
  linkRoutes: [],
  exclude: new Set(['lo', 'tunl0']),
  protocol: 'bgp',
});

function ctx(topology = nodeA, mode: IpipMode = 'CrossSubnet', ipip = true): PlanContext {
  return {
    topology,
    pools: parsePools([{ cidr: '10.244.0.0/16', ipipMode: mode }]),
    defaultMode: 'Never',
    tunnel: {
      name: 'tunl0',
      available: ipip,
      unavailableReason: ipip ? null : 'the kernel has no IPIP support (module ipip)',
      mtu: 1480,
    },
  };
}

function plan(prefix: string, nhs: string[], c: PlanContext) {
  const p = parsePrefix(prefix);
  if (!p.ok) throw new Error(p.error);
  return planRemote(prefix, p.prefix, nhs, c);
}

t.test('seed topology: the same-L2 test picks the connected interface', async (t) => {
  const cases: [string, ReturnType<typeof ctx>, string, string | null][] = [
    ['A: 192.168.30.72 is on ens33', ctx(nodeA), '192.168.30.72', 'ens33'],
    ['A: 192.168.26.72 is on ens32', ctx(nodeA), '192.168.26.72', 'ens32'],
    ['B: 192.168.30.71 is on eth0', ctx(nodeB), '192.168.30.71', 'eth0'],
    ['B: 192.168.26.71 is on eth1', ctx(nodeB), '192.168.26.71', 'eth1'],
    ['A: 10.0.0.5 has no connected subnet', ctx(nodeA), '10.0.0.5', null],
    ['B: 192.168.31.1 has no connected subnet', ctx(nodeB), '192.168.31.1', null],
  ];
  for (const [name, c, nh, dev] of cases) {
    const seg = c.topology.lookup({ family: 4, value: ipToBig(nh) });
    t.equal(seg?.dev ?? null, dev, name);
  }
});

function ipToBig(s: string): bigint {
  return s.split('.').reduce((v, o) => (v << 8n) | BigInt(Number(o)), 0n);
}

t.test('CrossSubnet: direct on the segment, tunl0 onlink with MTU off it', async (t) => {
  const direct = plan('10.244.5.192/26', ['192.168.30.72'], ctx());
  t.equal(direct.shape, 'direct');
  t.equal(
    renderInstall('replace', direct.route!, target),
    'route replace 10.244.5.192/26 via 192.168.30.72 dev ens33 proto bgp',
  );
  const tun = plan('10.244.7.0/26', ['10.0.0.5'], ctx());
  t.equal(tun.shape, 'ipip');
  t.equal(
    renderInstall('replace', tun.route!, target),
    'route replace 10.244.7.0/26 via 10.0.0.5 dev tunl0 proto bgp onlink mtu 1480',
  );
});

t.test('Always: every remote block goes via tunl0, even on the segment', async (t) => {
  const p = plan('10.244.5.192/26', ['192.168.30.72'], ctx(nodeA, 'Always'));
  t.equal(p.shape, 'ipip');
  t.same(
    p.nexthops.map((n) => n.dev),
    ['tunl0'],
  );
  t.equal(
    renderInstall('add', p.route!, target),
    'route add 10.244.5.192/26 via 192.168.30.72 dev tunl0 proto bgp onlink mtu 1480',
  );
});

t.test(
  'Never: direct on the segment; off it the route is unreachable, not installed',
  async (t) => {
    const on = plan('10.244.5.192/26', ['192.168.30.72'], ctx(nodeA, 'Never'));
    t.equal(on.shape, 'direct');
    const off = plan('10.244.7.0/26', ['10.0.0.5'], ctx(nodeA, 'Never'));
    t.equal(off.route, null);
    t.match(off.reason, /not on a connected segment.*Never/);
  },
);

t.test('no ipip in the kernel: the route is not installed and the reason names ipip', async (t) => {
  const p = plan('10.244.7.0/26', ['10.0.0.5'], ctx(nodeA, 'CrossSubnet', false));
  t.equal(p.route, null);
  t.match(p.reason, /ipip/);
  // The direct path is unaffected.
  t.equal(
    plan('10.244.5.192/26', ['192.168.30.72'], ctx(nodeA, 'CrossSubnet', false)).shape,
    'direct',
  );
});

t.test('prefixes outside every pool use the default mode', async (t) => {
  const c = ctx();
  const p = plan('172.16.0.0/24', ['10.0.0.5'], c);
  t.equal(p.route, null, 'default mode Never: off-segment next hop is unreachable');
  const c2 = { ...c, defaultMode: 'CrossSubnet' as const };
  t.equal(plan('172.16.0.0/24', ['10.0.0.5'], c2).shape, 'ipip');
});

t.test('the most specific pool decides', async (t) => {
  const c = ctx();
  c.pools = parsePools([
    { cidr: '10.0.0.0/8', ipipMode: 'Never' },
    { cidr: '10.244.0.0/16', ipipMode: 'Always' },
  ]);
  t.equal(plan('10.244.5.192/26', ['192.168.30.72'], c).shape, 'ipip');
  t.equal(plan('10.1.0.0/26', ['192.168.30.72'], c).shape, 'direct');
});

t.test('ECMP: one multipath route, a nexthop per path, weight 1, sorted', async (t) => {
  const p = plan('10.244.5.192/26', ['192.168.30.72', '192.168.26.72'], ctx());
  t.equal(p.shape, 'ecmp');
  t.equal(
    renderInstall('replace', p.route!, target),
    'route replace 10.244.5.192/26 proto bgp nexthop via 192.168.26.72 dev ens32 weight 1 nexthop via 192.168.30.72 dev ens33 weight 1',
  );
  const mixed = plan('10.244.5.192/26', ['10.0.0.5', '192.168.30.72'], ctx());
  t.equal(
    renderInstall('replace', mixed.route!, target),
    'route replace 10.244.5.192/26 proto bgp mtu 1480 nexthop via 10.0.0.5 dev tunl0 weight 1 onlink nexthop via 192.168.30.72 dev ens33 weight 1',
    'mtu precedes the nexthops (iproute2 parses everything after nexthop as next hops)',
  );
  const dup = plan('10.244.5.192/26', ['192.168.30.72', '192.168.30.72'], ctx());
  t.equal(dup.shape, 'direct', 'duplicate next hops collapse');
});

t.test('ECMP keeps the usable next hops and reports the others', async (t) => {
  const p = plan('10.244.7.0/26', ['10.0.0.5', '192.168.30.72'], ctx(nodeA, 'Never'));
  t.equal(p.shape, 'direct');
  t.same(
    p.skipped.map((s) => s.via),
    ['10.0.0.5'],
  );
});

t.test('own block: blackhole proto bgp', async (t) => {
  const p = parsePrefix('10.244.118.192/26');
  if (!p.ok) throw new Error();
  const own = planOwnBlock('10.244.118.192/26', p.prefix);
  t.equal(own.shape, 'blackhole');
  t.equal(
    renderInstall('add', own.route!, target),
    'route add blackhole 10.244.118.192/26 proto bgp',
  );
});

t.test('IPv6: direct on a connected v6 segment; IPIP never used for v6', async (t) => {
  const topo = buildTopology({
    links: [link('eth0', '192.168.30.71/24', 'fd00:30::71/64')],
    linkRoutes: [],
    exclude: new Set(['lo', 'tunl0']),
    protocol: 'bgp',
  });
  const c = ctx(topo, 'Always');
  c.pools = parsePools([{ cidr: 'fd00:10::/48', ipipMode: 'Always' }]);
  const p = plan('fd00:10:0:5::/64', ['fd00:30::72'], c);
  t.equal(p.shape, 'direct');
  t.equal(
    renderInstall('add', p.route!, target),
    'route add fd00:10:0:5::/64 via fd00:30::72 dev eth0 proto bgp',
  );
  const off = plan('fd00:10:0:6::/64', ['fd00:99::1'], c);
  t.equal(off.route, null);
  t.match(off.reason, /IPv4 only/);
  const ll = plan('fd00:10:0:7::/64', ['fe80::1%eth0'], c);
  t.equal(
    renderInstall('add', ll.route!, target),
    'route add fd00:10:0:7::/64 via fe80::1 dev eth0 proto bgp',
  );
});

t.test('scope link routes count as connected segments; our own routes do not', async (t) => {
  const topo = buildTopology({
    links: [link('eth0', '192.168.30.71/24')],
    linkRoutes: [
      { dst: '172.20.0.0/16', dev: 'eth2', protocol: 'static' },
      { dst: '172.21.0.0/16', dev: 'eth3', protocol: 'bgp' },
      { dst: '172.22.0.0/16', dev: 'tunl0', protocol: 'static' },
    ],
    exclude: new Set(['lo', 'tunl0']),
    protocol: 'bgp',
  });
  t.equal(plan('10.244.1.0/26', ['172.20.1.1'], ctx(topo)).nexthops[0]?.dev, 'eth2');
  t.equal(plan('10.244.1.0/26', ['172.21.1.1'], ctx(topo)).shape, 'ipip');
  t.equal(plan('10.244.1.0/26', ['172.22.1.1'], ctx(topo)).shape, 'ipip');
});

t.test('longest connected subnet wins', async (t) => {
  const topo = buildTopology({
    links: [link('eth0', '10.0.0.1/8'), link('eth1', '10.1.0.1/16')],
    linkRoutes: [],
    exclude: new Set(),
    protocol: 'bgp',
  });
  t.equal(plan('10.244.1.0/26', ['10.1.2.3'], ctx(topo)).nexthops[0]?.dev, 'eth1');
  t.equal(plan('10.244.1.0/26', ['10.2.2.3'], ctx(topo)).nexthops[0]?.dev, 'eth0');
});
