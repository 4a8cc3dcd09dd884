// Compares two effective configs for a SIGHUP reload: which peers were added, removed or
// changed (and whether a change needs a session reset or only a soft reset, RFC 2918), which
// policies changed, and which other sections changed. Pure: applies nothing.
import type { PeerConfig, PodbgpConfig } from './schema.js';

export interface PeerChange {
  address: string;
  before: PeerConfig;
  after: PeerConfig;
  /** Changed peer fields; `policy-content` when the referenced policy's rules changed. */
  fields: string[];
  /**
   * False when only the policy (reference or content) or the description changed: the session
   * can stay up and the routes be re-evaluated (ROUTE-REFRESH / soft reset).
   */
  sessionReset: boolean;
}

export interface ConfigDiff {
  peers: { added: PeerConfig[]; removed: PeerConfig[]; changed: PeerChange[]; unchanged: string[] };
  policies: { added: string[]; removed: string[]; changed: string[] };
  /** Top-level sections other than peers, policies and prefixLists whose value changed. */
  sections: (keyof PodbgpConfig)[];
  /** Changed fields a running daemon cannot apply without a restart. */
  restartRequired: string[];
  /** True when nothing at all changed. */
  empty: boolean;
}

/** Deep equality for plain config data (objects, arrays, scalars). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/** A policy together with the prefix lists its rules reference: what a peer actually sees. */
function policyWithLists(c: PodbgpConfig, name: string): unknown {
  const p = c.policies[name];
  if (!p) return undefined;
  const lists: Record<string, unknown> = {};
  for (const r of [...p.import, ...p.export]) {
    if (r.match.prefixList) lists[r.match.prefixList] = c.prefixLists[r.match.prefixList];
  }
  return { p, lists };
}

// Fields a running daemon holds in sockets, devices or identity: changed only by a restart.
const RESTART_FIELDS: readonly [string, (c: PodbgpConfig) => unknown][] = [
  ['node', (c) => c.node],
  ['listen', (c) => c.listen],
  ['kernel.table', (c) => c.kernel.table],
  ['kernel.protocol', (c) => c.kernel.protocol],
  ['control.socket', (c) => c.control.socket],
  ['metrics.listen', (c) => c.metrics.listen],
  ['kubernetes.enabled', (c) => c.kubernetes.enabled],
  ['kubernetes.kubeconfig', (c) => c.kubernetes.kubeconfig],
];

const SOFT_FIELDS = new Set(['policy', 'policy-content', 'description']);

export function diffConfigs(before: PodbgpConfig, after: PodbgpConfig): ConfigDiff {
  const allPolicies = new Set([...Object.keys(before.policies), ...Object.keys(after.policies)]);
  const policies = { added: [] as string[], removed: [] as string[], changed: [] as string[] };
  for (const name of allPolicies) {
    const a = policyWithLists(before, name);
    const b = policyWithLists(after, name);
    if (a === undefined) policies.added.push(name);
    else if (b === undefined) policies.removed.push(name);
    else if (!sameValue(a, b)) policies.changed.push(name);
  }

  const oldPeers = new Map(before.peers.map((p) => [p.address, p]));
  const newPeers = new Map(after.peers.map((p) => [p.address, p]));
  const peers: ConfigDiff['peers'] = { added: [], removed: [], changed: [], unchanged: [] };
  for (const [addr, p] of oldPeers) if (!newPeers.has(addr)) peers.removed.push(p);
  for (const [addr, b] of newPeers) {
    const a = oldPeers.get(addr);
    if (!a) {
      peers.added.push(b);
      continue;
    }
    const fields = (Object.keys(b) as (keyof PeerConfig)[]).filter((k) => !sameValue(a[k], b[k]));
    if (
      a.policy !== null &&
      a.policy === b.policy &&
      !sameValue(policyWithLists(before, a.policy), policyWithLists(after, b.policy))
    ) {
      fields.push('policy-content' as keyof PeerConfig);
    }
    if (fields.length === 0) peers.unchanged.push(addr);
    else
      peers.changed.push({
        address: addr,
        before: a,
        after: b,
        fields,
        sessionReset: fields.some((f) => !SOFT_FIELDS.has(f)),
      });
  }

  const sections = (Object.keys(after) as (keyof PodbgpConfig)[]).filter(
    (k) =>
      k !== 'peers' && k !== 'policies' && k !== 'prefixLists' && !sameValue(before[k], after[k]),
  );
  const restartRequired = RESTART_FIELDS.filter(
    ([, get]) => !sameValue(get(before), get(after)),
  ).map(([n]) => n);
  const empty =
    sections.length === 0 &&
    peers.added.length + peers.removed.length + peers.changed.length === 0 &&
    policies.added.length + policies.removed.length + policies.changed.length === 0 &&
    sameValue(before.prefixLists, after.prefixLists);
  return { peers, policies, sections, restartRequired, empty };
}
