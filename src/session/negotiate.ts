// Capability negotiation for one session: builds our OPEN from the local settings and
// intersects it with the peer's OPEN. Pure: no sockets, no timers.
// RFC 4271 §4.2 and §6.2, RFC 5492, RFC 4760, RFC 6793, RFC 7911, RFC 4724, RFC 8654, RFC 7313.

import {
  AS_TRANS,
  BGP_VERSION,
  CapabilityCode,
  ErrorCode,
  OpenSubcode,
} from '../../protocol/constants.js';
import type { Capability, CodecContext, FamilyName, OpenMessage } from '../../protocol/types.js';
import type { Notification } from './fsm.js';

export type AddPathMode = 'receive' | 'send' | 'both';

export interface LocalSpeaker {
  asn: number;
  routerId: string;
  /** Proposed hold time: 0, or 3 and above. */
  holdTime: number;
  families: FamilyName[];
  /** RFC 7911: what we offer per family (absent: no ADD-PATH). */
  addPath?: Partial<Record<FamilyName, AddPathMode>>;
  /** RFC 4724: advertise graceful restart with this restart time (seconds). */
  gracefulRestart?: { restartTime: number; restarting: boolean; forwarding: boolean };
  extendedMessage: boolean;
  /** RFC 8950: offer IPv4 NLRI over an IPv6 next hop. */
  extendedNextHop: boolean;
  hostname?: string;
}

export interface Negotiated {
  peerAsn: number;
  peerRouterId: string;
  holdTime: number;
  /** RFC 6793: both sides are 4-octet capable. */
  as4: boolean;
  /** RFC 4760: families both sides announced (IPv4 unicast implied without MP capability). */
  families: FamilyName[];
  addPath: Record<FamilyName, { send: boolean; receive: boolean }>;
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  extendedMessage: boolean;
  extendedNextHop: boolean;
  /** RFC 4724: the peer's graceful restart facts, when it advertised the capability. */
  gracefulRestart: {
    restartTime: number;
    restarting: boolean;
    families: { family: FamilyName; forwarding: boolean }[];
    /** RFC 8538: both sides set the N bit, so a NOTIFICATION (but Hard Reset) is graceful too. */
    notification: boolean;
  } | null;
  peerHostname?: string;
  /** Codec contexts for the two directions. */
  receive: CodecContext;
  send: CodecContext;
}

const FAMILY: Record<FamilyName, { afi: number; safi: number }> = {
  'ipv4-unicast': { afi: 1, safi: 1 },
  'ipv6-unicast': { afi: 2, safi: 1 },
};

export function familyName(afi: number, safi: number): FamilyName | null {
  if (safi !== 1) return null;
  if (afi === 1) return 'ipv4-unicast';
  if (afi === 2) return 'ipv6-unicast';
  return null;
}

/**
 * Our OPEN. `disabled` holds capability codes that the peer rejected with an Unsupported
 * Capability NOTIFICATION (RFC 5492 §5); they are left out on the next attempt.
 */
export function buildOpen(
  local: LocalSpeaker,
  disabled: ReadonlySet<number> = new Set(),
): OpenMessage {
  const caps: Capability[] = [];
  const add = (c: Capability) => {
    if (!disabled.has(c.code)) caps.push(c);
  };
  for (const f of local.families) add({ name: 'multiprotocol', code: 1, ...FAMILY[f] });
  add({ name: 'route-refresh', code: 2 });
  add({ name: 'enhanced-route-refresh', code: 70 });
  if (local.extendedMessage) add({ name: 'extended-message', code: 6 });
  if (local.extendedNextHop && local.families.includes('ipv4-unicast')) {
    add({ name: 'extended-next-hop', code: 5, entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] });
  }
  if (local.gracefulRestart) {
    const gr = local.gracefulRestart;
    add({
      name: 'graceful-restart',
      code: 64,
      restarting: gr.restarting,
      // RFC 8538 §2: we keep a peer's routes across a NOTIFICATION other than Hard Reset.
      notification: true,
      restartTime: gr.restartTime,
      families: local.families.map((f) => ({ ...FAMILY[f], forwarding: gr.forwarding })),
    });
  }
  // RFC 6793 §3: always advertise the 4-octet AS capability.
  add({ name: 'four-octet-as', code: 65, asn: local.asn });
  const addPath = Object.entries(local.addPath ?? {}) as [FamilyName, AddPathMode][];
  if (addPath.length > 0) {
    add({
      name: 'add-path',
      code: 69,
      families: addPath.map(([f, mode]) => ({ ...FAMILY[f], mode })),
    });
  }
  if (local.hostname) add({ name: 'fqdn', code: 73, hostname: local.hostname, domain: '' });
  return {
    type: 'open',
    version: BGP_VERSION,
    // RFC 6793 §4.1: a 4-octet ASN goes in My AS as AS_TRANS.
    myAs: local.asn > 0xffff ? AS_TRANS : local.asn,
    holdTime: local.holdTime,
    routerId: local.routerId,
    capabilities: caps,
  };
}

function openError(subcode: number, data?: Buffer): { error: Notification } {
  return { error: { code: ErrorCode.OPEN_MESSAGE, subcode, data } };
}

/** The peer's effective ASN: the 4-octet AS capability when present, else My AS. */
export function peerAsnOf(open: OpenMessage): number {
  const cap = open.capabilities.find((c) => c.name === 'four-octet-as');
  return cap && cap.name === 'four-octet-as' ? cap.asn : open.myAs;
}

/**
 * RFC 4271 §6.2 checks that need our configuration, then the negotiated result.
 * `expectedPeerAsn` of 0 accepts any AS (used for dynamic peers).
 */
export function negotiate(
  local: LocalSpeaker,
  disabled: ReadonlySet<number>,
  peer: OpenMessage,
  expectedPeerAsn: number,
): { ok: Negotiated } | { error: Notification } {
  const sent = buildOpen(local, disabled);
  const peerAsn = peerAsnOf(peer);
  const peerAs4 = peer.capabilities.some((c) => c.name === 'four-octet-as');
  // RFC 4271 §6.2: Bad Peer AS when the AS is not the one configured.
  if (expectedPeerAsn !== 0 && peerAsn !== expectedPeerAsn) {
    const data = Buffer.alloc(2);
    data.writeUInt16BE(peer.myAs);
    return openError(OpenSubcode.BAD_PEER_AS, data);
  }
  // RFC 6793 §4.2.2: a 4-octet capable peer with a 2-octet ASN must not send AS_TRANS.
  if (peerAs4 && peerAsn === AS_TRANS) return openError(OpenSubcode.BAD_PEER_AS);
  // RFC 4271 §6.2 / RFC 6286 §2.2: within one AS, the identifiers must differ.
  if (peerAsn === local.asn && peer.routerId === local.routerId) {
    return openError(OpenSubcode.BAD_BGP_IDENTIFIER);
  }
  // RFC 4271 §4.2: hold time must be 0 or at least 3 (the codec checks it too).
  if (peer.holdTime === 1 || peer.holdTime === 2) {
    return openError(OpenSubcode.UNACCEPTABLE_HOLD_TIME);
  }

  const ours = (code: number) => sent.capabilities.some((c) => c.code === code);
  const theirs = (code: number) => peer.capabilities.some((c) => c.code === code);

  // RFC 4760 §8: without any MP capability both sides speak IPv4 unicast only.
  const peerFamilies = new Set<FamilyName>();
  const peerMp = peer.capabilities.filter((c) => c.name === 'multiprotocol');
  if (peerMp.length === 0) peerFamilies.add('ipv4-unicast');
  for (const c of peerMp) {
    if (c.name !== 'multiprotocol') continue;
    const f = familyName(c.afi, c.safi);
    if (f) peerFamilies.add(f);
  }
  const ourFamilies = ours(CapabilityCode.MULTIPROTOCOL)
    ? local.families
    : ['ipv4-unicast' as const];
  const families = ourFamilies.filter((f) => peerFamilies.has(f));

  // RFC 7911 §4: we send path ids if we offered send and the peer offered receive, and so on.
  const addPath = {
    'ipv4-unicast': { send: false, receive: false },
    'ipv6-unicast': { send: false, receive: false },
  };
  const peerAddPath = peer.capabilities.find((c) => c.name === 'add-path');
  if (ours(CapabilityCode.ADD_PATH) && peerAddPath && peerAddPath.name === 'add-path') {
    for (const entry of peerAddPath.families) {
      const f = familyName(entry.afi, entry.safi);
      const mine = f ? local.addPath?.[f] : undefined;
      if (!f || !mine || !families.includes(f)) continue;
      addPath[f].send = (mine === 'send' || mine === 'both') && entry.mode !== 'send';
      addPath[f].receive = (mine === 'receive' || mine === 'both') && entry.mode !== 'receive';
    }
  }

  const gr = peer.capabilities.find((c) => c.name === 'graceful-restart');
  const gracefulRestart =
    gr && gr.name === 'graceful-restart'
      ? {
          restartTime: gr.restartTime,
          restarting: gr.restarting,
          notification: gr.notification && ours(CapabilityCode.GRACEFUL_RESTART),
          families: gr.families.flatMap((e) => {
            const f = familyName(e.afi, e.safi);
            return f ? [{ family: f, forwarding: e.forwarding }] : [];
          }),
        }
      : null;
  const fqdn = peer.capabilities.find((c) => c.name === 'fqdn');

  const as4 = peerAs4 && ours(CapabilityCode.FOUR_OCTET_AS);
  const extendedMessage =
    ours(CapabilityCode.EXTENDED_MESSAGE) && theirs(CapabilityCode.EXTENDED_MESSAGE);
  const base = { as4, extendedMessage, ebgp: peerAsn !== local.asn };
  const holdTime = Math.min(local.holdTime, peer.holdTime);
  return {
    ok: {
      peerAsn,
      peerRouterId: peer.routerId,
      holdTime,
      as4,
      families,
      addPath,
      routeRefresh:
        ours(CapabilityCode.ROUTE_REFRESH) &&
        (theirs(CapabilityCode.ROUTE_REFRESH) || theirs(CapabilityCode.ROUTE_REFRESH_CISCO)),
      enhancedRouteRefresh:
        ours(CapabilityCode.ENHANCED_ROUTE_REFRESH) &&
        theirs(CapabilityCode.ENHANCED_ROUTE_REFRESH),
      extendedMessage,
      extendedNextHop:
        ours(CapabilityCode.EXTENDED_NEXT_HOP) && theirs(CapabilityCode.EXTENDED_NEXT_HOP),
      gracefulRestart,
      peerHostname: fqdn && fqdn.name === 'fqdn' ? fqdn.hostname : undefined,
      receive: {
        ...base,
        addPath: { ipv4: addPath['ipv4-unicast'].receive, ipv6: addPath['ipv6-unicast'].receive },
      },
      send: {
        ...base,
        addPath: { ipv4: addPath['ipv4-unicast'].send, ipv6: addPath['ipv6-unicast'].send },
      },
    },
  };
}

/**
 * RFC 5492 §5: the data of an Unsupported Capability NOTIFICATION lists the capabilities
 * (code, length, value) the peer does not accept. Returns their codes.
 */
export function rejectedCapabilities(data: Buffer): number[] {
  const codes: number[] = [];
  for (let i = 0; i + 2 <= data.length;) {
    const len = data[i + 1];
    codes.push(data[i]);
    i += 2 + len;
  }
  return codes;
}
