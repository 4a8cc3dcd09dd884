// Shared types of the Kubernetes integration: the inputs the daemon hands in (who this node is),
// the desired-peer output and its diff, and the annotation/label names on Node objects.
// Must not import src/config or src/node: the daemon maps its own config onto these small shapes.

/** Annotation a node's daemon writes: its autodetected IPv4 address with prefix, e.g. 192.168.30.71/24. */
export const ANNOTATION_IPV4 = 'podbgp.io/ipv4-address';
/** Annotation a node's daemon writes: its autodetected IPv6 address with prefix. */
export const ANNOTATION_IPV6 = 'podbgp.io/ipv6-address';
/** Operator-set annotation: this node's ASN, overriding the global ASN. */
export const ANNOTATION_ASN = 'podbgp.io/asn';
/** Operator-set annotation on a route reflector: its cluster id (RFC 4456 §7, CLUSTER_ID). */
export const ANNOTATION_RR_CLUSTER_ID = 'podbgp.io/route-reflector-cluster-id';
/** Label marking a node as a route reflector when its value is "true". */
export const LABEL_ROUTE_REFLECTOR = 'podbgp.io/route-reflector';

/** The BGPPeer custom resource coordinates. */
export const BGPPEER_GROUP = 'podbgp.io';
export const BGPPEER_VERSION = 'v1';
export const BGPPEER_PLURAL = 'bgppeers';

export type AddressFamily = 'ipv4' | 'ipv6';

/** Who this node is, as the daemon knows it from config and autodetection. */
export interface LocalNodeIdentity {
  /** The Kubernetes Node name of this node (NODENAME). */
  nodeName: string;
  /** The cluster-wide ASN, used for every node without a podbgp.io/asn annotation. */
  globalAsn: number;
  /**
   * This node's autodetected addresses with prefix length ("192.168.30.71/24", "fd00::71/64").
   * They are written to this node's annotations and decide which families the mesh uses.
   * Omit a family the node has no address for.
   */
  addresses: { ipv4?: string; ipv6?: string };
}

/**
 * How a desired peer came about:
 * - mesh: another node, full iBGP mesh (no reflector exists);
 * - rr-client: this node is a reflector and the peer an ordinary node (RFC 4456 client);
 * - route-reflector: the peer is a reflector (ordinary node -> reflector, or reflector <-> reflector);
 * - global: a BGPPeer resource without nodeSelector (every node peers with it);
 * - node-specific: a BGPPeer resource whose nodeSelector matches this node.
 */
export type PeerType = 'mesh' | 'rr-client' | 'global' | 'node-specific' | 'route-reflector';

/** One peer this node should have a session with. Keyed by `address`. */
export interface DesiredPeer {
  /** The peer's bare IP address (no prefix length): what the session dials. */
  address: string;
  family: AddressFamily;
  /** The peer's ASN. Equal to `localAsn` of the update for iBGP peers. */
  asn: number;
  type: PeerType;
  /** What produced this peer: `node/<name>` or `bgppeer/<name>`. */
  source: string;
  /** The peer node's name (mesh, rr-client, route-reflector). */
  node?: string;
  /** Hold time in seconds (RFC 4271 §4.2: 0 or at least 3). */
  holdTime?: number;
  /** Do not dial; only accept the peer's connection. */
  passive?: boolean;
  /** Maximum number of prefixes accepted from the peer. */
  maxPrefixes?: number;
  /** Treat this peer as a route-reflector client (RFC 4456 §6). */
  routeReflectorClient?: boolean;
  /** Name of a policy in the daemon's config. */
  policy?: string;
  /** Source address to use for the session. */
  localAddress?: string;
}

export interface PeerDiff {
  /** Peers that did not exist before. */
  added: DesiredPeer[];
  /** Peers whose address stayed but whose other fields changed (new value). */
  changed: DesiredPeer[];
  /** Peers that are gone (their last value). */
  removed: DesiredPeer[];
}

/** What this node is, as the cluster sees it (from its own Node object). */
export interface LocalNodeState {
  name: string;
  /** The node's ASN: podbgp.io/asn annotation, else the global ASN. */
  asn: number;
  /** True when this node is a valid route reflector (label and cluster id). */
  routeReflector: boolean;
  /** The RFC 4456 cluster id, when this node is a reflector. */
  clusterId?: string;
  /** Pod blocks from spec.podCIDRs (spec.podCIDR for old clusters), as CIDR strings. */
  blocks: string[];
}

/** One incremental update. Emitted only when something changed. */
export interface PeerUpdate {
  /** True for the first update after both informers finished their initial list. */
  initial: boolean;
  peers: PeerDiff;
  /** Own pod blocks: what was added and removed, and the full current list. */
  blocks: { added: string[]; removed: string[]; current: string[] };
  /** This node's state after the update. */
  local: LocalNodeState;
}

export interface BackoffOptions {
  /** First delay after a failure (ms). Default 1000. */
  initialMs?: number;
  /** Upper bound of the delay (ms). Default 30000. */
  maxMs?: number;
}

/** Health of the connection to the API server, for logs, `show node` and /readyz. */
export interface ApiStatus {
  /** Both informers have completed their initial list at least once. */
  synced: boolean;
  /** The last request to the API server succeeded. */
  connected: boolean;
  /** When the current outage began (ms since epoch), if one is under way. */
  outageSince?: number;
  /** The last error seen, as text. */
  lastError?: string;
}
