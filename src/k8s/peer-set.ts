// Computes this node's desired BGP peers from the cluster's Nodes and BGPPeers, and diffs two sets.
// Pure functions: no API, no timers, no logging (problems are returned as strings).
// RFC 4456 §5-§6: reflectors peer with each other as non-clients and with ordinary nodes as clients.
import { isEmptySelector, matchesSelector } from './label-selector.js';
import { parseAddressWithPrefix, type NodeInfo } from './node-info.js';
import type { BgpPeer } from './bgppeer.js';
import type {
  AddressFamily,
  DesiredPeer,
  LocalNodeIdentity,
  LocalNodeState,
  PeerDiff,
  PeerType,
} from './types.js';

export interface PeerSetInput {
  identity: LocalNodeIdentity;
  /** Full node-to-node mesh when no reflector exists. */
  mesh: boolean;
  /** Every Node the informer knows, this node included, by name. */
  nodes: ReadonlyMap<string, NodeInfo>;
  /** Every valid BGPPeer, by name. */
  bgpPeers: ReadonlyMap<string, BgpPeer>;
}

export interface PeerSetResult {
  peers: Map<string, DesiredPeer>;
  /** Two sources wanting the same address; the loser is named. */
  conflicts: string[];
}

const FAMILIES: readonly AddressFamily[] = ['ipv4', 'ipv6'];

// Which source wins when two want the same peer address: explicit resources first, then topology.
const RANK: Record<PeerType, number> = {
  'node-specific': 0,
  global: 1,
  'route-reflector': 2,
  'rr-client': 3,
  mesh: 4,
};

/** This node's state as the cluster describes it. */
export function localState(input: PeerSetInput): LocalNodeState {
  const self = input.nodes.get(input.identity.nodeName);
  return {
    name: input.identity.nodeName,
    asn: self?.asn ?? input.identity.globalAsn,
    routeReflector: self?.routeReflector ?? false,
    ...(self?.clusterId !== undefined && self.routeReflector ? { clusterId: self.clusterId } : {}),
    blocks: self ? [...self.blocks] : [],
  };
}

/** The families this node speaks: its autodetected addresses, else its Node's addresses. */
function localFamilies(input: PeerSetInput): Set<AddressFamily> {
  const fams = new Set<AddressFamily>();
  for (const f of FAMILIES) if (input.identity.addresses[f]) fams.add(f);
  if (fams.size === 0) {
    const self = input.nodes.get(input.identity.nodeName);
    for (const f of FAMILIES) if (self?.addresses[f]) fams.add(f);
  }
  return fams;
}

/** Bare addresses of this node, so it never peers with itself. */
function ownAddresses(input: PeerSetInput): Set<string> {
  const own = new Set<string>();
  for (const f of FAMILIES) {
    const text = input.identity.addresses[f];
    const parsed = text ? parseAddressWithPrefix(text, f) : undefined;
    if (parsed) own.add(parsed.ip);
    const fromNode = input.nodes.get(input.identity.nodeName)?.addresses[f];
    if (fromNode) own.add(fromNode.ip);
  }
  return own;
}

export function computePeers(input: PeerSetInput): PeerSetResult {
  const peers = new Map<string, DesiredPeer>();
  const conflicts: string[] = [];
  const own = ownAddresses(input);
  const put = (p: DesiredPeer): void => {
    if (own.has(p.address)) return;
    const prev = peers.get(p.address);
    if (prev) {
      const keepPrev =
        RANK[prev.type] < RANK[p.type] ||
        (RANK[prev.type] === RANK[p.type] && prev.source < p.source);
      const [win, lose] = keepPrev ? [prev, p] : [p, prev];
      conflicts.push(
        `${lose.source} and ${win.source} both want peer ${p.address}; using ${win.source}`,
      );
      if (keepPrev) return;
    }
    peers.set(p.address, p);
  };

  const self = input.nodes.get(input.identity.nodeName);
  const selfIsRR = self?.routeReflector ?? false;
  const anyRR = [...input.nodes.values()].some((n) => n.routeReflector);
  const families = localFamilies(input);

  // Node-to-node topology.
  for (const n of input.nodes.values()) {
    if (n.name === input.identity.nodeName) continue;
    let type: PeerType | undefined;
    if (selfIsRR) {
      // RFC 4456 §6: a reflector peers with other reflectors as non-clients, ordinary nodes as clients.
      type = n.routeReflector ? 'route-reflector' : 'rr-client';
    } else if (anyRR) {
      // Ordinary nodes peer only with the reflectors once any exists.
      type = n.routeReflector ? 'route-reflector' : undefined;
    } else if (input.mesh) {
      type = 'mesh';
    }
    if (!type) continue;
    for (const f of families) {
      const a = n.addresses[f];
      if (!a) continue;
      put({
        address: a.ip,
        family: f,
        asn: n.asn,
        type,
        source: `node/${n.name}`,
        node: n.name,
        ...(type === 'rr-client' ? { routeReflectorClient: true } : {}),
      });
    }
  }

  // Explicit BGPPeer resources.
  const selfLabels = self?.labels;
  for (const bp of input.bgpPeers.values()) {
    const sel = bp.spec.nodeSelector;
    let type: PeerType;
    if (!sel || isEmptySelector(sel)) type = 'global';
    else if (selfLabels && matchesSelector(sel, selfLabels)) type = 'node-specific';
    else continue;
    const s = bp.spec;
    put({
      address: s.peerAddress,
      family: bp.family,
      asn: s.peerASN,
      type,
      source: `bgppeer/${bp.name}`,
      ...(s.holdTime !== undefined ? { holdTime: s.holdTime } : {}),
      ...(s.passive !== undefined ? { passive: s.passive } : {}),
      ...(s.maxPrefixes !== undefined ? { maxPrefixes: s.maxPrefixes } : {}),
      ...(s.routeReflectorClient !== undefined
        ? { routeReflectorClient: s.routeReflectorClient }
        : {}),
      ...(s.policy !== undefined ? { policy: s.policy } : {}),
      ...(s.localAddress !== undefined ? { localAddress: s.localAddress } : {}),
    });
  }
  return { peers, conflicts };
}

/** Field-by-field equality of two desired peers (all fields are primitives). */
export function samePeer(a: DesiredPeer, b: DesiredPeer): boolean {
  const ka = Object.keys(a) as Array<keyof DesiredPeer>;
  const kb = Object.keys(b) as Array<keyof DesiredPeer>;
  if (ka.length !== kb.length) return false;
  return ka.every((k) => a[k] === b[k]);
}

/** What changed from `prev` to `next`, keyed by address. Sorted by address for stable output. */
export function diffPeers(
  prev: ReadonlyMap<string, DesiredPeer>,
  next: ReadonlyMap<string, DesiredPeer>,
): PeerDiff {
  const diff: PeerDiff = { added: [], changed: [], removed: [] };
  for (const [addr, p] of next) {
    const old = prev.get(addr);
    if (!old) diff.added.push(p);
    else if (!samePeer(old, p)) diff.changed.push(p);
  }
  for (const [addr, p] of prev) if (!next.has(addr)) diff.removed.push(p);
  const byAddr = (x: DesiredPeer, y: DesiredPeer): number =>
    x.address < y.address ? -1 : x.address > y.address ? 1 : 0;
  diff.added.sort(byAddr);
  diff.changed.sort(byAddr);
  diff.removed.sort(byAddr);
  return diff;
}

export function isEmptyDiff(d: PeerDiff): boolean {
  return d.added.length === 0 && d.changed.length === 0 && d.removed.length === 0;
}
