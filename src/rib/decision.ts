// The BGP decision process: one pairwise `compareRoutes` with a numbered comment per step, the
// order-independent best-path selection built on it, and the ECMP multipath set.
// Must not touch tables or emit anything. RFC 4271 §9.1.1, §9.1.2.2; RFC 4456 §9.

import type { RouteAttrs } from './attrs.js';

/** What the decision process needs to know about where a route came from. */
export interface RouteSource {
  /** Learned over an eBGP session. */
  readonly ebgp: boolean;
  /** Originated by this node (own blocks). */
  readonly local: boolean;
  /** The peer's BGP Identifier as an unsigned number (ours for local routes). */
  readonly routerIdNum: number;
  /** The peer address in a form that sorts like the address bytes ("" for local routes). */
  readonly addressKey: string;
}

/** A route flag: this route is the best path for its prefix. */
export const BEST = 1;
/** A route flag: this route is in the multipath (ECMP) set. */
export const MULTIPATH = 2;
/** A route flag: RFC 4724 stale, kept from a restarting peer. */
export const STALE = 4;

/** One path for one prefix: the Adj-RIB-In entry and the Loc-RIB candidate in one object. */
export class Route {
  constructor(
    public readonly source: RouteSource,
    /** RFC 7911 path identifier (0 without ADD-PATH). */
    public readonly pathId: number,
    public attrs: RouteAttrs,
    /** The next candidate for the same prefix (a short singly linked list). */
    public next: Route | null,
    public flags: number,
    /**
     * When the route was learned or last changed, in whole seconds of the RIB's clock (see
     * `RibOptions.now`): a small integer, so it is stored inside the object, not boxed.
     */
    public since = 0,
  ) {}
}

export interface DecisionOptions {
  /** Compare MED between routes from different neighbouring ASes too. */
  alwaysCompareMed: boolean;
  /** Largest ECMP set (1 disables multipath). */
  maxPaths: number;
}

/**
 * Pairwise preference. Negative when `a` is better, positive when `b` is, 0 on a full tie. The
 * magnitude is the number of the step that decided, so callers can ask "tied through step 5".
 */
export function compareRoutes(a: Route, b: Route, opts: DecisionOptions): number {
  const x = a.attrs;
  const y = b.attrs;
  // 1. Highest LOCAL_PREF (RFC 4271 §9.1.1 degree of preference; 100 when absent).
  if (x.localPref !== y.localPref) return x.localPref > y.localPref ? -1 : 1;
  // 2. Shortest AS_PATH; an AS_SET counts as 1, confederation segments as 0 (§9.1.2.2 a).
  if (x.asPathLength !== y.asPathLength) return x.asPathLength < y.asPathLength ? -2 : 2;
  // 3. Lowest ORIGIN: IGP < EGP < INCOMPLETE (§9.1.2.2 b).
  if (x.origin !== y.origin) return x.origin < y.origin ? -3 : 3;
  // 4. Lowest MED, only between routes from the same neighbouring AS unless always-compare-med;
  //    a missing MED counts as 0 (§9.1.2.2 c).
  if ((opts.alwaysCompareMed || x.neighborAs === y.neighborAs) && x.med !== y.med) {
    return x.med < y.med ? -4 : 4;
  }
  // 5. eBGP-learned over iBGP-learned (§9.1.2.2 d). Locally originated routes rank as eBGP.
  const xe = a.source.ebgp || a.source.local;
  const ye = b.source.ebgp || b.source.local;
  if (xe !== ye) return xe ? -5 : 5;
  // (§9.1.2.2 e, interior cost to the next hop, is not used: the node has no IGP metric.)
  // 6. Lowest BGP Identifier, using ORIGINATOR_ID in its place when present (§9.1.2.2 f,
  //    RFC 4456 §9).
  const xi = x.originatorId >= 0 ? x.originatorId : a.source.routerIdNum;
  const yi = y.originatorId >= 0 ? y.originatorId : b.source.routerIdNum;
  if (xi !== yi) return xi < yi ? -6 : 6;
  // 7. Shortest CLUSTER_LIST (RFC 4456 §9).
  if (x.clusterListLength !== y.clusterListLength) {
    return x.clusterListLength < y.clusterListLength ? -7 : 7;
  }
  // 8. Lowest peer address (§9.1.2.2 g). Two ADD-PATH routes from one peer tie on every step
  //    above; the lower path identifier then goes first so the order is total.
  if (a.source.addressKey !== b.source.addressKey) {
    return a.source.addressKey < b.source.addressKey ? -8 : 8;
  }
  if (a.pathId !== b.pathId) return a.pathId < b.pathId ? -8 : 8;
  return 0;
}

const scratch: Route[] = [];

/**
 * Picks the best eligible route of a candidate list and the ECMP set, order-independently:
 * steps 1-3 keep the tied-best group; step 4 removes, within each neighbouring AS, every route
 * with a higher MED (the RFC's elimination, so MED's non-transitivity cannot make the result
 * depend on arrival order); the survivors are then ranked by `compareRoutes`. Writes the BEST and
 * MULTIPATH flags and returns the best route (null when none is eligible).
 */
export function selectBest(head: Route | null, opts: DecisionOptions): Route | null {
  // Fast path: one candidate.
  if (head !== null && head.next === null) {
    head.flags &= ~(BEST | MULTIPATH);
    if (!head.attrs.reachable) return null;
    head.flags |= BEST | MULTIPATH;
    return head;
  }
  const c = scratch;
  c.length = 0;
  for (let r = head; r !== null; r = r.next) {
    r.flags &= ~(BEST | MULTIPATH);
    // Ineligible: an unreachable next hop (RFC 4271 §9.1.2.1).
    if (r.attrs.reachable) c.push(r);
  }
  if (c.length === 0) return null;
  // Steps 1-3: keep the routes tied with the best on LOCAL_PREF, AS_PATH length and ORIGIN.
  let top = c[0];
  for (let i = 1; i < c.length; i++) {
    const d = compareRoutes(c[i], top, opts);
    if (d < 0 && d >= -3) top = c[i];
  }
  let n = 0;
  for (let i = 0; i < c.length; i++) {
    const d = compareRoutes(c[i], top, opts);
    if (d === 0 || Math.abs(d) > 3) c[n++] = c[i];
  }
  c.length = n;
  // Step 4 by elimination: drop a route when another from the same neighbouring AS (or any
  // route, with always-compare-med) has a lower MED.
  n = 0;
  for (let i = 0; i < c.length; i++) {
    let beaten = false;
    for (let j = 0; j < c.length && !beaten; j++) {
      const x = c[i].attrs;
      const y = c[j].attrs;
      if ((opts.alwaysCompareMed || x.neighborAs === y.neighborAs) && y.med < x.med) beaten = true;
    }
    if (!beaten) c[n++] = c[i];
  }
  c.length = n;
  // Steps 5-8 are a total order over the survivors.
  c.sort((p, q) => compareRoutes(p, q, opts));
  const best = c[0];
  best.flags |= BEST | MULTIPATH;
  // ECMP: survivors tied with the best through step 5; for eBGP, from the same neighbouring AS.
  let paths = 1;
  for (let i = 1; i < c.length && paths < opts.maxPaths; i++) {
    const d = compareRoutes(c[i], best, opts);
    if (d !== 0 && Math.abs(d) <= 5) break;
    if (best.source.ebgp && c[i].attrs.neighborAs !== best.attrs.neighborAs) continue;
    c[i].flags |= MULTIPATH;
    paths++;
  }
  c.length = 0;
  return best;
}

/** The best route of a list by its flag (after `selectBest`). */
export function bestOf(head: Route | null): Route | null {
  for (let r = head; r !== null; r = r.next) if (r.flags & BEST) return r;
  return null;
}

const NO_NEXTHOPS: readonly string[] = Object.freeze([]);

/** The ECMP next hops, best first, without duplicates; [] for a locally originated best. */
export function multipathNexthops(head: Route | null): readonly string[] {
  const best = bestOf(head);
  if (!best) return NO_NEXTHOPS;
  if (best.source.local) return NO_NEXTHOPS;
  // Collect the other members in decision order: they were flagged from the sorted list, so
  // walk and sort the few here.
  let others: Route[] | null = null;
  for (let r = head; r !== null; r = r.next) {
    if (r !== best && r.flags & MULTIPATH && !r.source.local) (others ??= []).push(r);
  }
  // The common case, one path: the attribute set's shared one-element list, no new array.
  if (others === null) return best.attrs.nextHopList;
  const out = [best.attrs.nextHop];
  if (others.length > 1) {
    others.sort((p, q) => compareRoutes(p, q, { alwaysCompareMed: true, maxPaths: 1 }));
  }
  for (const r of others) if (!out.includes(r.attrs.nextHop)) out.push(r.attrs.nextHop);
  return out;
}
