// Named numbers of the BGP wire format: message types, attribute and capability codes,
// address families, and NOTIFICATION codes/subcodes. No logic lives here.
// RFC 4271 §4, RFC 4760, RFC 5492, RFC 7606, RFC 4486, RFC 6608, RFC 7313, RFC 8654.

/** RFC 4271 §4.1: 16-octet marker, 2-octet length, 1-octet type. */
export const HEADER_LENGTH = 19;
export const MARKER_LENGTH = 16;
/** RFC 4271 §4.1: a message is at most 4096 octets unless RFC 8654 is negotiated. */
export const MAX_MESSAGE_LENGTH = 4096;
/** RFC 8654 §3: with the Extended Message capability, up to 65535 octets. */
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;
export const BGP_VERSION = 4;
/** RFC 6793 §9: AS_TRANS, the 2-octet placeholder for a 4-octet ASN. */
export const AS_TRANS = 23456;

/** RFC 4271 §4.1, RFC 2918 §3: message type codes. */
export const MessageType = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5,
} as const;

/** RFC 4271 §5 and later RFCs: path attribute type codes. */
export const AttrType = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8, // RFC 1997
  ORIGINATOR_ID: 9, // RFC 4456
  CLUSTER_LIST: 10, // RFC 4456
  MP_REACH_NLRI: 14, // RFC 4760
  MP_UNREACH_NLRI: 15, // RFC 4760
  EXTENDED_COMMUNITIES: 16, // RFC 4360
  AS4_PATH: 17, // RFC 6793
  AS4_AGGREGATOR: 18, // RFC 6793
  LARGE_COMMUNITY: 32, // RFC 8092
} as const;

/** RFC 4271 §4.3: attribute flag bits. */
export const AttrFlag = {
  OPTIONAL: 0x80,
  TRANSITIVE: 0x40,
  PARTIAL: 0x20,
  EXTENDED_LENGTH: 0x10,
} as const;

/** RFC 4271 §4.3 ORIGIN values. */
export const Origin = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;

/** RFC 4271 §4.3 and RFC 5065 §3: AS_PATH segment types. */
export const AsPathSegmentType = {
  AS_SET: 1,
  AS_SEQUENCE: 2,
  AS_CONFED_SEQUENCE: 3,
  AS_CONFED_SET: 4,
} as const;

/** IANA address family numbers. */
export const Afi = { IPV4: 1, IPV6: 2 } as const;
/** IANA SAFI numbers (only unicast is decoded; the rest are kept raw). */
export const Safi = { UNICAST: 1, MULTICAST: 2 } as const;

/** RFC 5492 and IANA: capability codes. */
export const CapabilityCode = {
  MULTIPROTOCOL: 1, // RFC 4760
  ROUTE_REFRESH: 2, // RFC 2918
  EXTENDED_NEXT_HOP: 5, // RFC 8950
  EXTENDED_MESSAGE: 6, // RFC 8654
  GRACEFUL_RESTART: 64, // RFC 4724
  FOUR_OCTET_AS: 65, // RFC 6793
  ADD_PATH: 69, // RFC 7911
  ENHANCED_ROUTE_REFRESH: 70, // RFC 7313
  LONG_LIVED_GRACEFUL_RESTART: 71, // RFC 9494
  FQDN: 73, // draft-walton-bgp-hostname-capability
  ROUTE_REFRESH_CISCO: 128, // pre-standard route refresh, still sent by some speakers
} as const;

/** RFC 4271 §4.2: optional parameter types; RFC 9072 §2: the extended-length marker. */
export const OptParamType = { CAPABILITIES: 2, EXTENDED_LENGTH: 255 } as const;

/** RFC 7313 §3: ROUTE-REFRESH message subtypes (carried in the old Reserved octet). */
export const RouteRefreshSubtype = { NORMAL: 0, BORR: 1, EORR: 2 } as const;

/** RFC 4271 §4.5: NOTIFICATION error codes. */
export const ErrorCode = {
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH_MESSAGE: 7, // RFC 7313 §5
  SEND_HOLD_TIMER_EXPIRED: 8, // RFC 9687
} as const;

/** RFC 4271 §6.1: Message Header Error subcodes. */
export const HeaderSubcode = {
  CONNECTION_NOT_SYNCHRONIZED: 1,
  BAD_MESSAGE_LENGTH: 2,
  BAD_MESSAGE_TYPE: 3,
} as const;

/** RFC 4271 §6.2, RFC 5492 §5, RFC 9072: OPEN Message Error subcodes. */
export const OpenSubcode = {
  /** RFC 4271 §6.2: a recognized optional parameter (e.g. a capability) is malformed. */
  UNSPECIFIC: 0,
  UNSUPPORTED_VERSION_NUMBER: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7,
  ROLE_MISMATCH: 11,
} as const;

/** RFC 4271 §6.3: UPDATE Message Error subcodes. */
export const UpdateSubcode = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN_ATTRIBUTE: 6,
  INVALID_NEXT_HOP_ATTRIBUTE: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;

/** RFC 6608 §4: Finite State Machine Error subcodes. */
export const FsmSubcode = {
  UNSPECIFIED: 0,
  UNEXPECTED_MESSAGE_IN_OPENSENT: 1,
  UNEXPECTED_MESSAGE_IN_OPENCONFIRM: 2,
  UNEXPECTED_MESSAGE_IN_ESTABLISHED: 3,
} as const;

/** RFC 4486 §4 (and RFC 8538 §5): Cease subcodes. */
export const CeaseSubcode = {
  MAXIMUM_NUMBER_OF_PREFIXES_REACHED: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9, // RFC 8538
  BFD_DOWN: 10, // RFC 9384
} as const;

/** RFC 7313 §5: ROUTE-REFRESH Message Error subcodes. */
export const RouteRefreshErrorSubcode = { INVALID_MESSAGE_LENGTH: 1 } as const;

/** RFC 1997, RFC 3765, RFC 7999, RFC 8326: well-known communities by value. */
export const WellKnownCommunity = {
  GRACEFUL_SHUTDOWN: 0xffff0000,
  ACCEPT_OWN: 0xffff0001,
  LLGR_STALE: 0xffff0006,
  NO_LLGR: 0xffff0007,
  BLACKHOLE: 0xffff029a,
  NO_EXPORT: 0xffffff01,
  NO_ADVERTISE: 0xffffff02,
  NO_EXPORT_SUBCONFED: 0xffffff03,
  NO_PEER: 0xffffff04,
} as const;
