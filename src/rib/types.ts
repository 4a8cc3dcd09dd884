// The typed boundary between sessions, the RIB and the kernel sync: what a session tells the
// RIB (peer facts, decoded UPDATEs, End-of-RIB, session loss) and what it gets back (outbound
// updates through a sink it owns, max-prefix events). Types only: no logic, no I/O.
// RFC 4271 §3.2 (RIBs), §9 (UPDATE handling); RFC 4724 (GR helper); RFC 7911 (ADD-PATH).

import type {
  FamilyName,
  PathAttributes,
  PrefixList,
  UpdateMessage,
} from '../../protocol/types.js';

export type { FamilyName };

/** A family's RIB key: an IPv4 prefix as a number (protocol/prefix.ts v4Key), IPv6 as text. */
export type PrefixKey = number | string;

/**
 * What a peer is, as configured. Given once to `Rib.registerPeer`; change it with
 * `Rib.updatePeer` (which re-runs policy: soft reset in and out).
 */
export interface PeerConfig {
  /** Unique and stable, e.g. the peer address or a node name. Used in logs and events. */
  id: string;
  /** The neighbour's address (IPv4 or IPv6 text). Decision step 8 compares it. */
  address: string;
  /** The neighbour's ASN (4-octet). iBGP when equal to `localAsn`. */
  asn: number;
  /** Our ASN toward this peer (normally `RibOptions.localAsn`). */
  localAsn: number;
  /** RFC 4456: this iBGP peer is our route-reflector client. */
  rrClient?: boolean;
  /**
   * Set NEXT_HOP to our address toward iBGP peers for routes we do not reflect (eBGP-learned).
   * Toward eBGP peers next-hop-self always applies; locally originated routes always carry it.
   */
  nextHopSelf?: boolean;
  /**
   * Toward an eBGP peer: send routes learned from other peers too (transit). Default true (plain
   * BGP); the daemon sets false so a node announces only its own blocks to a ToR.
   */
  transit?: boolean;
  /**
   * Our next-hop addresses toward this peer. IPv4 defaults to `NegotiatedFacts.localAddress`
   * when that is IPv4; IPv6 must be given to send IPv6 routes that need next-hop-self.
   */
  localAddress?: { ipv4?: string; ipv6?: string };
  /** Names of compiled policies (src/policy) applied in order on import; all must accept. */
  importPolicies?: string[];
  /** Names of compiled policies applied in order on export, after the RFC export rules. */
  exportPolicies?: string[];
  /** Max-prefix per family: accepted (post-policy) routes above this raise `onMaxPrefix`. */
  maxPrefixes?: Partial<Record<FamilyName, number>>;
  /** Keep the pre-policy Adj-RIB-In so `softResetIn` works without a ROUTE-REFRESH. */
  keepPrePolicy?: boolean;
  /** MRAI-style batching of outbound updates, milliseconds. Default 0 (send as soon as writable). */
  mraiMs?: number;
  /** RFC 4724 helper: how long stale routes live after re-establishment without End-of-RIB (s). Default 360. */
  staleTimeS?: number;
}

/**
 * What the session negotiated, given on Established. The RIB uses only these facts: it never
 * looks at the OPEN messages.
 */
export interface NegotiatedFacts {
  /** The peer's BGP Identifier (dotted quad) from its OPEN; decision step 6 uses it. */
  routerId: string;
  /** Our local socket address on this session: the default IPv4 next-hop-self. */
  localAddress: string;
  /** Families both sides announced (RFC 4760). */
  families: FamilyName[];
  /** RFC 7911 per family: we receive path ids (`receive`) and/or send them (`send`). */
  addPath: Partial<Record<FamilyName, { receive: boolean; send: boolean }>>;
  /** RFC 6793. Informational for the RIB (the codec context carries it). */
  fourOctetAs: boolean;
  /** RFC 8654. Informational for the RIB. */
  extendedMessage: boolean;
  /**
   * RFC 4724 as the PEER advertised it: its restart time and, per family, whether it kept
   * forwarding state across this restart. Absent when the peer did not send the capability
   * (then a session loss is never graceful).
   */
  gracefulRestart?: {
    restartTimeS: number;
    families: Partial<Record<FamilyName, { forwarding: boolean }>>;
  };
}

/**
 * One unit of outbound work, neutral of the wire format. The session (or `pack-adapter.ts`)
 * turns it into UPDATE messages. `attributes.nextHop` is the next hop for the family of the
 * update (IPv4 NEXT_HOP or the MP_REACH next hop for IPv6); `mpReach`/`mpUnreach` are never set.
 * `prefixes.pathIds` is set when ADD-PATH send is negotiated for the family.
 */
export type OutboundUpdate =
  | {
      kind: 'announce';
      family: FamilyName;
      /** Shared by every prefix of this update; do not mutate (it is interned). */
      attributes: Readonly<PathAttributes>;
      prefixes: PrefixList;
    }
  | { kind: 'withdraw'; family: FamilyName; prefixes: PrefixList }
  | { kind: 'end-of-rib'; family: FamilyName };

/**
 * The session's outbound side, given to `Rib.established`. The RIB keeps Adj-RIB-Out as state
 * and generates updates from it only while the sink is writable, so nothing queues per peer
 * beyond one bounded chunk (`RibOptions.chunkSize` prefixes).
 */
export interface UpdateSink {
  /**
   * Takes one update. Returns false when the session's send queue is above its high-water mark:
   * the RIB then stops (after finishing the current chunk) until `Rib.sinkWritable(peer)`.
   */
  send(update: OutboundUpdate): boolean;
}

/**
 * The kernel-facing output: a best-path change (BIRD's rt_notify). The prefix travels as its RIB
 * key (a number for IPv4, see protocol/prefix.ts v4Key; canonical text for IPv6): formatting a
 * million prefixes as text only to parse them again in the kernel sync is what this avoids.
 * `prefixText(change.key)` gives "10.244.5.192/26".
 */
export type BestPathChange =
  | {
      withdrawn: false;
      family: FamilyName;
      key: PrefixKey;
      /**
       * The ECMP next hops, best first, de-duplicated; empty for a locally originated block.
       * Shared between prefixes (one list per attribute set): never mutate it.
       */
      nexthops: readonly string[];
      /** True when the best route is one we originate (the kernel installs a blackhole). */
      local: boolean;
    }
  | { withdrawn: true; family: FamilyName; key: PrefixKey };

/** Raised when a peer's accepted routes of one family exceed its limit; the session sends the Cease. */
export interface MaxPrefixEvent {
  peer: string;
  family: FamilyName;
  count: number;
  limit: number;
}

/** The only timer surface the RIB uses; the daemon passes the single timer owner. */
export interface RibTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Decides whether a next hop is usable; an unreachable next hop makes a route ineligible. */
export type NextHopResolver = (nextHop: string, family: FamilyName) => boolean;

/** What `applyUpdate` did, for counters and logs. */
export interface ApplyResult {
  announced: number;
  withdrawn: number;
  /** Prefixes rejected by import policy or loop detection (counted as withdrawals). */
  rejected: number;
}

/** An opaque handle for a registered peer; pass it back to every Rib call about that peer. */
export interface RibPeer {
  readonly id: string;
}

/** The session-facing surface of the RIB. `Rib` (rib.ts) implements it. */
export interface RibApi {
  registerPeer(config: PeerConfig): RibPeer;
  /** Replaces the config: re-runs import (from kept pre-policy routes) and export policy. */
  updatePeer(peer: RibPeer, config: PeerConfig): void;
  /** Forgets the peer (after `peerDown`); its routes are removed at once. */
  unregisterPeer(peer: RibPeer): void;
  /** Session reached Established: the RIB sends the initial table, then End-of-RIB per family. */
  established(peer: RibPeer, facts: NegotiatedFacts, sink: UpdateSink): void;
  /**
   * A decoded UPDATE. `treatAsWithdraw` (RFC 7606) withdraws every prefix it carries. The RIB may
   * keep `update.attributes` as the stored attribute set: do not change it afterwards.
   */
  applyUpdate(peer: RibPeer, update: UpdateMessage): ApplyResult;
  /** The peer's End-of-RIB for a family: stale routes of that family are swept (RFC 4724 §4.2). */
  endOfRib(peer: RibPeer, family: FamilyName): void;
  /**
   * The session left Established. `graceful` when the loss qualifies for RFC 4724 helper mode
   * (the peer advertised GR and the session did not end by a NOTIFICATION that forbids it):
   * routes are then kept as stale until End-of-RIB or the restart time passes.
   */
  peerDown(peer: RibPeer, opts: { graceful: boolean }): void;
  /** The sink can take updates again. */
  sinkWritable(peer: RibPeer): void;
  /** The peer sent ROUTE-REFRESH (RFC 2918): re-send our Adj-RIB-Out for the family. */
  routeRefresh(peer: RibPeer, family: FamilyName): void;
  /**
   * Re-run import policy over the kept pre-policy routes. Returns false when the peer does not
   * keep them (`keepPrePolicy`): the session should then send ROUTE-REFRESH to the peer.
   */
  softResetIn(peer: RibPeer, family?: FamilyName): boolean;
  /** Re-evaluate export for the peer (after an export policy change). */
  softResetOut(peer: RibPeer): void;
}
