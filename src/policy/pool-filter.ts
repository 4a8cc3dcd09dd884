// The mesh import filter: a node accepts from its mesh peers only pod blocks inside the pools,
// never the default route or the node subnets, so a peer cannot hijack the node's traffic.
// Calico IPPool semantics (blockSize .. host length); RFC 4271 §9.1.1 (import policy).

import { v4KeyAddress, v4KeyLength } from '../../protocol/prefix.js';
import type { CompiledPolicy } from './compile.js';
import { fromKey, overlaps, parsePrefix, type ParsedPrefix, contains } from './prefix-match.js';
import type { PoolFilterDef } from './types.js';

const ACCEPT = 0;
const REJECT = 1;

/** Why a prefix was rejected (for logs and tests); null when it is accepted. */
export function poolFilterReason(
  def: CompiledPoolFilter,
  afi: 1 | 2,
  key: number | string,
): string | null {
  const p = fromKey(afi, key);
  if (p.length === 0 && !def.allowDefault) return 'default route';
  if (!def.allowNodeSubnets && def.nodeSubnets.some((s) => overlaps(s, p))) {
    return 'overlaps a node subnet';
  }
  const max = afi === 1 ? 32 : 128;
  for (const pool of def.pools) {
    if (pool.prefix.afi !== afi || !contains(pool.prefix, p)) continue;
    if (p.length < pool.blockSize || p.length > max) {
      return `length /${p.length} outside /${pool.blockSize}../${max} of pool`;
    }
    return null;
  }
  if (p.length === 0 && def.allowDefault) return null;
  return def.allowOutsidePools ? null : 'outside every pool';
}

export interface CompiledPoolFilter {
  pools: { prefix: ParsedPrefix; blockSize: number }[];
  nodeSubnets: ParsedPrefix[];
  allowDefault: boolean;
  allowNodeSubnets: boolean;
  allowOutsidePools: boolean;
  /** The IPv4 pools and subnets as address ranges, for `rejectsV4` (the per-prefix path). */
  v4Pools: V4Range[];
  v4Subnets: V4Range[];
}

/** Addresses in an IPv4 prefix of each length. */
const V4_SIZE = Float64Array.from({ length: 33 }, (_, len) => 2 ** (32 - len));

/** An IPv4 prefix as its first and last address. */
interface V4Range {
  first: number;
  last: number;
  length: number;
  blockSize: number;
}

function v4Range(p: ParsedPrefix, blockSize = 32): V4Range {
  return { first: p.v4, last: p.v4 + 2 ** (32 - p.length) - 1, length: p.length, blockSize };
}

/**
 * `poolFilterReason(def, 1, key) !== null` in plain arithmetic, without building a parsed prefix:
 * this runs once for every IPv4 prefix a peer sends (a million for a full table).
 */
export function rejectsV4(def: CompiledPoolFilter, key: number): boolean {
  const length = v4KeyLength(key);
  const first = v4KeyAddress(key);
  if (length === 0 && !def.allowDefault) return true;
  const last = first + V4_SIZE[length] - 1;
  if (!def.allowNodeSubnets) {
    // Two prefixes overlap exactly when their address ranges intersect.
    for (const s of def.v4Subnets) if (first <= s.last && s.first <= last) return true;
  }
  for (const pool of def.v4Pools) {
    if (length < pool.length || first < pool.first || first > pool.last) continue;
    return length < pool.blockSize;
  }
  if (length === 0 && def.allowDefault) return false;
  return !def.allowOutsidePools;
}

export function compilePoolFilterDef(def: PoolFilterDef): CompiledPoolFilter {
  const pools = def.pools.map((p) => {
    const prefix = parsePrefix(p.cidr);
    const max = prefix.afi === 1 ? 32 : 128;
    if (!Number.isInteger(p.blockSize) || p.blockSize < prefix.length || p.blockSize > max) {
      throw new TypeError(`pool ${p.cidr}: blockSize must be ${prefix.length}..${max}`);
    }
    return { prefix, blockSize: p.blockSize };
  });
  const nodeSubnets = (def.nodeSubnets ?? []).map((s) => {
    // Node subnets are given as interface addresses with a length (192.168.26.71/24): mask them.
    const slash = s.indexOf('/');
    const len = Number(s.slice(slash + 1));
    return maskedPrefix(s.slice(0, slash), len);
  });
  return {
    pools,
    nodeSubnets,
    v4Pools: pools.filter((p) => p.prefix.afi === 1).map((p) => v4Range(p.prefix, p.blockSize)),
    v4Subnets: nodeSubnets.filter((s) => s.afi === 1).map((s) => v4Range(s)),
    allowDefault: def.allowDefault ?? false,
    allowNodeSubnets: def.allowNodeSubnets ?? false,
    allowOutsidePools: def.allowOutsidePools ?? false,
  };
}

function maskedPrefix(address: string, length: number): ParsedPrefix {
  const afi = address.includes(':') ? 2 : 1;
  const full = parsePrefix(`${address}/${afi === 1 ? 32 : 128}`);
  if (afi === 1) {
    const div = 2 ** (32 - length);
    return { afi: 1, length, v4: Math.floor(full.v4 / div) * div, v6: 0n };
  }
  const shift = BigInt(128 - length);
  return { afi: 2, length, v4: 0, v6: (full.v6 >> shift) << shift };
}

export function compilePoolFilter(name: string, def: PoolFilterDef): CompiledPolicy {
  const compiled = compilePoolFilterDef(def);
  return {
    name,
    match: (afi, key) =>
      (
        afi === 1
          ? rejectsV4(compiled, key as number)
          : poolFilterReason(compiled, afi, key) !== null
      )
        ? REJECT
        : ACCEPT,
    accepts: (term) => term === ACCEPT,
    modifies: () => false,
    transform: (_term, attrs) => attrs,
  };
}
