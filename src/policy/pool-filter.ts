// The mesh import filter: a node accepts from its mesh peers only pod blocks inside the pools,
// never the default route or the node subnets, so a peer cannot hijack the node's traffic.
// Calico IPPool semantics (blockSize .. host length); RFC 4271 §9.1.1 (import policy).

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
}

export function compilePoolFilterDef(def: PoolFilterDef): CompiledPoolFilter {
  return {
    pools: def.pools.map((p) => {
      const prefix = parsePrefix(p.cidr);
      const max = prefix.afi === 1 ? 32 : 128;
      if (!Number.isInteger(p.blockSize) || p.blockSize < prefix.length || p.blockSize > max) {
        throw new TypeError(`pool ${p.cidr}: blockSize must be ${prefix.length}..${max}`);
      }
      return { prefix, blockSize: p.blockSize };
    }),
    nodeSubnets: (def.nodeSubnets ?? []).map((s) => {
      // Node subnets are given as interface addresses with a length (192.168.26.71/24): mask them.
      const slash = s.indexOf('/');
      const len = Number(s.slice(slash + 1));
      return maskedPrefix(s.slice(0, slash), len);
    }),
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
    match: (afi, key) => (poolFilterReason(compiled, afi, key) === null ? ACCEPT : REJECT),
    accepts: (term) => term === ACCEPT,
    modifies: () => false,
    transform: (_term, attrs) => attrs,
  };
}
