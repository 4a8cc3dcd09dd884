// The mesh import pool filter, directly and through the RIB, with hijack attempts: a mesh peer
// announcing the default route, a node subnet, and a /24 outside every pool.
import t from 'tap';
import { parseV4Prefix } from '../../protocol/prefix.js';
import { compilePolicies } from '../../src/policy/compile.js';
import { compilePoolFilterDef, poolFilterReason } from '../../src/policy/pool-filter.js';
import type { PoolFilterDef } from '../../src/policy/types.js';
import { RecordingSink, announce, facts, makeRib } from '../rib/helpers.js';

// The seed topology: node subnets 192.168.26.0/24 and 192.168.30.0/24; a /16 pool with /26 blocks.
const def: PoolFilterDef = {
  pools: [
    { cidr: '10.244.0.0/16', blockSize: 26 },
    { cidr: 'fd00:10::/48', blockSize: 122 },
  ],
  nodeSubnets: ['192.168.26.71/24', '192.168.30.71/24'],
};

const key = (p: string): number | string => (p.includes(':') ? p : parseV4Prefix(p)!);
const afi = (p: string): 1 | 2 => (p.includes(':') ? 2 : 1);

t.test('pool filter verdicts', async (t) => {
  const f = compilePoolFilterDef(def);
  const cases: [string, string | null][] = [
    ['10.244.5.192/26', null], // a block: accepted
    ['10.244.5.200/32', null], // a borrowed /32 inside a pool: accepted (Calico)
    ['10.244.5.0/25', 'length /25 outside /26../32 of pool'], // wider than a block
    ['10.244.0.0/16', 'length /16 outside /26../32 of pool'], // the whole pool
    ['0.0.0.0/0', 'default route'],
    ['192.168.26.0/24', 'overlaps a node subnet'],
    ['192.168.30.72/32', 'overlaps a node subnet'],
    ['192.168.0.0/16', 'overlaps a node subnet'],
    ['203.0.113.0/24', 'outside every pool'],
    ['fd00:10::40/122', null],
    ['fd00:10::/64', 'length /64 outside /122../128 of pool'],
    ['::/0', 'default route'],
  ];
  for (const [p, reason] of cases) t.equal(poolFilterReason(f, afi(p), key(p)), reason, p);
  const open = compilePoolFilterDef({
    ...def,
    allowDefault: true,
    allowOutsidePools: true,
    allowNodeSubnets: true,
  });
  for (const p of ['0.0.0.0/0', '203.0.113.0/24', '192.168.26.0/24']) {
    t.equal(poolFilterReason(open, 1, key(p)), null, `${p} allowed when configured`);
  }
  t.throws(
    () => compilePoolFilterDef({ pools: [{ cidr: '10.244.0.0/16', blockSize: 8 }] }),
    /blockSize/,
  );
});

t.test('hijack attempts from a mesh peer never reach Loc-RIB or the kernel', async (t) => {
  const policies = compilePolicies({ poolFilters: { mesh: def } }, { localAsn: 65000 });
  const kernel = new Map<string, string[]>();
  const { rib } = makeRib({
    policies,
    onBestPathChanges: (cs) => {
      for (const c of cs) {
        if (c.withdrawn) kernel.delete(c.prefix);
        else kernel.set(c.prefix, c.nexthops);
      }
    },
  });
  const peer = rib.registerPeer({
    id: 'node2',
    address: '192.168.26.72',
    asn: 65000,
    localAsn: 65000,
    importPolicies: ['mesh'],
  });
  rib.established(peer, facts('192.168.26.72', '192.168.26.71'), new RecordingSink());
  const attrs = { origin: 0 as const, asPath: [], nextHop: '192.168.26.72', localPref: 100 };
  const r = rib.applyUpdate(
    peer,
    announce(['0.0.0.0/0', '192.168.26.0/24', '203.0.113.0/24', '10.244.9.0/26'], attrs),
  );
  t.same(r, { announced: 1, withdrawn: 0, rejected: 3 });
  t.same([...kernel.keys()], ['10.244.9.0/26'], 'only the pod block is installed');
  t.same(
    [...rib.locRib('ipv4-unicast')].map((e) => e.prefix),
    ['10.244.9.0/26'],
  );
});
