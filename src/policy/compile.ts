// Turns declarative policy data into CompiledPolicy objects the RIB runs per prefix. Policies
// return verdicts and attribute sets; they never touch RIB tables and keep no per-route state.
// RFC 1997 / RFC 8092 (community edits), RFC 4271 §9.1.1 (degree of preference via LOCAL_PREF).

import { AsPath } from '../../protocol/as-path.js';
import type { LargeCommunity, PathAttributes } from '../../protocol/types.js';
import { parseCommunity, parseLargeCommunity } from './community.js';
import { PrefixList } from './prefix-match.js';
import type { ActionDef, PolicyConfig, PolicyDef, TermDef } from './types.js';
import { compilePoolFilter } from './pool-filter.js';

/**
 * A compiled policy. The RIB calls `match` once per prefix and caches `transform` results per
 * (attribute set, term), so transform must be a pure function of its inputs.
 */
export interface CompiledPolicy {
  readonly name: string;
  /** The index of the deciding term, or -1 when no term matched (the default verdict applies). */
  match(afi: 1 | 2, key: number | string, attrs: PathAttributes): number;
  accepts(term: number): boolean;
  /** True when the term changes attributes (so `transform` must be called). */
  modifies(term: number): boolean;
  /** The attributes after the term's actions; a new object, the input is never mutated. */
  transform(term: number, attrs: PathAttributes): PathAttributes;
}

export interface CompileContext {
  /** The default ASN for `prepend`. */
  localAsn: number;
}

interface CompiledTerm {
  prefixList: PrefixList | null;
  afi: 1 | 2 | 0;
  communities: Set<number> | null;
  large: LargeCommunity[] | null;
  asPathContains: number | null;
  accept: boolean;
  modifies: boolean;
  action: ActionDef;
  add: number[];
  remove: Set<number>;
  addLarge: LargeCommunity[];
  removeLarge: LargeCommunity[];
  prependAsn: number;
}

const sameLarge = (a: LargeCommunity, b: LargeCommunity): boolean =>
  a[0] === b[0] && a[1] === b[1] && a[2] === b[2];

function compileTerm(
  term: TermDef,
  lists: Record<string, PrefixList>,
  ctx: CompileContext,
  where: string,
): CompiledTerm {
  const m = term.match ?? {};
  const a = term.then ?? {};
  let prefixList: PrefixList | null = null;
  if (typeof m.prefixList === 'string') {
    prefixList = lists[m.prefixList];
    if (!prefixList) throw new TypeError(`${where}: unknown prefix list "${m.prefixList}"`);
  } else if (m.prefixList) {
    prefixList = new PrefixList(m.prefixList);
  }
  const add = (a.addCommunities ?? []).map(parseCommunity);
  const remove = new Set((a.removeCommunities ?? []).map(parseCommunity));
  const addLarge = (a.addLargeCommunities ?? []).map(parseLargeCommunity);
  const removeLarge = (a.removeLargeCommunities ?? []).map(parseLargeCommunity);
  const prependCount = a.prepend?.count ?? 0;
  if (!Number.isInteger(prependCount) || prependCount < 0 || prependCount > 32) {
    throw new TypeError(`${where}: prepend count must be 0..32`);
  }
  return {
    prefixList,
    afi: m.family === 'ipv4-unicast' ? 1 : m.family === 'ipv6-unicast' ? 2 : 0,
    communities: m.communities ? new Set(m.communities.map(parseCommunity)) : null,
    large: m.largeCommunities ? m.largeCommunities.map(parseLargeCommunity) : null,
    asPathContains: m.asPathContains ?? null,
    accept: (a.verdict ?? 'accept') === 'accept',
    modifies:
      a.localPref !== undefined ||
      a.med !== undefined ||
      add.length + remove.size + addLarge.length + removeLarge.length + prependCount > 0,
    action: a,
    add,
    remove,
    addLarge,
    removeLarge,
    prependAsn: a.prepend?.asn ?? ctx.localAsn,
  };
}

function applyTerm(t: CompiledTerm, attrs: PathAttributes): PathAttributes {
  const out: PathAttributes = { ...attrs };
  const a = t.action;
  if (a.localPref !== undefined) out.localPref = a.localPref;
  if (a.med !== undefined) out.med = a.med;
  if (t.add.length || t.remove.size) {
    const list = (attrs.communities ?? []).filter((c) => !t.remove.has(c));
    for (const c of t.add) if (!list.includes(c)) list.push(c);
    if (list.length) out.communities = list;
    else delete out.communities;
  }
  if (t.addLarge.length || t.removeLarge.length) {
    const list = (attrs.largeCommunities ?? []).filter(
      (c) => !t.removeLarge.some((r) => sameLarge(r, c)),
    );
    for (const c of t.addLarge) if (!list.some((x) => sameLarge(x, c))) list.push(c);
    if (list.length) out.largeCommunities = list;
    else delete out.largeCommunities;
  }
  const count = a.prepend?.count ?? 0;
  if (count > 0) {
    // RFC 4271 §5.1.2: prepending adds to the leftmost AS_SEQUENCE (a new one if it is a set).
    const prefix = new Array<number>(count).fill(t.prependAsn);
    out.asPath = (attrs.asPath ?? AsPath.EMPTY).prepend(prefix);
  }
  return out;
}

/** Compiles one policy; `lists` holds the named prefix lists it may reference. */
export function compilePolicy(
  name: string,
  def: PolicyDef,
  lists: Record<string, PrefixList>,
  ctx: CompileContext,
): CompiledPolicy {
  const terms = def.terms.map((t, i) =>
    compileTerm(t, lists, ctx, `policy "${name}" term ${t.name ?? i}`),
  );
  const defaultAccept = (def.defaultVerdict ?? 'accept') === 'accept';
  return {
    name,
    match(afi, key, attrs) {
      for (let i = 0; i < terms.length; i++) {
        const t = terms[i];
        if (t.afi !== 0 && t.afi !== afi) continue;
        if (t.communities) {
          const cs = attrs.communities;
          if (!cs || !cs.some((c) => t.communities!.has(c))) continue;
        }
        if (t.large) {
          const ls = attrs.largeCommunities;
          if (!ls || !ls.some((c) => t.large!.some((x) => sameLarge(x, c)))) continue;
        }
        if (t.asPathContains !== null && !attrs.asPath?.includes(t.asPathContains)) continue;
        if (t.prefixList && !t.prefixList.matches(afi, key)) continue;
        return i;
      }
      return -1;
    },
    accepts: (term) => (term < 0 ? defaultAccept : terms[term].accept),
    modifies: (term) => term >= 0 && terms[term].accept && terms[term].modifies,
    transform: (term, attrs) => (term < 0 ? attrs : applyTerm(terms[term], attrs)),
  };
}

/** Compiles a whole PolicyConfig into named policies (policies and pool filters share one namespace). */
export function compilePolicies(
  config: PolicyConfig,
  ctx: CompileContext,
): Map<string, CompiledPolicy> {
  const lists: Record<string, PrefixList> = {};
  for (const [name, entries] of Object.entries(config.prefixLists ?? {})) {
    lists[name] = new PrefixList(entries);
  }
  const out = new Map<string, CompiledPolicy>();
  for (const [name, def] of Object.entries(config.policies ?? {})) {
    out.set(name, compilePolicy(name, def, lists, ctx));
  }
  for (const [name, def] of Object.entries(config.poolFilters ?? {})) {
    if (out.has(name)) throw new TypeError(`policy name "${name}" used twice`);
    out.set(name, compilePoolFilter(name, def));
  }
  return out;
}
