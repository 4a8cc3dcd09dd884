// The RIB facade the sessions talk to: peer lifecycle, import (normalise, intern, loop checks,
// import policy, pre-policy store), the RFC 4724 helper timers, and export (reflection rules,
// export policy, Adj-RIB-Out flushing under backpressure). Loc-RIB itself is loc-rib.ts.
// Owns no sockets and no clock: the session feeds it, timers are injected.
// RFC 4271 §3.2, §9.1, §9.2; RFC 4456 §8; RFC 4724 §4.2; RFC 7911; RFC 7606 §2.

import type { Logger } from 'pino';
import { AsPath } from '../../protocol/as-path.js';
import { parseV4Prefix, canonicalV6Prefix } from '../../protocol/prefix.js';
import type { PathAttributes, PrefixList, UpdateMessage } from '../../protocol/types.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { AdjRibOut } from './adj-rib-out.js';
import { AttrTable, RouteAttrs, normalisedAttrs } from './attrs.js';
import { BestPathChanges } from './changes.js';
import { STALE, type DecisionOptions } from './decision.js';
import { exportAttributes, mayExport } from './export.js';
import { PeerState } from './peer.js';
import { PreTable } from './pre-table.js';
import {
  FAMILIES,
  LocRib,
  NONE,
  familyIndex,
  prefixText,
  type LocRibEntry,
  type RouteView,
} from './loc-rib.js';

export type { LocRibEntry, RouteView };
export { BestPathChanges, FAMILIES, prefixText };
import type {
  ApplyResult,
  FamilyName,
  MaxPrefixEvent,
  NegotiatedFacts,
  NextHopResolver,
  PeerConfig,
  PrefixKey,
  RibApi,
  RibPeer,
  RibTimers,
  UpdateSink,
} from './types.js';

export interface RibOptions {
  localAsn: number;
  /** Our BGP Identifier (dotted quad). */
  routerId: string;
  /** RFC 4456 §7: the cluster id when we reflect; defaults to the router id. */
  clusterId?: string;
  logger: Logger;
  timers: RibTimers;
  /** Compiled policies by name, referenced from PeerConfig.importPolicies/exportPolicies. */
  policies?: ReadonlyMap<string, CompiledPolicy>;
  /** Default: every next hop is reachable. */
  resolveNextHop?: NextHopResolver;
  alwaysCompareMed?: boolean;
  /** Largest ECMP set; default 8. */
  maxPaths?: number;
  /** Prefixes handled per flush step of one peer (bounds what queues beyond the sink); default 4096. */
  chunkSize?: number;
  /** Best-path changes, delivered once per RIB operation (the kernel sync listens here). */
  onBestPathChanges?: (changes: BestPathChanges) => void;
  /** A peer went over its max-prefix limit; the session sends Cease (RFC 4486 subcode 1). */
  onMaxPrefix?: (event: MaxPrefixEvent) => void;
  /** The clock routes are stamped with (epoch ms; `RouteView.learnedAt`). Default Date.now. */
  now?: () => number;
}

/** How import policy treated a route, for the pre-policy store. */
const SAME = 0;
const CHANGED = 1;
const REJECTED = 2;
type PreState = typeof SAME | typeof CHANGED | typeof REJECTED;

const EMPTY_V4 = new Float64Array(0);
const LOCAL_ID = 'local';

export class Rib implements RibApi {
  private readonly log: Logger;
  private readonly timers: RibTimers;
  private readonly opts: DecisionOptions;
  private readonly chunkSize: number;
  private readonly clusterId: string;
  private readonly routerId: string;
  private readonly localAsn: number;
  private readonly policies: ReadonlyMap<string, CompiledPolicy>;
  /** Interned attributes of received and originated routes. */
  private readonly attrs: AttrTable;
  /** Interned attributes as exported (Adj-RIB-Out rows hold these). */
  private readonly outAttrs: AttrTable;
  private readonly loc: LocRib;
  private readonly peers = new Set<PeerState>();
  /** Established peers with an Adj-RIB-Out for the family. */
  private readonly outPeers: PeerState[][] = [[], []];
  private readonly localPeer: PeerState;
  private readonly onChanges: ((changes: BestPathChanges) => void) | undefined;
  /** The change log not in use, reused by the next operation. */
  private spareChanges: BestPathChanges | null = null;
  private readonly onMaxPrefix: ((event: MaxPrefixEvent) => void) | undefined;
  private readonly pendingPeers = new Set<PeerState>();
  private readonly now: () => number;

  constructor(options: RibOptions) {
    this.log = options.logger;
    this.timers = options.timers;
    this.localAsn = options.localAsn;
    this.routerId = options.routerId;
    this.clusterId = options.clusterId ?? options.routerId;
    this.policies = options.policies ?? new Map();
    this.opts = {
      alwaysCompareMed: options.alwaysCompareMed ?? false,
      maxPaths: Math.max(1, options.maxPaths ?? 8),
    };
    this.chunkSize = options.chunkSize ?? 4096;
    const resolve = options.resolveNextHop;
    this.attrs = new AttrTable(
      resolve ? (nh, afi) => resolve(nh, afi === 1 ? 'ipv4-unicast' : 'ipv6-unicast') : () => true,
    );
    this.outAttrs = new AttrTable(() => true);
    this.loc = new LocRib(
      this.attrs,
      this.opts,
      options.onBestPathChanges !== undefined,
      (fi, key, best) => this.markDirty(fi, key, best),
      (ps, fi, key, pathId) => this.setPre(ps.preChanged[fi], key, pathId, null),
    );
    this.now = options.now ?? Date.now;
    this.loc.epochS = Math.floor(this.now() / 1000);
    this.onChanges = options.onBestPathChanges;
    this.onMaxPrefix = options.onMaxPrefix;
    this.localPeer = new PeerState(
      { id: LOCAL_ID, address: '0.0.0.0', asn: options.localAsn, localAsn: options.localAsn },
      true,
    );
    this.localPeer.setRouterId(options.routerId);
    this.localPeer.up = true;
    this.loc.addSource(this.localPeer);
  }

  // -------------------------------------------------------------------------------------------
  // Peer lifecycle

  registerPeer(config: PeerConfig): RibPeer {
    for (const p of this.peers) {
      if (p.id === config.id) throw new TypeError(`peer id registered twice: ${config.id}`);
    }
    const ps = new PeerState(config);
    this.applyConfig(ps, config);
    this.peers.add(ps);
    this.loc.addSource(ps);
    return ps;
  }

  updatePeer(peer: RibPeer, config: PeerConfig): void {
    const ps = this.state(peer);
    this.applyConfig(ps, config);
    ps.exportCache = new WeakMap();
    if (ps.up) {
      this.softResetIn(ps);
      this.softResetOut(ps);
    }
  }

  unregisterPeer(peer: RibPeer): void {
    const ps = this.state(peer);
    if (ps.up) this.peerDown(ps, { graceful: false });
    this.clearTimers(ps);
    for (let fi = 0; fi < 2; fi++) {
      this.loc.removeWhere(ps, fi, false);
      this.dropPre(ps, fi, 'all');
    }
    this.peers.delete(ps);
    this.loc.removeSource(ps);
    this.endOp();
  }

  established(peer: RibPeer, facts: NegotiatedFacts, sink: UpdateSink): void {
    const ps = this.state(peer);
    if (ps.up) this.peerDown(ps, { graceful: false });
    ps.setRouterId(facts.routerId);
    ps.facts = facts;
    ps.sink = sink;
    ps.blocked = false;
    ps.up = true;
    if (ps.restartTimer !== null) {
      this.timers.clearTimeout(ps.restartTimer);
      ps.restartTimer = null;
    }
    // Router ids feed ORIGINATOR_ID and the reflect-to-originator check: drop cached exports.
    for (const p of this.peers) p.exportCache = new WeakMap();
    for (let fi = 0; fi < 2; fi++) {
      const fam = FAMILIES[fi];
      if (ps.stale[fi]) {
        // RFC 4724 §4.2: stale routes of a family the peer no longer preserves (F bit clear, or
        // family gone) are deleted at once; the others wait for End-of-RIB or the stale timer.
        if (!facts.gracefulRestart?.families[fam]?.forwarding || !facts.families.includes(fam)) {
          this.loc.removeWhere(ps, fi, true);
          ps.stale[fi] = false;
        }
      }
      if (!facts.families.includes(fam)) continue;
      const out = new AdjRibOut(fi === 0 ? 1 : 2, facts.addPath[fam]?.send ?? false);
      out.cursor = this.loc.heads[fi].keys();
      ps.out[fi] = out;
      this.outPeers[fi].push(ps);
    }
    if (ps.stale[0] || ps.stale[1]) {
      const staleMs = (ps.config.staleTimeS ?? 360) * 1000;
      ps.staleTimer = this.timers.setTimeout(() => {
        ps.staleTimer = null;
        this.log.info({ peer: ps.id }, 'stale timer expired: sweeping stale routes');
        this.loc.sweepStale(ps);
        this.endOp();
      }, staleMs);
    }
    ps.eorPending = true;
    // The initial table goes out at once, whatever the MRAI.
    this.flushPeer(ps);
    this.endOp();
  }

  peerDown(peer: RibPeer, opts: { graceful: boolean }): void {
    const ps = this.state(peer);
    const facts = ps.facts;
    this.closeOutbound(ps);
    const gr = facts?.gracefulRestart;
    const graceful = opts.graceful && gr !== undefined && gr.restartTimeS > 0;
    let anyStale = false;
    for (let fi = 0; fi < 2; fi++) {
      if (graceful && gr.families[FAMILIES[fi]] !== undefined && ps.counts[fi] > 0) {
        // RFC 4724 §4.2: keep the routes, marked stale, while the peer restarts.
        this.loc.markStale(ps, fi);
        ps.stale[fi] = true;
        anyStale = true;
      } else {
        this.loc.removeWhere(ps, fi, false);
        ps.stale[fi] = false;
        this.dropPre(ps, fi, 'all');
      }
      // Rejected routes hold no forwarding state to preserve: the peer sends them again.
      this.dropPre(ps, fi, 'rejected');
      ps.maxSignalled[fi] = false;
    }
    if (ps.staleTimer !== null) {
      this.timers.clearTimeout(ps.staleTimer);
      ps.staleTimer = null;
    }
    if (anyStale) {
      // RFC 4724 §4.2: if the session is not back within the Restart Time, delete them.
      ps.restartTimer = this.timers.setTimeout(() => {
        ps.restartTimer = null;
        this.log.info({ peer: ps.id }, 'restart time passed: deleting stale routes');
        this.loc.sweepStale(ps);
        this.endOp();
      }, gr!.restartTimeS * 1000);
    }
    this.endOp();
  }

  endOfRib(peer: RibPeer, family: FamilyName): void {
    const ps = this.state(peer);
    const fi = familyIndex(family);
    if (ps.stale[fi]) {
      // RFC 4724 §4.2: End-of-RIB from the restarted peer: what is still stale is gone.
      this.loc.removeWhere(ps, fi, true);
      ps.stale[fi] = false;
      if (!ps.stale[0] && !ps.stale[1] && ps.staleTimer !== null) {
        this.timers.clearTimeout(ps.staleTimer);
        ps.staleTimer = null;
      }
    }
    this.endOp();
  }

  sinkWritable(peer: RibPeer): void {
    const ps = this.state(peer);
    ps.blocked = false;
    this.flushPeer(ps);
  }

  routeRefresh(peer: RibPeer, family: FamilyName): void {
    const ps = this.state(peer);
    const fi = familyIndex(family);
    const out = ps.out[fi];
    if (!out) return;
    // RFC 2918 §4: re-advertise the Adj-RIB-Out for the family. The Adj-RIB-Out is kept as
    // state and pending changes are queued on top of it, so walking what was sent is enough
    // (and cheap toward a peer that gets a few blocks from a full table). A walk of Loc-RIB
    // already under way (initial table, soft reset out) starts over instead, resending all.
    // The walk is over a copy of the keys: what the queued changes add is not sent twice.
    out.cursor =
      out.cursor === null
        ? Array.from(out.sent, ([key]) => key).values()
        : this.loc.heads[fi].keys();
    out.cursorForce = true;
    ps.pending = true;
    this.pendingPeers.add(ps);
    this.endOp();
  }

  softResetIn(peer: RibPeer, family?: FamilyName): boolean {
    const ps = this.state(peer);
    if (!ps.config.keepPrePolicy) return false;
    this.tick();
    for (let fi = 0; fi < 2; fi++) {
      if (family !== undefined && familyIndex(family) !== fi) continue;
      // Collect first: re-importing changes the tables being walked. Stale routes (RFC 4724)
      // wait for the peer to send them again.
      const changed = ps.preChanged[fi];
      const work: { key: PrefixKey; pathId: number; base: RouteAttrs }[] = [];
      const store = this.loc.store;
      for (const { key, id } of this.loc.routes(fi, ps)) {
        if (store.flags(id) & STALE) continue;
        const pathId = store.pathId(id);
        const base = changed?.get(preKey(key, pathId)) ?? store.attrs(id);
        work.push({ key, pathId, base });
      }
      for (const [pk, base] of ps.preRejected[fi] ?? []) {
        const { key, pathId } = fromPreKey(fi, pk);
        work.push({ key, pathId, base });
      }
      for (const w of work) {
        this.importOne(ps, fi, w.key, w.pathId, w.base, this.loops(ps, w.base.attrs), true);
      }
    }
    this.endOp();
    return true;
  }

  softResetOut(peer: RibPeer): void {
    const ps = this.state(peer);
    ps.exportCache = new WeakMap();
    for (let fi = 0; fi < 2; fi++) {
      const out = ps.out[fi];
      if (out && out.cursor === null) out.cursor = this.loc.heads[fi].keys();
    }
    ps.pending = true;
    this.pendingPeers.add(ps);
    this.endOp();
  }

  // -------------------------------------------------------------------------------------------
  // Inbound

  applyUpdate(peer: RibPeer, update: UpdateMessage): ApplyResult {
    const ps = this.state(peer);
    const result: ApplyResult = { announced: 0, withdrawn: 0, rejected: 0 };
    if (!ps.up) {
      this.log.warn({ peer: ps.id }, 'UPDATE from a peer that is not established: ignored');
      return result;
    }
    if (update.endOfRib) {
      this.endOfRib(ps, update.endOfRib);
      return result;
    }
    this.tick();
    const a = update.attributes;
    // RFC 7606 §2: treat-as-withdraw turns every prefix of the UPDATE into a withdrawal.
    const tw = update.treatAsWithdraw === true;
    this.withdrawList(ps, update.withdrawn, result);
    if (a.mpUnreach?.withdrawn && a.mpUnreach.safi === 1) {
      this.withdrawList(ps, a.mpUnreach.withdrawn, result);
    }
    if (update.nlri.length) {
      if (tw || !a.nextHop) this.withdrawList(ps, update.nlri, result);
      else this.announceList(ps, update.nlri, a, a.nextHop, result);
    }
    const mp = a.mpReach;
    if (mp?.nlri && mp.safi === 1 && mp.nlri.length) {
      if (tw || !mp.nextHops.length) this.withdrawList(ps, mp.nlri, result);
      else this.announceList(ps, mp.nlri, a, mp.nextHops[0], result);
    }
    this.endOp();
    return result;
  }

  private withdrawList(ps: PeerState, list: PrefixList, result: ApplyResult): void {
    const fi = list.afi - 1;
    const n = list.length;
    const ids = list.pathIds;
    const changed = ps.preChanged[fi];
    const rejected = ps.preRejected[fi];
    for (let i = 0; i < n; i++) {
      const key: PrefixKey = fi === 0 ? list.v4[i] : list.v6[i];
      const pathId = ids ? ids[i] : 0;
      this.setPre(changed, key, pathId, null);
      this.setPre(rejected, key, pathId, null);
      if (this.loc.removeRoute(ps, fi, key, pathId)) result.withdrawn++;
    }
  }

  private announceList(
    ps: PeerState,
    list: PrefixList,
    attrs: PathAttributes,
    nextHop: string,
    result: ApplyResult,
  ): void {
    const fi = list.afi - 1;
    const norm = this.normalise(ps, attrs, nextHop);
    // One interned set for all prefixes of this UPDATE (and of every UPDATE with the same set).
    const base = this.attrs.intern(list.afi, norm);
    const looped = this.loops(ps, norm);
    const n = list.length;
    const ids = list.pathIds;
    const keep = ps.config.keepPrePolicy === true;
    for (let i = 0; i < n; i++) {
      const key: PrefixKey = fi === 0 ? list.v4[i] : list.v6[i];
      const pathId = ids ? ids[i] : 0;
      if (this.importOne(ps, fi, key, pathId, base, looped, keep)) result.announced++;
      else result.rejected++;
    }
  }

  /**
   * Runs loop checks and import policy for one prefix; installs or removes. True when installed.
   * `keep`: record the pre-policy copy where it differs from what Loc-RIB holds.
   */
  private importOne(
    ps: PeerState,
    fi: number,
    key: PrefixKey,
    pathId: number,
    base: RouteAttrs,
    looped: boolean,
    keep: boolean,
  ): boolean {
    let final: RouteAttrs | null = looped ? null : base;
    if (final !== null && ps.importChain.length)
      final = this.runChain(ps.importChain, fi, key, final, this.attrs);
    let installed = false;
    if (final === null) this.loc.removeRoute(ps, fi, key, pathId);
    else installed = this.loc.upsert(ps, fi, key, pathId, final);
    if (keep) {
      const state: PreState = !installed ? REJECTED : final === base ? SAME : CHANGED;
      this.setPre(ps.preChanged[fi], key, pathId, state === CHANGED ? base : null);
      this.setPre(ps.preRejected[fi], key, pathId, state === REJECTED ? base : null);
    }
    return installed;
  }

  private runChain(
    chain: CompiledPolicy[],
    fi: number,
    key: PrefixKey,
    start: RouteAttrs,
    table: AttrTable,
  ): RouteAttrs | null {
    let cur = start;
    const afi = fi === 0 ? 1 : 2;
    for (const p of chain) {
      const term = p.match(afi, key, cur.attrs);
      if (!p.accepts(term)) return null;
      if (!p.modifies(term)) continue;
      // Policy results are cached per (attribute set, policy, term): one transform per set.
      const dk = `${p.name}\0${term}`;
      let d = cur.derived?.get(dk);
      if (d === undefined) {
        d = table.intern(afi, p.transform(term, cur.attrs));
        (cur.derived ??= new Map()).set(dk, d);
      }
      cur = d;
    }
    return cur;
  }

  /** The attribute set as stored: next hop for the family, no MP attributes, eBGP-only cleanups. */
  private normalise(ps: PeerState, a: PathAttributes, nextHop: string): Readonly<PathAttributes> {
    // RFC 6793 §4.2.3: AS4_PATH/AS4_AGGREGATOR are already merged by the codec. From eBGP,
    // RFC 4271 §5.1.5 ignores LOCAL_PREF and RFC 4456 §8 ORIGINATOR_ID/CLUSTER_LIST.
    return normalisedAttrs(a, nextHop, ps.ebgp);
  }

  /** Loop detection: own AS in AS_PATH (RFC 4271 §9.1.2), own router id / cluster (RFC 4456 §8). */
  private loops(ps: PeerState, a: Readonly<PathAttributes>): boolean {
    const own = ps.localAsn;
    const path = a.asPath;
    if (path && (path.includes(own) || (own !== this.localAsn && path.includes(this.localAsn))))
      return true;
    if (!ps.ebgp) {
      if (a.originatorId === this.routerId) return true;
      if (a.clusterList && a.clusterList.includes(this.clusterId)) return true;
    }
    return false;
  }

  /** Sets or (with null) deletes one pre-policy row, keeping the attribute references right. */
  private setPre(
    pre: PreTable | null,
    key: PrefixKey,
    pathId: number,
    base: RouteAttrs | null,
  ): void {
    // The full-table case: policy changes nothing, the store stays empty, nothing is looked up.
    if (pre === null || (base === null && pre.size === 0)) return;
    const pk = preKey(key, pathId);
    const old = pre.get(pk);
    if (old === base) return;
    if (base) pre.set(pk, this.attrs.acquire(base));
    else pre.delete(pk);
    if (old) this.attrs.release(old);
  }

  private dropPre(ps: PeerState, fi: number, which: 'all' | 'rejected'): void {
    const maps = which === 'all' ? [ps.preChanged[fi], ps.preRejected[fi]] : [ps.preRejected[fi]];
    for (const pre of maps) {
      if (!pre) continue;
      for (const a of pre.values()) this.attrs.release(a);
      pre.clear();
    }
  }

  /** Loc-RIB's best path for a prefix changed: queue it for every peer that may care. */
  private markDirty(fi: number, key: PrefixKey, best: number): void {
    const peers = this.outPeers[fi];
    if (peers.length) {
      const source = best === NONE ? null : this.loc.source(best);
      for (let i = 0; i < peers.length; i++) {
        const p = peers[i];
        const out = p.out[fi]!;
        // Nothing to do for a peer that will get nothing and holds nothing (e.g. the source of
        // a full table): skipping it keeps its to-do empty.
        if (
          (source === null || source === p) &&
          (out.sent.size === 0 || out.sent.get(key) === undefined)
        )
          continue;
        out.dirty.add(key);
        if (!p.pending) {
          p.pending = true;
          this.pendingPeers.add(p);
        }
      }
    }
  }

  /** Call after the next-hop resolver's answers may have changed: re-decides affected prefixes. */
  nextHopsChanged(): void {
    this.loc.reresolve();
    this.endOp();
  }

  // -------------------------------------------------------------------------------------------
  // Own blocks

  /** Originates a prefix (an own pod block), announced to every peer with next-hop-self. */
  originate(
    prefix: string,
    extra: Pick<PathAttributes, 'communities' | 'largeCommunities' | 'med' | 'localPref'> = {},
  ): void {
    const { fi, key } = parsePrefixKey(prefix);
    this.tick();
    const a: PathAttributes = { origin: 0, asPath: AsPath.EMPTY, ...extra };
    const attrs = this.attrs.intern(fi === 0 ? 1 : 2, a);
    this.loc.upsert(this.localPeer, fi, key, 0, attrs);
    this.endOp();
  }

  withdrawOriginated(prefix: string): void {
    const { fi, key } = parsePrefixKey(prefix);
    this.loc.removeRoute(this.localPeer, fi, key, 0);
    this.endOp();
  }

  // -------------------------------------------------------------------------------------------
  // Outbound

  /** What peer `ps` should hold for a prefix now (interned in outAttrs), or null. */
  private wanted(ps: PeerState, fi: number, key: PrefixKey): RouteAttrs | null {
    const best = this.loc.best(fi, key);
    if (best === NONE) return null;
    const src = this.loc.source(best);
    // Never back to the peer it came from.
    if (src === ps) return null;
    const attrs = this.loc.attrsOf(best);
    if (!mayExport(src, attrs, ps)) return null;
    let bySrc = ps.exportCache.get(attrs);
    if (bySrc === undefined) {
      bySrc = new Map();
      ps.exportCache.set(attrs, bySrc);
    }
    let out = bySrc.get(src);
    if (out === undefined) {
      const pa = exportAttributes(src, attrs, ps, ps.selfAddress(fi), this.clusterId);
      out = pa === null ? null : this.outAttrs.intern(fi === 0 ? 1 : 2, pa);
      if (pa === null && !ps.warnedNoSelf[fi]) {
        ps.warnedNoSelf[fi] = true;
        this.log.warn(
          { peer: ps.id, family: FAMILIES[fi] },
          'no local address of the family for next-hop-self: not exported',
        );
      }
      bySrc.set(src, out);
    }
    if (out === null) return null;
    if (ps.exportChain.length) return this.runChain(ps.exportChain, fi, key, out, this.outAttrs);
    return out;
  }

  private flushPeer(ps: PeerState): void {
    if (!ps.up || ps.sink === null) return;
    for (let fi = 0; fi < 2; fi++) {
      const out = ps.out[fi];
      if (!out) continue;
      while (!out.idle) {
        if (ps.blocked) return;
        this.sendChunk(ps, fi, out);
      }
    }
    if (ps.eorPending && !ps.blocked) {
      // RFC 4724 §2: End-of-RIB after the initial table, per family.
      ps.eorPending = false;
      for (let fi = 0; fi < 2; fi++) {
        if (ps.out[fi] && !ps.sink.send({ kind: 'end-of-rib', family: FAMILIES[fi] }))
          ps.blocked = true;
      }
    }
  }

  private sendChunk(ps: PeerState, fi: number, out: AdjRibOut): void {
    const chunk = out.takeChunk(this.chunkSize, (key) => this.wanted(ps, fi, key), this.outAttrs);
    const family = FAMILIES[fi];
    const sink = ps.sink!;
    // Withdrawals first, then announcements grouped by attribute set: a prefix appears at most
    // once per chunk, so no announce can overtake its own withdrawal.
    if (chunk.withdrawals.length) {
      if (
        !sink.send({
          kind: 'withdraw',
          family,
          prefixes: toPrefixList(fi, chunk.withdrawals, out.addPathSend),
        })
      )
        ps.blocked = true;
    }
    for (const [attrs, keys] of chunk.groups) {
      const ok = sink.send({
        kind: 'announce',
        family,
        attributes: attrs.attrs,
        prefixes: toPrefixList(fi, keys, out.addPathSend),
      });
      if (!ok) ps.blocked = true;
    }
  }

  private closeOutbound(ps: PeerState): void {
    ps.up = false;
    ps.sink = null;
    ps.blocked = false;
    ps.eorPending = false;
    if (ps.mraiTimer !== null) {
      this.timers.clearTimeout(ps.mraiTimer);
      ps.mraiTimer = null;
    }
    for (let fi = 0; fi < 2; fi++) {
      const out = ps.out[fi];
      if (!out) continue;
      out.clear(this.outAttrs);
      ps.out[fi] = null;
      const list = this.outPeers[fi];
      const at = list.indexOf(ps);
      if (at >= 0) list.splice(at, 1);
    }
    this.pendingPeers.delete(ps);
    ps.pending = false;
  }

  /** Ends a public operation: delivers best-path changes and events, flushes or arms MRAI. */
  private endOp(): void {
    if (this.loc.changes.length && this.onChanges) {
      // A listener that calls back into the RIB gets a fresh log for what that changes.
      const changes = this.loc.changes;
      this.loc.changes = this.spareChanges ?? new BestPathChanges();
      this.spareChanges = null;
      this.onChanges(changes);
      changes.clear();
      this.spareChanges = changes;
    }
    if (this.loc.maxEvents.length) {
      const events = this.loc.maxEvents;
      this.loc.maxEvents = [];
      for (const e of events) {
        this.log.warn(e, 'max-prefix limit exceeded');
        this.onMaxPrefix?.(e);
      }
    }
    if (this.pendingPeers.size === 0) return;
    const peers = [...this.pendingPeers];
    this.pendingPeers.clear();
    for (const ps of peers) {
      ps.pending = false;
      const mrai = ps.config.mraiMs ?? 0;
      if (mrai <= 0) this.flushPeer(ps);
      else if (ps.mraiTimer === null) {
        // RFC 4271 §9.2.1.1: batch changes for the MRAI interval, then send them together.
        ps.mraiTimer = this.timers.setTimeout(() => {
          ps.mraiTimer = null;
          this.flushPeer(ps);
        }, mrai);
      }
    }
  }

  /** Stamps the operation's time on the routes it creates or changes. */
  private tick(): void {
    this.loc.nowS = Math.floor(this.now() / 1000) - this.loc.epochS;
  }

  private clearTimers(ps: PeerState): void {
    for (const h of [ps.restartTimer, ps.staleTimer, ps.mraiTimer]) {
      if (h !== null) this.timers.clearTimeout(h);
    }
    ps.restartTimer = ps.staleTimer = ps.mraiTimer = null;
  }

  private applyConfig(ps: PeerState, config: PeerConfig): void {
    const resolve = (names: string[] | undefined, what: string): CompiledPolicy[] =>
      (names ?? []).map((n) => {
        const p = this.policies.get(n);
        if (!p) throw new TypeError(`peer ${config.id}: unknown ${what} policy "${n}"`);
        return p;
      });
    const importChain = resolve(config.importPolicies, 'import');
    const exportChain = resolve(config.exportPolicies, 'export');
    ps.configure(config);
    ps.importChain = importChain;
    ps.exportChain = exportChain;
    for (let fi = 0; fi < 2; fi++) {
      if (!config.keepPrePolicy) {
        this.dropPre(ps, fi, 'all');
        ps.preChanged[fi] = ps.preRejected[fi] = null;
      } else {
        ps.preChanged[fi] ??= new PreTable();
        ps.preRejected[fi] ??= new PreTable();
      }
    }
  }

  private state(peer: RibPeer): PeerState {
    if (!(peer instanceof PeerState) || !this.peers.has(peer)) {
      throw new TypeError(`unknown peer: ${peer.id}`);
    }
    return peer;
  }

  // -------------------------------------------------------------------------------------------
  // Inspection (show routes, tests). Not on any hot path.

  /** Loc-RIB of a family: every prefix with its candidates, best path and ECMP next hops. */
  locRib(family: FamilyName): Generator<LocRibEntry> {
    return this.loc.locRib(family);
  }

  /** Post-policy Adj-RIB-In (or pre-policy, when kept and asked for). */
  *adjRibIn(peer: RibPeer, family: FamilyName, prePolicy = false): Generator<RouteView> {
    const ps = this.state(peer);
    const fi = familyIndex(family);
    if (prePolicy) {
      // As received, never selected: Loc-RIB's own copy where policy kept it, the stored copy
      // where policy changed or rejected it.
      const changed = ps.preChanged[fi];
      const received = (
        key: PrefixKey,
        pathId: number,
        a: RouteAttrs,
        stale: boolean,
        learnedAt: number,
      ): RouteView => ({
        prefix: prefixText(key),
        peer: ps.id,
        pathId,
        attributes: a.attrs,
        nextHop: a.nextHop,
        best: false,
        multipath: false,
        stale,
        eligible: a.reachable,
        learnedAt,
      });
      for (const { key, id } of this.loc.routes(fi, ps)) {
        const post = this.loc.view(fi, key, id);
        const a = changed?.get(preKey(key, post.pathId)) ?? this.loc.attrsOf(id);
        yield received(key, post.pathId, a, post.stale, post.learnedAt);
      }
      for (const [pk, a] of ps.preRejected[fi] ?? []) {
        const { key, pathId } = fromPreKey(fi, pk);
        yield received(key, pathId, a, false, 0);
      }
      return;
    }
    for (const { key, id } of this.loc.routes(fi, ps)) yield this.loc.view(fi, key, id);
  }

  /** What the peer holds from us (as sent). */
  *adjRibOut(
    peer: RibPeer,
    family: FamilyName,
  ): Generator<{ prefix: string; attributes: Readonly<PathAttributes> }> {
    const ps = this.state(peer);
    const fi = familyIndex(family);
    for (const [key, a] of ps.out[fi]?.sent ?? [])
      yield { prefix: prefixText(key), attributes: a.attrs };
  }

  stats(): {
    prefixes: [number, number];
    attributeSets: number;
    exportedSets: number;
    peers: number;
  } {
    return {
      prefixes: [this.loc.heads[0].size, this.loc.heads[1].size],
      attributeSets: this.attrs.size,
      exportedSets: this.outAttrs.size,
      peers: this.peers.size,
    };
  }

  /**
   * Routes the peer currently announces per family, before import policy: the pre-policy
   * Adj-RIB-In size when it is kept, else the accepted count.
   */
  receivedCount(peer: RibPeer, family: FamilyName): number {
    const ps = this.state(peer);
    const fi = familyIndex(family);
    return ps.counts[fi] + (ps.preRejected[fi]?.size ?? 0);
  }

  /** Routes of the peer kept as stale (RFC 4724 helper mode) per family. */
  staleCount(peer: RibPeer, family: FamilyName): number {
    return this.state(peer).staleCounts[familyIndex(family)];
  }

  /** Prefixes the peer holds from us per family (the Adj-RIB-Out's size). */
  advertisedCount(peer: RibPeer, family: FamilyName): number {
    return this.state(peer).out[familyIndex(family)]?.sent.size ?? 0;
  }

  /** Accepted routes per family for a peer (what max-prefix counts). */
  routeCount(peer: RibPeer, family: FamilyName): number {
    return this.state(peer).counts[familyIndex(family)];
  }
}

/** A prefix in text as the RIB keys it: family index and key. Throws on a malformed prefix. */
export function parsePrefixKey(prefix: string): { fi: number; key: PrefixKey } {
  if (prefix.includes(':')) {
    const c = canonicalV6Prefix(prefix);
    if (c === null) throw new TypeError(`not an IPv6 prefix: ${prefix}`);
    return { fi: 1, key: c };
  }
  const k = parseV4Prefix(prefix);
  if (k === null) throw new TypeError(`not an IPv4 prefix: ${prefix}`);
  return { fi: 0, key: k };
}

/** The pre-policy store's key: the prefix key, or "key#pathId" under ADD-PATH. */
function preKey(key: PrefixKey, pathId: number): PrefixKey {
  return pathId ? `${key}#${pathId}` : key;
}

function fromPreKey(fi: number, pk: PrefixKey): { key: PrefixKey; pathId: number } {
  if (typeof pk !== 'string' || !pk.includes('#')) return { key: pk, pathId: 0 };
  const hash = pk.lastIndexOf('#');
  const head = pk.slice(0, hash);
  return { key: fi === 0 ? Number(head) : head, pathId: Number(pk.slice(hash + 1)) };
}

function toPrefixList(fi: number, keys: PrefixKey[], addPath: boolean): PrefixList {
  // Best path only toward ADD-PATH receivers, under path id 1 (RFC 7911 §3 allows any id).
  const pathIds = addPath ? new Uint32Array(keys.length).fill(1) : null;
  if (fi === 0) {
    return {
      afi: 1,
      length: keys.length,
      v4: Float64Array.from(keys as number[]),
      v6: [],
      pathIds,
    };
  }
  return { afi: 2, length: keys.length, v4: EMPTY_V4, v6: keys as string[], pathIds };
}
