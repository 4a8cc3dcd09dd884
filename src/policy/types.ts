// Declarative routing policy as plain data (from the config file or custom resources): prefix
// lists with ge/le, terms that match and act on communities, AS path, LOCAL_PREF and MED, and
// the mesh import pool filter. Types only; compile.ts turns them into matchers.

/** One prefix-list line: `prefix` with optional `ge`/`le` length bounds (as in FRR/Cisco). */
export interface PrefixListEntry {
  /** "10.244.0.0/16" or "fd00:10::/48"; host bits must be zero. */
  prefix: string;
  /** Lowest accepted length; defaults to the prefix length (or to `le`'s floor, see below). */
  ge?: number;
  /** Highest accepted length; defaults to `ge` when `ge` is given, else to the prefix length. */
  le?: number;
  /** `deny` lines stop the list with no match; default `permit`. */
  action?: 'permit' | 'deny';
}

export interface MatchDef {
  /** A named list (PolicyConfig.prefixLists) or an inline one; first matching line decides. */
  prefixList?: string | PrefixListEntry[];
  family?: 'ipv4-unicast' | 'ipv6-unicast';
  /** Matches when the route carries ANY of these ("65000:100", "no-export", or a number). */
  communities?: (string | number)[];
  /** Matches when the route carries ANY of these ("65000:1:2"). */
  largeCommunities?: string[];
  /** Matches when the AS_PATH contains this ASN anywhere. */
  asPathContains?: number;
}

export interface ActionDef {
  /** Default `accept`. */
  verdict?: 'accept' | 'reject';
  localPref?: number;
  med?: number;
  addCommunities?: (string | number)[];
  removeCommunities?: (string | number)[];
  addLargeCommunities?: string[];
  removeLargeCommunities?: string[];
  /** Prepend `asn` (default: the local ASN) `count` times to the AS_PATH. */
  prepend?: { count: number; asn?: number };
}

export interface TermDef {
  name?: string;
  /** All given conditions must hold; an empty match matches everything. */
  match?: MatchDef;
  then?: ActionDef;
}

/** An ordered list of terms: the first matching term decides; otherwise `defaultVerdict`. */
export interface PolicyDef {
  terms: TermDef[];
  /** Default `accept`. */
  defaultVerdict?: 'accept' | 'reject';
}

/**
 * The mesh import filter (Calico semantics): accept only prefixes inside a pod pool with a length
 * from the pool's block size to the host length; reject the default route, anything overlapping
 * the node subnets, and anything outside the pools, unless the matching `allow*` flag is set.
 */
export interface PoolFilterDef {
  pools: { cidr: string; blockSize: number }[];
  nodeSubnets?: string[];
  allowDefault?: boolean;
  allowNodeSubnets?: boolean;
  allowOutsidePools?: boolean;
}

/** Everything the config gives the policy layer; policies are referenced by name from peers. */
export interface PolicyConfig {
  prefixLists?: Record<string, PrefixListEntry[]>;
  policies?: Record<string, PolicyDef>;
  poolFilters?: Record<string, PoolFilterDef>;
}
