// What the kernel sync reports per prefix: the status of an entry for `show routes` and
// `show kernel` (drift is found in sync.ts, against the held-shape ids).
// Must not run commands or schedule work (sync.ts does).

import { shapeOf, type PathPlan } from './plan.js';
import type { KernelRoute } from './routes.js';
import type { RouteStatus } from './types.js';

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
