// Public types of the kernel route sync: its input (desired routes, own blocks, pools), its
// injected edges (command runner, clock) and its output (per-route status, events).
// Must not mention BGP: the kernel layer sees prefixes and next hops only.

/** Calico's per-pool IPIP mode (IPPool.spec.ipipMode). */
export type IpipMode = 'Always' | 'CrossSubnet' | 'Never';

/** One route the RIB wants in the kernel. */
export interface DesiredRoute {
  /** `10.244.5.192/26` or `fd00:10::/64`; host bits must be zero. */
  prefix: string;
  /**
   * Next-hop addresses. `ADDR%IFACE` pins the interface (needed for IPv6 link-local next hops).
   * More than one next hop gives one multipath (ECMP) route with equal weights.
   */
  nexthops: string[];
}

/** A pod address pool and how remote blocks inside it are reached. */
export interface PoolConfig {
  cidr: string;
  ipipMode: IpipMode;
}

/** How a route is, or would be, installed. */
export type RouteShape = 'direct' | 'ipip' | 'blackhole' | 'ecmp';

export interface NexthopStatus {
  via: string;
  dev: string;
  shape: 'direct' | 'ipip';
}

/** What `show routes` / `show kernel` print for one prefix. */
export interface RouteStatus {
  prefix: string;
  /** True when the kernel holds our route for this prefix in the wanted shape. */
  installed: boolean;
  /** The shape we want (or have, for adopted routes nobody asked for yet); null if unplannable. */
  shape: RouteShape | null;
  /** Interfaces used, in next-hop order (`['tunl0']`, `['eth0']`, `[]` for a blackhole). */
  interfaces: string[];
  nexthops: NexthopStatus[];
  /** Next hops left out of the route and why (unreachable, ipip missing). */
  skipped: { via: string; reason: string }[];
  /** Why the route is not installed, when it is not. */
  reason: string | null;
  /** The last error the kernel returned for this prefix, kept until a later success. */
  lastError: string | null;
  lastErrorAt: number | null;
  /** `own` for an own block, `remote` for a RIB route, `adopted` for a tagged route found at start. */
  origin: 'own' | 'remote' | 'adopted';
}

export interface TunnelStatus {
  /** Whether any pool needs tunl0. */
  wanted: boolean;
  /** Whether the kernel can do IPIP (the `ipip` module or built-in). */
  available: boolean | null;
  name: string;
  up: boolean;
  mtu: number | null;
  address: string | null;
  pmtudisc: boolean | null;
  error: string | null;
}

export interface KernelStatus {
  table: string;
  protocol: string;
  converged: boolean;
  routes: RouteStatus[];
  counts: { installed: number; notInstalled: number; byShape: Record<RouteShape, number> };
  tunnel: TunnelStatus;
  lastReconcileAt: number | null;
  reconciles: number;
  reconcileErrors: number;
  driftRepaired: number;
}

/** Result of one `ip` invocation. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface StreamHandle {
  kill(): void;
}

/** A running command fed through stdin (`ip -batch -` while we still plan the rest). */
export interface BatchWriter {
  /** Resolves when the chunk has been handed to the pipe (back-pressure respected). */
  write(chunk: string | Uint8Array): Promise<void>;
  /** Closes stdin and resolves with the exit status and output. */
  end(): Promise<CommandResult>;
}

/**
 * Runs `ip` (the arguments exclude the program name). The real one is `IpCommandRunner`;
 * tests inject an in-memory kernel.
 */
export interface CommandRunner {
  run(args: readonly string[], input?: string): Promise<CommandResult>;
  /** Optional: start a command and feed its stdin in chunks. Without it, batches go in one write. */
  open?(args: readonly string[]): BatchWriter;
  /**
   * Optional: run a command and hand its stdout over in pieces as they arrive (the result's
   * `stdout` is then empty), so a large table read is never one string. Without it, run().
   */
  runChunks?(args: readonly string[], onChunk: (chunk: string) => void): Promise<CommandResult>;
  /** Long-running command (`ip monitor`): one callback per output line, then one on exit. */
  stream(
    args: readonly string[],
    onLine: (line: string) => void,
    onExit: (code: number | null, stderr: string) => void,
  ): StreamHandle;
}

export type TimerHandle = unknown;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The logger surface we use (pino's Logger satisfies it). */
export interface KernelLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): KernelLogger;
}

export interface DriftEntry {
  prefix: string;
  /** The route we had installed (ip syntax), or null if we had none. */
  expected: string | null;
  /** What the kernel holds now with our tag, or null if it was removed. */
  found: string | null;
}

export interface ReconcileReport {
  reason: 'change' | 'converged' | 'periodic' | 'drift' | 'topology' | 'flush';
  added: number;
  replaced: number;
  deleted: number;
  failed: number;
  durationMs: number;
}

export interface RouteErrorEvent {
  prefix: string;
  line: string;
  error: string;
}

export interface KernelSyncEvents {
  reconcile: (report: ReconcileReport) => void;
  drift: (entries: DriftEntry[]) => void;
  'route-error': (event: RouteErrorEvent) => void;
  'ipip-unavailable': (reason: string) => void;
  /** The connected segments or the tunnel's availability changed: see `canReach`. */
  reachability: () => void;
}

export interface KernelSyncOptions {
  runner: CommandRunner;
  logger: KernelLogger;
  clock?: Clock;
  /** Routing table: name (`main`) or number. Default `main`. */
  table?: string | number;
  /** Route protocol tag: name (`bgp`) or number. Default `bgp` (186). */
  protocol?: string | number;
  /** Window in which changes are coalesced into one batch. Default 20 ms. */
  coalesceMs?: number;
  /** Full resync period. Default 60 000 ms; 0 disables. */
  resyncIntervalMs?: number;
  /** Delay between a drift seen in the monitor and the resync it triggers. Default 100 ms. */
  driftDelayMs?: number;
  /** Reconcile anyway if `markConverged()` is not called within this time. Default 120 000 ms. */
  convergeTimeoutMs?: number;
  /** Pools and their IPIP modes. */
  pools?: PoolConfig[];
  /** Mode for prefixes outside every pool. Default `Never` (plain routes). */
  defaultIpipMode?: IpipMode;
  /** Tunnel device name. Default `tunl0`. */
  tunnelDevice?: string;
  /** tunl0 MTU. Default: underlay MTU minus `ipipOverhead`. */
  tunnelMtu?: number;
  /** Underlay MTU. Default: the MTU of the IPv4 default route's interface, else 1500. */
  underlayMtu?: number;
  /** Bytes IPIP adds. Default 20. */
  ipipOverhead?: number;
  /** Address given to tunl0. Default: the first address of the first IPv4 own block. */
  tunnelAddress?: string;
  /** Watch `ip monitor` for drift. Default true. */
  monitor?: boolean;
  /**
   * Batches of at least this many commands run with the monitor paused (its echo of our own
   * changes would double the cost); a full read verifies the table 5 s later. Default 1000.
   */
  monitorPauseOps?: number;
}
