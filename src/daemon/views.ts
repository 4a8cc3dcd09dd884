// What `podbgp show ...` sees: builds the control protocol's result objects from the live
// RIB, sessions and kernel sync. Read-only; nothing here changes daemon state. The kernel's
// statuses come in one request per 16k rows, never one per row (the sync runs on a thread).

import { formatCommunity } from '../../protocol/attributes/communities.js';
import { parseIpv4 } from '../../protocol/prefix.js';
import type { FamilyName, PathAttributes } from '../../protocol/types.js';
import type { KernelState, PeerDetail, PeerSummary, RouteRow } from '../control/protocol.js';
import type { RouteStatus } from '../kernel/index.js';
import type { Rib, RouteView } from '../rib/rib.js';
import type { PeerRuntime } from './peer.js';

const FAMILIES: FamilyName[] = ['ipv4-unicast', 'ipv6-unicast'];
const ORIGINS = ['igp', 'egp', 'incomplete'] as const;

export function peerSummary(p: PeerRuntime): PeerSummary {
  const s = p.session;
  return {
    address: p.spec.address,
    asn: p.spec.asn,
    type: p.spec.type,
    state: s.state,
    enabled: s.isEnabled,
    since: s.since,
    prefixes: {
      received: p.received,
      accepted: p.accepted,
      advertised: p.advertised,
    },
    lastError: s.lastError,
  };
}

export function peerDetail(p: PeerRuntime, localAsn: number, staleRoutes: number): PeerDetail {
  const s = p.session;
  const n = s.negotiated;
  return {
    ...peerSummary(p),
    localAsn,
    localAddress: s.localAddress ?? p.spec.localAddress,
    passive: p.spec.passive,
    routerId: n?.peerRouterId ?? null,
    holdTime: {
      configured: p.spec.holdTime,
      negotiated: n ? n.holdTime : null,
      keepalive: n ? Math.floor(n.holdTime / 3) : null,
    },
    capabilities: n
      ? {
          families: n.families,
          fourOctetAs: n.as4,
          routeRefresh: n.routeRefresh,
          enhancedRouteRefresh: n.enhancedRouteRefresh,
          extendedMessage: n.extendedMessage,
          addPath: n.addPath,
          gracefulRestart: n.gracefulRestart
            ? { restartTime: n.gracefulRestart.restartTime, families: n.gracefulRestart.families }
            : null,
          peerHostname: n.peerHostname ?? null,
        }
      : null,
    disabledCapabilities: [...s.disabledCapabilities],
    messages: { in: { ...s.counters.in }, out: { ...s.counters.out } },
    decodeErrors: { ...s.counters.decodeErrors },
    flaps: s.counters.flaps,
    endOfRib: { received: [...s.endOfRibReceived] },
    gracefulRestart: { stale: staleRoutes, helperActive: staleRoutes > 0 },
    lastNotification: s.lastNotification ? { ...s.lastNotification } : null,
  };
}

export function kernelState(status: RouteStatus | null, selected: boolean): KernelState {
  if (!selected)
    return { status: 'not-installed', shape: null, device: null, reason: 'not selected' };
  if (status === null) return { status: 'pending', shape: null, device: null, reason: null };
  return {
    status: status.installed ? 'installed' : 'not-installed',
    shape: status.shape,
    device: status.interfaces.join(',') || null,
    reason: status.installed ? null : (status.reason ?? status.lastError),
  };
}

function row(r: RouteView, family: FamilyName, kernel: KernelState): RouteRow {
  const a: Readonly<PathAttributes> = r.attributes;
  const local = r.peer === 'local';
  return {
    prefix: r.prefix,
    family: family === 'ipv4-unicast' ? 'ipv4' : 'ipv6',
    pathId: r.pathId > 0 ? r.pathId : null,
    peer: r.peer,
    nextHop: local ? null : r.nextHop,
    asPath: a.asPath?.toString() ?? '',
    origin: a.origin === undefined ? null : ORIGINS[a.origin],
    localPref: a.localPref ?? null,
    med: a.med ?? null,
    communities: (a.communities ?? []).map(formatCommunity),
    largeCommunities: (a.largeCommunities ?? []).map((c) => `${c[0]}:${c[1]}:${c[2]}`),
    learnedAt: r.learnedAt,
    best: r.best,
    multipath: r.multipath && !r.best,
    kernel,
  };
}

/** Whether `prefix` (a CIDR) is `query`, or covers `query` when that is an IPv4 address. */
function matchesQuery(prefix: string, query: string): boolean {
  if (prefix === query) return true;
  if (query.includes('/')) return false;
  const slash = prefix.indexOf('/');
  const q = parseIpv4(query);
  const net = parseIpv4(prefix.slice(0, slash));
  if (q === null || net === null) return false;
  const size = 2 ** (32 - Number(prefix.slice(slash + 1)));
  return Math.floor(q / size) * size === net;
}

export interface RouteQuery {
  prefix?: string;
  peer?: string;
  family?: 'ipv4' | 'ipv6';
  all?: boolean;
}

/** What the views read from the kernel sync (KernelClient, or KernelSync itself). */
export interface KernelView {
  /** The kernel status of each prefix, in order: one round trip for many rows. */
  routeStatuses(
    prefixes: (string | number)[],
  ): Promise<(RouteStatus | null)[]> | (RouteStatus | null)[];
  unreachableReason(nexthop: string): string | null;
}

/** `show routes`: the Loc-RIB joined with the kernel's status of each prefix. */
export async function routeRows(rib: Rib, kernel: KernelView, q: RouteQuery): Promise<RouteRow[]> {
  // First the rows' routes, then their statuses (a chunk per request) and the rows.
  const picked: { c: RouteView; family: FamilyName; selected: boolean; at: number }[] = [];
  const prefixes: string[] = [];
  for (const family of FAMILIES) {
    if (q.family && (q.family === 'ipv4') !== (family === 'ipv4-unicast')) continue;
    for (const entry of rib.locRib(family)) {
      if (q.prefix && !matchesQuery(entry.prefix, q.prefix)) continue;
      const at = prefixes.length;
      for (const c of entry.candidates) {
        if (q.peer && c.peer !== q.peer) continue;
        const selected = c.best || c.multipath;
        if (!selected && !q.all) continue;
        picked.push({ c, family, selected, at });
      }
      if (picked.length > 0 && picked[picked.length - 1].at === at) prefixes.push(entry.prefix);
    }
  }
  const rows: RouteRow[] = [];
  let next = 0;
  await eachStatus(kernel, prefixes, (at, status) => {
    for (; next < picked.length && picked[next].at === at; next++) {
      const { c, family, selected } = picked[next];
      // A path the RIB could not use because its next hop is unreachable says why.
      const unreachable = c.eligible ? null : kernel.unreachableReason(c.nextHop);
      const k: KernelState = unreachable
        ? { status: 'not-installed', shape: null, device: null, reason: unreachable }
        : kernelState(status, selected);
      rows.push(row(c, family, k));
    }
  });
  return rows;
}

/** Statuses per request: a whole table's RouteStatus objects never exist at once. */
const STATUS_CHUNK = 16_384;

/** Calls `fn` with each prefix's kernel status, in order, asking for them a chunk at a time. */
async function eachStatus(
  kernel: KernelView,
  prefixes: (string | number)[],
  fn: (index: number, status: RouteStatus | null) => void,
): Promise<void> {
  for (let off = 0; off < prefixes.length; off += STATUS_CHUNK) {
    const part = await kernel.routeStatuses(prefixes.slice(off, off + STATUS_CHUNK));
    for (let k = 0; k < part.length; k++) fn(off + k, part[k] ?? null);
  }
}

/**
 * `show rib in|out ADDR`. Each row carries the kernel's view of its prefix and the time the
 * prefix's selected path last changed, as `show routes` does.
 */
export async function ribRows(
  rib: Rib,
  peer: PeerRuntime,
  direction: 'in' | 'out',
  kernel: KernelView,
): Promise<RouteRow[]> {
  const picked: { r: RouteView; family: FamilyName; selected: boolean }[] = [];
  for (const family of FAMILIES) {
    if (direction === 'in') {
      for (const r of rib.adjRibIn(peer.ribPeer, family))
        picked.push({ r, family, selected: r.best || r.multipath });
    } else {
      for (const r of rib.adjRibOut(peer.ribPeer, family)) {
        // What we send is our selected path for the prefix.
        const view: RouteView = {
          prefix: r.prefix,
          peer: peer.spec.address,
          pathId: 0,
          attributes: r.attributes,
          nextHop: r.attributes.nextHop ?? '',
          best: true,
          multipath: false,
          stale: false,
          eligible: true,
          // Adj-RIB-Out keeps no time of its own.
          learnedAt: 0,
        };
        picked.push({ r: view, family, selected: true });
      }
    }
  }
  const rows: RouteRow[] = [];
  await eachStatus(
    kernel,
    picked.map((p) => p.r.prefix),
    (k, status) => {
      const { r, family, selected } = picked[k];
      rows.push(row(r, family, kernelState(status, selected)));
    },
  );
  return rows;
}

/** Counts a peer's routes that are kept as stale (RFC 4724 helper mode). */
export function staleCount(rib: Rib, peer: PeerRuntime): number {
  let n = 0;
  for (const family of FAMILIES) n += rib.staleCount(peer.ribPeer, family);
  return n;
}
