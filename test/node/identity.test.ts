// Node identity: name from config or host name, ASN, router id from config or the IPv4
// address (RFC 6286 §2.1), and both families resolved with their decisions.
import t from 'tap';
import {
  resolveNodeIdentity,
  type IdentityDeps,
  type NodeSettings,
} from '../../src/node/identity.js';
import { kernelLikeReach, vms71 } from './hosts.js';

const base: NodeSettings = {
  name: null,
  asn: 64512,
  routerId: null,
  ipv4: { address: 'autodetect', autodetectionMethod: 'interface=ens33' },
  ipv6: { address: 'none', autodetectionMethod: 'first-found' },
};
const deps = (hostname = 'VMS71.lab.example'): IdentityDeps => ({
  hostname: () => hostname,
  interfaces: async () => vms71(),
  reach: kernelLikeReach(vms71(), null),
});

t.test('defaults: host name, router id from the IPv4 address', async (t) => {
  const r = await resolveNodeIdentity(base, deps());
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.identity.name, 'vms71.lab.example', 'host name in lower case');
  t.equal(r.identity.nameSource, 'hostname');
  t.equal(r.identity.asn, 64512);
  t.equal(r.identity.ipv4?.cidr, '192.168.30.71/24');
  t.equal(r.identity.routerId, '192.168.30.71');
  t.equal(r.identity.routerIdSource, 'ipv4-address');
  t.equal(r.identity.ipv6, null);
  t.equal(r.identity.decisions.length, 1, 'no decision for a family set to none');
});

t.test('explicit name, router id, static IPv4 and autodetected IPv6', async (t) => {
  const r = await resolveNodeIdentity(
    {
      ...base,
      name: 'vms71',
      routerId: '10.255.0.71',
      ipv4: { address: '192.168.26.71', autodetectionMethod: 'first-found' },
      ipv6: { address: 'autodetect', autodetectionMethod: 'can-reach=2001:db8:30::1' },
    },
    deps(),
  );
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.identity.name, 'vms71');
  t.equal(r.identity.routerId, '10.255.0.71');
  t.equal(r.identity.routerIdSource, 'config');
  t.equal(r.identity.ipv4?.cidr, '192.168.26.71/24', 'prefix length from ens32');
  t.equal(r.identity.ipv6?.cidr, '2001:db8:30::71/64');
  t.same(
    r.identity.decisions.map((d) => d.method),
    ['static', 'can-reach=2001:db8:30::1'],
  );
});

t.test('failures are collected with the decisions', async (t) => {
  const r = await resolveNodeIdentity(
    {
      ...base,
      ipv4: { address: 'autodetect', autodetectionMethod: 'interface=wlan0' },
      ipv6: { address: 'autodetect', autodetectionMethod: 'cidr=2001:db8:99::/64' },
    },
    deps(),
  );
  t.notOk(r.ok);
  if (r.ok) return;
  t.equal(r.errors.length, 2, 'both families reported');
  t.match(r.errors[0], /node\.ipv4/);
  t.match(r.errors[1], /node\.ipv6/);
  t.equal(r.decisions.length, 2);
});

t.test('IPv6-only needs an explicit router id; 0.0.0.0 is refused', async (t) => {
  const v6only = {
    ...base,
    ipv4: { address: 'none', autodetectionMethod: 'first-found' },
    ipv6: { address: 'autodetect', autodetectionMethod: 'first-found' },
  };
  const r = await resolveNodeIdentity(v6only, deps());
  t.notOk(r.ok);
  if (!r.ok) t.match(r.errors.join('\n'), /routerId: required/);
  const r2 = await resolveNodeIdentity({ ...v6only, routerId: '10.0.0.71' }, deps());
  t.ok(r2.ok && r2.identity.ipv6?.cidr === '2001:db8:26::71/64' && r2.identity.ipv4 === null);
  const r3 = await resolveNodeIdentity({ ...base, routerId: '0.0.0.0' }, deps());
  t.notOk(r3.ok);
  if (!r3.ok) t.match(r3.errors.join('\n'), /RFC 6286/);
  const r4 = await resolveNodeIdentity(base, deps('  '));
  t.notOk(r4.ok, 'an empty host name with no NODENAME is an error');
});

t.test('logDecisions: an info line per family and a debug line per candidate', async (t) => {
  const { logDecisions } = await import('../../src/node/identity.js');
  const r = await resolveNodeIdentity(base, deps());
  t.ok(r.ok);
  if (!r.ok) return;
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  logDecisions(
    {
      info: (obj, msg) => lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
      debug: (obj, msg) => lines.push({ level: 'debug', obj: obj as Record<string, unknown>, msg }),
    },
    r.identity.decisions,
  );
  const info = lines.filter((l) => l.level === 'info');
  t.equal(info.length, 1);
  t.same(info[0].obj, {
    family: 'ipv4',
    method: 'interface=ens33',
    address: '192.168.30.71/24',
    interface: 'ens33',
  });
  t.equal(
    lines.length - 1,
    r.identity.decisions[0].candidates.length,
    'one debug line per candidate',
  );
  t.ok(
    lines.some((l) => l.obj.interface === 'ens32' && /matches none of ens33/.test(l.msg)),
    'says why ens32 was skipped',
  );
});
