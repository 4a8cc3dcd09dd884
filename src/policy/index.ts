// The policy layer's public surface: declarative policy types and their compiler.
// Must not import from src/rib (the RIB depends on policy, not the reverse).
// RFC 4271 §9.1.1 and §9.1.3 (import and export policy).

export type * from './types.js';
export { compilePolicies, compilePolicy } from './compile.js';
export type { CompiledPolicy, CompileContext } from './compile.js';
export { compilePoolFilter, compilePoolFilterDef, poolFilterReason } from './pool-filter.js';
export { PrefixList, parsePrefix } from './prefix-match.js';
export { parseCommunity, parseLargeCommunity, formatCommunity } from './community.js';
