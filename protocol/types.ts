// The decoded shapes of every BGP message, capability and path attribute, and the session
// context the codecs need. Types only: no logic, no I/O.
// RFC 4271 §4, RFC 4760, RFC 5492, RFC 6793, RFC 7911, RFC 8654.

import type { AsPath } from './as-path.js';
import type { BgpError } from './errors.js';

/**
 * What the session negotiated, as the codecs need it. Decoding uses the receive view
 * (ADD-PATH receive), encoding the send view (ADD-PATH send).
 */
export interface CodecContext {
  /** RFC 6793: both sides sent the 4-octet AS capability (AS_PATH carries 4-octet ASNs). */
  as4: boolean;
  /** RFC 7911: path identifiers precede each prefix of these families. */
  addPath: { ipv4: boolean; ipv6: boolean };
  /** RFC 8654: messages may be up to 65535 octets. */
  extendedMessage: boolean;
  /** The peer is external: RFC 7606 §7.5, §7.9, §7.10 apply to LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST. */
  ebgp: boolean;
}

export const DEFAULT_CONTEXT: Readonly<CodecContext> = Object.freeze({
  as4: true,
  addPath: Object.freeze({ ipv4: false, ipv6: false }),
  extendedMessage: false,
  ebgp: false,
});

/** Codec result shape shared by every decoder. */
export interface Decoded<T> {
  value: T;
  bytesRead: number;
}

export type FamilyName = 'ipv4-unicast' | 'ipv6-unicast';

/**
 * A list of unicast prefixes of one family, decoded without a copy per prefix.
 * IPv4 prefixes are numbers (see prefix.ts: address * 64 + length); IPv6 prefixes are
 * canonical "addr/len" strings. `pathIds` runs parallel to them when ADD-PATH is in effect.
 */
export interface PrefixList {
  readonly afi: 1 | 2;
  readonly length: number;
  /** IPv4 prefix keys; empty for IPv6. */
  readonly v4: Float64Array;
  /** IPv6 prefixes; empty for IPv4. */
  readonly v6: readonly string[];
  /** RFC 7911 path identifiers, or null without ADD-PATH. */
  readonly pathIds: Uint32Array | null;
}

// ---------------------------------------------------------------------------------------------
// OPEN and capabilities

export interface AfiSafi {
  afi: number;
  safi: number;
}

export type Capability =
  | ({ name: 'multiprotocol'; code: 1 } & AfiSafi)
  | { name: 'route-refresh'; code: 2 | 128 }
  | {
      name: 'extended-next-hop';
      code: 5;
      /** RFC 8950 §3: NLRI family and the next-hop AFI allowed for it. */
      entries: { afi: number; safi: number; nextHopAfi: number }[];
    }
  | { name: 'extended-message'; code: 6 }
  | {
      name: 'graceful-restart';
      code: 64;
      /** RFC 4724 §3 R bit: the speaker has restarted. */
      restarting: boolean;
      /** RFC 8538 §2 N bit: the speaker supports graceful NOTIFICATION. */
      notification: boolean;
      /** Restart time in seconds (12 bits). */
      restartTime: number;
      families: (AfiSafi & { forwarding: boolean })[];
    }
  | { name: 'four-octet-as'; code: 65; asn: number }
  | {
      name: 'add-path';
      code: 69;
      families: (AfiSafi & { mode: 'receive' | 'send' | 'both' })[];
    }
  | { name: 'enhanced-route-refresh'; code: 70 }
  | {
      name: 'long-lived-graceful-restart';
      code: 71;
      families: (AfiSafi & { forwarding: boolean; staleTime: number })[];
    }
  | { name: 'fqdn'; code: 73; hostname: string; domain: string }
  | { name: 'unknown'; code: number; value: Buffer };

export interface OpenMessage {
  type: 'open';
  version: number;
  /** The 2-octet My Autonomous System field (AS_TRANS when the real ASN needs 4 octets). */
  myAs: number;
  holdTime: number;
  /** BGP Identifier, dotted quad. */
  routerId: string;
  capabilities: Capability[];
  /** Optional parameters other than capabilities, kept raw. */
  otherParams?: { type: number; value: Buffer }[];
  /** RFC 9072: the optional parameters used the extended length encoding. */
  extendedOptParams?: boolean;
  /**
   * RFC 5492 §4: how many capabilities each Capabilities optional parameter carried, in order,
   * when that was not "all in one parameter" (FRR, for one, sends one capability per
   * parameter). Kept so a decoded OPEN re-encodes byte for byte; without it the encoder puts
   * every capability in a single parameter.
   */
  capabilityParams?: number[];
}

// ---------------------------------------------------------------------------------------------
// UPDATE and path attributes

/** AS_PATH segment; `type` is AsPathSegmentType (1 set, 2 sequence, 3 confed-seq, 4 confed-set). */
export interface AsPathSegment {
  type: 1 | 2 | 3 | 4;
  asns: number[];
}

export interface Aggregator {
  asn: number;
  address: string;
}

/** RFC 8092: Global Administrator, Local Data Part 1, Local Data Part 2. */
export type LargeCommunity = readonly [number, number, number];

/**
 * RFC 4360 / RFC 5668 / RFC 7153 extended community: the raw 8 octets plus a typed view of the
 * common kinds (route target, route origin, ...). `value` is the 6-octet body.
 */
export interface ExtendedCommunity {
  type: number;
  subtype: number;
  /** Typed view where the kind is known, e.g. 'route-target', 'route-origin', 'encapsulation'. */
  kind?: string;
  /** Two-octet-AS, IPv4-address or four-octet-AS specific: the global administrator. */
  global?: number | string;
  /** The local administrator for the kinds above. */
  local?: number;
  raw: Buffer;
}

export interface UnknownAttribute {
  code: number;
  flags: number;
  value: Buffer;
}

export interface MpReach {
  afi: number;
  safi: number;
  /** One next hop (4 or 16 bytes), or a global plus a link-local (32 bytes). */
  nextHops: string[];
  /** Null for a family we do not decode (`raw` then holds the attribute body). */
  nlri: PrefixList | null;
  raw?: Buffer;
}

export interface MpUnreach {
  afi: number;
  safi: number;
  withdrawn: PrefixList | null;
  raw?: Buffer;
}

export interface PathAttributes {
  /** Origin: 0 IGP, 1 EGP, 2 INCOMPLETE. */
  origin?: 0 | 1 | 2;
  /** With a 2-octet session, AS_PATH already merged with AS4_PATH (RFC 6793 §4.2.3). */
  asPath?: AsPath;
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  /** With a 2-octet session, already merged with AS4_AGGREGATOR (RFC 6793 §4.2.3). */
  aggregator?: Aggregator;
  communities?: number[];
  originatorId?: string;
  clusterList?: string[];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  extendedCommunities?: ExtendedCommunity[];
  /** As received (kept so the message can be re-encoded and shown as sent). */
  as4Path?: AsPath;
  as4Aggregator?: Aggregator;
  largeCommunities?: LargeCommunity[];
  /** Unrecognised optional attributes, in arrival order. */
  unknown?: UnknownAttribute[];
}

export interface UpdateMessage {
  type: 'update';
  /** IPv4 Withdrawn Routes field. */
  withdrawn: PrefixList;
  attributes: PathAttributes;
  /** IPv4 NLRI field. */
  nlri: PrefixList;
  /** Set when the UPDATE is an End-of-RIB marker (RFC 4724 §2). */
  endOfRib?: FamilyName;
  /**
   * RFC 7606 errors that did not reset the session. When any has handling
   * 'treat-as-withdraw', `treatAsWithdraw` is true and every prefix above must be withdrawn.
   */
  errors?: BgpError[];
  treatAsWithdraw?: boolean;
}

export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  data: Buffer;
  /** RFC 8203 / RFC 9003 shutdown communication, when the data carries one. */
  message?: string;
  /** RFC 8538 §3: for Cease / Hard Reset, the NOTIFICATION it encapsulates. */
  hardReset?: { code: number; subcode: number };
}

export interface KeepaliveMessage {
  type: 'keepalive';
}

export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
  /** RFC 7313: 0 normal request, 1 BoRR, 2 EoRR. */
  subtype: number;
}

export type BgpMessage =
  OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;
