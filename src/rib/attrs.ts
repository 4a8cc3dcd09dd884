// Attribute interning: every distinct (family, path attribute set) lives once, shared by all the
// routes that carry it, with the values the decision process needs precomputed. Reference
// counted; nothing here knows about peers or tables. RFC 4271 §9.1.2.2 (path length rules),
// RFC 5065 §5.3 (confederation segments do not count), RFC 4456 §8 (ORIGINATOR_ID, CLUSTER_LIST).

import { WellKnownCommunity } from '../../protocol/constants.js';
import { parseIpv4 } from '../../protocol/prefix.js';
import type { PathAttributes } from '../../protocol/types.js';

/** RFC 4271 §5.1.5: the LOCAL_PREF assumed when none is carried or set. */
export const DEFAULT_LOCAL_PREF = 100;

// RouteAttrs.bits: the small facts of a set in one small integer (an interned set is the one
// object a full table keeps per attribute set; 48 bytes of its 176 were these fields).
const AFI_V6 = 1;
const REACHABLE = 2;
const NO_EXPORT = 4;
const NO_ADVERTISE = 8;
const ORIGIN_SHIFT = 4;
/** Bits 6-30: a CLUSTER_LIST holds at most 16,383 ids (a 65,535-octet message). */
const CLUSTER_SHIFT = 6;

/** One interned attribute set. Immutable apart from `refs`, `reachable` and the derivation cache. */
export class RouteAttrs {
  /** How many table entries (routes, Adj-RIB-Out rows, pre-policy rows) hold this object. */
  refs = 0;
  /** The set's number while it is held (`AttrTable.byId`); -1 when not in the table. */
  id = -1;
  /** Policy results derived from this set, keyed by "policy:term" (see rib import/export). */
  derived: Map<string, RouteAttrs> | null = null;
  /** The next held set with the same hash (a collision chain in the intern table). */
  collision: RouteAttrs | null = null;

  /** ORIGINATOR_ID as an unsigned number, or -1 when absent. */
  readonly originatorId: number;
  /** `[nextHop]`, shared by every single-path prefix with this next hop (see nextHopList). */
  readonly nextHopList: readonly string[];
  /** The family, reachability, well-known communities, ORIGIN and CLUSTER_LIST length. */
  private bits: number;

  constructor(
    /** `attrsHash(afi, attrs)`: where the intern table files the set. */
    readonly hash: number,
    afi: 1 | 2,
    readonly attrs: Readonly<PathAttributes>,
    nextHop: string,
  ) {
    this.originatorId = attrs.originatorId ? (parseIpv4(attrs.originatorId) ?? -1) : -1;
    this.nextHopList = nextHopList(nextHop);
    const cs = attrs.communities;
    let bits = (afi === 2 ? AFI_V6 : 0) | REACHABLE;
    // RFC 1997: NO_EXPORT_SUBCONFED acts as NO_EXPORT when there are no confederations.
    if (
      cs &&
      (cs.includes(WellKnownCommunity.NO_EXPORT) ||
        cs.includes(WellKnownCommunity.NO_EXPORT_SUBCONFED))
    )
      bits |= NO_EXPORT;
    if (cs && cs.includes(WellKnownCommunity.NO_ADVERTISE)) bits |= NO_ADVERTISE;
    bits |= (attrs.origin ?? 0) << ORIGIN_SHIFT;
    bits |= (attrs.clusterList?.length ?? 0) << CLUSTER_SHIFT;
    this.bits = bits;
  }

  // The decision process's values are read from `attrs` when asked for, not kept: a full table
  // keeps one of these objects per set, and the decision process reads them only to compare
  // routes for the same prefix.

  /** RFC 4271 §5.1.5: LOCAL_PREF, DEFAULT_LOCAL_PREF when absent. */
  get localPref(): number {
    return this.attrs.localPref ?? DEFAULT_LOCAL_PREF;
  }

  /** RFC 4271 §9.1.2.2 a: AS_SEQUENCE counts each ASN, AS_SET counts 1, confed segments 0. */
  get asPathLength(): number {
    return this.attrs.asPath?.pathLength ?? 0;
  }

  /** RFC 4271 §9.1.2.2 c: a missing MED counts as the lowest value, 0. */
  get med(): number {
    return this.attrs.med ?? 0;
  }

  /** The neighbouring AS: first ASN of a leading AS_SEQUENCE; -1 for an empty path (local/iBGP). */
  get neighborAs(): number {
    return this.attrs.asPath?.neighborAs ?? -1;
  }

  get afi(): 1 | 2 {
    return this.bits & AFI_V6 ? 2 : 1;
  }

  /** The family's next hop ("" for a locally originated set). */
  get nextHop(): string {
    return this.nextHopList[0];
  }

  /** The next hop resolved as usable; false makes the route ineligible. */
  get reachable(): boolean {
    return (this.bits & REACHABLE) !== 0;
  }

  set reachable(yes: boolean) {
    this.bits = yes ? this.bits | REACHABLE : this.bits & ~REACHABLE;
  }

  get origin(): number {
    return (this.bits >> ORIGIN_SHIFT) & 3;
  }

  get clusterListLength(): number {
    return this.bits >>> CLUSTER_SHIFT;
  }

  get noExport(): boolean {
    return (this.bits & NO_EXPORT) !== 0;
  }

  get noAdvertise(): boolean {
    return (this.bits & NO_ADVERTISE) !== 0;
  }
}

// One `[nextHop]` list per next hop, shared by every set with it: the kernel sync recognises
// a list it has seen by identity, and a full table has few next hops but many sets.
const nextHopLists = new Map<string, readonly string[]>();

function nextHopList(nextHop: string): readonly string[] {
  let list = nextHopLists.get(nextHop);
  if (list === undefined) {
    if (nextHopLists.size >= 4096) nextHopLists.clear();
    list = Object.freeze([nextHop]);
    nextHopLists.set(nextHop, list);
  }
  return list;
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

/**
 * The set a route is stored with: `a` without MP_REACH/MP_UNREACH and the AS4_* copies (merged by
 * the codec), with `nextHop` as the family's next hop, and from eBGP without LOCAL_PREF,
 * ORIGINATOR_ID and CLUSTER_LIST (RFC 4271 §5.1.5, RFC 4456 §8). Absent attributes stay absent.
 * Built field by field (one object shape per combination, no key list walked per UPDATE).
 * Returns `a` itself when it already is that set: the caller must not change `a` afterwards.
 */
export function normalisedAttrs(
  a: Readonly<PathAttributes>,
  nextHop: string,
  ebgp: boolean,
): Readonly<PathAttributes> {
  // An IPv4 UPDATE from a well-behaved peer is already in that form: keep the decoded object
  // rather than build a copy of it for every UPDATE.
  if (
    a.nextHop === nextHop &&
    a.mpReach === undefined &&
    a.mpUnreach === undefined &&
    a.as4Path === undefined &&
    a.as4Aggregator === undefined &&
    (!ebgp ||
      (a.localPref === undefined && a.originatorId === undefined && a.clusterList === undefined))
  )
    return a;
  const out: PathAttributes = {};
  if (a.origin !== undefined) out.origin = a.origin;
  if (a.asPath !== undefined) out.asPath = a.asPath;
  if (a.med !== undefined) out.med = a.med;
  if (a.localPref !== undefined && !ebgp) out.localPref = a.localPref;
  if (a.atomicAggregate !== undefined) out.atomicAggregate = a.atomicAggregate;
  if (a.aggregator !== undefined) out.aggregator = a.aggregator;
  if (a.communities !== undefined) out.communities = a.communities;
  if (a.originatorId !== undefined && !ebgp) out.originatorId = a.originatorId;
  if (a.clusterList !== undefined && !ebgp) out.clusterList = a.clusterList;
  if (a.extendedCommunities !== undefined) out.extendedCommunities = a.extendedCommunities;
  if (a.largeCommunities !== undefined) out.largeCommunities = a.largeCommunities;
  if (a.unknown !== undefined) out.unknown = a.unknown;
  out.nextHop = nextHop;
  return out;
}

// --- identity of a set ------------------------------------------------------------------------
// Two sets are the same when every attribute but MP_REACH/MP_UNREACH (and the AS4_* copies,
// already merged) is equal; a missing list and an empty one count as equal. The table keys on
// a 32-bit hash of those values and confirms a hit with `sameAttrs`: no text key is built per
// UPDATE (that was the larger part of interning a set).

function mix(h: number, v: number): number {
  h = Math.imul(h ^ (v | 0), 0x5bd1e995);
  return h ^ (h >>> 15);
}

function mixText(h: number, s: string | undefined): number {
  if (s === undefined) return mix(h, -1);
  for (let i = 0; i < s.length; i++) h = mix(h, s.charCodeAt(i));
  return mix(h, s.length);
}

/** Mixes a string of octets (an AS path's wire form) four characters at a time. */
function mixOctets(h: number, s: string): number {
  const n = s.length;
  let i = 0;
  for (; i + 3 < n; i += 4)
    h = mix(
      h,
      s.charCodeAt(i) |
        (s.charCodeAt(i + 1) << 8) |
        (s.charCodeAt(i + 2) << 16) |
        (s.charCodeAt(i + 3) << 24),
    );
  for (; i < n; i++) h = mix(h, s.charCodeAt(i));
  return mix(h, n);
}

function mixBytes(h: number, b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) h = mix(h, b[i]);
  return mix(h, b.length);
}

/** The hash of what `sameAttrs` compares. Absent numbers hash apart from every value. */
export function attrsHash(afi: 1 | 2, a: Readonly<PathAttributes>): number {
  let h = mix(0x9747b28c, afi);
  h = mix(h, a.origin ?? -1);
  h = mixOctets(h, a.asPath?.wire ?? '');
  h = mixText(h, a.nextHop);
  // MED and LOCAL_PREF are 32-bit unsigned: mixed as such, absent as a separate marker.
  h = a.med === undefined ? mix(h, 0x51ed27) : mix(mix(h, 1), a.med);
  h = a.localPref === undefined ? mix(h, 0x51ed27) : mix(mix(h, 1), a.localPref);
  h = mix(h, a.atomicAggregate ? 1 : 0);
  if (a.aggregator) h = mixText(mix(h, a.aggregator.asn), a.aggregator.address);
  if (a.communities) for (const c of a.communities) h = mix(h, c);
  h = mixText(h, a.originatorId);
  if (a.clusterList) for (const c of a.clusterList) h = mixText(h, c);
  if (a.extendedCommunities) for (const e of a.extendedCommunities) h = mixBytes(h, e.raw);
  if (a.largeCommunities)
    for (const l of a.largeCommunities) h = mix(mix(mix(h, l[0]), l[1]), l[2]);
  if (a.unknown) {
    for (const u of a.unknown) h = mixBytes(mix(mix(h, u.code), u.flags), u.value);
  }
  // 30 bits: a small integer to V8, so the table's keys are never boxed numbers.
  return h & 0x3fffffff;
}

function sameList<T>(
  x: readonly T[] | undefined,
  y: readonly T[] | undefined,
  eq: (a: T, b: T) => boolean,
): boolean {
  const n = x?.length ?? 0;
  if (n !== (y?.length ?? 0)) return false;
  for (let i = 0; i < n; i++) if (!eq(x![i], y![i])) return false;
  return true;
}

const same = <T>(a: T, b: T): boolean => a === b;
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/** Whether two normalised attribute sets are the same set (see above). */
export function sameAttrs(a: Readonly<PathAttributes>, b: Readonly<PathAttributes>): boolean {
  return (
    a.origin === b.origin &&
    a.nextHop === b.nextHop &&
    a.med === b.med &&
    a.localPref === b.localPref &&
    !a.atomicAggregate === !b.atomicAggregate &&
    a.originatorId === b.originatorId &&
    a.aggregator?.asn === b.aggregator?.asn &&
    a.aggregator?.address === b.aggregator?.address &&
    (a.asPath?.wire ?? '') === (b.asPath?.wire ?? '') &&
    sameList(a.communities, b.communities, same) &&
    sameList(a.clusterList, b.clusterList, same) &&
    sameList(a.extendedCommunities, b.extendedCommunities, (x, y) => sameBytes(x.raw, y.raw)) &&
    sameList(a.largeCommunities, b.largeCommunities, (x, y) => sameList(x, y, same)) &&
    sameList(
      a.unknown,
      b.unknown,
      (x, y) => x.code === y.code && x.flags === y.flags && sameBytes(x.value, y.value),
    )
  );
}

/**
 * The intern table. `intern` finds or builds an object but does not hold it; `acquire` makes a
 * holder's reference count and returns the canonical object; `release` drops it and removes the
 * set from the table when no holder is left.
 */
export class AttrTable {
  /**
   * Held sets by hash: slot `hash & (length - 1)` holds 1 + the id of the first set of its chain
   * (0: none); the sets of a slot are chained through `RouteAttrs.collision`. Four bytes a slot,
   * where a Map took about 38 bytes a set.
   */
  private slots = new Int32Array(1024);
  private held = 0;
  /** Held sets by `RouteAttrs.id`, so compact tables can store a number (route-store.ts). */
  readonly byId: (RouteAttrs | null)[] = [];
  private readonly freeIds: number[] = [];
  /**
   * The last set `intern` built, not found in the table; cleared when any set is added. While
   * it is set, `acquire` of it need not look for an equal set again (one lookup per new set).
   */
  private lastMade: RouteAttrs | null = null;

  constructor(
    private readonly resolve: (nextHop: string, afi: 1 | 2) => boolean,
    /** Tests pass a poor hash to exercise collision chains. */
    private readonly hashOf: (afi: 1 | 2, attrs: Readonly<PathAttributes>) => number = attrsHash,
  ) {}

  get size(): number {
    return this.held;
  }

  /** The held set equal to (afi, attrs), if any. */
  private find(hash: number, afi: 1 | 2, attrs: Readonly<PathAttributes>): RouteAttrs | null {
    for (let c = this.head(hash); c !== null; c = c.collision) {
      if (c.hash === hash && c.afi === afi && (c.attrs === attrs || sameAttrs(c.attrs, attrs)))
        return c;
    }
    return null;
  }

  /** The first set of the chain `hash` falls in. */
  private head(hash: number): RouteAttrs | null {
    const slot = this.slots[this.slotOf(hash)];
    return slot === 0 ? null : this.byId[slot - 1];
  }

  private slotOf(hash: number): number {
    return hash & (this.slots.length - 1);
  }

  /** Makes `a` the first set of its chain. */
  private link(a: RouteAttrs): void {
    a.collision = this.head(a.hash);
    this.slots[this.slotOf(a.hash)] = a.id + 1;
  }

  /** Doubles the slots and rechains every held set. */
  private grow(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (const a of this.byId) if (a !== null) this.link(a);
  }

  /** `attrs` must already be normalised (no MP attributes; `nextHop` set for the family). */
  intern(afi: 1 | 2, attrs: Readonly<PathAttributes>): RouteAttrs {
    const hash = this.hashOf(afi, attrs);
    const found = this.find(hash, afi, attrs);
    if (found) return found;
    const nextHop = attrs.nextHop ?? '';
    const made = new RouteAttrs(hash, afi, attrs, nextHop);
    made.reachable = nextHop === '' || this.resolve(nextHop, afi);
    this.lastMade = made;
    return made;
  }

  acquire(a: RouteAttrs): RouteAttrs {
    if (a.refs > 0) {
      a.refs++;
      return a;
    }
    // The set `intern` just built, with no set added since, has no equal in the table.
    const canonical = a === this.lastMade ? null : this.find(a.hash, a.afi, a.attrs);
    if (canonical) {
      canonical.refs++;
      return canonical;
    }
    this.lastMade = null;
    this.held++;
    a.id = this.freeIds.length ? this.freeIds.pop()! : this.byId.length;
    this.byId[a.id] = a;
    if (this.held > this.slots.length) this.grow();
    else this.link(a);
    a.refs = 1;
    return a;
  }

  release(a: RouteAttrs): void {
    if (--a.refs > 0) return;
    a.refs = 0;
    if (a.id < 0 || this.byId[a.id] !== a) return;
    // Unlink from the hash chain.
    const head = this.head(a.hash)!;
    if (head === a) {
      this.slots[this.slotOf(a.hash)] = a.collision ? a.collision.id + 1 : 0;
    } else {
      let c = head;
      while (c.collision !== a) c = c.collision!;
      c.collision = a.collision;
    }
    a.collision = null;
    this.held--;
    this.byId[a.id] = null;
    this.freeIds.push(a.id);
    a.id = -1;
  }

  /** Re-runs the resolver over every live set; returns the sets whose reachability changed. */
  reresolve(): Set<RouteAttrs> {
    const changed = new Set<RouteAttrs>();
    for (const a of this.values()) {
      const now = a.nextHop === '' || this.resolve(a.nextHop, a.afi);
      if (now !== a.reachable) {
        a.reachable = now;
        changed.add(a);
      }
    }
    return changed;
  }

  /** Every held set. */
  *values(): IterableIterator<RouteAttrs> {
    for (const a of this.byId) if (a !== null) yield a;
  }
}
