// Decides the kernel shape of each route: blackhole for own blocks, direct when the next hop is
// on a connected segment, IPIP via tunl0 per the pool's ipipMode (Calico semantics), ECMP when
// several next hops remain. Pure: no I/O. Must not know anything of BGP.

import { formatAddr, parseAddr, parsePrefix, prefixContainsPrefix, type Prefix } from './addr.js';
import type { KernelNexthop, KernelRoute } from './routes.js';
import { routeKey, sortNexthops } from './routes.js';
import type { Topology } from './topology.js';
import type { IpipMode, NexthopStatus, PoolConfig, RouteShape } from './types.js';

export interface ParsedPool {
  prefix: Prefix;
  mode: IpipMode;
}

export interface TunnelView {
  name: string;
  /** null until probed. */
  available: boolean | null;
  /** Why IPIP cannot be used, when it cannot. */
  unavailableReason: string | null;
  mtu: number | null;
}

export interface PlanContext {
  topology: Topology;
  pools: ParsedPool[];
  defaultMode: IpipMode;
  tunnel: TunnelView;
  /** Per-pass memo: the same next hops, mode and family give the same path plan. */
  memo?: Map<string, Map<string, PathPlan>>;
}

export interface Plan {
  /** What to install, or null when nothing can be. */
  route: KernelRoute | null;
  shape: RouteShape | null;
  nexthops: NexthopStatus[];
  skipped: { via: string; reason: string }[];
  reason: string | null;
  /** routeKey(route), computed once. */
  key: string | null;
}

export function parsePools(pools: PoolConfig[]): ParsedPool[] {
  const out: ParsedPool[] = [];
  for (const p of pools) {
    const r = parsePrefix(p.cidr);
    if (!r.ok) throw new Error(`invalid pool cidr "${p.cidr}": ${r.error}`);
    out.push({ prefix: r.prefix, mode: p.ipipMode });
  }
  // Longest pool first: the most specific pool decides.
  return out.sort((a, b) => b.prefix.len - a.prefix.len);
}

export function modeFor(prefix: Prefix, ctx: Pick<PlanContext, 'pools' | 'defaultMode'>): IpipMode {
  for (const p of ctx.pools) if (prefixContainsPrefix(p.prefix, prefix)) return p.mode;
  return ctx.defaultMode;
}

/** Whether any configured mode can put routes on the tunnel. */
export function tunnelWanted(pools: ParsedPool[], defaultMode: IpipMode): boolean {
  return defaultMode !== 'Never' || pools.some((p) => p.mode !== 'Never');
}

export function shapeOf(route: KernelRoute, tunnel: string): RouteShape {
  if (route.type === 'blackhole') return 'blackhole';
  if (route.nexthops.length > 1) return 'ecmp';
  return route.nexthops[0]?.dev === tunnel ? 'ipip' : 'direct';
}

export function planOwnBlock(prefix: string, p: Prefix): Plan {
  return {
    route: { prefix, family: p.family, type: 'blackhole', nexthops: [], mtu: null },
    shape: 'blackhole',
    nexthops: [],
    skipped: [],
    reason: null,
    key: ownBlockPath(p.family).key,
  };
}

type NexthopDecision =
  { ok: true; nh: KernelNexthop; shape: 'direct' | 'ipip' } | { ok: false; reason: string };

function decideNexthop(
  text: string,
  prefixFamily: Prefix['family'],
  mode: IpipMode,
  ctx: PlanContext,
): NexthopDecision {
  const pct = text.indexOf('%');
  const addrText = pct === -1 ? text : text.slice(0, pct);
  const addr = parseAddr(addrText);
  if (addr === null) return { ok: false, reason: `invalid next hop "${text}"` };
  const via = formatAddr(addr);
  if (pct !== -1) {
    // An explicit interface (IPv6 link-local next hops need one) is a direct route.
    return {
      ok: true,
      nh: { via, dev: text.slice(pct + 1), onlink: false, weight: 1 },
      shape: 'direct',
    };
  }
  const ipip = (): NexthopDecision => {
    if (addr.family !== 4 || prefixFamily !== 4) {
      return {
        ok: false,
        reason: `next hop ${via} is not on a connected segment and IPIP carries IPv4 only`,
      };
    }
    if (ctx.tunnel.available !== true) {
      return {
        ok: false,
        reason: ctx.tunnel.unavailableReason ?? `tunnel ${ctx.tunnel.name} is not ready`,
      };
    }
    // Calico's shape: the tunnel has no link-layer neighbour, so the next hop is `onlink`.
    return { ok: true, nh: { via, dev: ctx.tunnel.name, onlink: true, weight: 1 }, shape: 'ipip' };
  };
  // Calico ipipMode Always: every remote block of an IPv4 pool goes through the tunnel.
  if (mode === 'Always' && addr.family === 4 && prefixFamily === 4) return ipip();
  const seg = ctx.topology.lookup(addr);
  if (seg !== null) {
    return { ok: true, nh: { via, dev: seg.dev, onlink: false, weight: 1 }, shape: 'direct' };
  }
  if (mode === 'CrossSubnet' || mode === 'Always') return ipip();
  return {
    ok: false,
    reason: `next hop ${via} is not on a connected segment and the pool's ipipMode is Never`,
  };
}

/** The prefix-independent part of a plan, shared by every route with the same next hops. */
export interface PathPlan {
  /** The route to install, shared by every prefix with this plan (its `prefix` is empty). */
  route: KernelRoute | null;
  nexthops: KernelNexthop[];
  status: NexthopStatus[];
  skipped: { via: string; reason: string }[];
  shape: RouteShape | null;
  reason: string | null;
  mtu: number | null;
  key: string | null;
}

function planPath(
  family: Prefix['family'],
  mode: IpipMode,
  nexthops: readonly string[],
  ctx: PlanContext,
): PathPlan {
  const used: KernelNexthop[] = [];
  const skipped: { via: string; reason: string }[] = [];
  const seen = new Set<string>();
  let ipipUsed = false;
  for (const text of nexthops) {
    const d = decideNexthop(text, family, mode, ctx);
    if (!d.ok) {
      skipped.push({ via: text, reason: d.reason });
      continue;
    }
    const k = `${d.nh.via}%${d.nh.dev}`;
    if (seen.has(k)) continue;
    seen.add(k);
    used.push(d.nh);
    if (d.shape === 'ipip') ipipUsed = true;
  }
  if (used.length === 0) {
    const reason =
      nexthops.length === 0
        ? 'no next hop'
        : skipped.length === 1
          ? skipped[0].reason
          : `no usable next hop: ${skipped.map((s) => s.reason).join('; ')}`;
    return {
      route: null,
      nexthops: [],
      status: [],
      skipped,
      shape: null,
      reason,
      mtu: null,
      key: null,
    };
  }
  sortNexthops(used);
  const status = used.map((nh) => ({
    via: nh.via,
    dev: nh.dev,
    shape: nh.dev === ctx.tunnel.name ? ('ipip' as const) : ('direct' as const),
  }));
  // Encapsulation needs room for the outer header: IPIP routes carry the tunnel MTU.
  const mtu = ipipUsed && ctx.tunnel.mtu !== null ? ctx.tunnel.mtu : null;
  const route: KernelRoute = { prefix: '', family, type: 'unicast', nexthops: used, mtu };
  return {
    route,
    nexthops: used,
    status,
    skipped,
    shape: shapeOf(route, ctx.tunnel.name),
    reason: null,
    mtu,
    key: routeKey(route),
  };
}

const OWN_PATHS: Record<Prefix['family'], PathPlan> = {
  4: ownPath(4),
  6: ownPath(6),
};

function ownPath(family: Prefix['family']): PathPlan {
  const route: KernelRoute = { prefix: '', family, type: 'blackhole', nexthops: [], mtu: null };
  return {
    route,
    nexthops: [],
    status: [],
    skipped: [],
    shape: 'blackhole',
    reason: null,
    mtu: null,
    key: routeKey(route),
  };
}

/** The shared plan of an own block: a blackhole. */
export function ownBlockPath(family: Prefix['family']): PathPlan {
  return OWN_PATHS[family];
}

const OUTER_KEYS: Record<IpipMode, Record<Prefix['family'], string>> = {
  Always: { 4: 'Always|4', 6: 'Always|6' },
  CrossSubnet: { 4: 'CrossSubnet|4', 6: 'CrossSubnet|6' },
  Never: { 4: 'Never|4', 6: 'Never|6' },
};

/**
 * The shared plan for a remote prefix of this family and pool mode (memoized per next-hop
 * list): the hot path of a big table, so it allocates nothing on a memo hit.
 */
export function remotePath(
  family: Prefix['family'],
  mode: IpipMode,
  nexthops: readonly string[],
  ctx: PlanContext,
): PathPlan {
  if (ctx.memo === undefined) return planPath(family, mode, nexthops, ctx);
  // Two levels, so the common single-next-hop case looks up the caller's string as is.
  const outerKey = OUTER_KEYS[mode][family];
  let inner = ctx.memo.get(outerKey);
  if (inner === undefined) {
    inner = new Map();
    ctx.memo.set(outerKey, inner);
  }
  const innerKey = nexthops.length === 1 ? nexthops[0] : nexthops.join(',');
  let path = inner.get(innerKey);
  if (path === undefined) {
    path = planPath(family, mode, nexthops, ctx);
    inner.set(innerKey, path);
  }
  return path;
}

/** Plans one remote route from its next hops. */
export function planRemote(
  prefix: string,
  p: Prefix,
  nexthops: readonly string[],
  ctx: PlanContext,
): Plan {
  const path = remotePath(p.family, modeFor(p, ctx), nexthops, ctx);
  if (path.route === null) {
    return {
      route: null,
      shape: null,
      nexthops: [],
      skipped: path.skipped,
      reason: path.reason,
      key: null,
    };
  }
  const route: KernelRoute = { ...path.route, prefix };
  return {
    route,
    shape: path.shape,
    nexthops: path.status,
    skipped: path.skipped,
    reason: null,
    key: path.key,
  };
}
