// RIB behaviour through its session-facing API: import, loop detection, RFC 7606
// treat-as-withdraw, interning, next-hop eligibility, ECMP output, ADD-PATH receive, IPv6,
// max-prefix, graceful-restart helper (stale sweep), soft reset in.
import t from 'tap';
import { AsPath } from '../../protocol/as-path.js';
import type { BestPathChange, MaxPrefixEvent } from '../../src/rib/types.js';
import { prefixText } from '../../src/rib/rib.js';
import { compilePolicies } from '../../src/policy/compile.js';
import { RecordingSink, announce, facts, makeRib, withdraw } from './helpers.js';

/** A best-path change with its prefix as text, as the tests below write them. */
type TextChange =
  | { withdrawn: true; family: string; prefix: string }
  | { withdrawn: false; family: string; prefix: string; nexthops: string[]; local: boolean };

function asText(c: BestPathChange): TextChange {
  const prefix = prefixText(c.key);
  if (c.withdrawn) return { withdrawn: true, family: c.family, prefix };
  return { withdrawn: false, family: c.family, prefix, nexthops: [...c.nexthops], local: c.local };
}

const EBGP = { id: 'tor', address: '192.0.2.1', asn: 65001, localAsn: 65000 };
const IBGP = (n: number, extra = {}) => ({
  id: `node${n}`,
  address: `10.0.0.${n}`,
  asn: 65000,
  localAsn: 65000,
  ...extra,
});
const path = (...asns: number[]): AsPath => AsPath.sequence(asns);

function bestPeer(
  rib: ReturnType<typeof makeRib>['rib'],
  prefix: string,
  family: 'ipv4-unicast' | 'ipv6-unicast' = 'ipv4-unicast',
): string | null {
  for (const e of rib.locRib(family)) if (e.prefix === prefix) return e.best?.peer ?? null;
  return null;
}

t.test('an announcement reaches Loc-RIB; a withdrawal removes it', async (t) => {
  const { rib } = makeRib();
  const p = rib.registerPeer(EBGP);
  rib.established(p, facts('192.0.2.1', '192.0.2.2'), new RecordingSink());
  const r = rib.applyUpdate(
    p,
    announce(['203.0.113.0/24'], { origin: 0, asPath: path(65001), nextHop: '192.0.2.1' }),
  );
  t.same(r, { announced: 1, withdrawn: 0, rejected: 0 });
  t.equal(bestPeer(rib, '203.0.113.0/24'), 'tor');
  t.same(rib.applyUpdate(p, withdraw(['203.0.113.0/24'])), {
    announced: 0,
    withdrawn: 1,
    rejected: 0,
  });
  t.equal([...rib.locRib('ipv4-unicast')].length, 0);
});

t.test('loop detection: own AS in AS_PATH is rejected and implicitly withdraws', async (t) => {
  const { rib } = makeRib();
  const p = rib.registerPeer(EBGP);
  rib.established(p, facts('192.0.2.1', '192.0.2.2'), new RecordingSink());
  rib.applyUpdate(
    p,
    announce(['203.0.113.0/24'], { origin: 0, asPath: path(65001), nextHop: '192.0.2.1' }),
  );
  const r = rib.applyUpdate(
    p,
    announce(['203.0.113.0/24', '198.51.100.0/24'], {
      origin: 0,
      asPath: path(65001, 65000, 3),
      nextHop: '192.0.2.1',
    }),
  );
  t.equal(r.rejected, 2, 'both prefixes rejected (RFC 4271 §9.1.2)');
  t.equal(
    [...rib.locRib('ipv4-unicast')].length,
    0,
    'the earlier route for the same prefix is gone',
  );
});

t.test('loop detection with a per-peer local AS: both our ASes are checked', async (t) => {
  const { rib } = makeRib();
  // This session speaks as AS 65100; the node's own AS is still 65000.
  const p = rib.registerPeer({ ...EBGP, localAsn: 65100 });
  rib.established(p, facts('192.0.2.1', '192.0.2.2'), new RecordingSink());
  const send = (prefix: string, ...asns: number[]) =>
    rib.applyUpdate(
      p,
      announce([prefix], { origin: 0, asPath: path(...asns), nextHop: '192.0.2.1' }),
    ).rejected;
  t.equal(send('203.0.113.0/24', 65001, 65100), 1, "the session's local AS");
  t.equal(send('198.51.100.0/24', 65001, 65000), 1, "the node's AS");
  t.equal(send('192.0.2.0/24', 65001, 7), 0, 'neither: accepted');
  t.same(
    [...rib.locRib('ipv4-unicast')].map((r) => r.prefix),
    ['192.0.2.0/24'],
  );
});

t.test('RR loop detection: our ORIGINATOR_ID or our cluster id in CLUSTER_LIST', async (t) => {
  const { rib } = makeRib({ clusterId: '1.1.1.1' });
  const p = rib.registerPeer(IBGP(2));
  rib.established(p, facts('10.0.0.2', '10.0.0.1'), new RecordingSink());
  const base = { origin: 0 as const, asPath: AsPath.EMPTY, nextHop: '10.0.0.2', localPref: 100 };
  t.equal(
    rib.applyUpdate(p, announce(['10.244.1.0/26'], { ...base, originatorId: '10.0.0.1' })).rejected,
    1,
  );
  t.equal(
    rib.applyUpdate(
      p,
      announce(['10.244.2.0/26'], { ...base, clusterList: ['2.2.2.2', '1.1.1.1'] }),
    ).rejected,
    1,
  );
  t.equal(
    rib.applyUpdate(p, announce(['10.244.3.0/26'], { ...base, clusterList: ['2.2.2.2'] }))
      .announced,
    1,
  );
});

t.test('RFC 7606 treat-as-withdraw withdraws every prefix of the UPDATE', async (t) => {
  const { rib } = makeRib();
  const p = rib.registerPeer(EBGP);
  rib.established(p, facts('192.0.2.1', '192.0.2.2'), new RecordingSink());
  const attrs = { origin: 0 as const, asPath: path(65001), nextHop: '192.0.2.1' };
  rib.applyUpdate(p, announce(['203.0.113.0/24', '198.51.100.0/24'], attrs));
  const bad = { ...announce(['203.0.113.0/24', '198.51.100.0/24'], attrs), treatAsWithdraw: true };
  const r = rib.applyUpdate(p, bad);
  t.equal(r.withdrawn, 2);
  t.equal(r.announced, 0);
  t.equal([...rib.locRib('ipv4-unicast')].length, 0);
});

t.test(
  'interning: one set for all prefixes of an UPDATE and for equal sets of other UPDATEs',
  async (t) => {
    const { rib } = makeRib();
    const p = rib.registerPeer(EBGP);
    rib.established(p, facts('192.0.2.1', '192.0.2.2'), new RecordingSink());
    const attrs = {
      origin: 0 as const,
      asPath: path(65001, 7),
      nextHop: '192.0.2.1',
      communities: [1, 2],
    };
    rib.applyUpdate(p, announce(['203.0.113.0/24', '198.51.100.0/24'], { ...attrs }));
    rib.applyUpdate(p, announce(['192.0.2.0/25'], { ...attrs, communities: [1, 2] }));
    t.equal(rib.stats().attributeSets, 1);
    const sets = [...rib.adjRibIn(p, 'ipv4-unicast')].map((r) => r.attributes);
    t.equal(sets.length, 3);
    t.ok(sets[0] === sets[1] && sets[1] === sets[2], 'the very same object');
    rib.applyUpdate(p, announce(['192.0.2.0/25'], { ...attrs, med: 5 }));
    t.equal(rib.stats().attributeSets, 2);
    rib.applyUpdate(p, withdraw(['203.0.113.0/24', '198.51.100.0/24']));
    t.equal(rib.stats().attributeSets, 1, 'an unused set is released');
  },
);

t.test(
  'next hop reachability: unreachable routes are ineligible until the resolver says so',
  async (t) => {
    const reachable = new Set(['10.0.0.3']);
    const changes: TextChange[] = [];
    const { rib } = makeRib({
      resolveNextHop: (nh) => reachable.has(nh),
      onBestPathChanges: (c) => changes.push(...[...c].map(asText)),
    });
    const a = rib.registerPeer(IBGP(2));
    const b = rib.registerPeer(IBGP(3));
    rib.established(a, facts('10.0.0.2', '10.0.0.1'), new RecordingSink());
    rib.established(b, facts('10.0.0.3', '10.0.0.1'), new RecordingSink());
    const attrs = (nh: string, lp: number) => ({
      origin: 0 as const,
      asPath: AsPath.EMPTY,
      nextHop: nh,
      localPref: lp,
    });
    rib.applyUpdate(a, announce(['10.244.1.0/26'], attrs('10.0.0.2', 300)));
    rib.applyUpdate(b, announce(['10.244.1.0/26'], attrs('10.0.0.3', 100)));
    t.equal(bestPeer(rib, '10.244.1.0/26'), 'node3', 'higher LOCAL_PREF route is ineligible');
    reachable.add('10.0.0.2');
    changes.length = 0;
    rib.nextHopsChanged();
    t.equal(bestPeer(rib, '10.244.1.0/26'), 'node2');
    t.same(changes, [
      {
        withdrawn: false,
        family: 'ipv4-unicast',
        prefix: '10.244.1.0/26',
        nexthops: ['10.0.0.2'],
        local: false,
      },
    ]);
  },
);

t.test('best-path changes carry the ECMP next hops and withdrawals', async (t) => {
  const changes: TextChange[] = [];
  const { rib } = makeRib({
    maxPaths: 8,
    onBestPathChanges: (c) => changes.push(...[...c].map(asText)),
  });
  const a = rib.registerPeer(IBGP(2));
  const b = rib.registerPeer(IBGP(3));
  rib.established(a, facts('10.0.0.2', '10.0.0.1'), new RecordingSink());
  rib.established(b, facts('10.0.0.3', '10.0.0.1'), new RecordingSink());
  const attrs = (nh: string) => ({
    origin: 0 as const,
    asPath: AsPath.EMPTY,
    nextHop: nh,
    localPref: 100,
  });
  rib.applyUpdate(a, announce(['10.244.9.0/26'], attrs('10.0.0.2')));
  rib.applyUpdate(b, announce(['10.244.9.0/26'], attrs('10.0.0.3')));
  t.same(changes.at(-1), {
    withdrawn: false,
    family: 'ipv4-unicast',
    prefix: '10.244.9.0/26',
    nexthops: ['10.0.0.2', '10.0.0.3'],
    local: false,
  });
  rib.applyUpdate(a, withdraw(['10.244.9.0/26']));
  t.same(changes.at(-1)!.withdrawn ? null : (changes.at(-1) as { nexthops: string[] }).nexthops, [
    '10.0.0.3',
  ]);
  rib.applyUpdate(b, withdraw(['10.244.9.0/26']));
  t.same(changes.at(-1), { withdrawn: true, family: 'ipv4-unicast', prefix: '10.244.9.0/26' });
  rib.originate('10.244.7.0/26');
  t.same(changes.at(-1), {
    withdrawn: false,
    family: 'ipv4-unicast',
    prefix: '10.244.7.0/26',
    nexthops: [],
    local: true,
  });
});

t.test('ADD-PATH receive: path ids are separate routes of one prefix', async (t) => {
  const { rib } = makeRib();
  const p = rib.registerPeer(IBGP(2, { rrClient: false }));
  rib.established(
    p,
    facts('10.0.0.2', '10.0.0.1', { addPath: { 'ipv4-unicast': { receive: true, send: false } } }),
    new RecordingSink(),
  );
  rib.applyUpdate(
    p,
    announce(
      ['10.244.1.0/26', '10.244.1.0/26'],
      { origin: 0, asPath: AsPath.EMPTY, nextHop: '10.0.0.5', localPref: 100 },
      [1, 2],
    ),
  );
  t.equal(rib.routeCount(p, 'ipv4-unicast'), 2);
  const [entry] = [...rib.locRib('ipv4-unicast')];
  t.same(entry.candidates.map((c) => c.pathId).sort(), [1, 2]);
  t.equal(entry.best!.pathId, 1, 'lower path id breaks the last tie');
  rib.applyUpdate(p, withdraw(['10.244.1.0/26'], [1]));
  t.equal([...rib.locRib('ipv4-unicast')][0].best!.pathId, 2);
});

t.test('IPv6 unicast through MP_REACH / MP_UNREACH', async (t) => {
  const { rib } = makeRib();
  const p = rib.registerPeer({ ...EBGP, address: '2001:db8::1' });
  rib.established(p, facts('192.0.2.1', '2001:db8::2'), new RecordingSink());
  rib.applyUpdate(
    p,
    announce(['2001:db8:100::/48'], { origin: 0, asPath: path(65001), nextHop: '2001:db8::1' }),
  );
  const [e] = [...rib.locRib('ipv6-unicast')];
  t.equal(e.prefix, '2001:db8:100::/48');
  t.same(e.nexthops, ['2001:db8::1']);
  rib.applyUpdate(p, withdraw(['2001:db8:100::/48']));
  t.equal([...rib.locRib('ipv6-unicast')].length, 0);
});

t.test('session loss and the stale sweep take the routes of one peer, both families', async (t) => {
  // Two eBGP peers, IPv4 and IPv6, announcing interleaved so their routes lie mixed in the
  // route store; some prefixes from both. Peer a's losses must leave exactly peer b's routes.
  const { rib } = makeRib();
  const gr = {
    gracefulRestart: {
      restartTimeS: 120,
      families: {
        'ipv4-unicast': { forwarding: true },
        'ipv6-unicast': { forwarding: true },
      },
    },
  };
  const a = rib.registerPeer({ ...EBGP, id: 'a', address: '192.0.2.1', asn: 65001 });
  const b = rib.registerPeer({ ...EBGP, id: 'b', address: '192.0.2.3', asn: 65002 });
  rib.established(a, facts('192.0.2.1', '192.0.2.2', gr), new RecordingSink());
  rib.established(b, facts('192.0.2.3', '192.0.2.2', gr), new RecordingSink());
  const from = (asn: number, nh: string) => ({
    origin: 0 as const,
    asPath: path(asn),
    nextHop: nh,
  });
  const A4 = ['10.244.1.0/26', '10.244.2.0/26', '10.244.3.0/26'];
  const A6 = ['2001:db8:1::/48', '2001:db8:2::/48', '2001:db8:3::/48'];
  const B4 = ['10.244.2.0/26', '10.244.9.0/26'];
  const B6 = ['2001:db8:2::/48', '2001:db8:9::/48'];
  for (let i = 0; i < 3; i++) {
    rib.applyUpdate(a, announce([A6[i]], from(65001, '2001:db8::1')));
    if (i < 2) rib.applyUpdate(b, announce([B4[i]], from(65002, '192.0.2.3')));
    rib.applyUpdate(a, announce([A4[i]], from(65001, '192.0.2.1')));
    if (i < 2) rib.applyUpdate(b, announce([B6[i]], from(65002, '2001:db8::3')));
  }
  const loc = (family: 'ipv4-unicast' | 'ipv6-unicast') =>
    [...rib.locRib(family)].map((e) => `${e.prefix} ${e.candidates.map((c) => c.peer).join()}`);
  const onlyB = {
    v4: ['10.244.2.0/26 b', '10.244.9.0/26 b'],
    v6: ['2001:db8:2::/48 b', '2001:db8:9::/48 b'],
  };

  // Graceful: both families kept and stale; a's End-of-RIB per family sweeps that family only.
  rib.peerDown(a, { graceful: true });
  t.equal(rib.staleCount(a, 'ipv4-unicast'), 3, 'IPv4 marked stale');
  t.equal(rib.staleCount(a, 'ipv6-unicast'), 3, 'IPv6 marked stale');
  t.equal(rib.staleCount(b, 'ipv6-unicast'), 0, "the other peer's routes are not");
  rib.established(a, facts('192.0.2.1', '192.0.2.2', gr), new RecordingSink());
  rib.applyUpdate(a, announce([A6[0]], from(65001, '2001:db8::1')));
  rib.endOfRib(a, 'ipv6-unicast');
  t.same(loc('ipv6-unicast').sort(), ['2001:db8:1::/48 a', ...onlyB.v6].sort(), 'IPv6 swept');
  t.equal(rib.staleCount(a, 'ipv4-unicast'), 3, 'IPv4 still stale');
  rib.endOfRib(a, 'ipv4-unicast');
  t.same(loc('ipv4-unicast').sort(), [...onlyB.v4].sort(), 'IPv4 swept');

  // Not graceful: everything of a goes at once, in both families.
  for (const p of A4) rib.applyUpdate(a, announce([p], from(65001, '192.0.2.1')));
  rib.peerDown(a, { graceful: false });
  t.same(loc('ipv4-unicast').sort(), onlyB.v4, 'IPv4: only b is left');
  t.same(loc('ipv6-unicast').sort(), onlyB.v6, 'IPv6: only b is left');
  t.equal(rib.routeCount(a, 'ipv4-unicast') + rib.routeCount(a, 'ipv6-unicast'), 0);
  t.equal(rib.routeCount(b, 'ipv4-unicast') + rib.routeCount(b, 'ipv6-unicast'), 4);
});

t.test(
  'max-prefix: the event carries the count; routes beyond the limit are refused',
  async (t) => {
    const events: MaxPrefixEvent[] = [];
    const { rib } = makeRib({ onMaxPrefix: (e) => events.push(e) });
    const p = rib.registerPeer({ ...EBGP, maxPrefixes: { 'ipv4-unicast': 3 } });
    rib.established(p, facts('192.0.2.1', '192.0.2.2'), new RecordingSink());
    const attrs = { origin: 0 as const, asPath: path(65001), nextHop: '192.0.2.1' };
    rib.applyUpdate(p, announce(['203.0.113.0/26', '203.0.113.64/26', '203.0.113.128/26'], attrs));
    t.equal(events.length, 0, 'at the limit: no event');
    rib.applyUpdate(p, announce(['203.0.113.192/26', '198.51.100.0/24'], attrs));
    t.same(
      events,
      [{ peer: 'tor', family: 'ipv4-unicast', count: 4, limit: 3 }],
      'signalled once, with the count',
    );
    t.equal(rib.routeCount(p, 'ipv4-unicast'), 3);
    rib.applyUpdate(p, announce(['203.0.113.0/26'], { ...attrs, med: 1 }));
    t.equal(
      rib.routeCount(p, 'ipv4-unicast'),
      3,
      'replacing an existing route is not a new prefix',
    );
  },
);

t.test('graceful restart helper: stale routes swept on End-of-RIB', async (t) => {
  const { rib, timers } = makeRib();
  const p = rib.registerPeer(IBGP(2));
  const gr = {
    gracefulRestart: { restartTimeS: 120, families: { 'ipv4-unicast': { forwarding: true } } },
  };
  rib.established(p, facts('10.0.0.2', '10.0.0.1', gr), new RecordingSink());
  const attrs = { origin: 0 as const, asPath: AsPath.EMPTY, nextHop: '10.0.0.2', localPref: 100 };
  rib.applyUpdate(p, announce(['10.244.1.0/26', '10.244.2.0/26'], attrs));
  rib.peerDown(p, { graceful: true });
  const held = [...rib.adjRibIn(p, 'ipv4-unicast')];
  t.equal(held.length, 2, 'kept across the restart (RFC 4724 §4.2)');
  t.ok(
    held.every((r) => r.stale),
    'marked stale',
  );
  t.equal(rib.staleCount(p, 'ipv4-unicast'), 2, 'the stale count follows the flags');
  t.equal(bestPeer(rib, '10.244.1.0/26'), 'node2', 'still used for forwarding');
  timers.advance(60_000);
  rib.established(p, facts('10.0.0.2', '10.0.0.1', gr), new RecordingSink());
  rib.applyUpdate(p, announce(['10.244.1.0/26'], attrs));
  t.notOk(
    [...rib.adjRibIn(p, 'ipv4-unicast')].find((r) => r.prefix === '10.244.1.0/26')!.stale,
    're-announced: fresh',
  );
  t.equal(rib.staleCount(p, 'ipv4-unicast'), 1, 'one left stale');
  rib.endOfRib(p, 'ipv4-unicast');
  t.equal(rib.staleCount(p, 'ipv4-unicast'), 0, 'none after the sweep');
  t.same(
    [...rib.adjRibIn(p, 'ipv4-unicast')].map((r) => r.prefix),
    ['10.244.1.0/26'],
    'the stale one is swept',
  );
  timers.advance(1_000_000);
  t.equal(rib.routeCount(p, 'ipv4-unicast'), 1, 'no timer sweeps fresh routes later');
});

t.test('graceful restart helper: restart time passes without the peer', async (t) => {
  const { rib, timers } = makeRib();
  const p = rib.registerPeer(IBGP(2));
  const gr = {
    gracefulRestart: { restartTimeS: 120, families: { 'ipv4-unicast': { forwarding: true } } },
  };
  rib.established(p, facts('10.0.0.2', '10.0.0.1', gr), new RecordingSink());
  rib.applyUpdate(
    p,
    announce(['10.244.1.0/26'], {
      origin: 0,
      asPath: AsPath.EMPTY,
      nextHop: '10.0.0.2',
      localPref: 100,
    }),
  );
  rib.peerDown(p, { graceful: true });
  timers.advance(119_000);
  t.equal(rib.routeCount(p, 'ipv4-unicast'), 1, 'kept within the restart time');
  timers.advance(2_000);
  t.equal(rib.routeCount(p, 'ipv4-unicast'), 0, 'swept when it passes');
});

t.test(
  'graceful restart helper: a stale family without the F bit is deleted on re-establishment',
  async (t) => {
    const { rib } = makeRib();
    const p = rib.registerPeer(IBGP(2));
    const gr = (forwarding: boolean) => ({
      gracefulRestart: { restartTimeS: 120, families: { 'ipv4-unicast': { forwarding } } },
    });
    rib.established(p, facts('10.0.0.2', '10.0.0.1', gr(true)), new RecordingSink());
    rib.applyUpdate(
      p,
      announce(['10.244.1.0/26'], {
        origin: 0,
        asPath: AsPath.EMPTY,
        nextHop: '10.0.0.2',
        localPref: 100,
      }),
    );
    rib.peerDown(p, { graceful: true });
    rib.established(p, facts('10.0.0.2', '10.0.0.1', gr(false)), new RecordingSink());
    t.equal(rib.routeCount(p, 'ipv4-unicast'), 0);
  },
);

t.test('graceful restart helper: stale timer sweeps when End-of-RIB never comes', async (t) => {
  const { rib, timers } = makeRib();
  const p = rib.registerPeer(IBGP(2, { staleTimeS: 30 }));
  const gr = {
    gracefulRestart: { restartTimeS: 120, families: { 'ipv4-unicast': { forwarding: true } } },
  };
  rib.established(p, facts('10.0.0.2', '10.0.0.1', gr), new RecordingSink());
  rib.applyUpdate(
    p,
    announce(['10.244.1.0/26'], {
      origin: 0,
      asPath: AsPath.EMPTY,
      nextHop: '10.0.0.2',
      localPref: 100,
    }),
  );
  rib.peerDown(p, { graceful: true });
  rib.established(p, facts('10.0.0.2', '10.0.0.1', gr), new RecordingSink());
  timers.advance(29_000);
  t.equal(rib.routeCount(p, 'ipv4-unicast'), 1);
  timers.advance(2_000);
  t.equal(rib.routeCount(p, 'ipv4-unicast'), 0);
});

t.test('non-graceful session loss removes the routes at once', async (t) => {
  const { rib } = makeRib();
  const p = rib.registerPeer(IBGP(2));
  const gr = {
    gracefulRestart: { restartTimeS: 120, families: { 'ipv4-unicast': { forwarding: true } } },
  };
  rib.established(p, facts('10.0.0.2', '10.0.0.1', gr), new RecordingSink());
  rib.applyUpdate(
    p,
    announce(['10.244.1.0/26'], {
      origin: 0,
      asPath: AsPath.EMPTY,
      nextHop: '10.0.0.2',
      localPref: 100,
    }),
  );
  rib.peerDown(p, { graceful: false });
  t.equal(rib.routeCount(p, 'ipv4-unicast'), 0);
});

t.test('soft reset in re-runs import policy over kept pre-policy routes', async (t) => {
  const policies = compilePolicies(
    {
      policies: {
        lp200: {
          terms: [
            { match: { prefixList: [{ prefix: '203.0.113.0/24' }] }, then: { localPref: 200 } },
          ],
        },
        dropAll: { terms: [], defaultVerdict: 'reject' },
      },
    },
    { localAsn: 65000 },
  );
  const { rib } = makeRib({ policies });
  const cfg = { ...EBGP, keepPrePolicy: true, importPolicies: ['dropAll'] };
  const p = rib.registerPeer(cfg);
  rib.established(p, facts('192.0.2.1', '192.0.2.2'), new RecordingSink());
  rib.applyUpdate(
    p,
    announce(['203.0.113.0/24', '198.51.100.0/24'], {
      origin: 0,
      asPath: path(65001),
      nextHop: '192.0.2.1',
    }),
  );
  t.equal(rib.routeCount(p, 'ipv4-unicast'), 0, 'rejected by import policy');
  t.equal([...rib.adjRibIn(p, 'ipv4-unicast', true)].length, 2, 'kept pre-policy');
  rib.updatePeer(p, { ...cfg, importPolicies: ['lp200'] });
  const routes = [...rib.adjRibIn(p, 'ipv4-unicast')];
  t.equal(routes.length, 2, 'accepted after soft reset in, without a new UPDATE');
  t.equal(routes.find((r) => r.prefix === '203.0.113.0/24')!.attributes.localPref, 200);
  t.equal(routes.find((r) => r.prefix === '198.51.100.0/24')!.attributes.localPref, undefined);
  // Pre-policy is what the peer sent, whatever policy made of it.
  const pre = [...rib.adjRibIn(p, 'ipv4-unicast', true)];
  t.same(pre.map((r) => r.prefix).sort(), ['198.51.100.0/24', '203.0.113.0/24']);
  t.ok(
    pre.every((r) => r.attributes.localPref === undefined),
    'the pre-policy view keeps the received attributes, not the LOCAL_PREF policy set',
  );
  t.equal(rib.receivedCount(p, 'ipv4-unicast'), 2);
  // And back: rejecting again keeps both as received, then a withdrawal forgets one.
  rib.updatePeer(p, { ...cfg, importPolicies: ['dropAll'] });
  t.equal(rib.routeCount(p, 'ipv4-unicast'), 0, 'rejected again after the second soft reset');
  t.equal(rib.receivedCount(p, 'ipv4-unicast'), 2, 'received counts rejected routes too');
  rib.applyUpdate(p, withdraw(['203.0.113.0/24']));
  t.equal(rib.receivedCount(p, 'ipv4-unicast'), 1, 'a withdrawal forgets the rejected copy');
  t.same(
    [...rib.adjRibIn(p, 'ipv4-unicast', true)].map((r) => r.prefix),
    ['198.51.100.0/24'],
  );
  rib.peerDown(p, { graceful: false });
  t.equal(rib.receivedCount(p, 'ipv4-unicast'), 0);
  t.equal(rib.stats().attributeSets, 0, 'no attribute set is left referenced');
  const q = rib.registerPeer({ ...EBGP, id: 'other', address: '192.0.2.9' });
  t.equal(rib.softResetIn(q), false, 'without kept routes the session must send ROUTE-REFRESH');
});

t.test('each route carries when it was learned or last changed', async (t) => {
  let clock = 1_700_000_000_000;
  const { rib } = makeRib({ now: () => clock });
  const p = rib.registerPeer(IBGP(2));
  rib.established(p, facts('10.0.0.2', '10.0.0.1'), new RecordingSink());
  const attrs = (lp: number) => ({
    origin: 0 as const,
    asPath: AsPath.EMPTY,
    nextHop: '10.0.0.2',
    localPref: lp,
  });
  const learnedAt = (prefix: string): number =>
    [...rib.adjRibIn(p, 'ipv4-unicast')].find((r) => r.prefix === prefix)!.learnedAt;
  rib.applyUpdate(p, announce(['10.244.1.0/26', '10.244.2.0/26'], attrs(100)));
  t.equal(learnedAt('10.244.1.0/26'), 1_700_000_000_000);
  clock += 42_400;
  rib.applyUpdate(p, announce(['10.244.1.0/26'], attrs(100)));
  t.equal(learnedAt('10.244.1.0/26'), 1_700_000_000_000, 'the same route again keeps its time');
  rib.applyUpdate(p, announce(['10.244.1.0/26'], attrs(200)));
  t.equal(
    learnedAt('10.244.1.0/26'),
    1_700_000_042_000,
    'changed attributes: a new time (whole seconds)',
  );
  t.equal(learnedAt('10.244.2.0/26'), 1_700_000_000_000, 'the untouched route keeps its time');
});
