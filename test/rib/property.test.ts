// Property: for random announce/withdraw/reset sequences of IPv4 and IPv6 routes from several
// iBGP (client and non-client) and eBGP peers, Loc-RIB always equals the best route recomputed from scratch over
// the Adj-RIBs-In by an independent reference (RFC 4271 §9.1.2.2 elimination), and what each
// peer has received equals what the export rules (RFC 4271 §9.2, RFC 4456 §8) say.
import fc from 'fast-check';
import t from 'tap';
import { AsPath } from '../../protocol/as-path.js';
import { WellKnownCommunity } from '../../protocol/constants.js';
import type { AsPathSegment, PathAttributes } from '../../protocol/types.js';
import { RecordingSink, announce, facts, makeRib, withdraw } from './helpers.js';

const LOCAL_AS = 65000;
const ROUTER_ID = '10.0.0.1';
interface PeerDef {
  id: string;
  address: string;
  asn: number;
  client: boolean;
  routerId: string;
  local: string;
  /** The peer's IPv6 next hop, and ours toward it (next-hop-self for IPv6). */
  address6: string;
  local6: string;
}
const PEERS: PeerDef[] = [
  {
    id: 'c1',
    address: '10.0.0.11',
    asn: LOCAL_AS,
    client: true,
    routerId: '1.0.0.11',
    local: ROUTER_ID,
    address6: 'fd00::11',
    local6: 'fd00::1',
  },
  {
    id: 'n1',
    address: '10.0.0.12',
    asn: LOCAL_AS,
    client: false,
    routerId: '1.0.0.12',
    local: ROUTER_ID,
    address6: 'fd00::12',
    local6: 'fd00::1',
  },
  {
    id: 'n2',
    address: '10.0.0.13',
    asn: LOCAL_AS,
    client: false,
    routerId: '1.0.0.13',
    local: ROUTER_ID,
    address6: 'fd00::13',
    local6: 'fd00::1',
  },
  {
    id: 'e1',
    address: '192.0.2.1',
    asn: 65001,
    client: false,
    routerId: '1.0.0.21',
    local: '192.0.2.100',
    address6: '2001:db8::1',
    local6: '2001:db8::100',
  },
  {
    id: 'e2',
    address: '192.0.2.2',
    asn: 65002,
    client: false,
    routerId: '1.0.0.22',
    local: '192.0.2.100',
    address6: '2001:db8::2',
    local6: '2001:db8::100',
  },
];
const PREFIXES = [
  '10.244.0.0/26',
  '10.244.0.64/26',
  '203.0.113.0/24',
  '198.51.100.0/24',
  'fd00:10:244::/64',
  'fd00:10:244:1::/64',
  '2001:db8:100::/48',
];
const FAMILIES = ['ipv4-unicast', 'ipv6-unicast'] as const;
const isV6 = (prefix: string): boolean => prefix.includes(':');
const ebgp = (p: PeerDef): boolean => p.asn !== LOCAL_AS;
const ipNum = (s: string): number => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);

interface Spec {
  lp: number;
  extra: number[];
  asSet: boolean;
  origin: 0 | 1 | 2;
  med: number | null;
  noExport: boolean;
}

function attrsFor(p: PeerDef, s: Spec, v6: boolean): PathAttributes {
  const asns = ebgp(p) ? [p.asn, ...s.extra] : s.extra;
  const segments: AsPathSegment[] = asns.length ? [{ type: 2, asns }] : [];
  if (s.asSet && segments.length) segments.push({ type: 1, asns: [64700, 64701] });
  // An IPv6 announcement carries its next hop in MP_REACH_NLRI (see helpers.announce).
  const a: PathAttributes = {
    origin: s.origin,
    asPath: AsPath.of(segments),
    nextHop: v6 ? p.address6 : p.address,
  };
  if (!ebgp(p)) a.localPref = s.lp;
  else a.localPref = s.lp; // must be ignored from eBGP (RFC 4271 §5.1.5)
  if (s.med !== null) a.med = s.med;
  if (s.noExport) a.communities = [WellKnownCommunity.NO_EXPORT];
  return a;
}

// ---- the reference, written from the RFC text, independent of src/rib/decision.ts ----
interface Cand {
  peer: PeerDef;
  a: PathAttributes;
}
const lpOf = (c: Cand): number => (ebgp(c.peer) ? 100 : (c.a.localPref ?? 100));
const lenOf = (c: Cand): number =>
  (c.a.asPath?.segments ?? []).reduce((n, s) => n + (s.type === 2 ? s.asns.length : 1), 0);
const nbrOf = (c: Cand): number => {
  const s = c.a.asPath?.segments[0];
  return s && s.type === 2 ? s.asns[0] : -1;
};

function reference(cands: Cand[]): { best: Cand | null; multipath: Cand[] } {
  let c = cands;
  if (!c.length) return { best: null, multipath: [] };
  const keep = (f: (x: Cand) => number, better: 'max' | 'min'): void => {
    const v = better === 'max' ? Math.max(...c.map(f)) : Math.min(...c.map(f));
    c = c.filter((x) => f(x) === v);
  };
  keep(lpOf, 'max'); // LOCAL_PREF
  keep(lenOf, 'min'); // AS_PATH length
  keep((x) => x.a.origin ?? 0, 'min'); // ORIGIN
  // MED within each neighbouring AS
  c = c.filter((x) => !c.some((y) => nbrOf(y) === nbrOf(x) && (y.a.med ?? 0) < (x.a.med ?? 0)));
  if (c.some((x) => ebgp(x.peer))) c = c.filter((x) => ebgp(x.peer)); // eBGP over iBGP
  const tied = c;
  const rid = (x: Cand): number => ipNum(x.a.originatorId ?? x.peer.routerId);
  const sorted = [...c].sort(
    (x, y) =>
      rid(x) - rid(y) ||
      (x.a.clusterList?.length ?? 0) - (y.a.clusterList?.length ?? 0) ||
      ipNum(x.peer.address) - ipNum(y.peer.address),
  );
  const best = sorted[0];
  const multipath = tied.filter((x) => !ebgp(best.peer) || nbrOf(x) === nbrOf(best));
  return { best, multipath };
}

/** What `target` should hold for a prefix whose reference best is `best`. */
function expectedExport(
  best: Cand | null,
  target: PeerDef,
  v6: boolean,
): Record<string, unknown> | null {
  if (!best || best.peer === target) return null;
  const noExport = best.a.communities?.includes(WellKnownCommunity.NO_EXPORT) ?? false;
  if (ebgp(target)) {
    if (noExport) return null;
    return {
      asPath: [
        LOCAL_AS,
        ...(best.a.asPath?.segments ?? []).flatMap((s) =>
          s.type === 2 ? s.asns : [-s.asns.length],
        ),
      ],
      nextHop: v6 ? target.local6 : target.local,
      localPref: undefined,
      originatorId: undefined,
      clusterList: undefined,
      med: undefined,
    };
  }
  const fromIbgp = !ebgp(best.peer);
  if (fromIbgp && !best.peer.client && !target.client) return null; // split horizon
  return {
    asPath: (best.a.asPath?.segments ?? []).flatMap((s) =>
      s.type === 2 ? s.asns : [-s.asns.length],
    ),
    nextHop: v6 ? best.peer.address6 : best.peer.address,
    localPref: lpOf(best),
    originatorId: fromIbgp ? best.peer.routerId : undefined,
    clusterList: fromIbgp ? [ROUTER_ID] : undefined,
    med: ebgp(best.peer) ? best.a.med : best.a.med,
  };
}

function shape(a: PathAttributes): Record<string, unknown> {
  return {
    // A flat view of the path: sequences as ASNs, a set as minus its size (enough to compare).
    asPath: (a.asPath?.segments ?? []).flatMap((s) => (s.type === 2 ? s.asns : [-s.asns.length])),
    nextHop: a.nextHop,
    localPref: a.localPref,
    originatorId: a.originatorId,
    clusterList: a.clusterList,
    med: a.med,
  };
}

type Cmd =
  | { kind: 'announce'; peer: number; prefix: number; spec: Spec }
  | { kind: 'withdraw'; peer: number; prefix: number }
  | { kind: 'reset'; peer: number };

const specArb: fc.Arbitrary<Spec> = fc.record({
  lp: fc.constantFrom(100, 200),
  // 65000 is our AS: such announcements must be rejected as loops.
  extra: fc.array(fc.constantFrom(65001, 65002, 64600, 65000), { maxLength: 3 }),
  asSet: fc.boolean(),
  origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
  med: fc.option(fc.constantFrom(0, 5, 10), { nil: null }),
  noExport: fc.integer({ min: 0, max: 9 }).map((n) => n < 3),
});
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('announce' as const),
      peer: fc.nat(4),
      prefix: fc.nat(PREFIXES.length - 1),
      spec: specArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('withdraw' as const),
      peer: fc.nat(4),
      prefix: fc.nat(PREFIXES.length - 1),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), peer: fc.nat(4) }) },
);

t.test('Loc-RIB and every Adj-RIB-Out match the reference after every step', async (t) => {
  let runs = 0;
  fc.assert(
    fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 40 }), (cmds) => {
      runs++;
      const { rib } = makeRib({ clusterId: ROUTER_ID, routerId: ROUTER_ID });
      const handles = PEERS.map((p) =>
        rib.registerPeer({
          id: p.id,
          address: p.address,
          asn: p.asn,
          localAsn: LOCAL_AS,
          rrClient: p.client,
          localAddress: { ipv4: p.local, ipv6: p.local6 },
        }),
      );
      const sinks = PEERS.map(() => new RecordingSink());
      PEERS.forEach((p, i) => rib.established(handles[i], facts(p.routerId, p.local), sinks[i]));
      const model = PEERS.map(() => new Map<string, PathAttributes>());
      for (const cmd of cmds) {
        const p = PEERS[cmd.peer];
        if (cmd.kind === 'announce') {
          const a = attrsFor(p, cmd.spec, isV6(PREFIXES[cmd.prefix]));
          rib.applyUpdate(handles[cmd.peer], announce([PREFIXES[cmd.prefix]], a));
          const loop = (a.asPath?.segments ?? []).some((s) => s.asns.includes(LOCAL_AS));
          if (loop) model[cmd.peer].delete(PREFIXES[cmd.prefix]);
          else model[cmd.peer].set(PREFIXES[cmd.prefix], a);
        } else if (cmd.kind === 'withdraw') {
          rib.applyUpdate(handles[cmd.peer], withdraw([PREFIXES[cmd.prefix]]));
          model[cmd.peer].delete(PREFIXES[cmd.prefix]);
        } else {
          rib.peerDown(handles[cmd.peer], { graceful: false });
          model[cmd.peer].clear();
          sinks[cmd.peer] = new RecordingSink();
          rib.established(handles[cmd.peer], facts(p.routerId, p.local), sinks[cmd.peer]);
        }
        const loc = new Map(FAMILIES.flatMap((f) => [...rib.locRib(f)].map((e) => [e.prefix, e])));
        for (const prefix of PREFIXES) {
          const cands: Cand[] = [];
          PEERS.forEach((peer, i) => {
            const a = model[i].get(prefix);
            if (a) cands.push({ peer, a });
          });
          const ref = reference(cands);
          const got = loc.get(prefix);
          const gotBest = got?.best?.peer ?? null;
          if (gotBest !== (ref.best?.peer.id ?? null)) {
            throw new Error(`${prefix}: best ${gotBest}, reference ${ref.best?.peer.id ?? null}`);
          }
          const gotMp = (got?.candidates ?? [])
            .filter((c) => c.multipath)
            .map((c) => c.peer)
            .sort();
          const refMp = ref.multipath.map((c) => c.peer.id).sort();
          if (gotMp.join() !== refMp.join())
            throw new Error(`${prefix}: multipath ${gotMp} vs ${refMp}`);
          PEERS.forEach((target, i) => {
            const want = expectedExport(ref.best, target, isV6(prefix));
            const held = sinks[i].held().get(prefix);
            const have = held ? shape(held) : null;
            if (JSON.stringify(have) !== JSON.stringify(want)) {
              throw new Error(
                `${prefix} to ${target.id}: holds ${JSON.stringify(have)}, rules say ${JSON.stringify(want)}`,
              );
            }
          });
        }
      }
      // Reference counting: with every session gone nothing may stay interned.
      handles.forEach((h) => rib.peerDown(h, { graceful: false }));
      const st = rib.stats();
      if (
        st.prefixes[0] !== 0 ||
        st.prefixes[1] !== 0 ||
        st.attributeSets !== 0 ||
        st.exportedSets !== 0
      ) {
        throw new Error(`left behind after all sessions went down: ${JSON.stringify(st)}`);
      }
    }),
    { numRuns: 300 },
  );
  t.equal(runs >= 300, true, 'ran every generated sequence');
});
