// The kernel route model: one canonical form for a route we want, a route `ip -json route`
// printed, and a route `ip monitor route` printed, plus rendering to `ip -batch` lines.
// Must not run commands or decide shapes (plan.ts does); never renders a line without our proto.

import { canonicalAddr, canonicalPrefix, type Family } from './addr.js';
import { isMainTable, normalizeProtocol, normalizeTable } from './names.js';

export interface KernelNexthop {
  via: string;
  dev: string;
  onlink: boolean;
  weight: number;
}

export interface KernelRoute {
  /** Canonical prefix as iproute2 prints it. */
  prefix: string;
  family: Family;
  type: 'unicast' | 'blackhole';
  /** Sorted by (via, dev): the kernel keeps the order we give, we compare sets. */
  nexthops: KernelNexthop[];
  mtu: number | null;
}

/** Where our routes live: table and protocol as spelled on command lines. */
export interface RouteTarget {
  table: string;
  protocol: string;
}

export function sortNexthops(nhs: KernelNexthop[]): KernelNexthop[] {
  return nhs.sort((a, b) => (a.via < b.via ? -1 : a.via > b.via ? 1 : a.dev < b.dev ? -1 : 1));
}

/** Equal keys mean the kernel needs no change. */
export function routeKey(r: KernelRoute): string {
  let k = `${r.type}|${r.mtu ?? ''}`;
  for (const nh of r.nexthops) k += `|${nh.via},${nh.dev},${nh.onlink ? 1 : 0},${nh.weight}`;
  return k;
}

function gateway(prefixFamily: Family, via: string): string {
  // RFC 5549 style: an IPv4 prefix over an IPv6 next hop needs `via inet6`.
  const viaFamily: Family = via.includes(':') ? 6 : 4;
  return viaFamily !== prefixFamily ? `via inet6 ${via}` : `via ${via}`;
}

/** The route in `ip route` syntax, without the command verb (also used for logs and status). */
export function renderRoute(r: KernelRoute, t: RouteTarget, prefix: string = r.prefix): string {
  const table = isMainTable(t.table) ? '' : ` table ${t.table}`;
  const mtu = r.mtu === null ? '' : ` mtu ${r.mtu}`;
  if (r.type === 'blackhole') return `blackhole ${prefix} proto ${t.protocol}${table}`;
  if (r.nexthops.length === 1) {
    const nh = r.nexthops[0];
    const onlink = nh.onlink ? ' onlink' : '';
    return `${prefix} ${gateway(r.family, nh.via)} dev ${nh.dev} proto ${t.protocol}${table}${onlink}${mtu}`;
  }
  // `nexthop` must come last: iproute2 parses everything after it as next hops.
  let line = `${prefix} proto ${t.protocol}${table}${mtu}`;
  for (const nh of r.nexthops) {
    line += ` nexthop ${gateway(r.family, nh.via)} dev ${nh.dev} weight ${nh.weight}`;
    if (nh.onlink) line += ' onlink';
  }
  return line;
}

export function renderInstall(
  op: 'add' | 'replace',
  r: KernelRoute,
  t: RouteTarget,
  prefix: string = r.prefix,
): string {
  return `route ${op} ${renderRoute(r, t, prefix)}`;
}

/** `proto` on a delete makes the kernel match only our routes (fib_table_delete, ip6_route_del). */
export function renderDelete(prefix: string, t: RouteTarget): string {
  const table = isMainTable(t.table) ? '' : ` table ${t.table}`;
  return `route del ${prefix} proto ${t.protocol}${table}`;
}

interface JsonNexthop {
  gateway?: string;
  via?: { family?: string; host?: string };
  dev?: string;
  weight?: number;
  flags?: string[];
}

export interface JsonRoute extends JsonNexthop {
  dst?: string;
  type?: string;
  table?: string;
  protocol?: string;
  scope?: string;
  nexthops?: JsonNexthop[];
  metrics?: Array<Record<string, unknown>>;
}

function jsonNexthop(nh: JsonNexthop): KernelNexthop | null {
  const raw = nh.gateway ?? nh.via?.host;
  if (raw === undefined || nh.dev === undefined) return null;
  return {
    via: canonicalAddr(raw) ?? raw,
    dev: nh.dev,
    onlink: (nh.flags ?? []).includes('onlink'),
    weight: nh.weight ?? 1,
  };
}

/**
 * One element of `ip -json route show`. Returns null for shapes we never install (dev-only
 * routes, unreachable, prohibit...); the caller still knows the prefix is tagged as ours.
 */
export function parseJsonRoute(j: JsonRoute, family: Family): KernelRoute | null {
  const prefix = canonicalPrefix(j.dst ?? '', family);
  if (prefix === null) return null;
  let mtu: number | null = null;
  for (const m of j.metrics ?? []) if (typeof m.mtu === 'number') mtu = m.mtu;
  const type = j.type ?? 'unicast';
  if (type === 'blackhole') return { prefix, family, type, nexthops: [], mtu };
  if (type !== 'unicast') return null;
  const nhs: KernelNexthop[] = [];
  if (j.nexthops !== undefined) {
    for (const n of j.nexthops) {
      const nh = jsonNexthop(n);
      if (nh === null) return null;
      nhs.push(nh);
    }
  } else {
    const nh = jsonNexthop(j);
    if (nh === null) return null;
    // A single-path route has no weight attribute; the kernel treats it as 1.
    nhs.push({ ...nh, weight: 1 });
  }
  return { prefix, family, type, nexthops: sortNexthops(nhs), mtu };
}

export interface MonitorRouteEvent {
  deleted: boolean;
  /** Canonical prefix, or null if unparsable. */
  prefix: string | null;
  type: string;
  table: string;
  protocol: string;
  /** Whether the route has a gateway (false for connected `dev X scope link` routes). */
  hasGateway: boolean;
  scope: string | null;
  route: KernelRoute | null;
}

const ROUTE_TYPES = new Set([
  'unicast',
  'local',
  'broadcast',
  'anycast',
  'multicast',
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
  'nat',
]);

// Keywords of `ip route` output followed by one value we do not need.
const SKIP_ONE = new Set([
  'src',
  'metric',
  'pref',
  'expires',
  'error',
  'realm',
  'realms',
  'hoplimit',
  'advmss',
  'rtt',
  'rttvar',
  'reordering',
  'window',
  'cwnd',
  'initcwnd',
  'initrwnd',
  'ssthresh',
  'features',
  'quickack',
  'congctl',
  'fastopen_no_cookie',
  'tos',
  'dsfield',
  'nhid',
  'ttl-propagate',
  'encap',
  'rto_min',
]);

/**
 * One event of `ip monitor route` (text form; iproute2 6.1 prints no JSON for monitor):
 * the first line plus its tab-indented `nexthop` continuation lines, `[ROUTE]` label removed.
 */
export function parseMonitorRoute(lines: string[]): MonitorRouteEvent {
  const toks = lines.join(' ').trim().split(/\s+/);
  let i = 0;
  let deleted = false;
  if (toks[i] === 'Deleted') {
    deleted = true;
    i++;
  }
  let type = 'unicast';
  if (ROUTE_TYPES.has(toks[i])) type = toks[i++];
  const dstText = toks[i++] ?? '';
  const slash = dstText.indexOf('/');
  const fam: Family = (slash === -1 ? dstText : dstText.slice(0, slash)).includes(':') ? 6 : 4;
  const prefix = canonicalPrefix(dstText, fam);
  let table = normalizeTable('main');
  let protocol = normalizeProtocol('boot');
  let scope: string | null = null;
  let mtu: number | null = null;
  let hasGateway = false;
  const nhs: KernelNexthop[] = [];
  let cur: Partial<KernelNexthop> = {};
  let multipath = false;
  const flush = (): void => {
    if (cur.via !== undefined && cur.dev !== undefined) {
      nhs.push({
        via: canonicalAddr(cur.via) ?? cur.via,
        dev: cur.dev,
        onlink: cur.onlink ?? false,
        weight: multipath ? (cur.weight ?? 1) : 1,
      });
    }
    cur = {};
  };
  while (i < toks.length) {
    const k = toks[i++];
    switch (k) {
      case 'nexthop':
        flush();
        multipath = true;
        break;
      case 'via':
        if (toks[i] === 'inet' || toks[i] === 'inet6') i++;
        cur.via = toks[i++];
        hasGateway = true;
        break;
      case 'dev':
        cur.dev = toks[i++];
        break;
      case 'weight':
        cur.weight = Number(toks[i++]);
        break;
      case 'onlink':
        cur.onlink = true;
        break;
      case 'table':
        table = normalizeTable(toks[i++]);
        break;
      case 'proto':
        protocol = normalizeProtocol(toks[i++]);
        break;
      case 'scope':
        scope = toks[i++];
        break;
      case 'mtu':
        if (toks[i] === 'lock') i++;
        mtu = Number(toks[i++]);
        break;
      default:
        if (SKIP_ONE.has(k)) i++;
    }
  }
  flush();
  let route: KernelRoute | null = null;
  if (prefix !== null) {
    if (type === 'blackhole') route = { prefix, family: fam, type, nexthops: [], mtu };
    else if (type === 'unicast' && nhs.length > 0) {
      route = { prefix, family: fam, type, nexthops: sortNexthops(nhs), mtu };
    }
  }
  return { deleted, prefix, type, table, protocol, hasGateway, scope, route };
}
