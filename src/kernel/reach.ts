// Next-hop reachability: the one rule (same L2 segment, else an IPv4 next hop through a usable
// IPIP tunnel) and the snapshot of the facts it needs, so the kernel sync and its main-thread
// client answer alike. Must not read the kernel or plan routes. RFC 4271 §9.1.2.1 (resolvable).

import {
  formatPrefix,
  parseAddr,
  parsePrefix,
  prefixContainsAddr,
  type Addr,
  type Prefix,
} from './addr.js';

/**
 * What the kernel sync knows about reachability, as plain data (it crosses a thread boundary).
 * Whether a tunnel is wanted follows from the pools, which the caller knows itself.
 */
export interface ReachSnapshot {
  /** The connected segments (`192.168.30.0/24`), longest first. */
  connected: string[];
  /** Whether tunl0 exists and the kernel can do IPIP. */
  tunnelAvailable: boolean;
}

/** The facts the rule reads. */
export interface ReachFacts {
  /** Whether an address lies on a connected segment. */
  onSegment(addr: Addr): boolean;
  /** Whether some pool (or the default mode) sends off-segment traffic through IPIP. */
  tunnelWanted: boolean;
  tunnelAvailable: boolean;
}

/**
 * Why traffic to a next hop cannot be forwarded, in words for `show routes`; null when it can:
 * it lies on a connected segment, or it is IPv4 and the IPIP tunnel some pool wants exists.
 * (Per-pool modes are applied per prefix when routes are planned; this is the coarse test.)
 */
export function unreachableReason(nexthop: string, facts: ReachFacts): string | null {
  const addr = parseAddr(nexthop.split('%')[0]);
  if (addr === null) return `next hop ${nexthop} is not an IP address`;
  if (facts.onSegment(addr)) return null;
  const off = `next hop ${nexthop} is not on a connected segment`;
  if (addr.family === 6) return `${off} (IPIP carries IPv4 only)`;
  if (!facts.tunnelWanted) return `${off} and the pool's ipipMode is Never`;
  if (!facts.tunnelAvailable) return `${off} and the kernel has no IPIP support`;
  return null;
}

/** The segments of a snapshot as prefixes: the snapshot side of `ReachFacts.onSegment`. */
export class ConnectedSegments {
  private readonly prefixes: Prefix[];

  constructor(connected: readonly string[]) {
    this.prefixes = [];
    for (const text of connected) {
      const p = parsePrefix(text, text.includes(':') ? 6 : 4);
      if (p.ok) this.prefixes.push(p.prefix);
    }
  }

  has(addr: Addr): boolean {
    for (const p of this.prefixes) if (prefixContainsAddr(p, addr)) return true;
    return false;
  }
}

/** The snapshot text of parsed segments (the kernel sync's side). */
export function segmentTexts(connected: readonly { prefix: Prefix }[]): string[] {
  return connected.map((c) => formatPrefix(c.prefix));
}
