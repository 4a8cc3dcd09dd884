// The messages between the kernel sync's main-thread client (client.ts) and the worker that
// runs KernelSync (host.ts, worker.ts). Plain data only: everything here is structured-cloned.
// Must not know BGP: prefixes, next-hop lists and kernel status only. No RFC.

import type { ReachSnapshot } from './reach.js';
import type {
  DriftEntry,
  IpipMode,
  KernelStatus,
  KernelSyncOptions,
  PoolConfig,
  RouteStatus,
} from './types.js';

/** The KernelSync options that can cross a thread (no runner, logger or clock). */
export type KernelWorkerOptions = Omit<KernelSyncOptions, 'runner' | 'logger' | 'clock'>;

/** What the worker is started with (`workerData`). */
export interface KernelWorkerInit {
  options: KernelWorkerOptions;
  /** pino level name: records below it are not posted at all. */
  logLevel: string;
  /** Run `ip` in this network namespace (`ip -n NS`); tests and the lab. */
  netns?: string;
}

/**
 * A run of `update()` calls, in call order. Entry k: `keys[k]` >= 0 is an IPv4 key
 * (`address * 64 + length`); a negative key -(j + 1) names `side[j]` (IPv6 or other text, or a
 * number that is not a well-formed IPv4 key). `lists[k]` is 0 for a withdrawal (null next
 * hops), else a next-hop list id defined in this batch or an earlier one of the same
 * generation. `reset` drops every list id defined before this batch.
 */
export interface UpdateBatch {
  reset: boolean;
  /** New next-hop lists: [id, addresses], each defined once per generation. */
  defs: [number, string[]][];
  keys: Float64Array;
  lists: Int32Array;
  side: (string | number)[];
}

/** Requests that answer. */
export type KernelRequest =
  | { op: 'start' }
  | { op: 'status'; routes: boolean }
  | { op: 'routeStatuses'; prefixes: (string | number)[] }
  | { op: 'idle' }
  | { op: 'resync' }
  | { op: 'stop'; flush: boolean };

/** What each request answers with. */
export interface KernelReplies {
  start: { adopted: number; reach: ReachSnapshot };
  status: KernelStatus;
  routeStatuses: (RouteStatus | null)[];
  idle: null;
  resync: null;
  stop: null;
}

export type ToWorker =
  | ({ t: 'updates' } & UpdateBatch)
  | { t: 'own'; prefixes: string[] }
  | { t: 'pools'; pools: PoolConfig[]; defaultMode?: IpipMode }
  | { t: 'converged' }
  /** A new pino level name (a config reload): records below it are no longer posted. */
  | { t: 'log-level'; level: string }
  | { t: 'request'; id: number; req: KernelRequest };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type FromWorker =
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; error: string }
  | { t: 'reach'; reach: ReachSnapshot }
  | { t: 'drift'; entries: DriftEntry[] }
  | { t: 'ipip-unavailable'; reason: string }
  | {
      t: 'log';
      level: LogLevel;
      bindings: Record<string, unknown>[];
      obj: object;
      msg: string | undefined;
    };

/** pino's level numbers, for filtering in the worker before a record is posted. */
export const LEVEL_VALUES: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};
