// Attribute interning: every distinct (family, path attribute set) lives once, shared by all the
// routes that carry it, with the values the decision process needs precomputed. Reference
// counted; nothing here knows about peers or tables. RFC 4271 §9.1.2.2 (path length rules),
// RFC 5065 §5.3 (confederation segments do not count), RFC 4456 §8 (ORIGINATOR_ID, CLUSTER_LIST).

import { WellKnownCommunity } from '../../protocol/constants.js';
import { parseIpv4 } from '../../protocol/prefix.js';
import type { AsPathSegment, PathAttributes } from '../../protocol/types.js';

/** RFC 4271 §5.1.5: the LOCAL_PREF assumed when none is carried or set. */
export const DEFAULT_LOCAL_PREF = 100;

/** One interned attribute set. Immutable apart from `refs`, `reachable` and the derivation cache. */
export class RouteAttrs {
  /** How many table entries (routes, Adj-RIB-Out rows, pre-policy rows) hold this object. */
  refs = 0;
  /** The set's number while it is held (`AttrTable.byId`); -1 when not in the table. */
  id = -1;
  /** The next hop resolved as usable; false makes the route ineligible. */
  reachable = true;
  /** Policy results derived from this set, keyed by "policy:term" (see rib import/export). */
  derived: Map<string, RouteAttrs> | null = null;

  readonly localPref: number;
  /** RFC 4271 §9.1.2.2 a: AS_SEQUENCE counts each ASN, AS_SET counts 1, confed segments 0. */
  readonly asPathLength: number;
  readonly origin: number;
  /** RFC 4271 §9.1.2.2 c: a missing MED counts as the lowest value, 0. */
  readonly med: number;
  /** The neighbouring AS: first ASN of a leading AS_SEQUENCE; -1 for an empty path (local/iBGP). */
  readonly neighborAs: number;
  /** ORIGINATOR_ID as an unsigned number, or -1 when absent. */
  readonly originatorId: number;
  readonly clusterListLength: number;
  readonly noExport: boolean;
  readonly noAdvertise: boolean;
  /** `[nextHop]`, shared by every single-path prefix with this set (the kernel keeps it by reference). */
  readonly nextHopList: readonly string[];

  constructor(
    readonly key: string,
    readonly afi: 1 | 2,
    readonly attrs: Readonly<PathAttributes>,
    readonly nextHop: string,
  ) {
    this.localPref = attrs.localPref ?? DEFAULT_LOCAL_PREF;
    this.asPathLength = asPathLength(attrs.asPath);
    this.origin = attrs.origin ?? 0;
    this.med = attrs.med ?? 0;
    const first = attrs.asPath?.[0];
    this.neighborAs = first && first.type === 2 && first.asns.length ? first.asns[0] : -1;
    this.originatorId = attrs.originatorId ? (parseIpv4(attrs.originatorId) ?? -1) : -1;
    this.clusterListLength = attrs.clusterList?.length ?? 0;
    const cs = attrs.communities;
    // RFC 1997: NO_EXPORT_SUBCONFED acts as NO_EXPORT when there are no confederations.
    this.noExport =
      !!cs &&
      (cs.includes(WellKnownCommunity.NO_EXPORT) ||
        cs.includes(WellKnownCommunity.NO_EXPORT_SUBCONFED));
    this.noAdvertise = !!cs && cs.includes(WellKnownCommunity.NO_ADVERTISE);
    this.nextHopList = Object.freeze([nextHop]);
  }
}

export function asPathLength(path: readonly AsPathSegment[] | undefined): number {
  if (!path) return 0;
  let n = 0;
  for (const seg of path) {
    if (seg.type === 2) n += seg.asns.length;
    else if (seg.type === 1) n += 1;
  }
  return n;
}

function segKey(path: readonly AsPathSegment[] | undefined): string {
  if (!path) return '';
  let s = '';
  for (const seg of path) s += `${seg.type}:${seg.asns.join(',')};`;
  return s;
}

/**
 * A copy of `a` without the named attributes (and without undefined ones). Built by adding
 * properties rather than `delete`, which would turn the object into a slow dictionary.
 */
export function copyWithout(
  a: Readonly<PathAttributes>,
  omit: readonly (keyof PathAttributes)[],
): PathAttributes {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(a)) {
    const v = (a as Record<string, unknown>)[k];
    if (v !== undefined && !omit.includes(k as keyof PathAttributes)) out[k] = v;
  }
  return out as PathAttributes;
}

/** A canonical text key of an attribute set (without MP_REACH/MP_UNREACH) and its family. */
export function attrsKey(afi: 1 | 2, a: Readonly<PathAttributes>): string {
  let k = `${afi}|${a.origin ?? ''}|${segKey(a.asPath)}|${a.nextHop ?? ''}|${a.med ?? ''}|${a.localPref ?? ''}|`;
  k += `${a.atomicAggregate ? 1 : 0}|${a.aggregator ? `${a.aggregator.asn}@${a.aggregator.address}` : ''}|`;
  k += `${a.communities ? a.communities.join(',') : ''}|${a.originatorId ?? ''}|`;
  k += `${a.clusterList ? a.clusterList.join(',') : ''}|`;
  if (a.extendedCommunities)
    for (const e of a.extendedCommunities) k += e.raw.toString('hex') + ',';
  k += '|';
  if (a.largeCommunities) for (const l of a.largeCommunities) k += `${l[0]}:${l[1]}:${l[2]},`;
  k += '|';
  if (a.unknown) for (const u of a.unknown) k += `${u.code}/${u.flags}/${u.value.toString('hex')},`;
  return k;
}

function flatten(s: string): string {
  // Indexing into a string makes V8 flatten it in place; the flat copy is what is kept.
  void s.charCodeAt(0);
  return s;
}

/**
 * The intern table. `intern` finds or builds an object but does not hold it; `acquire` makes a
 * holder's reference count and returns the canonical object; `release` drops it and removes the
 * set from the table when no holder is left.
 */
export class AttrTable {
  private readonly table = new Map<string, RouteAttrs>();
  /** Held sets by `RouteAttrs.id`, so compact tables can store a number (route-store.ts). */
  readonly byId: (RouteAttrs | null)[] = [];
  private readonly freeIds: number[] = [];

  constructor(private readonly resolve: (nextHop: string, afi: 1 | 2) => boolean) {}

  get size(): number {
    return this.table.size;
  }

  /** `attrs` must already be normalised (no MP attributes; `nextHop` set for the family). */
  intern(afi: 1 | 2, attrs: Readonly<PathAttributes>): RouteAttrs {
    // Flatten the concatenated key: a rope of string pieces would stay behind in the table.
    const key = flatten(attrsKey(afi, attrs));
    const found = this.table.get(key);
    if (found) return found;
    const nextHop = attrs.nextHop ?? '';
    const made = new RouteAttrs(key, afi, attrs, nextHop);
    made.reachable = nextHop === '' || this.resolve(nextHop, afi);
    return made;
  }

  acquire(a: RouteAttrs): RouteAttrs {
    if (a.refs > 0) {
      a.refs++;
      return a;
    }
    const canonical = this.table.get(a.key);
    if (canonical && canonical !== a) {
      canonical.refs++;
      return canonical;
    }
    if (!canonical) {
      this.table.set(a.key, a);
      a.id = this.freeIds.length ? this.freeIds.pop()! : this.byId.length;
      this.byId[a.id] = a;
    }
    a.refs = 1;
    return a;
  }

  release(a: RouteAttrs): void {
    if (--a.refs <= 0) {
      a.refs = 0;
      if (this.table.get(a.key) === a) {
        this.table.delete(a.key);
        this.byId[a.id] = null;
        this.freeIds.push(a.id);
        a.id = -1;
      }
    }
  }

  /** Re-runs the resolver over every live set; returns the sets whose reachability changed. */
  reresolve(): Set<RouteAttrs> {
    const changed = new Set<RouteAttrs>();
    for (const a of this.table.values()) {
      const now = a.nextHop === '' || this.resolve(a.nextHop, a.afi);
      if (now !== a.reachable) {
        a.reachable = now;
        changed.add(a);
      }
    }
    return changed;
  }

  values(): IterableIterator<RouteAttrs> {
    return this.table.values();
  }
}
