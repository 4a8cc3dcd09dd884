// The node's directly connected segments, read from `ip -json addr show` and the kernel's
// `scope link` routes, and the same-L2 test: which interface reaches a next hop directly.
// Must not decide IPIP modes (plan.ts does) or change anything in the kernel.

import {
  formatPrefix,
  networkOf,
  parseAddr,
  parsePrefix,
  prefixContainsAddr,
  type Addr,
  type Prefix,
} from './addr.js';
import { normalizeProtocol } from './names.js';

export interface ConnectedSubnet {
  prefix: Prefix;
  dev: string;
  /** `addr` for an interface address, `route` for a scope link route. */
  source: 'addr' | 'route';
}

export interface JsonAddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
  scope?: string;
}

export interface JsonLink {
  ifname?: string;
  mtu?: number;
  flags?: string[];
  addr_info?: JsonAddrInfo[];
}

export interface JsonLinkRoute {
  dst?: string;
  dev?: string;
  protocol?: string;
  gateway?: string;
  type?: string;
  nexthops?: unknown[];
}

export class Topology {
  /** Longest prefixes first, so the first match is the longest match; one entry per subnet+dev. */
  readonly connected: ConnectedSubnet[];
  readonly mtus: ReadonlyMap<string, number>;
  readonly up: ReadonlySet<string>;

  constructor(connected: ConnectedSubnet[], mtus: Map<string, number>, up: Set<string>) {
    const seen = new Set<string>();
    const unique = connected.filter((c) => {
      const k = `${formatPrefix(c.prefix)}@${c.dev}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    // Stable sort: on equal lengths the interface address (listed first) wins.
    this.connected = unique.sort((a, b) => b.prefix.len - a.prefix.len);
    this.mtus = mtus;
    this.up = up;
  }

  static empty(): Topology {
    return new Topology([], new Map(), new Set());
  }

  /** The same-L2 test: the interface whose connected subnet holds `addr`, or null. */
  lookup(addr: Addr): ConnectedSubnet | null {
    for (const c of this.connected) if (prefixContainsAddr(c.prefix, addr)) return c;
    return null;
  }

  /** Changes when a decision could change. */
  signature(): string {
    return this.connected.map((c) => `${formatPrefix(c.prefix)}@${c.dev}`).join(',');
  }
}

export interface TopologyInput {
  links: JsonLink[];
  /** `ip -json route show table main scope link` (IPv4). */
  linkRoutes: JsonLinkRoute[];
  /** Devices whose subnets never count as a segment (`lo`, the tunnel). */
  exclude: ReadonlySet<string>;
  /** Our protocol: our own routes are never evidence of a segment. */
  protocol: string;
}

export function buildTopology(input: TopologyInput): Topology {
  const connected: ConnectedSubnet[] = [];
  const mtus = new Map<string, number>();
  const up = new Set<string>();
  const ours = normalizeProtocol(input.protocol);
  for (const link of input.links) {
    if (link.ifname === undefined) continue;
    if (link.mtu !== undefined) mtus.set(link.ifname, link.mtu);
    if ((link.flags ?? []).includes('UP')) up.add(link.ifname);
    if (input.exclude.has(link.ifname)) continue;
    for (const a of link.addr_info ?? []) {
      if (a.local === undefined || a.prefixlen === undefined || a.scope === 'host') continue;
      const addr = parseAddr(a.local);
      if (addr === null) continue;
      const full = addr.family === 4 ? 32 : 128;
      // A /32 or /128 holds only this host; link-local IPv6 is on every link (use ADDR%IFACE).
      if (a.prefixlen >= full || a.scope === 'link') continue;
      connected.push({ prefix: networkOf(addr, a.prefixlen), dev: link.ifname, source: 'addr' });
    }
  }
  for (const r of input.linkRoutes) {
    if (r.dst === undefined || r.dev === undefined || input.exclude.has(r.dev)) continue;
    if (r.gateway !== undefined || r.nexthops !== undefined) continue;
    if ((r.type ?? 'unicast') !== 'unicast') continue;
    if (r.protocol !== undefined && normalizeProtocol(r.protocol) === ours) continue;
    const p = parsePrefix(r.dst, 4);
    if (!p.ok || p.prefix.len === 0) continue;
    connected.push({ prefix: p.prefix, dev: r.dev, source: 'route' });
  }
  return new Topology(connected, mtus, up);
}
