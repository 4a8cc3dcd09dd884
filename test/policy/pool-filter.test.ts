// The mesh import pool filter, directly and through the RIB, with hijack attempts: a mesh peer
// announcing the default route, a node subnet, and a /24 outside every pool.
import t from 'tap';
import { AsPath } from '../../protocol/as-path.js';
import { parseV4Prefix } from '../../protocol/prefix.js';
import { compilePolicies } from '../../src/policy/compile.js';
import fc from 'fast-check';
import { compilePoolFilterDef, poolFilterReason, rejectsV4 } from '../../src/policy/pool-filter.js';
import type { PoolFilterDef } from '../../src/policy/types.js';
import { RecordingSink, announce, facts, makeRib } from '../rib/helpers.js';
import { prefixText } from '../../src/rib/rib.js';

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
  const kernel = new Map<string, readonly string[]>();
  const { rib } = makeRib({
    policies,
    onBestPathChanges: (cs) => {
      for (const c of cs) {
        if (c.withdrawn) kernel.delete(prefixText(c.key));
        else kernel.set(prefixText(c.key), c.nexthops);
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
  const attrs = {
    origin: 0 as const,
    asPath: AsPath.EMPTY,
    nextHop: '192.168.26.72',
    localPref: 100,
  };
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

t.test('the IPv4 fast path agrees with the general verdict on random prefixes', async (t) => {
  const defs = [
    def,
    { ...def, allowDefault: true },
    { ...def, allowNodeSubnets: true, allowOutsidePools: true },
    { pools: [{ cidr: '0.0.0.0/1', blockSize: 24 }], nodeSubnets: ['10.0.0.5/8'] },
  ].map(compilePoolFilterDef);
  // Prefixes near the pools and subnets as well as anywhere, every length.
  const near = ['10.244.0.0', '10.244.255.255', '192.168.26.0', '0.0.0.0', '127.255.255.255'].map(
    (a) => Math.floor(parseV4Prefix(`${a}/32`)! / 64),
  );
  const address = fc.oneof(
    fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    fc
      .tuple(fc.constantFrom(...near), fc.integer({ min: -300, max: 300 }))
      .map(([a, d]) => Math.min(2 ** 32 - 1, Math.max(0, a + d))),
  );
  fc.assert(
    fc.property(address, fc.integer({ min: 0, max: 32 }), (addr, len) => {
      const size = 2 ** (32 - len);
      const key = Math.floor(addr / size) * size * 64 + len;
      for (const f of defs) {
        if (rejectsV4(f, key) !== (poolFilterReason(f, 1, key) !== null)) return false;
      }
      return true;
    }),
    { numRuns: 20000 },
  );
  t.pass('20,000 random prefixes: same verdict under four filter definitions');
});
