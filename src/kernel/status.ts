// Per-prefix bookkeeping of the kernel sync and what it reports: the entry, its status for
// `show routes` / `show kernel`, and drift between what we installed and what the kernel holds.
// Must not run commands or schedule work (sync.ts does).

import { shapeOf, type PathPlan } from './plan.js';
import { renderRoute, routeKey, type KernelRoute, type RouteTarget } from './routes.js';
import type { DriftEntry, RouteStatus } from './types.js';

/**
 * One prefix as status reports see it. The sync keeps its state in columns (entries.ts) and
 * builds this view only when asked (status, routeStatus).
 */
export interface EntryView {
  /** The prefix as iproute2 prints it. */
  prefix: string;
  own: boolean;
  /** Whether the RIB wants this prefix (it has next hops). */
  remote: boolean;
  /** What the kernel holds with our tag: undefined = nothing, null = a shape we never install. */
  actual: KernelRoute | null | undefined;
  actualKey: string | null;
  error: RouteError | null;
}

export interface RouteError {
  error: string;
  at: number;
  /** The route key (or `del`) that failed: not retried until a full resync or a new input. */
  key: string;
}

/** The status of one entry given the plan we hold for it. */
export function entryStatus(
  e: EntryView,
  plan: PathPlan | null,
  converged: boolean,
  tunnelName: string,
): RouteStatus | null {
  const cur = e.actual;
  const origin: RouteStatus['origin'] = e.own ? 'own' : e.remote ? 'remote' : 'adopted';
  if (plan === null && cur === undefined) return null;
  const err = e.error;
  const route = plan?.route ?? (origin === 'adopted' ? (cur ?? null) : null);
  let installed: boolean;
  if (plan !== null && plan.route !== null) {
    installed = cur !== undefined && cur !== null && e.actualKey === plan.key;
  } else installed = origin === 'adopted' && cur !== undefined;
  let reason: string | null = null;
  if (!installed) {
    if (plan !== null && plan.route === null) reason = plan.reason;
    else if (err !== null) reason = err.error;
    else if (!converged && cur !== undefined)
      reason = 'waiting for RIB convergence (the kernel holds an older route)';
    else reason = 'pending';
  }
  return {
    prefix: e.prefix,
    installed,
    shape: plan?.shape ?? (route !== null ? shapeOf(route, tunnelName) : null),
    interfaces: route === null ? [] : route.nexthops.map((n) => n.dev),
    nexthops:
      plan?.status ??
      (route === null
        ? []
        : route.nexthops.map((n) => ({
            via: n.via,
            dev: n.dev,
            shape: n.dev === tunnelName ? ('ipip' as const) : ('direct' as const),
          }))),
    skipped: plan?.skipped ?? [],
    reason,
    lastError: err?.error ?? null,
    lastErrorAt: err?.at ?? null,
    origin,
  };
}
export function invalidStatus(prefix: string, why: string): RouteStatus {
  return {
    prefix,
    installed: false,
    shape: null,
    interfaces: [],
    nexthops: [],
    skipped: [],
    reason: why,
    lastError: null,
    lastErrorAt: null,
    origin: 'remote',
  };
}

/** What changed between what we believed the kernel held and what it holds. */
export function diffActual(
  before: ReadonlyMap<string, KernelRoute | null>,
  after: ReadonlyMap<string, KernelRoute | null>,
  t: RouteTarget,
): DriftEntry[] {
  const out: DriftEntry[] = [];
  const show = (r: KernelRoute | null | undefined, prefix: string): string | null =>
    r === undefined
      ? null
      : r === null
        ? '(a tagged route of a shape we never install)'
        : renderRoute(r, t, prefix);
  for (const [k, b] of before) {
    const a = after.get(k);
    if (a === undefined) out.push({ prefix: k, expected: show(b, k), found: null });
    else if (
      (a === null) !== (b === null) ||
      (a !== null && b !== null && routeKey(a) !== routeKey(b))
    ) {
      out.push({ prefix: k, expected: show(b, k), found: show(a, k) });
    }
  }
  for (const [k, a] of after)
    if (!before.has(k)) out.push({ prefix: k, expected: null, found: show(a, k) });
  return out;
}
