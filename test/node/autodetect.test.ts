// Table tests for Calico-style autodetection on the seed nodes vms71 and vms72, the
// keepalived /32 VIP case (Calico #5094), IPv6, and the decision record.
import t from 'tap';
import {
  autodetectAddress,
  DEFAULT_INTERFACE_EXCLUSIONS,
  resolveStaticAddress,
  type AutodetectDeps,
} from '../../src/node/autodetect.js';
import type { NetInterface } from '../../src/node/interfaces.js';
import { parseAutodetectMethod } from '../../src/node/methods.js';
import { addr, iface, kernelLikeReach, vms71, vms72 } from './hosts.js';

function deps(ifaces: NetInterface[], extra: Partial<AutodetectDeps> = {}): AutodetectDeps {
  return { interfaces: async () => ifaces, reach: kernelLikeReach(ifaces, null), ...extra };
}

async function detect(method: string, family: 4 | 6, d: AutodetectDeps) {
  const m = parseAutodetectMethod(method, family);
  if (!m.ok) throw new Error(m.error);
  return autodetectAddress(m.method, family, d);
}

/** The expected address is whatever the fixture puts on the expected interface. */
function addressOf(ifaces: NetInterface[], name: string, family: 4 | 6): string {
  const a = ifaces
    .find((i) => i.name === name)!
    .addresses.find((x) => x.family === family && x.scope === 'global')!;
  return `${a.address}/${a.prefixLength}`;
}

// The table: method -> interface chosen on vms71, on vms72.
const SEED: [string, string, string][] = [
  ['interface=ens33,eth0', 'ens33', 'eth0'],
  ['interface=ens32,eth1', 'ens32', 'eth1'],
  ['skip-interface=eth1,ens32', 'ens33', 'eth0'],
  ['can-reach=192.168.30.1', 'ens33', 'eth0'],
  ['cidr=192.168.26.0/24', 'ens32', 'eth1'],
];

t.test('seed scenarios (IPv4)', async (t) => {
  for (const [method, on71, on72] of SEED) {
    for (const [host, ifaces, want] of [
      ['vms71', vms71(), on71],
      ['vms72', vms72(), on72],
    ] as const) {
      const r = await detect(method, 4, deps(ifaces));
      t.ok(r.ok, `${host} ${method} succeeds`);
      if (!r.ok) continue;
      t.equal(r.address.interface, want, `${host} ${method} -> ${want}`);
      t.equal(
        r.address.cidr,
        addressOf(ifaces, want, 4),
        `${host} ${method} address with prefix length`,
      );
      t.equal(r.decision.method, method);
      t.match(r.decision.summary, want);
    }
  }
});

t.test('seed scenarios carried over to IPv6', async (t) => {
  const v6: [string, string, string][] = [
    ['interface=ens33,eth0', 'ens33', 'eth0'],
    ['skip-interface=eth1,ens32', 'ens33', 'eth0'],
    ['can-reach=2001:db8:30::1', 'ens33', 'eth0'],
    ['cidr=2001:db8:26::/64', 'ens32', 'eth1'],
  ];
  for (const [method, on71, on72] of v6) {
    for (const [ifaces, want] of [
      [vms71(), on71],
      [vms72(), on72],
    ] as const) {
      const r = await detect(method, 6, deps(ifaces));
      t.ok(r.ok && r.address.interface === want, `${method} -> ${want}`);
      if (r.ok) {
        t.equal(r.address.cidr, addressOf(ifaces, want, 6));
        t.notMatch(r.address.address, /^fe80:/, 'never a link-local address');
      }
    }
  }
});

t.test(
  'first-found: first non-excluded interface in interface order, loopback skipped',
  async (t) => {
    const r71 = await detect('first-found', 4, deps(vms71()));
    t.ok(r71.ok);
    if (r71.ok) t.equal(r71.address.interface, 'ens32', 'ens32 has the lowest index after lo');
    const lo = r71.decision.candidates.find((c) => c.interface === 'lo');
    t.match(lo?.reason, /excluded by \^lo/);
    const ens33 = r71.decision.candidates.find((c) => c.interface === 'ens33');
    t.match(ens33?.reason, /comes after ens32/);
    // Excluded interfaces never win, even when they come first.
    const ifaces = [
      iface(1, 'docker0', [addr('172.17.0.1/16')]),
      iface(2, 'veth12', [addr('10.1.1.1/24')]),
      iface(3, 'tunl0', [addr('10.244.0.1/32')]),
      iface(4, 'cali1', [addr('10.2.2.2/24')]),
      iface(5, 'vxlan.calico', [addr('10.3.3.3/24')]),
      iface(6, 'kube-ipvs0', [addr('10.96.0.1/32')]),
      iface(7, 'eno1', [addr('198.51.100.7/25')]),
    ];
    const r = await detect('first-found', 4, deps(ifaces));
    t.ok(r.ok);
    if (r.ok) t.equal(r.address.cidr, '198.51.100.7/25');
    t.equal(
      r.decision.candidates.filter((c) => /excluded by/.test(c.reason)).length,
      6,
      'each skipped device names the exclusion that matched',
    );
  },
);

t.test('the default exclusion list contains every name from the issue', async (t) => {
  for (const re of [
    '^docker.*',
    '^cbr.*',
    '^dummy.*',
    '^virbr.*',
    '^lxcbr.*',
    '^veth.*',
    '^lo',
    '^cali.*',
    '^tunl.*',
    '^flannel.*',
    '^kube-ipvs.*',
    '^cni.*',
    '^vxlan\\.calico.*',
    '^vxlan-v6\\.calico.*',
    '^wireguard\\.cali.*',
    '^wg-v6\\.cali.*',
  ]) {
    t.ok(DEFAULT_INTERFACE_EXCLUSIONS.includes(re), re);
  }
});

t.test(
  'keepalived VIP: a secondary /32 on the same interface never beats the primary (Calico #5094)',
  async (t) => {
    // The kernel lists the VIP first once the primary was re-added (e.g. by a DHCP renewal).
    const ifaces = [
      iface(1, 'lo', [addr('127.0.0.1/8')]),
      iface(2, 'ens33', [
        addr('192.168.30.100/32'),
        addr('192.168.30.71/24'),
        addr('192.168.30.200/32'),
      ]),
    ];
    for (const method of [
      'first-found',
      'interface=ens33',
      'skip-interface=ens32',
      'cidr=192.168.30.0/24',
    ]) {
      const r = await detect(method, 4, deps(ifaces));
      t.ok(r.ok, method);
      if (!r.ok) continue;
      t.equal(r.address.cidr, '192.168.30.71/24', `${method} picks the primary`);
      const vip = r.decision.candidates.find((c) => c.address === '192.168.30.100/32');
      t.equal(vip?.verdict, 'skipped');
      t.match(vip?.reason, /VIP/, 'the decision says why the VIP lost');
    }
    // A /32 alone on its interface is still usable (e.g. a cloud host route setup).
    const only = await detect(
      'interface=ens33',
      4,
      deps([iface(2, 'ens33', [addr('203.0.113.9/32')])]),
    );
    t.ok(only.ok && only.address.cidr === '203.0.113.9/32');
    // A kernel-flagged secondary address also yields to the primary.
    const sec = await detect(
      'interface=eth0',
      4,
      deps([iface(2, 'eth0', [addr('10.0.0.9/24', { secondary: true }), addr('10.0.0.5/24')])]),
    );
    t.ok(sec.ok && sec.address.cidr === '10.0.0.5/24');
  },
);

t.test(
  'interface=: regexes tried in the order written; unmatched interfaces explained',
  async (t) => {
    const r = await detect('interface=ens33,ens32', 4, deps(vms71()));
    t.ok(
      r.ok && r.address.interface === 'ens33',
      'the first regex wins although ens32 comes first',
    );
    const r2 = await detect('interface=ens3.*', 4, deps(vms71()));
    t.ok(r2.ok && r2.address.interface === 'ens32', 'within one regex, interface order');
    t.match(
      r.decision.candidates.find((c) => c.interface === 'docker0')?.reason,
      /matches none of/,
    );
    const none = await detect('interface=wlan.*', 4, deps(vms71()));
    t.notOk(none.ok);
    if (!none.ok) t.match(none.error, /no matching interface/);
  },
);

t.test('unusable addresses: down, link-local, tentative, dadfailed, deprecated', async (t) => {
  const ifaces = [
    iface(2, 'eth0', [addr('10.9.9.9/24')], false),
    iface(3, 'eth1', [
      addr('169.254.3.3/16'),
      addr('fe80::1/64'),
      addr('2001:db8::1/64', { tentative: true }),
      addr('2001:db8::2/64', { dadfailed: true }),
      addr('2001:db8::3/64', { deprecated: true }),
    ]),
    iface(4, 'eth2', [addr('2001:db8::4/64'), addr('10.8.8.8/16')]),
  ];
  const v4 = await detect('first-found', 4, deps(ifaces));
  t.ok(v4.ok && v4.address.cidr === '10.8.8.8/16');
  t.match(v4.decision.candidates.find((c) => c.interface === 'eth0')?.reason, /down/);
  t.match(v4.decision.candidates.find((c) => c.address === '169.254.3.3/16')?.reason, /link-local/);
  const v6 = await detect('first-found', 6, deps(ifaces));
  t.ok(v6.ok && v6.address.cidr === '2001:db8::4/64');
  const reasons = v6.decision.candidates.map((c) => c.reason).join('\n');
  for (const word of [
    'tentative',
    'duplicate address detection failed',
    'deprecated',
    'link-local',
  ])
    t.match(reasons, word);
});

t.test('cidr= applies no name exclusions, as Calico', async (t) => {
  const r = await detect('cidr=172.17.0.0/16', 4, deps(vms71()));
  t.ok(r.ok && r.address.interface === 'docker0');
  const multi = await detect('cidr=10.0.0.0/8, 192.168.30.0/24', 4, deps(vms72()));
  t.ok(multi.ok && multi.address.interface === 'eth0');
});

t.test('can-reach: host names are resolved; the source must be a local address', async (t) => {
  const ifaces = vms71();
  const asked: string[] = [];
  const d = deps(ifaces, {
    resolve: async (host, family) => {
      asked.push(`${host}/${family}`);
      return host === 'tor.example' ? ['192.168.26.1'] : [];
    },
  });
  const r = await detect('can-reach=tor.example', 4, d);
  t.same(asked, ['tor.example/4']);
  t.ok(r.ok && r.address.interface === 'ens32');
  if (r.ok) t.match(r.decision.summary, /tor\.example = 192\.168\.26\.1/);
  const nx = await detect('can-reach=nowhere.example', 4, d);
  t.notOk(nx.ok);
  const foreign = await detect(
    'can-reach=8.8.8.8',
    4,
    deps(ifaces, { reach: async () => '10.10.10.10' }),
  );
  t.notOk(foreign.ok);
  if (!foreign.ok) t.match(foreign.error, /no interface holds/);
  const unreachable = await detect('can-reach=8.8.8.8', 4, deps(ifaces));
  t.notOk(unreachable.ok, 'no connected route and no default route');
  const viaDefault = await detect(
    'can-reach=8.8.8.8',
    4,
    deps(ifaces, { reach: kernelLikeReach(ifaces, 'ens33') }),
  );
  t.ok(viaDefault.ok && viaDefault.address.interface === 'ens33');
});

t.test('kubernetes-internal-ip: the Node InternalIP with the local prefix length', async (t) => {
  const ifaces = vms72();
  const r = await detect(
    'kubernetes-internal-ip',
    4,
    deps(ifaces, { kubernetesInternalIps: async () => ['2001:db8:30::72', '192.168.26.72'] }),
  );
  t.ok(r.ok && r.address.cidr === '192.168.26.72/24' && r.address.interface === 'eth1');
  const r6 = await detect(
    'kubernetes-internal-ip',
    6,
    deps(ifaces, { kubernetesInternalIps: async () => ['2001:db8:30::72', '192.168.26.72'] }),
  );
  t.ok(r6.ok && r6.address.cidr === '2001:db8:30::72/64');
  const absent = await detect(
    'kubernetes-internal-ip',
    4,
    deps(ifaces, { kubernetesInternalIps: async () => ['203.0.113.5'] }),
  );
  t.ok(
    absent.ok && absent.address.cidr === '203.0.113.5/32' && absent.address.interface === null,
    'not local: host prefix',
  );
  const none = await detect('kubernetes-internal-ip', 4, deps(ifaces));
  t.notOk(none.ok, 'no Node lookup injected');
});

t.test('static addresses take the prefix length from the interface', async (t) => {
  const ifaces = async (): Promise<NetInterface[]> => vms71();
  const bare = await resolveStaticAddress('192.168.30.71', 4, ifaces);
  t.ok(bare.ok && bare.address.cidr === '192.168.30.71/24' && bare.address.interface === 'ens33');
  const given = await resolveStaticAddress('192.168.30.71/23', 4, ifaces);
  t.ok(given.ok && given.address.cidr === '192.168.30.71/23', 'an explicit length wins');
  const wrong = await resolveStaticAddress('2001:db8::1', 4, ifaces);
  t.notOk(wrong.ok);
});

t.test('interface listing failures are reported, not thrown', async (t) => {
  const r = await detect('first-found', 4, {
    interfaces: async () => Promise.reject(new Error('ip: not found')),
  });
  t.notOk(r.ok);
  if (!r.ok) t.match(r.error, /cannot list interfaces: ip: not found/);
});
