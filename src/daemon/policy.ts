// Turns the config file's policies into the policy layer's declarative form, and adds the
// pool filter every peer's routes pass first (Calico: only pod blocks, never the default route
// or the node's own subnets). Pure: no I/O.
// RFC 4271 §9.1.1 (import policy), RFC 1997 / RFC 8092 (community values).

import type { LargeCommunity, PodbgpConfig, PolicyRule } from '../config/index.js';
import type { PolicyConfig, TermDef } from '../policy/index.js';

/** The name under which the pool filter is compiled; no config policy may use it. */
export const POOL_FILTER = '__pool-filter';

const large = (c: LargeCommunity) => `${c.globalAdmin}:${c.localData1}:${c.localData2}`;

function term(rule: PolicyRule, index: number): TermDef {
  const m = rule.match;
  const s = rule.set;
  const prefixList =
    m.prefixList ??
    (m.prefixes.length > 0
      ? m.prefixes.map((p) => ({ prefix: p.prefix, ge: p.ge, le: p.le, action: p.action }))
      : undefined);
  return {
    name: `rule ${index}`,
    match: {
      prefixList,
      family: m.family ?? undefined,
      communities: m.communities.length > 0 ? m.communities : undefined,
      largeCommunities: m.largeCommunities.length > 0 ? m.largeCommunities.map(large) : undefined,
      asPathContains: m.asPathContains ?? undefined,
    },
    then: {
      verdict: rule.action,
      localPref: s.localPref ?? undefined,
      med: s.med ?? undefined,
      addCommunities: s.addCommunities,
      removeCommunities: s.removeCommunities,
      addLargeCommunities: s.addLargeCommunities.map(large),
      removeLargeCommunities: s.removeLargeCommunities.map(large),
      prepend: s.asPathPrepend
        ? { count: s.asPathPrepend.count, asn: s.asPathPrepend.asn ?? undefined }
        : undefined,
    },
  };
}

/** Import and export halves of each config policy become `NAME/import` and `NAME/export`. */
export function policyConfigFrom(config: PodbgpConfig, nodeSubnets: string[]): PolicyConfig {
  const policies: NonNullable<PolicyConfig['policies']> = {};
  for (const [name, p] of Object.entries(config.policies)) {
    policies[`${name}/import`] = { terms: p.import.map(term) };
    policies[`${name}/export`] = { terms: p.export.map(term) };
  }
  const prefixLists: NonNullable<PolicyConfig['prefixLists']> = {};
  for (const [name, entries] of Object.entries(config.prefixLists)) {
    prefixLists[name] = entries.map((e) => ({
      prefix: e.prefix,
      ge: e.ge,
      le: e.le,
      action: e.action,
    }));
  }
  return {
    prefixLists,
    policies,
    poolFilters: {
      [POOL_FILTER]: {
        pools: config.pools.map((p) => ({ cidr: p.cidr, blockSize: p.blockSize })),
        nodeSubnets,
      },
    },
  };
}

/** The import and export policy chains of one peer: the pool filter first, then its policy. */
export function peerPolicies(policy: string | null | undefined): {
  importPolicies: string[];
  exportPolicies: string[];
} {
  return {
    importPolicies: [POOL_FILTER, ...(policy ? [`${policy}/import`] : [])],
    exportPolicies: policy ? [`${policy}/export`] : [],
  };
}
