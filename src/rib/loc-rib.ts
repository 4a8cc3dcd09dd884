// Loc-RIB: per family, prefix -> a short list of candidate routes (the Adj-RIBs-In of all peers
// in one structure), the decision run on every change, and the best-path change stream for the
// kernel. Knows nothing of sessions, policy or export. RFC 4271 §3.2, §9.1; RFC 4724 §4.2.

import { formatV4Key } from '../../protocol/prefix.js';
import type { PathAttributes } from '../../protocol/types.js';
import type { AttrTable, RouteAttrs } from './attrs.js';
import {
  BEST,
  MULTIPATH,
  Route,
  STALE,
  bestOf,
  multipathNexthops,
  selectBest,
  type DecisionOptions,
} from './decision.js';
import type { PeerState } from './peer.js';
import type { BestPathChange, FamilyName, MaxPrefixEvent, PrefixKey } from './types.js';
import { V4Table, type PrefixTable } from './v4-table.js';

export const FAMILIES: readonly FamilyName[] = ['ipv4-unicast', 'ipv6-unicast'];
export const familyIndex = (f: FamilyName): number => (f === 'ipv4-unicast' ? 0 : 1);

/** A route as shown to `show routes` and tests. */
export interface RouteView {
  prefix: string;
  peer: string;
  pathId: number;
  attributes: Readonly<PathAttributes>;
  nextHop: string;
  best: boolean;
  multipath: boolean;
  stale: boolean;
  eligible: boolean;
  /** When the route was learned or last changed (epoch ms, whole seconds); 0 when unknown. */
  learnedAt: number;
}

export interface LocRibEntry {
  prefix: string;
  best: RouteView | null;
  nexthops: string[];
  candidates: RouteView[];
}

export function keyToString(fi: number, key: PrefixKey): string {
  return fi === 0 ? formatV4Key(key as number) : (key as string);
}

/** A prefix key as text: "10.244.5.192/26" for an IPv4 number, IPv6 keys are text already. */
export function prefixText(key: PrefixKey): string {
  return typeof key === 'number' ? formatV4Key(key) : key;
}

/** The de-duplicated next hops of the multipath set as one comparable value. */
export function nexthopSignature(head: Route | null): string | null {
  if (head === null) return null;
  if (head.next === null) {
    if (!(head.flags & BEST)) return null;
    return head.source.local ? '\0local' : head.attrs.nextHop;
  }
  const best = bestOf(head);
  if (!best) return null;
  if (best.source.local) return '\0local';
  return multipathNexthops(head).join(',');
}

export class LocRib {
  /** Per family: prefix -> head of its candidate list. */
  readonly tables: PrefixTable<PrefixKey, Route>[] = [
    new V4Table<Route>() as unknown as PrefixTable<PrefixKey, Route>,
    new Map<PrefixKey, Route>(),
  ];
  /** Best-path changes of the current operation (when tracked). */
  changes: BestPathChange[] = [];
  /** Max-prefix overflows of the current operation. */
  maxEvents: MaxPrefixEvent[] = [];
  /**
   * The RIB clock in whole seconds since `epochS`, set by the Rib at the start of each operation
   * and stamped on the routes it creates or changes (`Route.since`).
   */
  nowS = 0;
  /** Epoch seconds of `nowS === 0`. */
  epochS = 0;

  constructor(
    readonly attrs: AttrTable,
    private readonly opts: DecisionOptions,
    /** Build BestPathChange records (someone listens). */
    private readonly trackChanges: boolean,
    /** The best path (or its attributes) of a prefix changed: the export side queues it. */
    private readonly onBestChanged: (fi: number, key: PrefixKey, head: Route | null) => void,
    /** A route whose pre-policy copy differs was swept: forget that copy. */
    private readonly onRemoved: (ps: PeerState, fi: number, key: PrefixKey, pathId: number) => void,
  ) {}

  /** Adds or replaces (source, pathId)'s route for a prefix. False when refused (max-prefix). */
  upsert(ps: PeerState, fi: number, key: PrefixKey, pathId: number, attrs: RouteAttrs): boolean {
    const table = this.tables[fi];
    const head = table.get(key) ?? null;
    let r = head;
    let tail: Route | null = null;
    while (r !== null && (r.source !== ps || r.pathId !== pathId)) {
      tail = r;
      r = r.next;
    }
    if (r !== null) {
      r.flags &= ~STALE;
      if (r.attrs === attrs) return true;
      const oldBest = bestOf(head);
      const oldAttrs = oldBest?.attrs;
      const oldSig = this.trackChanges ? nexthopSignature(head) : null;
      const held = this.attrs.acquire(attrs);
      this.attrs.release(r.attrs);
      r.attrs = held;
      r.since = this.nowS;
      this.decide(fi, key, head, oldBest, oldAttrs, oldSig);
      return true;
    }
    const limit = ps.config.maxPrefixes?.[FAMILIES[fi]];
    if (limit !== undefined && ps.counts[fi] >= limit) {
      // RFC 4486 / issue #3: refuse the route and tell the session once; it sends the Cease.
      if (!ps.maxSignalled[fi]) {
        ps.maxSignalled[fi] = true;
        this.maxEvents.push({ peer: ps.id, family: FAMILIES[fi], count: ps.counts[fi] + 1, limit });
      }
      return false;
    }
    const route = new Route(ps, pathId, this.attrs.acquire(attrs), null, 0, this.nowS);
    ps.counts[fi]++;
    if (tail === null) {
      table.set(key, route);
      // A first route for the prefix: no old state to compare.
      if (selectBest(route, this.opts) !== null) this.bestChanged(fi, key, route, null);
      return true;
    }
    const oldBest = bestOf(head);
    const oldAttrs = oldBest?.attrs;
    const oldSig = this.trackChanges ? nexthopSignature(head) : null;
    tail.next = route;
    this.decide(fi, key, head, oldBest, oldAttrs, oldSig);
    return true;
  }

  /** Removes (source, pathId)'s route for a prefix; true when there was one. */
  removeRoute(ps: PeerState, fi: number, key: PrefixKey, pathId: number): boolean {
    const table = this.tables[fi];
    const head = table.get(key);
    if (head === undefined) return false;
    let prev: Route | null = null;
    let r: Route | null = head;
    while (r !== null && (r.source !== ps || r.pathId !== pathId)) {
      prev = r;
      r = r.next;
    }
    if (r === null) return false;
    this.unlink(fi, key, head, prev, r);
    return true;
  }

  unlink(fi: number, key: PrefixKey, head: Route, prev: Route | null, r: Route): Route | null {
    const table = this.tables[fi];
    const oldBest = bestOf(head);
    const oldAttrs = oldBest?.attrs;
    const oldSig = this.trackChanges ? nexthopSignature(head) : null;
    let newHead: Route | null = head;
    if (prev === null) {
      newHead = r.next;
      if (newHead === null) table.delete(key);
      else table.set(key, newHead);
    } else {
      prev.next = r.next;
    }
    r.next = null;
    (r.source as PeerState).counts[fi]--;
    this.attrs.release(r.attrs);
    this.decide(fi, key, newHead, oldBest, oldAttrs, oldSig);
    return newHead;
  }

  /** Removes a peer's routes of a family (only the stale ones when `staleOnly`). */
  removeWhere(ps: PeerState, fi: number, staleOnly: boolean): void {
    if (ps.counts[fi] === 0) return;
    const pre = ps.preChanged[fi] !== null && ps.preChanged[fi].size > 0;
    for (const [key, head] of this.tables[fi]) {
      let h: Route | null = head;
      let prev: Route | null = null;
      let r: Route | null = head;
      while (r !== null) {
        const next: Route | null = r.next;
        if (r.source === ps && (!staleOnly || r.flags & STALE)) {
          if (pre) this.onRemoved(ps, fi, key, r.pathId);
          h = this.unlink(fi, key, h!, prev, r);
        } else {
          prev = r;
        }
        r = next;
      }
      if (ps.counts[fi] === 0) break;
    }
  }

  markStale(ps: PeerState, fi: number): void {
    for (const head of this.tables[fi].values()) {
      for (let r: Route | null = head; r !== null; r = r.next) {
        if (r.source === ps) r.flags |= STALE;
      }
    }
  }

  sweepStale(ps: PeerState): void {
    for (let fi = 0; fi < 2; fi++) {
      if (!ps.stale[fi]) continue;
      this.removeWhere(ps, fi, true);
      ps.stale[fi] = false;
    }
  }

  decide(
    fi: number,
    key: PrefixKey,
    head: Route | null,
    oldBest: Route | null,
    oldAttrs: RouteAttrs | undefined,
    oldSig: string | null,
  ): void {
    const best = selectBest(head, this.opts);
    if (best !== oldBest || (best !== null && best.attrs !== oldAttrs)) {
      this.bestChanged(fi, key, head, oldSig);
    } else if (this.trackChanges && head !== null && best !== null) {
      const sig = nexthopSignature(head);
      if (sig !== oldSig) this.emitChange(fi, key, head);
    }
  }

  bestChanged(fi: number, key: PrefixKey, head: Route | null, oldSig: string | null): void {
    this.onBestChanged(fi, key, head);
    if (this.trackChanges && nexthopSignature(head) !== oldSig) this.emitChange(fi, key, head);
  }

  emitChange(fi: number, key: PrefixKey, head: Route | null): void {
    const best = bestOf(head);
    const family = FAMILIES[fi];
    if (best === null) this.changes.push({ withdrawn: true, family, key });
    else {
      this.changes.push({
        withdrawn: false,
        family,
        key,
        nexthops: multipathNexthops(head),
        local: best.source.local,
      });
    }
  }

  /** Re-runs the next-hop resolver and re-decides the prefixes whose candidates changed. */
  reresolve(): void {
    const changed = this.attrs.reresolve();
    if (changed.size === 0) return;
    for (let fi = 0; fi < 2; fi++) {
      for (const [key, head] of this.tables[fi]) {
        let hit = false;
        for (let r: Route | null = head; r !== null && !hit; r = r.next) hit = changed.has(r.attrs);
        if (!hit) continue;
        // The flags still describe the old decision: take the old state from them.
        const oldBest = bestOf(head);
        const oldSig = this.trackChanges ? nexthopSignature(head) : null;
        this.decide(fi, key, head, oldBest, oldBest?.attrs, oldSig);
      }
    }
  }

  view(fi: number, key: PrefixKey, r: Route): RouteView {
    return {
      prefix: keyToString(fi, key),
      peer: (r.source as PeerState).id,
      pathId: r.pathId,
      attributes: r.attrs.attrs,
      nextHop: r.attrs.nextHop,
      best: (r.flags & BEST) !== 0,
      multipath: (r.flags & MULTIPATH) !== 0,
      stale: (r.flags & STALE) !== 0,
      eligible: r.attrs.reachable,
      learnedAt: (this.epochS + r.since) * 1000,
    };
  }

  *locRib(family: FamilyName): Generator<LocRibEntry> {
    const fi = familyIndex(family);
    for (const [key, head] of this.tables[fi]) {
      const candidates: RouteView[] = [];
      for (let r: Route | null = head; r !== null; r = r.next)
        candidates.push(this.view(fi, key, r));
      const best = bestOf(head);
      yield {
        prefix: keyToString(fi, key),
        best: best ? this.view(fi, key, best) : null,
        nexthops: best ? [...multipathNexthops(head)] : [],
        candidates,
      };
    }
  }
}
