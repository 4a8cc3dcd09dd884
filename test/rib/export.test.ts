// Export side: route reflection rules (RFC 4456 §8), iBGP split horizon, eBGP rewrite
// (next-hop-self, prepend, no LOCAL_PREF), NO_EXPORT/NO_ADVERTISE, export policy communities,
// End-of-RIB, backpressure, MRAI batching, withdrawals never lost, ROUTE-REFRESH.
import t from 'tap';
import { AsPath } from '../../protocol/as-path.js';
import { WellKnownCommunity } from '../../protocol/constants.js';
import type { PathAttributes } from '../../protocol/types.js';
import { compilePolicies } from '../../src/policy/compile.js';
import { RecordingSink, announce, facts, makeRib, withdraw } from './helpers.js';

const path = (...asns: number[]): AsPath => AsPath.sequence(asns);

/** A reflector (AS 65000, router id 10.0.0.1, cluster 10.0.0.1) with 5 peers. */
function topology(extra: { rr?: boolean } = {}) {
  const rr = extra.rr ?? true;
  const { rib, timers } = makeRib({ clusterId: '10.0.0.1' });
  const mk = (id: string, n: number, asn: number, rrClient: boolean) => {
    const peer = rib.registerPeer({ id, address: `10.0.0.${n}`, asn, localAsn: 65000, rrClient });
    const sink = new RecordingSink();
    rib.established(peer, facts(`10.0.0.${n}`, '10.0.0.1'), sink);
    return { peer, sink };
  };
  const peers = {
    c1: mk('c1', 11, 65000, rr),
    c2: mk('c2', 12, 65000, rr),
    n1: mk('n1', 21, 65000, false),
    n2: mk('n2', 22, 65000, false),
    e: mk('e', 31, 65001, false),
  };
  for (const p of Object.values(peers)) p.sink.clear();
  return { rib, timers, peers };
}

const ibgpAttrs = (nh: string): PathAttributes => ({
  origin: 0,
  asPath: AsPath.EMPTY,
  nextHop: nh,
  localPref: 150,
});

t.test('RFC 4456 §8 reflection: which peers get a route from each kind of source', async (t) => {
  // Expected sets straight from RFC 4456 §8 and RFC 4271 §9.2.
  const cases: [string, string[]][] = [
    ['c1', ['c2', 'n1', 'n2', 'e']], // from a client: to all clients and non-clients
    ['n1', ['c1', 'c2', 'e']], // from a non-client: to clients only (and eBGP)
    ['e', ['c1', 'c2', 'n1', 'n2']], // from eBGP: to every internal peer
  ];
  for (const [src, receivers] of cases) {
    const { rib, peers } = topology();
    const s = peers[src as keyof typeof peers];
    const attrs =
      src === 'e'
        ? { origin: 0 as const, asPath: path(65001), nextHop: '10.0.0.31' }
        : ibgpAttrs(s.peer.id === 'c1' ? '10.0.0.11' : '10.0.0.21');
    rib.applyUpdate(s.peer, announce(['10.244.1.0/26'], attrs));
    const got = Object.entries(peers)
      .filter(([, p]) => p.sink.held().has('10.244.1.0/26'))
      .map(([n]) => n);
    t.same(got.sort(), receivers.sort(), `from ${src}`);
  }
});

t.test('without reflection, iBGP-learned routes go only to eBGP (split horizon)', async (t) => {
  const { rib, peers } = topology({ rr: false });
  rib.applyUpdate(peers.n1.peer, announce(['10.244.1.0/26'], ibgpAttrs('10.0.0.21')));
  const got = Object.entries(peers)
    .filter(([, p]) => p.sink.held().has('10.244.1.0/26'))
    .map(([n]) => n);
  t.same(got, ['e']);
});

t.test(
  'reflected routes carry ORIGINATOR_ID and CLUSTER_LIST and keep their next hop',
  async (t) => {
    const { rib, peers } = topology();
    rib.applyUpdate(peers.c1.peer, announce(['10.244.1.0/26'], ibgpAttrs('10.0.0.11')));
    const toN1 = peers.n1.sink.held().get('10.244.1.0/26')!;
    t.equal(toN1.originatorId, '10.0.0.11', 'the client router id (RFC 4456 §8)');
    t.same(toN1.clusterList, ['10.0.0.1'], 'our cluster id prepended');
    t.equal(toN1.nextHop, '10.0.0.11', 'next hop unchanged');
    t.equal(toN1.localPref, 150);
    // A route that already has them: ORIGINATOR_ID kept, cluster id prepended.
    rib.applyUpdate(
      peers.c2.peer,
      announce(['10.244.2.0/26'], {
        ...ibgpAttrs('10.0.0.99'),
        originatorId: '10.0.0.99',
        clusterList: ['10.9.9.9'],
      }),
    );
    const again = peers.n1.sink.held().get('10.244.2.0/26')!;
    t.equal(again.originatorId, '10.0.0.99');
    t.same(again.clusterList, ['10.0.0.1', '10.9.9.9']);
    t.notOk(peers.c1.sink.held().has('10.244.1.0/26'), 'never back to the client it came from');
  },
);

t.test(
  'toward eBGP: next-hop-self, own AS prepended, no LOCAL_PREF, no RR attributes, no MED',
  async (t) => {
    const { rib, peers } = topology();
    rib.applyUpdate(
      peers.c1.peer,
      announce(['10.244.1.0/26'], {
        ...ibgpAttrs('10.0.0.11'),
        asPath: path(64999),
        med: 7,
        originatorId: '10.0.0.50',
        clusterList: ['10.9.9.9'],
      }),
    );
    const out = peers.e.sink.held().get('10.244.1.0/26')!;
    t.same(out.asPath?.segments, [{ type: 2, asns: [65000, 64999] }]);
    t.equal(out.nextHop, '10.0.0.1');
    t.equal(out.localPref, undefined);
    t.equal(out.originatorId, undefined);
    t.equal(out.clusterList, undefined);
    t.equal(out.med, undefined, 'RFC 4271 §5.1.4: MED not passed to another AS');
  },
);

t.test(
  'own blocks: next-hop-self to everyone, empty AS_PATH to iBGP, prepended to eBGP',
  async (t) => {
    const { rib, peers } = topology();
    rib.originate('10.244.7.0/26');
    const n1 = peers.n1.sink.held().get('10.244.7.0/26')!;
    t.same(n1.asPath?.segments, []);
    t.equal(n1.nextHop, '10.0.0.1');
    t.equal(n1.localPref, 100);
    t.same(peers.e.sink.held().get('10.244.7.0/26')!.asPath?.segments, [
      { type: 2, asns: [65000] },
    ]);
    rib.withdrawOriginated('10.244.7.0/26');
    t.notOk(peers.n1.sink.held().has('10.244.7.0/26'));
    t.ok(peers.n1.sink.withdrawn().includes('10.244.7.0/26'));
  },
);

t.test('NO_EXPORT stays inside the AS; NO_ADVERTISE goes nowhere', async (t) => {
  const { rib, peers } = topology();
  rib.applyUpdate(
    peers.c1.peer,
    announce(['10.244.1.0/26'], {
      ...ibgpAttrs('10.0.0.11'),
      communities: [WellKnownCommunity.NO_EXPORT],
    }),
  );
  rib.applyUpdate(
    peers.c1.peer,
    announce(['10.244.2.0/26'], {
      ...ibgpAttrs('10.0.0.11'),
      communities: [WellKnownCommunity.NO_ADVERTISE],
    }),
  );
  t.notOk(peers.e.sink.held().has('10.244.1.0/26'), 'NO_EXPORT not to eBGP');
  t.ok(peers.n1.sink.held().has('10.244.1.0/26'), 'NO_EXPORT still to iBGP');
  for (const [n, p] of Object.entries(peers))
    t.notOk(p.sink.held().has('10.244.2.0/26'), `NO_ADVERTISE not to ${n}`);
});

t.test('iBGP next-hop-self applies to eBGP-learned routes, not to reflected ones', async (t) => {
  const { rib } = makeRib();
  const e = rib.registerPeer({ id: 'e', address: '192.0.2.1', asn: 65001, localAsn: 65000 });
  const c = rib.registerPeer({
    id: 'c',
    address: '10.0.0.5',
    asn: 65000,
    localAsn: 65000,
    rrClient: true,
  });
  const n = rib.registerPeer({
    id: 'n',
    address: '10.0.0.6',
    asn: 65000,
    localAsn: 65000,
    nextHopSelf: true,
  });
  const sink = new RecordingSink();
  rib.established(e, facts('192.0.2.1', '192.0.2.2'), new RecordingSink());
  rib.established(c, facts('10.0.0.5', '10.0.0.1'), new RecordingSink());
  rib.established(n, facts('10.0.0.6', '10.0.0.1'), sink);
  rib.applyUpdate(
    e,
    announce(['203.0.113.0/24'], { origin: 0, asPath: path(65001), nextHop: '192.0.2.1' }),
  );
  rib.applyUpdate(c, announce(['10.244.1.0/26'], ibgpAttrs('10.0.0.5')));
  t.equal(sink.held().get('203.0.113.0/24')!.nextHop, '10.0.0.1');
  t.equal(sink.held().get('10.244.1.0/26')!.nextHop, '10.0.0.5');
});

t.test('export policy attaches communities and prepends', async (t) => {
  const policies = compilePolicies(
    {
      policies: {
        tag: {
          terms: [
            {
              then: {
                addCommunities: ['65000:42'],
                addLargeCommunities: ['65000:1:2'],
                prepend: { count: 2 },
              },
            },
          ],
        },
      },
    },
    { localAsn: 65000 },
  );
  const { rib } = makeRib({ policies });
  const e = rib.registerPeer({
    id: 'e',
    address: '192.0.2.1',
    asn: 65001,
    localAsn: 65000,
    exportPolicies: ['tag'],
  });
  const sink = new RecordingSink();
  rib.established(e, facts('192.0.2.1', '192.0.2.2'), sink);
  rib.originate('10.244.7.0/26');
  const out = sink.held().get('10.244.7.0/26')!;
  t.same(out.communities, [65000 * 65536 + 42]);
  t.same(out.largeCommunities, [[65000, 1, 2]]);
  t.same(
    out.asPath?.segments,
    [{ type: 2, asns: [65000, 65000, 65000] }],
    'prepend on top of the eBGP prepend',
  );
});

t.test('initial table, then End-of-RIB per family', async (t) => {
  const { rib } = makeRib();
  rib.originate('10.244.7.0/26');
  rib.originate('fd00:10::/64');
  const p = rib.registerPeer({
    id: 'n',
    address: '10.0.0.6',
    asn: 65000,
    localAsn: 65000,
    localAddress: { ipv6: 'fd00::1' },
  });
  const sink = new RecordingSink();
  rib.established(p, facts('10.0.0.6', '10.0.0.1'), sink);
  const kinds = sink.updates.map((u) => `${u.kind}:${u.family}`);
  t.same(kinds, [
    'announce:ipv4-unicast',
    'announce:ipv6-unicast',
    'end-of-rib:ipv4-unicast',
    'end-of-rib:ipv6-unicast',
  ]);
  t.equal(sink.held().get('fd00:10::/64')!.nextHop, 'fd00::1');
});

t.test('backpressure: nothing beyond one chunk while the sink is full', async (t) => {
  const { rib } = makeRib({ chunkSize: 10 });
  for (let i = 0; i < 35; i++) rib.originate(`10.244.${i}.0/26`);
  const p = rib.registerPeer({ id: 'n', address: '10.0.0.6', asn: 65000, localAsn: 65000 });
  const sink = new RecordingSink();
  sink.writable = false;
  rib.established(p, facts('10.0.0.6', '10.0.0.1'), sink);
  t.equal(sink.announced().length, 10, 'one chunk, then it waits');
  rib.originate('10.245.0.0/26');
  t.equal(sink.announced().length, 10, 'new changes wait too (kept as state, not queued)');
  rib.sinkWritable(p);
  const n = sink.announced().length;
  t.ok(n > 10 && n <= 20, `at most one more chunk per writable signal (${n})`);
  sink.writable = true;
  rib.sinkWritable(p);
  t.equal(new Set(sink.announced()).size, 36, 'everything, once');
  t.equal(sink.updates.at(-1)!.kind, 'end-of-rib', 'End-of-RIB after the initial table');
});

t.test('withdrawals are never lost inside an MRAI batch', async (t) => {
  const { rib, timers } = makeRib();
  const src = rib.registerPeer({ id: 'e', address: '192.0.2.1', asn: 65001, localAsn: 65000 });
  const dst = rib.registerPeer({
    id: 'n',
    address: '10.0.0.6',
    asn: 65000,
    localAsn: 65000,
    mraiMs: 5000,
  });
  const sink = new RecordingSink();
  rib.established(src, facts('192.0.2.1', '192.0.2.2'), new RecordingSink());
  rib.established(dst, facts('10.0.0.6', '10.0.0.1'), sink);
  const a = { origin: 0 as const, asPath: path(65001), nextHop: '192.0.2.1' };
  rib.applyUpdate(src, announce(['203.0.113.0/24'], a));
  timers.advance(5000);
  t.ok(sink.held().has('203.0.113.0/24'), 'sent after the interval');
  sink.clear();
  // Inside one batch: withdraw, announce with new attributes, withdraw again.
  rib.applyUpdate(src, withdraw(['203.0.113.0/24']));
  rib.applyUpdate(src, announce(['203.0.113.0/24'], { ...a, med: 9 }));
  rib.applyUpdate(src, withdraw(['203.0.113.0/24']));
  // And a prefix announced then withdrawn that the peer never had.
  rib.applyUpdate(src, announce(['198.51.100.0/24'], a));
  rib.applyUpdate(src, withdraw(['198.51.100.0/24']));
  t.equal(sink.updates.length, 0, 'batched: nothing before the interval');
  timers.advance(5000);
  t.same(sink.withdrawn(), ['203.0.113.0/24'], 'the withdrawal goes out');
  t.same(sink.announced(), [], 'no stale announcement, nothing for the never-sent prefix');
});

t.test('announce + withdraw + announce in one batch sends the final state once', async (t) => {
  const { rib, timers } = makeRib();
  const src = rib.registerPeer({ id: 'e', address: '192.0.2.1', asn: 65001, localAsn: 65000 });
  const dst = rib.registerPeer({
    id: 'n',
    address: '10.0.0.6',
    asn: 65000,
    localAsn: 65000,
    mraiMs: 1000,
  });
  const sink = new RecordingSink();
  rib.established(src, facts('192.0.2.1', '192.0.2.2'), new RecordingSink());
  rib.established(dst, facts('10.0.0.6', '10.0.0.1'), sink);
  const a = { origin: 0 as const, asPath: path(65001), nextHop: '192.0.2.1' };
  rib.applyUpdate(src, announce(['203.0.113.0/24'], a));
  rib.applyUpdate(src, withdraw(['203.0.113.0/24']));
  rib.applyUpdate(src, announce(['203.0.113.0/24'], { ...a, med: 3 }));
  timers.advance(1000);
  t.same(sink.announced(), ['203.0.113.0/24']);
  t.same(sink.withdrawn(), []);
});

t.test('updates are grouped by attribute set', async (t) => {
  const { rib, timers } = makeRib();
  const src = rib.registerPeer({ id: 'e', address: '192.0.2.1', asn: 65001, localAsn: 65000 });
  const dst = rib.registerPeer({
    id: 'n',
    address: '10.0.0.6',
    asn: 65000,
    localAsn: 65000,
    mraiMs: 100,
  });
  const sink = new RecordingSink();
  rib.established(src, facts('192.0.2.1', '192.0.2.2'), new RecordingSink());
  rib.established(dst, facts('10.0.0.6', '10.0.0.1'), sink);
  sink.clear();
  const a = { origin: 0 as const, asPath: path(65001), nextHop: '192.0.2.1' };
  const b = { ...a, med: 5 };
  rib.applyUpdate(src, announce(['203.0.113.0/26'], a));
  rib.applyUpdate(src, announce(['203.0.113.64/26'], b));
  rib.applyUpdate(src, announce(['203.0.113.128/26'], { ...a }));
  rib.applyUpdate(src, announce(['203.0.113.192/26'], { ...b }));
  timers.advance(100);
  t.equal(sink.updates.length, 2, 'two attribute sets, two announcements');
  t.same(
    sink.updates.map((u) => (u.kind === 'announce' ? u.prefixes.length : 0)),
    [2, 2],
  );
});

t.test('ROUTE-REFRESH re-sends the Adj-RIB-Out', async (t) => {
  const { rib } = makeRib();
  rib.originate('10.244.7.0/26');
  rib.originate('10.244.8.0/26');
  const p = rib.registerPeer({ id: 'n', address: '10.0.0.6', asn: 65000, localAsn: 65000 });
  const sink = new RecordingSink();
  rib.established(p, facts('10.0.0.6', '10.0.0.1'), sink);
  sink.clear();
  rib.routeRefresh(p, 'ipv4-unicast');
  t.same(sink.announced().sort(), ['10.244.7.0/26', '10.244.8.0/26']);
  t.same([...rib.adjRibOut(p, 'ipv4-unicast')].map((r) => r.prefix).sort(), [
    '10.244.7.0/26',
    '10.244.8.0/26',
  ]);
});

t.test('ROUTE-REFRESH answered from the Adj-RIB-Out keeps pending changes', async (t) => {
  const { rib, timers } = makeRib();
  rib.originate('10.244.7.0/26');
  rib.originate('10.244.8.0/26');
  const p = rib.registerPeer({
    id: 'n',
    address: '10.0.0.6',
    asn: 65000,
    localAsn: 65000,
    mraiMs: 100,
  });
  const sink = new RecordingSink();
  rib.established(p, facts('10.0.0.6', '10.0.0.1'), sink);
  sink.clear();
  // Changes queued behind the MRAI timer when the refresh arrives.
  rib.originate('10.244.9.0/26');
  rib.withdrawOriginated('10.244.7.0/26');
  rib.routeRefresh(p, 'ipv4-unicast');
  timers.advance(100);
  t.same(sink.announced().sort(), ['10.244.8.0/26', '10.244.9.0/26'], 'held and new routes');
  t.same(sink.withdrawn(), ['10.244.7.0/26'], 'the withdrawal is not lost');
  t.same([...rib.adjRibOut(p, 'ipv4-unicast')].map((r) => r.prefix).sort(), [
    '10.244.8.0/26',
    '10.244.9.0/26',
  ]);
  t.equal(rib.advertisedCount(p, 'ipv4-unicast'), 2, 'the advertised count is the Adj-RIB-Out');
});

t.test('ADD-PATH send: outbound prefixes carry a path id', async (t) => {
  const { rib } = makeRib();
  rib.originate('10.244.7.0/26');
  const p = rib.registerPeer({ id: 'n', address: '10.0.0.6', asn: 65000, localAsn: 65000 });
  const sink = new RecordingSink();
  rib.established(
    p,
    facts('10.0.0.6', '10.0.0.1', { addPath: { 'ipv4-unicast': { receive: false, send: true } } }),
    sink,
  );
  const first = sink.updates[0];
  t.equal(first.kind, 'announce');
  if (first.kind === 'announce') t.same(Array.from(first.prefixes.pathIds ?? []), [1]);
});

t.test(
  'an export policy change (soft reset out) withdraws what the new policy rejects',
  async (t) => {
    const policies = compilePolicies(
      {
        policies: {
          all: { terms: [] },
          only7: {
            terms: [{ match: { prefixList: [{ prefix: '10.244.7.0/26' }] } }],
            defaultVerdict: 'reject',
          },
        },
      },
      { localAsn: 65000 },
    );
    const { rib } = makeRib({ policies });
    rib.originate('10.244.7.0/26');
    rib.originate('10.244.8.0/26');
    const cfg = {
      id: 'e',
      address: '192.0.2.1',
      asn: 65001,
      localAsn: 65000,
      exportPolicies: ['all'],
    };
    const p = rib.registerPeer(cfg);
    const sink = new RecordingSink();
    rib.established(p, facts('192.0.2.1', '192.0.2.2'), sink);
    t.same([...sink.held().keys()].sort(), ['10.244.7.0/26', '10.244.8.0/26']);
    rib.updatePeer(p, { ...cfg, exportPolicies: ['only7'] });
    t.same([...sink.held().keys()], ['10.244.7.0/26']);
    t.ok(sink.withdrawn().includes('10.244.8.0/26'));
  },
);

t.test('a non-transit eBGP peer receives our own blocks only', async (t) => {
  const { rib } = makeRib();
  const mk = (id: string, n: number, asn: number, transit?: boolean) => {
    const peer = rib.registerPeer({ id, address: `10.0.0.${n}`, asn, localAsn: 65000, transit });
    const sink = new RecordingSink();
    rib.established(peer, facts(`10.0.0.${n}`, '10.0.0.1'), sink);
    return { peer, sink };
  };
  const mesh = mk('mesh', 21, 65000);
  const tor = mk('tor', 31, 65001, false);
  const transitPeer = mk('transit', 32, 65002, true);
  rib.originate('10.244.9.0/26');
  rib.applyUpdate(mesh.peer, announce(['10.244.1.0/26'], ibgpAttrs('10.0.0.21')));
  t.same([...tor.sink.held().keys()], ['10.244.9.0/26'], 'own block only');
  t.same(
    [...transitPeer.sink.held().keys()].sort(),
    ['10.244.1.0/26', '10.244.9.0/26'],
    'a transit peer gets learned routes too',
  );
});
