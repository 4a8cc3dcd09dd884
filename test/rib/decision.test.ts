// Table tests for compareRoutes (one row per RFC 4271 §9.1.2.2 step and each tie), the
// order-independent selection, eligibility and the ECMP set.
import t from 'tap';
import { AsPath } from '../../protocol/as-path.js';
import { parseIpv4 } from '../../protocol/prefix.js';
import type { AsPathSegment, PathAttributes } from '../../protocol/types.js';
import { AttrTable } from '../../src/rib/attrs.js';
import {
  BEST,
  MULTIPATH,
  Route,
  compareRoutes,
  selectBest,
  type DecisionOptions,
  type RouteSource,
} from '../../src/rib/decision.js';
import { addressSortKey } from '../../src/rib/peer.js';

const table = new AttrTable(() => true);
const opts: DecisionOptions = { alwaysCompareMed: false, maxPaths: 8 };

interface Spec {
  lp?: number;
  path?: AsPathSegment[];
  origin?: 0 | 1 | 2;
  med?: number;
  ebgp?: boolean;
  routerId?: string;
  originatorId?: string;
  clusterList?: string[];
  address?: string;
  pathId?: number;
  nextHop?: string;
  reachable?: boolean;
}

const seq = (...asns: number[]): AsPathSegment => ({ type: 2, asns });
const set = (...asns: number[]): AsPathSegment => ({ type: 1, asns });

function route(s: Spec): Route {
  const a: PathAttributes = {
    origin: s.origin ?? 0,
    asPath: AsPath.of(s.path ?? [seq(65001)]),
    nextHop: s.nextHop ?? '192.0.2.1',
  };
  if (s.lp !== undefined) a.localPref = s.lp;
  if (s.med !== undefined) a.med = s.med;
  if (s.originatorId) a.originatorId = s.originatorId;
  if (s.clusterList) a.clusterList = s.clusterList;
  const attrs = table.intern(1, a);
  attrs.reachable = s.reachable ?? true;
  const source: RouteSource = {
    ebgp: s.ebgp ?? true,
    local: false,
    routerIdNum: parseIpv4(s.routerId ?? '1.1.1.1')!,
    addressKey: addressSortKey(s.address ?? '192.0.2.1'),
  };
  return new Route(source, s.pathId ?? 0, attrs, null, 0);
}

// Each row: a, b, the step that must decide (0 = full tie), and whether a wins. Expectations
// come from the RFC text for that step, not from running the code.
const rows: [string, Spec, Spec, number, boolean][] = [
  ['1: higher LOCAL_PREF wins', { lp: 200 }, { lp: 100 }, 1, true],
  ['1: absent LOCAL_PREF counts as 100', { lp: 99 }, {}, 1, false],
  [
    '1 tie -> 2: shorter AS_PATH wins',
    { lp: 100, path: [seq(1)] },
    { lp: 100, path: [seq(1, 2)] },
    2,
    true,
  ],
  ['2: an AS_SET counts 1', { path: [seq(1), set(2, 3, 4)] }, { path: [seq(1, 2, 3)] }, 2, true],
  [
    '2: confederation segments count 0',
    { path: [{ type: 3, asns: [9, 9, 9] }, seq(1, 2)] },
    { path: [seq(1, 2, 3)] },
    2,
    true,
  ],
  [
    '2 tie (set = 1 ASN) -> 3: lower ORIGIN',
    { path: [seq(1), set(2, 3)], origin: 1 },
    { path: [seq(1, 2)], origin: 0 },
    3,
    false,
  ],
  ['3: IGP beats INCOMPLETE', { origin: 0 }, { origin: 2 }, 3, true],
  ['3: EGP beats INCOMPLETE', { origin: 1 }, { origin: 2 }, 3, true],
  [
    '4: lower MED, same neighbour AS',
    { path: [seq(7, 1)], med: 5 },
    { path: [seq(7, 2)], med: 10 },
    4,
    true,
  ],
  ['4: missing MED is 0, beats 10', {}, { med: 10 }, 4, true],
  [
    '4 skipped across neighbour ASes -> 6 decides',
    { path: [seq(7)], med: 50, routerId: '1.0.0.1' },
    { path: [seq(8)], med: 1, routerId: '1.0.0.2' },
    6,
    true,
  ],
  [
    '5: eBGP over iBGP',
    { ebgp: true, routerId: '9.9.9.9' },
    { ebgp: false, routerId: '1.1.1.1' },
    5,
    true,
  ],
  [
    '6: lower router id',
    { ebgp: false, routerId: '10.0.0.2' },
    { ebgp: false, routerId: '10.0.0.10' },
    6,
    true,
  ],
  [
    '6: ORIGINATOR_ID replaces router id',
    { ebgp: false, routerId: '10.0.0.1', originatorId: '10.9.9.9' },
    { ebgp: false, routerId: '10.0.0.5' },
    6,
    false,
  ],
  [
    '6 tie (same originator) -> 7: shorter CLUSTER_LIST',
    { ebgp: false, originatorId: '10.0.0.7', clusterList: ['1.1.1.1', '2.2.2.2'] },
    { ebgp: false, originatorId: '10.0.0.7', clusterList: ['3.3.3.3'] },
    7,
    false,
  ],
  ['7 tie -> 8: lower peer address', { address: '192.0.2.9' }, { address: '192.0.2.10' }, 8, true],
  [
    '8: IPv4 peer address below IPv6',
    { address: '192.0.2.9' },
    { address: '2001:db8::1' },
    8,
    true,
  ],
  [
    '8: IPv6 addresses compare by value',
    { address: '2001:db8::10' },
    { address: '2001:db8::9' },
    8,
    false,
  ],
  ['8 tie (same peer) -> lower path id', { pathId: 2 }, { pathId: 1 }, 8, false],
  ['full tie', { pathId: 1 }, { pathId: 1 }, 0, true],
];

for (const [name, a, b, step, aWins] of rows) {
  t.test(name, async (t) => {
    const d = compareRoutes(route(a), route(b), opts);
    t.equal(Math.abs(d), step, `decided at step ${step}`);
    if (step) t.equal(d < 0, aWins, aWins ? 'a is better' : 'b is better');
    const back = compareRoutes(route(b), route(a), opts);
    t.equal(back, -d, 'antisymmetric');
  });
}

t.test('always-compare-med compares MED across neighbour ASes', async (t) => {
  const a = route({ path: [seq(7)], med: 50, routerId: '1.0.0.1' });
  const b = route({ path: [seq(8)], med: 1, routerId: '1.0.0.2' });
  t.equal(compareRoutes(a, b, { ...opts, alwaysCompareMed: true }), 4);
});

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]),
  );
}

function chain(routes: Route[]): Route {
  routes.forEach((r, i) => (r.next = routes[i + 1] ?? null));
  return routes[0];
}

t.test('selection is independent of arrival order despite MED non-transitivity', async (t) => {
  // RFC 4271 §9.1.2.2 c: R1 is removed by R3 (same AS 100, lower MED); among R2 and R3 the
  // lower router id (R2) wins. A naive pairwise fold over R1,R2,R3 would pick R3.
  const make = (): Route[] => [
    route({ path: [seq(100)], med: 20, routerId: '1.0.0.1', address: '192.0.2.1' }),
    route({ path: [seq(200)], med: 10, routerId: '1.0.0.2', address: '192.0.2.2' }),
    route({ path: [seq(100)], med: 10, routerId: '1.0.0.3', address: '192.0.2.3' }),
  ];
  for (const order of permutations([0, 1, 2])) {
    const rs = make();
    const best = selectBest(chain(order.map((i) => rs[i])), { ...opts, maxPaths: 1 });
    t.equal(best, rs[1], `order ${order.join(',')}`);
  }
});

t.test('an unreachable next hop makes a route ineligible', async (t) => {
  const good = route({ lp: 50, address: '192.0.2.2', nextHop: '192.0.2.2' });
  const better = route({ lp: 500, reachable: false, nextHop: '203.0.113.1' });
  t.equal(selectBest(chain([better, good]), opts), good);
  t.equal(better.flags & BEST, 0);
  const alone = route({ reachable: false, nextHop: '203.0.113.9' });
  t.equal(selectBest(alone, opts), null, 'no eligible route, no best');
});

t.test('ECMP: ties through step 5 from the same neighbour AS form the set', async (t) => {
  const a = route({
    path: [seq(65001, 1)],
    routerId: '1.0.0.1',
    address: '192.0.2.1',
    nextHop: '192.0.2.1',
  });
  const b = route({
    path: [seq(65001, 2)],
    routerId: '1.0.0.2',
    address: '192.0.2.2',
    nextHop: '192.0.2.2',
  });
  const c = route({
    path: [seq(65002, 3)],
    routerId: '1.0.0.3',
    address: '192.0.2.3',
    nextHop: '192.0.2.3',
  });
  const d = route({
    path: [seq(65001, 3, 4)],
    routerId: '1.0.0.0',
    address: '192.0.2.4',
    nextHop: '192.0.2.4',
  });
  const best = selectBest(chain([d, c, b, a]), opts);
  t.equal(best, a, 'lowest router id among the tied');
  t.ok(b.flags & MULTIPATH, 'same neighbour AS, tied through step 5: in the set');
  t.notOk(c.flags & MULTIPATH, 'other neighbour AS: not in the set');
  t.notOk(d.flags & MULTIPATH, 'longer AS_PATH (lost at step 2): not in the set');
});

t.test('ECMP: iBGP routes tie regardless of neighbour AS; eBGP and iBGP never mix', async (t) => {
  const i1 = route({
    ebgp: false,
    path: [],
    routerId: '10.0.0.2',
    address: '10.0.0.2',
    nextHop: '10.0.0.2',
  });
  const i2 = route({
    ebgp: false,
    path: [],
    routerId: '10.0.0.3',
    address: '10.0.0.3',
    nextHop: '10.0.0.3',
  });
  selectBest(chain([i2, i1]), opts);
  t.ok(i1.flags & BEST);
  t.ok(i2.flags & MULTIPATH);
  const e = route({ ebgp: true, path: [seq(1)], routerId: '10.0.0.9', nextHop: '10.0.0.9' });
  const i = route({ ebgp: false, path: [seq(1)], routerId: '10.0.0.1', nextHop: '10.0.0.1' });
  selectBest(chain([i, e]), opts);
  t.ok(e.flags & BEST, 'eBGP wins at step 5');
  t.notOk(i.flags & MULTIPATH, 'lost at step 5: not in the set');
});

t.test('ECMP: the set is capped at maxPaths', async (t) => {
  const rs = [1, 2, 3, 4].map((n) =>
    route({
      ebgp: false,
      path: [],
      routerId: `10.0.0.${n}`,
      address: `10.0.0.${n}`,
      nextHop: `10.0.0.${n}`,
    }),
  );
  selectBest(chain([...rs]), { ...opts, maxPaths: 2 });
  t.same(
    rs.map((r) => (r.flags & MULTIPATH) !== 0),
    [true, true, false, false],
  );
  selectBest(chain([...rs]), { ...opts, maxPaths: 1 });
  t.same(
    rs.map((r) => (r.flags & MULTIPATH) !== 0),
    [true, false, false, false],
  );
});
