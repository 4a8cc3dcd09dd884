// The RIB's record of one peer: its configured and negotiated facts, its Adj-RIB-Out state,
// pre-policy routes, counters and timers. State only; the Rib class drives it.
// RFC 4271 §3.2 (per-peer RIBs), RFC 4456 §8 (client flag), RFC 4724 §4.2 (stale state).

import { parseIpv4, parseIpv6 } from '../../protocol/prefix.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { RouteAttrs } from './attrs.js';
import type { RouteSource } from './decision.js';
import type { ExportSource, ExportTarget } from './export.js';
import type { AdjRibOut } from './adj-rib-out.js';
import type { PreTable } from './pre-table.js';
import type { NegotiatedFacts, PeerConfig, RibPeer, UpdateSink } from './types.js';

/** Sorts like the address bytes, IPv4 before IPv6 ("" sorts first: local routes). */
export function addressSortKey(address: string): string {
  if (!address.includes(':')) {
    const v4 = parseIpv4(address);
    if (v4 === null) throw new TypeError(`peer address is not an IP address: ${address}`);
    return '4' + v4.toString(16).padStart(8, '0');
  }
  const v6 = parseIpv6(address);
  if (v6 === null) throw new TypeError(`peer address is not an IP address: ${address}`);
  return '6' + v6.toString('hex');
}

export class PeerState implements RibPeer, RouteSource, ExportSource, ExportTarget {
  readonly id: string;
  config: PeerConfig;
  readonly local: boolean;
  ebgp: boolean;
  rrClient: boolean;
  nextHopSelf: boolean;
  transit: boolean;
  localAsn: number;
  addressKey: string;
  routerId = '0.0.0.0';
  routerIdNum = 0;
  /** The Loc-RIB's number for this source (route-store.ts keeps it per route). */
  index = 0;

  up = false;
  facts: NegotiatedFacts | null = null;
  sink: UpdateSink | null = null;
  /** The sink said "stop" and has not said `sinkWritable` since. */
  blocked = false;
  /** In the RIB's set of peers to flush at the end of the operation. */
  pending = false;
  /** End-of-RIB still owed after the initial table. */
  eorPending = false;
  /** Accepted routes per family index (0 IPv4, 1 IPv6). */
  readonly counts = [0, 0];
  /** Of those, the ones kept as RFC 4724 stale. */
  readonly staleCounts = [0, 0];
  readonly maxSignalled = [false, false];
  /** Logged once: no address of the family for next-hop-self. */
  readonly warnedNoSelf = [false, false];
  /**
   * The pre-policy Adj-RIB-In per family, when `keepPrePolicy`, stored as the difference from
   * Loc-RIB: a route import policy accepted unchanged is its own pre-policy copy, so only the
   * routes policy changed (`preChanged`: the attributes as received) and those it rejected or
   * max-prefix refused (`preRejected`) are kept here. Keyed by prefix key or "key#pathId".
   */
  readonly preChanged: (PreTable | null)[] = [null, null];
  readonly preRejected: (PreTable | null)[] = [null, null];
  readonly out: (AdjRibOut | null)[] = [null, null];
  importChain: CompiledPolicy[] = [];
  exportChain: CompiledPolicy[] = [];
  /** Export-rule results per (attribute set, source peer); reset when facts change. */
  exportCache = new WeakMap<RouteAttrs, Map<PeerState, RouteAttrs | null>>();
  /** Families holding RFC 4724 stale routes. */
  readonly stale = [false, false];
  restartTimer: unknown = null;
  staleTimer: unknown = null;
  mraiTimer: unknown = null;

  constructor(config: PeerConfig, local = false) {
    this.id = config.id;
    this.local = local;
    this.config = config;
    this.ebgp = false;
    this.rrClient = false;
    this.nextHopSelf = false;
    this.transit = false;
    this.localAsn = config.localAsn;
    this.addressKey = '';
    this.configure(config);
  }

  configure(config: PeerConfig): void {
    this.config = config;
    this.ebgp = !this.local && config.asn !== config.localAsn;
    this.rrClient = config.rrClient ?? false;
    this.nextHopSelf = config.nextHopSelf ?? false;
    this.transit = config.transit ?? true;
    this.localAsn = config.localAsn;
    this.addressKey = this.local ? '' : addressSortKey(config.address);
  }

  setRouterId(routerId: string): void {
    const n = parseIpv4(routerId);
    if (n === null) throw new TypeError(`router id is not a dotted quad: ${routerId}`);
    this.routerId = routerId;
    this.routerIdNum = n;
  }

  /** Our next hop toward this peer for a family index, if we have one. */
  selfAddress(fi: number): string | undefined {
    const la = this.config.localAddress;
    const socket = this.facts?.localAddress;
    if (fi === 0) return la?.ipv4 ?? (socket && !socket.includes(':') ? socket : undefined);
    return la?.ipv6 ?? (socket && socket.includes(':') ? socket : undefined);
  }
}
