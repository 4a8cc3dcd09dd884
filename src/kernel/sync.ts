// KernelSync: keeps the kernel table equal to the desired routes. Scan (ip -json route), diff,
// apply (one ip -batch per reconcile), watch (ip monitor) and heal drift; adopt on start, keep on
// stop. Touches only routes with our protocol tag. Must not know BGP (input is prefix/next hops).

import { formatAddr, parsePrefix, type Family, type Prefix } from './addr.js';
import { BatchStream, runBatch } from './batch.js';
import { systemClock } from './clock.js';
import { EntryStore, F_DIRTY, F_ERROR, F_OWN, F_READ, F_SEEN, F_V6 } from './entries.js';
import { RouteMonitor } from './monitor.js';
import { NexthopSets } from './nexthop-sets.js';
import { normalizeProtocol, normalizeTable, spellProtocol, spellTable } from './names.js';
import {
  modeFor,
  ownBlockPath,
  parsePools,
  remotePath,
  tunnelWanted,
  type ParsedPool,
  type PathPlan,
  type PlanContext,
} from './plan.js';
import { segmentTexts, unreachableReason, type ReachSnapshot } from './reach.js';
import { RouteRead, RouteScanner, ShapeTextCache } from './read-routes.js';
import {
  renderDelete,
  renderInstall,
  renderRoute,
  routeKey,
  type MonitorRouteEvent,
  type RouteTarget,
} from './routes.js';
import { SHAPE_FOREIGN, SHAPE_NONE, ShapeTable } from './shapes.js';
import { entryStatus, invalidStatus, type RouteError } from './status.js';
import { buildTopology, Topology, type JsonLink, type JsonLinkRoute } from './topology.js';
import { ensureTunnel, type TunnelState } from './tunnel.js';
import type {
  Clock,
  CommandResult,
  CommandRunner,
  DesiredRoute,
  DriftEntry,
  IpipMode,
  KernelLogger,
  KernelStatus,
  KernelSyncEvents,
  KernelSyncOptions,
  PoolConfig,
  ReconcileReport,
  RouteShape,
  RouteStatus,
  TimerHandle,
} from './types.js';
import { canonicalV4Text, isV4PrefixKey, parseV4Key, v4Contains, writeV4Text } from './v4-key.js';

type Reason = ReconcileReport['reason'];

/** Batch operation codes: `shape * 4 + kind`. */
const OP_ADD = 0;
const OP_REPLACE = 1;
const OP_DEL = 2;
const OP_VERBS = ['add', 'replace', 'del'] as const;

/** A plan and the id of the shape it installs (SHAPE_NONE when it installs nothing). */
interface PlanRef {
  plan: PathPlan;
  shape: number;
}

/** A v4 pool as numbers, for the per-prefix mode without parsing the prefix. */
interface V4Pool {
  net: number;
  len: number;
  mode: IpipMode;
}

/** Plans of one planning context, per (mode, family) and next-hop set id. */
interface PlanCache {
  ctx: PlanContext;
  byMode: Map<number, PlanRef>[];
  own: PlanRef[];
}

const MODES: readonly IpipMode[] = ['Always', 'CrossSubnet', 'Never'];
const MAIN_TABLE = normalizeTable('main');
const KERNEL_PROTO = normalizeProtocol('kernel');
const MAX_LOGGED = 20;
/** Drift entries kept for the event and the log (all are counted and repaired). */
const MAX_DRIFT_LISTED = 10_000;
/** After a batch run with the monitor paused, verify the table this much later. */
const VERIFY_AFTER_PAUSE_MS = 5000;

/** A delayed full resync waits at most this many delays for queued changes to drain. */
const MAX_FULL_DEFERRALS = 12;

const ASCII = new TextEncoder();

export class KernelSync {
  private readonly runner: CommandRunner;
  private readonly log: KernelLogger;
  private readonly clock: Clock;
  private readonly target: RouteTarget;
  private readonly tableNorm: string;
  private readonly protoNorm: string;
  private readonly coalesceMs: number;
  private readonly resyncIntervalMs: number;
  private readonly driftDelayMs: number;
  private readonly convergeTimeoutMs: number;
  private readonly tunnelName: string;
  private readonly monitorPauseOps: number;
  private readonly opts: KernelSyncOptions;

  private pools: ParsedPool[];
  private v4Pools: V4Pool[];
  private defaultMode: IpipMode;
  private wantTunnel: boolean;
  private topology = Topology.empty();
  private tunnel: TunnelState | null = null;
  private tunnelAddressSet: string | null = null;
  private tunnelDirty = false;
  private ipipWarned = false;

  private readonly store = new EntryStore();
  private readonly sets = new NexthopSets();
  private readonly shapes = new ShapeTable();
  private readonly shapeText = new ShapeTextCache();
  private readonly errors = new Map<number, RouteError>();
  /** `ip -batch` line parts per (shape, verb): head bytes, tail bytes. */
  private readonly lineParts = new Map<number, [Uint8Array, Uint8Array]>();
  private plans: PlanCache | null = null;
  private readonly invalid = new Map<string, string>();
  private ownOrder: string[] = [];
  private dirtyList: number[] = [];
  private pendingTable: readonly DesiredRoute[] | null = null;
  private monitorPaused = false;
  /** Whether the last acceptRemote() changed its entry. */
  private acceptChanged = false;

  private started = false;
  private stopped = false;
  private isConverged = false;
  private working = false;
  private fullPending: Reason | null = null;
  /** Times a delayed full resync was put off because changes were still queued. */
  private fullDeferrals = 0;
  private monitor: RouteMonitor | null = null;
  private monitorQueue: MonitorRouteEvent[] = [];
  private idleWaiters: Array<() => void> = [];
  private loopDone: Promise<void> = Promise.resolve();

  private coalesceTimer: TimerHandle | null = null;
  private resyncTimer: TimerHandle | null = null;
  private convergeTimer: TimerHandle | null = null;
  private driftTimer: TimerHandle | null = null;
  private monitorRestartTimer: TimerHandle | null = null;

  private adoptedCount = 0;
  private reconciles = 0;
  private reconcileErrors = 0;
  private driftRepaired = 0;
  private lastReconcileAt: number | null = null;
  private readonly listeners: { [K in keyof KernelSyncEvents]: Set<KernelSyncEvents[K]> } = {
    reconcile: new Set(),
    drift: new Set(),
    'route-error': new Set(),
    'ipip-unavailable': new Set(),
    reachability: new Set(),
  };

  constructor(opts: KernelSyncOptions) {
    this.opts = opts;
    this.runner = opts.runner;
    this.log = opts.logger.child({ component: 'kernel' });
    this.clock = opts.clock ?? systemClock;
    this.target = {
      table: spellTable(opts.table ?? 'main'),
      protocol: spellProtocol(opts.protocol ?? 'bgp'),
    };
    this.tableNorm = normalizeTable(this.target.table);
    this.protoNorm = normalizeProtocol(this.target.protocol);
    this.coalesceMs = opts.coalesceMs ?? 20;
    this.resyncIntervalMs = opts.resyncIntervalMs ?? 60_000;
    this.driftDelayMs = opts.driftDelayMs ?? 100;
    this.convergeTimeoutMs = opts.convergeTimeoutMs ?? 120_000;
    this.tunnelName = opts.tunnelDevice ?? 'tunl0';
    this.monitorPauseOps = opts.monitorPauseOps ?? 1000;
    this.pools = parsePools(opts.pools ?? []);
    this.v4Pools = v4PoolsOf(this.pools);
    this.defaultMode = opts.defaultIpipMode ?? 'Never';
    this.wantTunnel = tunnelWanted(this.pools, this.defaultMode);
  }

  // ---- events ------------------------------------------------------------------------------

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof KernelSyncEvents>(event: K, listener: KernelSyncEvents[K]): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  private emit<K extends keyof KernelSyncEvents>(
    event: K,
    ...args: Parameters<KernelSyncEvents[K]>
  ): void {
    for (const fn of this.listeners[event]) {
      try {
        (fn as (...a: Parameters<KernelSyncEvents[K]>) => void)(...args);
      } catch (err) {
        this.log.error({ err, event }, 'kernel sync listener threw');
      }
    }
  }

  // ---- input -------------------------------------------------------------------------------

  /**
   * Replaces the whole desired remote table. Prefixes not listed are removed (after
   * convergence). The array is read at the next reconcile (not copied): do not mutate it.
   */
  setRoutes(routes: readonly DesiredRoute[]): void {
    this.invalid.clear();
    this.pendingTable = routes;
    this.schedule();
  }

  /** Applies a table given to setRoutes() that no reconcile has read yet. */
  private absorbPendingTable(): void {
    const table = this.pendingTable;
    if (table === null) return;
    this.pendingTable = null;
    this.clearFlag(F_SEEN);
    for (const r of table) {
      const i = this.acceptRemote(r.prefix, r.nexthops, true);
      if (i >= 0) this.store.flags[i] |= F_SEEN;
    }
    this.dropUnseen();
  }

  private clearFlag(bit: number): void {
    const flags = this.store.flags;
    const top = this.store.top;
    for (let i = 0; i < top; i++) flags[i] &= ~bit;
  }

  /** After a whole table: prefixes it did not list are no longer wanted. */
  private dropUnseen(): void {
    const s = this.store;
    for (let i = 0; i < s.top; i++) {
      if (s.isLive(i) && s.nh[i] !== 0 && (s.flags[i] & F_SEEN) === 0) {
        this.setNexthops(i, 0);
        this.markDirty(i);
      }
    }
  }

  /**
   * Sets one prefix's next hops, or removes it with null. `prefix` is text (`10.244.5.192/26`,
   * `fd00:10::/64`) or an IPv4 key `address * 64 + length` (see v4PrefixKey). `nexthops` is
   * kept by reference (pass one shared array per next-hop set) and never mutated.
   */
  update(prefix: string | number, nexthops: readonly string[] | null): void {
    // A later single change must land on top of an earlier whole table.
    if (this.pendingTable !== null) this.absorbPendingTable();
    if (nexthops === null) {
      let i: number;
      if (typeof prefix === 'number') i = this.store.findV4(prefix);
      else {
        if (this.invalid.size > 0) this.invalid.delete(prefix);
        i = this.find(prefix);
      }
      if (i >= 0 && this.store.nh[i] !== 0) {
        this.setNexthops(i, 0);
        this.markDirty(i);
      }
    } else this.acceptRemote(prefix, nexthops, true);
    this.schedule();
  }

  /** The node's own blocks: installed as `blackhole P proto bgp`; the first IPv4 one addresses tunl0. */
  setOwnBlocks(prefixes: readonly string[]): void {
    const oldFirst = this.firstOwnV4();
    const next = new Set<number>();
    const order: string[] = [];
    for (const text of prefixes) {
      const p = parsePrefix(text, text.includes(':') ? 6 : 4);
      if (!p.ok) {
        this.log.warn({ prefix: text, error: p.error }, 'ignoring invalid own block');
        continue;
      }
      const i = this.entryOf(p.prefix);
      if (!next.has(i)) order.push(this.store.text(i));
      next.add(i);
    }
    const s = this.store;
    for (let i = 0; i < s.top; i++) {
      if (!s.isLive(i)) continue;
      const want = next.has(i);
      if (((s.flags[i] & F_OWN) !== 0) !== want) {
        s.flags[i] ^= F_OWN;
        this.markDirty(i);
      }
    }
    this.ownOrder = order;
    if (this.wantTunnel && this.firstOwnV4() !== oldFirst) this.tunnelDirty = true;
    this.schedule();
  }

  /** Replaces the pools (and optionally the mode for prefixes outside them); reshapes every route. */
  setPools(pools: readonly PoolConfig[], defaultMode?: IpipMode): void {
    this.pools = parsePools([...pools]);
    this.v4Pools = v4PoolsOf(this.pools);
    if (defaultMode !== undefined) this.defaultMode = defaultMode;
    this.wantTunnel = tunnelWanted(this.pools, this.defaultMode);
    if (this.wantTunnel && (this.tunnel === null || !this.tunnel.available))
      this.tunnelDirty = true;
    this.plans = null;
    this.markAllDirty();
    this.schedule();
  }

  /** The RIB converged (End-of-RIB from every peer): replacements and deletions may now run. */
  markConverged(): void {
    if (this.isConverged) return;
    this.isConverged = true;
    this.clearTimer('convergeTimer');
    this.log.info({}, 'RIB converged: reconciling the kernel table');
    this.requestFull('converged', 0);
  }

  get converged(): boolean {
    return this.isConverged;
  }

  /** Tagged routes found in the kernel by start() (0 before it). */
  get adoptedAtStart(): number {
    return this.adoptedCount;
  }

  /**
   * Whether traffic to a next hop can be forwarded: it lies on a connected segment, or it is
   * IPv4 and some pool sends off-segment traffic through an IPIP tunnel the kernel can make.
   * (Per-pool modes are applied per prefix when routes are planned; this is the RIB's coarse
   * eligibility test.)
   */
  canReach(nexthop: string): boolean {
    return this.unreachableReason(nexthop) === null;
  }

  /** Why `canReach` says no, in words for `show routes`; null when the next hop is reachable. */
  unreachableReason(nexthop: string): string | null {
    return unreachableReason(nexthop, {
      onSegment: (addr) => this.topology.lookup(addr) !== null,
      tunnelWanted: this.wantTunnel,
      tunnelAvailable: this.tunnel?.available === true,
    });
  }

  /**
   * The facts `unreachableReason` reads besides the pools, as plain data (for a client on
   * another thread); it changes when the 'reachability' event fires.
   */
  reachability(): ReachSnapshot {
    return {
      connected: segmentTexts(this.topology.connected),
      tunnelAvailable: this.tunnel?.available === true,
    };
  }

  /** The entry of a parsed prefix, created when new. */
  private entryOf(p: Prefix): number {
    if (p.family === 4) {
      return this.store.findOrAddV4(Number(p.value) * 64 + p.len);
    }
    // The same canonical text iproute2 prints, so desired and actual keys meet.
    const a = formatAddr({ family: 6, value: p.value });
    const text = p.len === 128 ? a : `${a}/${p.len}`;
    const i = this.store.findV6(text);
    return i >= 0 ? i : this.store.addV6(text);
  }

  /** The entry for a prefix in any spelling, without creating one; -1 when there is none. */
  private find(prefix: string): number {
    const key = parseV4Key(prefix);
    if (key >= 0) return this.store.findV4(key);
    const direct = this.store.findV6(prefix);
    if (direct >= 0) return direct;
    const p = parsePrefix(prefix, prefix.includes(':') ? 6 : 4);
    if (!p.ok) return -1;
    if (p.prefix.family === 4) return this.store.findV4(Number(p.prefix.value) * 64 + p.prefix.len);
    const a = formatAddr({ family: 6, value: p.prefix.value });
    return this.store.findV6(p.prefix.len === 128 ? a : `${a}/${p.prefix.len}`);
  }

  /** Points an entry at a next-hop set (0: none), keeping the sets' reference counts. */
  private setNexthops(i: number, id: number): void {
    const old = this.store.nh[i];
    if (old === id) return;
    this.sets.ref(id);
    this.store.nh[i] = id;
    if (this.sets.unref(old) && this.plans !== null) {
      // The id may be reused for another list: forget plans made for this one.
      for (const m of this.plans.byMode) m.delete(old);
    }
  }

  /** Forgets an entry nobody wants and the kernel does not hold. */
  private prune(i: number): void {
    const s = this.store;
    if (
      (s.flags[i] & (F_OWN | F_DIRTY)) === 0 &&
      s.nh[i] === 0 &&
      s.act[i] === SHAPE_NONE &&
      s.isLive(i)
    ) {
      if ((s.flags[i] & F_ERROR) !== 0) this.errors.delete(i);
      s.remove(i);
    }
  }

  /**
   * Records a prefix's next hops; `mark` puts a changed entry on the dirty list. Returns the
   * entry, or -1 for an invalid prefix (recorded for status).
   */
  private acceptRemote(
    prefix: string | number,
    nexthops: readonly string[],
    mark: boolean,
  ): number {
    let i: number;
    if (typeof prefix === 'number') {
      if (!isV4PrefixKey(prefix)) {
        this.invalid.set(String(prefix), 'invalid prefix: not an IPv4 prefix key');
        return -1;
      }
      i = this.store.findOrAddV4(prefix);
    } else {
      // IPv4 input (the usual case) finds its entry without allocating.
      const key = parseV4Key(prefix);
      if (key >= 0) i = this.store.findOrAddV4(key);
      else {
        i = this.store.findV6(prefix);
        if (i < 0) {
          const p = parsePrefix(prefix, prefix.includes(':') ? 6 : 4);
          if (!p.ok) {
            this.invalid.set(prefix, `invalid prefix: ${p.error}`);
            return -1;
          }
          i = this.entryOf(p.prefix);
        }
      }
    }
    const id = this.sets.intern(nexthops);
    this.acceptChanged = false;
    if (this.store.nh[i] === id) return i;
    this.acceptChanged = true;
    this.setNexthops(i, id);
    this.clearError(i);
    if (mark) this.markDirty(i);
    return i;
  }

  private clearError(i: number): void {
    if ((this.store.flags[i] & F_ERROR) === 0) return;
    this.store.flags[i] &= ~F_ERROR;
    this.errors.delete(i);
  }

  private setError(i: number, err: RouteError): void {
    this.store.flags[i] |= F_ERROR;
    this.errors.set(i, err);
  }

  private errorOf(i: number): RouteError | null {
    if ((this.store.flags[i] & F_ERROR) === 0) return null;
    return this.errors.get(i) ?? null;
  }

  private firstOwnV4(): string | null {
    for (const k of this.ownOrder) {
      const i = this.find(k);
      const p = parsePrefix(k, 4);
      if (i >= 0 && (this.store.flags[i] & F_OWN) !== 0 && p.ok && p.prefix.family === 4) {
        return formatAddr({ family: 4, value: p.prefix.value });
      }
    }
    return null;
  }

  private markDirty(i: number): void {
    const f = this.store.flags;
    if ((f[i] & F_DIRTY) !== 0) return;
    f[i] |= F_DIRTY;
    this.dirtyList.push(i);
  }

  private markAllDirty(): void {
    const s = this.store;
    for (let i = 0; i < s.top; i++) if (s.isLive(i)) this.markDirty(i);
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /**
   * Adopts the tagged routes already in the kernel (no flush), sets up tunl0 when a pool needs
   * it, starts the monitor and the convergence timeout. New prefixes are added right away;
   * replacements and deletions wait for markConverged() or the timeout.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('KernelSync already started');
    this.started = true;
    this.working = true;
    try {
      if (this.opts.monitor !== false) this.startMonitor();
      await this.refreshTopology();
      if (this.wantTunnel) {
        this.tunnelDirty = false;
        await this.setupTunnel();
      }
      const fresh = await this.readActual();
      if (fresh === null) throw new Error(`cannot read kernel table ${this.target.table}`);
      this.adopt(fresh, null);
      this.adoptedCount = fresh.size;
      this.log.info(
        { adopted: fresh.size, table: this.target.table, protocol: this.target.protocol },
        'adopted existing kernel routes (not flushed)',
      );
    } finally {
      this.working = false;
    }
    if (!this.isConverged && this.convergeTimeoutMs > 0) {
      this.convergeTimer = this.clock.setTimeout(() => {
        this.convergeTimer = null;
        this.log.warn(
          { timeoutMs: this.convergeTimeoutMs },
          'RIB did not report convergence in time',
        );
        this.markConverged();
      }, this.convergeTimeoutMs);
    }
    this.markAllDirty();
    this.drainMonitorQueue();
    this.pump();
  }

  /**
   * Stops timers and the monitor. Routes stay in the kernel (forwarding continues while the
   * daemon is away) unless `flush` is set, which deletes every route with our tag.
   */
  async stop(opts: { flush?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of [
      'coalesceTimer',
      'resyncTimer',
      'convergeTimer',
      'driftTimer',
      'monitorRestartTimer',
    ] as const) {
      this.clearTimer(t);
    }
    this.monitor?.stop();
    this.monitor = null;
    await this.loopDone;
    if (opts.flush === true && this.started) {
      const fresh = await this.readActual();
      const prefixes: string[] = [];
      if (fresh !== null) {
        for (let k = 0; k < fresh.v4Count; k++) prefixes.push(canonicalV4Text(fresh.v4Keys[k]));
        prefixes.push(...fresh.v6Texts);
      } else {
        const s = this.store;
        for (let i = 0; i < s.top; i++) {
          if (s.isLive(i) && s.act[i] !== SHAPE_NONE) prefixes.push(s.text(i));
        }
      }
      const lines = prefixes.map((p) => renderDelete(p, this.target));
      const out = await runBatch(this.runner, lines);
      this.log.info(
        { deleted: lines.length - out.failures.size, failed: out.failures.size, fatal: out.fatal },
        'flushed our kernel routes on exit',
      );
    } else {
      this.log.info({ kept: this.heldCount() }, 'leaving kernel routes in place');
    }
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Prefixes we believe the kernel holds with our tag. */
  private heldCount(): number {
    const s = this.store;
    let n = 0;
    for (let i = 0; i < s.top; i++) if (s.isLive(i) && s.act[i] !== SHAPE_NONE) n++;
    return n;
  }

  /** Resolves once every change given so far has been applied (or deferred until convergence). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Runs a full read-diff-apply now (the periodic resync, on demand). */
  async resync(): Promise<void> {
    this.requestFull('periodic', 0);
    await this.idle();
  }

  private isIdle(): boolean {
    return (
      this.stopped ||
      (!this.working &&
        this.dirtyList.length === 0 &&
        this.pendingTable === null &&
        this.fullPending === null &&
        !this.tunnelDirty)
    );
  }

  private clearTimer(
    name: 'coalesceTimer' | 'resyncTimer' | 'convergeTimer' | 'driftTimer' | 'monitorRestartTimer',
  ): void {
    const t = this[name];
    if (t !== null) this.clock.clearTimeout(t);
    this[name] = null;
  }

  // ---- scheduling --------------------------------------------------------------------------

  /** Coalesces changes: the first change arms a timer; everything until it fires is one batch. */
  private schedule(): void {
    if (!this.started || this.stopped || this.coalesceTimer !== null) return;
    if (this.dirtyList.length === 0 && this.pendingTable === null && !this.tunnelDirty) return;
    this.coalesceTimer = this.clock.setTimeout(() => {
      this.coalesceTimer = null;
      this.pump();
    }, this.coalesceMs);
  }

  private requestFull(reason: Reason, delayMs: number): void {
    if (!this.started || this.stopped) {
      return;
    }
    if (delayMs <= 0) {
      this.clearTimer('driftTimer');
      this.fullPending = strongerReason(this.fullPending, reason);
      this.pump();
      return;
    }
    if (this.driftTimer !== null) return;
    this.driftTimer = this.clock.setTimeout(() => {
      this.driftTimer = null;
      // While a large table is still streaming in, a full re-read now would be redone by the
      // next one: wait until the queued changes are applied (a bounded number of times).
      const busy = this.dirtyList.length > 0 || this.pendingTable !== null;
      if (busy && this.fullDeferrals < MAX_FULL_DEFERRALS) {
        this.fullDeferrals++;
        this.requestFull(reason, delayMs);
        return;
      }
      this.fullDeferrals = 0;
      this.fullPending = strongerReason(this.fullPending, reason);
      this.pump();
    }, delayMs);
  }

  /**
   * After big batches ran with the monitor paused: once no change is queued, watch again and
   * verify the table once, a little later. While a large install keeps streaming in, the
   * monitor stays paused across passes (no restart and no re-read per pass).
   */
  private resumeMonitor(): void {
    if (!this.monitorPaused || this.stopped) return;
    if (this.dirtyList.length > 0 || this.pendingTable !== null || this.fullPending !== null) {
      return;
    }
    this.monitorPaused = false;
    this.startMonitor();
    this.requestFull('drift', VERIFY_AFTER_PAUSE_MS);
  }

  private armPeriodic(): void {
    this.clearTimer('resyncTimer');
    if (this.stopped || this.resyncIntervalMs <= 0 || !this.isConverged) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      this.resyncTimer = null;
      this.requestFull('periodic', 0);
    }, this.resyncIntervalMs);
  }

  private pump(): void {
    if (this.working || this.stopped || !this.started) return;
    this.working = true;
    this.loopDone = this.loop().finally(() => {
      this.working = false;
      this.compactIfSparse();
      this.resumeMonitor();
      this.drainMonitorQueue();
      if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
      else if (
        this.fullPending !== null ||
        this.dirtyList.length > 0 ||
        this.pendingTable !== null ||
        this.tunnelDirty
      )
        this.pump();
    });
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopped) {
        if (this.tunnelDirty) {
          this.tunnelDirty = false;
          await this.setupTunnel();
          continue;
        }
        if (this.fullPending !== null) {
          const reason = this.fullPending;
          this.fullPending = null;
          await this.fullResync(reason);
          continue;
        }
        if (this.dirtyList.length > 0 || this.pendingTable !== null) {
          await this.incremental();
          continue;
        }
        break;
      }
    } catch (err) {
      this.reconcileErrors++;
      this.log.error({ err }, 'kernel reconcile failed');
    }
  }

  // ---- reconcile ---------------------------------------------------------------------------

  private planContext(): PlanContext {
    return {
      topology: this.topology,
      pools: this.pools,
      defaultMode: this.defaultMode,
      tunnel: {
        name: this.tunnelName,
        available: this.tunnel?.available ?? (this.wantTunnel ? null : false),
        unavailableReason:
          this.tunnel?.unavailableReason ??
          (this.wantTunnel ? null : 'no pool uses IPIP, tunnel not set up'),
        mtu: this.tunnel?.mtu ?? null,
      },
      memo: new Map(),
    };
  }

  /** The plans of the current topology, tunnel and pools (rebuilt when one of them changes). */
  private planCache(): PlanCache {
    if (this.plans === null) {
      const own = (family: Family): PlanRef => {
        const plan = ownBlockPath(family);
        return { plan, shape: this.shapeOfPlan(plan) };
      };
      this.plans = {
        ctx: this.planContext(),
        byMode: MODES.flatMap(() => [new Map<number, PlanRef>(), new Map<number, PlanRef>()]),
        own: [own(4), own(6)],
      };
    }
    return this.plans;
  }

  private shapeOfPlan(plan: PathPlan): number {
    if (plan.route === null || plan.key === null) return SHAPE_NONE;
    return this.shapes.internKeyed(plan.key, plan.route);
  }

  /** The pool mode of an entry's prefix; null when its text cannot be parsed (never for v4). */
  private modeOf(i: number, pools: ParsedPool[]): IpipMode | null {
    const s = this.store;
    if ((s.flags[i] & F_V6) === 0) {
      const key = s.keyNum[i];
      const addr = Math.floor(key / 64);
      const len = key - addr * 64;
      for (const p of this.v4Pools)
        if (p.len <= len && v4Contains(p.net, p.len, addr)) return p.mode;
      return this.defaultMode;
    }
    if (pools.length === 0) return this.defaultMode;
    const p = parsePrefix(s.text(i), 6);
    return p.ok ? modeFor(p.prefix, { pools, defaultMode: this.defaultMode }) : null;
  }

  /** What an entry should look like in the kernel, or null when nothing is wanted. */
  private planOf(i: number): PlanRef | null {
    const s = this.store;
    const cache = this.planCache();
    const v6 = (s.flags[i] & F_V6) !== 0;
    if ((s.flags[i] & F_OWN) !== 0) return cache.own[v6 ? 1 : 0];
    const id = s.nh[i];
    if (id === 0) return null;
    // Without pools every prefix has the default mode: no need to look at the prefix.
    const mode = this.pools.length === 0 ? this.defaultMode : this.modeOf(i, this.pools);
    if (mode === null) return null;
    const byNh = cache.byMode[MODES.indexOf(mode) * 2 + (v6 ? 1 : 0)];
    let ref = byNh.get(id);
    if (ref === undefined) {
      const list = this.sets.list(id) ?? [];
      const plan = remotePath(v6 ? 6 : 4, mode, list, cache.ctx);
      ref = { plan, shape: this.shapeOfPlan(plan) };
      byNh.set(id, ref);
    }
    return ref;
  }

  /** The operation an entry needs (`shape * 4 + kind`), or -1 for none. */
  private diffOne(i: number, full: boolean): number {
    const s = this.store;
    const ref = this.planOf(i);
    const cur = s.act[i];
    if (ref !== null && ref.shape !== SHAPE_NONE) {
      if (cur === ref.shape) {
        this.clearError(i);
        return -1;
      }
      if (!full && (s.flags[i] & F_ERROR) !== 0 && this.errorOf(i)?.key === ref.plan.key) return -1;
      if (cur === SHAPE_NONE) return ref.shape * 4 + OP_ADD;
      // Before convergence only new prefixes are added: an adopted route is kept as it is.
      if (!this.isConverged) return -1;
      return ref.shape * 4 + OP_REPLACE;
    }
    if (cur === SHAPE_NONE) {
      this.prune(i);
      return -1;
    }
    if (!this.isConverged) return -1;
    if (!full && (s.flags[i] & F_ERROR) !== 0 && this.errorOf(i)?.key === 'del') return -1;
    return OP_DEL;
  }

  private takeDirty(): number[] {
    const list = this.dirtyList;
    this.dirtyList = [];
    const f = this.store.flags;
    for (const i of list) f[i] &= ~F_DIRTY;
    return list;
  }

  /** Head and tail bytes of the `ip -batch` line for an operation (shared per shape and verb). */
  private partsOf(op: number): [Uint8Array, Uint8Array] {
    let parts = this.lineParts.get(op);
    if (parts === undefined) {
      // Rendered once with a marker where the prefix goes, then split around it.
      const marker = '\u0001';
      const kind = op % 4;
      const route = this.shapes.route((op - kind) / 4);
      const line =
        kind === OP_DEL || route === null
          ? renderDelete(marker, this.target)
          : renderInstall(OP_VERBS[kind] as 'add' | 'replace', route, this.target, marker);
      const at = line.indexOf(marker);
      parts = [ASCII.encode(line.slice(0, at)), ASCII.encode(line.slice(at + marker.length))];
      this.lineParts.set(op, parts);
    }
    return parts;
  }

  private push(batch: BatchStream, i: number, op: number): void {
    const [head, tail] = this.partsOf(op);
    const s = this.store;
    if ((s.flags[i] & F_V6) === 0) batch.push(i, op, head, s.keyNum[i], writeV4Text, tail);
    else batch.push(i, op, head, s.text(i), writeV4Text, tail);
  }

  /** The `ip -batch` line of an operation, as text (for logs and error events). */
  private lineOf(i: number, op: number): string {
    const kind = op % 4;
    const prefix = this.store.text(i);
    const route = this.shapes.route((op - kind) / 4);
    if (kind === OP_DEL || route === null) return renderDelete(prefix, this.target);
    return renderInstall(OP_VERBS[kind] as 'add' | 'replace', route, this.target, prefix);
  }

  private newBatch(): BatchStream {
    return new BatchStream(this.runner, (expected) => {
      // The monitor's echo of a big batch of our own changes costs about as much as the
      // changes (a netlink message per route, formatted by ip, parsed here): pause it for the
      // batch and verify the table afterwards instead.
      if (this.monitor !== null && expected >= this.monitorPauseOps) {
        this.monitor.stop();
        this.monitor = null;
        this.monitorPaused = true;
      }
    });
  }

  private async incremental(): Promise<void> {
    const started = this.clock.now();
    const batch = this.newBatch();
    const table = this.pendingTable;
    this.pendingTable = null;
    if (table !== null) {
      // A whole new table: plan and send it in chunks, so ip works while we plan the rest.
      this.clearFlag(F_SEEN);
      for (let k = 0; k < table.length; k++) {
        const r = table[k];
        const i = this.acceptRemote(r.prefix, r.nexthops, false);
        if (i < 0) continue;
        this.store.flags[i] |= F_SEEN;
        // Unchanged prefixes need no work; dirty ones are handled with the dirty list below.
        if (!this.acceptChanged || (this.store.flags[i] & F_DIRTY) !== 0) continue;
        const op = this.diffOne(i, false);
        if (op >= 0) this.push(batch, i, op);
        if (batch.ready) await batch.flush();
      }
      this.dropUnseen();
    }
    const dirty = this.takeDirty();
    for (const i of dirty) {
      // A dirty entry is live: prune() keeps entries on the dirty list.
      const op = this.diffOne(i, false);
      if (op >= 0) this.push(batch, i, op);
      if (batch.ready) await batch.flush();
    }
    await this.apply(batch, 'change', started);
  }

  /**
   * Takes a fresh read as the truth about the kernel; creates entries for adopted routes. With
   * `drift`, records where the read differs from what we believed the kernel held.
   */
  private adopt(fresh: RouteRead, drift: DriftEntry[] | null): number {
    const s = this.store;
    let changed = 0;
    const note = (i: number, before: number, after: number): void => {
      changed++;
      if (drift !== null && drift.length < MAX_DRIFT_LISTED) {
        const prefix = s.text(i);
        drift.push({
          prefix,
          expected: this.showShape(before, prefix),
          found: this.showShape(after, prefix),
        });
      }
    };
    this.clearFlag(F_READ);
    for (let k = 0; k < fresh.v4Count; k++) {
      const i = s.findOrAddV4(fresh.v4Keys[k]);
      const shape = fresh.v4Shapes[k];
      if (s.act[i] !== shape) {
        note(i, s.act[i], shape);
        s.act[i] = shape;
      }
      s.flags[i] |= F_READ;
    }
    for (let k = 0; k < fresh.v6Texts.length; k++) {
      const text = fresh.v6Texts[k];
      let i = s.findV6(text);
      if (i < 0) i = s.addV6(text);
      const shape = fresh.v6Shapes[k];
      if (s.act[i] !== shape) {
        note(i, s.act[i], shape);
        s.act[i] = shape;
      }
      s.flags[i] |= F_READ;
    }
    for (let i = 0; i < s.top; i++) {
      if (s.isLive(i) && (s.flags[i] & F_READ) === 0 && s.act[i] !== SHAPE_NONE) {
        note(i, s.act[i], SHAPE_NONE);
        s.act[i] = SHAPE_NONE;
      }
    }
    return changed;
  }

  private showShape(shape: number, prefix: string): string | null {
    if (shape === SHAPE_NONE) return null;
    const route = this.shapes.route(shape);
    if (shape === SHAPE_FOREIGN || route === null) {
      return '(a tagged route of a shape we never install)';
    }
    return renderRoute(route, this.target, prefix);
  }

  private async fullResync(reason: Reason): Promise<void> {
    const started = this.clock.now();
    if (this.wantTunnel) await this.setupTunnel();
    await this.refreshTopology();
    // Tunnel state or segments may have moved: plan again from scratch.
    this.plans = null;
    const fresh = await this.readActual();
    if (fresh === null) {
      this.reconcileErrors++;
      this.armPeriodic();
      return;
    }
    // This read covers any delayed verification or drift check asked for before it.
    this.clearTimer('driftTimer');
    this.fullDeferrals = 0;
    const drift: DriftEntry[] = [];
    const changed = this.adopt(fresh, drift);
    if (changed > 0) {
      this.driftRepaired += changed;
      this.log.warn(
        { count: changed, drift: drift.slice(0, MAX_LOGGED), trigger: reason },
        'kernel routes with our tag changed behind our back; repairing',
      );
      this.emit('drift', drift);
    } else if (reason === 'drift') {
      this.log.debug({}, 'monitor event explained by our own changes; no drift');
    }
    this.absorbPendingTable();
    this.takeDirty();
    const batch = this.newBatch();
    const s = this.store;
    for (let i = 0; i < s.top; i++) {
      if (!s.isLive(i)) continue;
      const op = this.diffOne(i, true);
      if (op >= 0) this.push(batch, i, op);
      if (batch.ready) await batch.flush();
    }
    await this.apply(batch, reason, started);
    this.armPeriodic();
  }

  private async apply(batch: BatchStream, reason: Reason, started: number): Promise<void> {
    const count = batch.length;
    const report: ReconcileReport = {
      reason,
      added: 0,
      replaced: 0,
      deleted: 0,
      failed: 0,
      durationMs: 0,
    };
    if (count > 0) {
      const out = await batch.finish();
      const now = this.clock.now();
      const logged: { prefix: string; error: string; line: string }[] = [];
      const s = this.store;
      const entries = batch.entries;
      const ops = batch.ops;
      const anyFailed = out.fatal !== null || out.failures.size > 0;
      for (let k = 0; k < count; k++) {
        const i = entries[k];
        const op = ops[k];
        const kind = op % 4;
        let error = anyFailed ? (out.fatal ?? out.failures.get(k) ?? null) : null;
        if (error !== null && kind === OP_DEL && /No such process/.test(error)) error = null;
        if (error === null) {
          this.clearError(i);
          if (kind === OP_DEL) {
            s.act[i] = SHAPE_NONE;
            report.deleted++;
            this.prune(i);
          } else {
            s.act[i] = (op - kind) / 4;
            if (kind === OP_ADD) report.added++;
            else report.replaced++;
          }
          continue;
        }
        const prefix = s.text(i);
        if (/File exists/.test(error)) {
          error += ` (a route for ${prefix} without protocol ${this.target.protocol} is in the way; not touched)`;
        }
        report.failed++;
        this.setError(i, {
          error,
          at: now,
          key: kind === OP_DEL ? 'del' : (this.shapes.key((op - kind) / 4) ?? 'del'),
        });
        const line = this.lineOf(i, op);
        if (logged.length < MAX_LOGGED) logged.push({ prefix, error, line });
        this.emit('route-error', { prefix, line, error });
      }
      if (report.failed > 0) {
        this.log.warn(
          { failed: report.failed, errors: logged },
          'kernel rejected some route changes',
        );
      }
      if (out.fatal !== null) {
        this.reconcileErrors++;
        this.log.error({ error: out.fatal }, 'ip -batch failed as a whole; will re-read the table');
        this.requestFull('drift', Math.max(this.driftDelayMs, 1000));
      }
    }
    report.durationMs = this.clock.now() - started;
    this.reconciles++;
    this.lastReconcileAt = this.clock.now();
    if (count > 0) {
      this.log.info({ ...report }, 'kernel reconcile applied');
    } else {
      this.log.debug({ ...report }, 'kernel reconcile: no change');
    }
    this.emit('reconcile', report);
  }

  /** Gives memory back after a large withdrawal (only between passes: no batch in flight). */
  private compactIfSparse(): void {
    if (!this.store.sparse) return;
    const map = this.store.compact();
    this.dirtyList = this.dirtyList.map((i) => map[i]).filter((i) => i >= 0);
    const errors = [...this.errors];
    this.errors.clear();
    for (const [i, err] of errors) if (map[i] >= 0) this.errors.set(map[i], err);
  }

  // ---- kernel reads ------------------------------------------------------------------------

  private async readActual(): Promise<RouteRead | null> {
    const out = new RouteRead();
    for (const family of [4, 6] as const) {
      const args = [
        '-json',
        'route',
        'show',
        'table',
        this.target.table,
        'proto',
        this.target.protocol,
      ];
      const argv = family === 6 ? ['-6', ...args] : args;
      // Scanned as it arrives where the runner can stream: a million routes are ~90 MB of text.
      const scanner = new RouteScanner(family, this.shapes, this.shapeText, out);
      let r: CommandResult;
      if (this.runner.runChunks !== undefined) {
        r = await this.runner.runChunks(argv, (chunk) => scanner.push(chunk));
      } else {
        r = await this.runner.run(argv);
        if (r.code === 0) scanner.push(r.stdout);
      }
      // A table nobody has used yet does not exist in the kernel: it is simply empty.
      if (r.code !== 0 && /FIB table does not exist/i.test(r.stderr)) continue;
      if (r.code !== 0) {
        this.log.error({ family, error: r.stderr.trim() }, 'cannot read kernel routes');
        return null;
      }
      const error = scanner.end();
      if (error !== null) {
        this.log.error({ family, error }, 'cannot parse ip -json route output');
        return null;
      }
    }
    return out;
  }

  private async refreshTopology(): Promise<void> {
    const a = await this.runner.run(['-json', 'addr', 'show']);
    const r = await this.runner.run(['-json', 'route', 'show', 'table', 'main', 'scope', 'link']);
    if (a.code !== 0 || r.code !== 0) {
      this.log.error({ error: (a.stderr + r.stderr).trim() }, 'cannot read interfaces');
      return;
    }
    try {
      const links = JSON.parse(a.stdout || '[]') as JsonLink[];
      const linkRoutes = JSON.parse(r.stdout || '[]') as JsonLinkRoute[];
      const next = buildTopology({
        links,
        linkRoutes,
        exclude: new Set(['lo', this.tunnelName]),
        protocol: this.target.protocol,
      });
      const changed = next.signature() !== this.topology.signature();
      if (changed) {
        this.log.info({ connected: next.signature() }, 'connected segments');
        this.markAllDirty();
      }
      this.topology = next;
      if (changed) this.plans = null;
      if (changed) this.emit('reachability');
    } catch (err) {
      this.log.error({ err }, 'cannot parse interface list');
    }
  }

  private async setupTunnel(): Promise<void> {
    if (!this.wantTunnel) return;
    const before = this.tunnel;
    const address = this.opts.tunnelAddress ?? this.firstOwnV4();
    const state = await ensureTunnel(
      this.runner,
      {
        name: this.tunnelName,
        mtu: this.opts.tunnelMtu ?? null,
        underlayMtu: this.opts.underlayMtu ?? null,
        overhead: this.opts.ipipOverhead ?? 20,
        address,
        previousAddress: this.tunnelAddressSet,
      },
      this.log,
      this.topology.mtus,
    );
    if (state.address === address) this.tunnelAddressSet = address;
    const wasAvailable = this.tunnel?.available;
    this.tunnel = state;
    this.plans = null;
    if (state.available !== wasAvailable) this.emit('reachability');
    if (!state.available && !this.ipipWarned) {
      this.ipipWarned = true;
      const reason = state.unavailableReason ?? 'IPIP unavailable';
      this.log.error(
        { device: this.tunnelName, reason },
        'IPIP is unavailable: routes that need tunl0 will not be installed',
      );
      this.emit('ipip-unavailable', reason);
    }
    if (before === null || before.available !== state.available || before.mtu !== state.mtu) {
      this.markAllDirty();
    }
  }

  // ---- drift detection ---------------------------------------------------------------------

  private startMonitor(): void {
    const mon = new RouteMonitor(this.runner, {
      route: (ev) => {
        if (this.working) this.monitorQueue.push(ev);
        else this.checkEvent(ev);
      },
      address: () => this.requestFull('topology', this.driftDelayMs),
      uncertain: (why) => {
        this.log.debug({ why }, 'monitor may have lost events; verifying');
        this.requestFull('drift', this.driftDelayMs);
      },
      exit: (code, stderr) => {
        if (this.stopped) return;
        this.log.warn({ code, stderr: stderr.trim() }, 'ip monitor exited; restarting');
        this.monitor = null;
        this.monitorRestartTimer = this.clock.setTimeout(() => {
          this.monitorRestartTimer = null;
          if (this.stopped) return;
          this.startMonitor();
          this.requestFull('drift', this.driftDelayMs);
        }, 1000);
      },
    });
    this.monitor = mon;
    mon.start();
  }

  private drainMonitorQueue(): void {
    const q = this.monitorQueue;
    this.monitorQueue = [];
    for (const ev of q) this.checkEvent(ev);
  }

  /** Compares one monitor event with what we believe the kernel holds. */
  private checkEvent(ev: MonitorRouteEvent): void {
    if (!this.started || this.stopped) return;
    if (
      ev.table === MAIN_TABLE &&
      !ev.hasGateway &&
      ev.type === 'unicast' &&
      ev.protocol !== this.protoNorm &&
      (ev.scope === 'link' || ev.protocol === KERNEL_PROTO)
    ) {
      // A connected route came or went: the same-L2 answers may change.
      this.requestFull('topology', this.driftDelayMs);
      return;
    }
    if (ev.table !== this.tableNorm || ev.prefix === null) return;
    const i = this.find(ev.prefix);
    const cur = i < 0 ? SHAPE_NONE : this.store.act[i];
    let suspect = false;
    if (ev.protocol === this.protoNorm) {
      if (ev.deleted) suspect = cur !== SHAPE_NONE;
      else
        suspect =
          cur === SHAPE_NONE ||
          cur === SHAPE_FOREIGN ||
          ev.route === null ||
          this.shapes.key(cur) !== routeKey(ev.route);
    } else if (!ev.deleted && cur !== SHAPE_NONE) {
      // A route with another tag may have replaced ours.
      suspect = true;
    }
    if (suspect) this.requestFull('drift', this.driftDelayMs);
  }

  // ---- status ------------------------------------------------------------------------------

  /**
   * Status of one prefix (any spelling, or an IPv4 key), or null if we neither want nor hold it.
   */
  routeStatus(prefix: string | number): RouteStatus | null {
    this.absorbPendingTable();
    const i = typeof prefix === 'number' ? this.store.findV4(prefix) : this.find(prefix);
    if (i >= 0) return this.statusOf(i);
    const text = String(prefix);
    const why = this.invalid.get(text);
    return why === undefined ? null : invalidStatus(text, why);
  }

  /** routeStatus() of each prefix, in order (one call for a whole `show routes`). */
  routeStatuses(prefixes: readonly (string | number)[]): (RouteStatus | null)[] {
    return prefixes.map((p) => this.routeStatus(p));
  }

  /** `withText` false: the prefix is left empty (counting only, no string per route). */
  private statusOf(i: number, withText = true): RouteStatus | null {
    const s = this.store;
    const ref = this.planOf(i);
    const shape = s.act[i];
    return entryStatus(
      {
        prefix: withText ? s.text(i) : '',
        own: (s.flags[i] & F_OWN) !== 0,
        remote: s.nh[i] !== 0,
        actual: shape === SHAPE_NONE ? undefined : this.shapes.route(shape),
        actualKey: this.shapes.key(shape),
        error: this.errorOf(i),
      },
      ref?.plan ?? null,
      this.isConverged,
      this.tunnelName,
    );
  }

  /**
   * What `show kernel` prints. `{ routes: false }` (metrics) leaves the per-route list empty and
   * only counts: no object kept and no prefix text made per route of a full table.
   */
  status(opts: { routes?: boolean } = {}): KernelStatus {
    this.absorbPendingTable();
    const list = opts.routes !== false;
    const routes: RouteStatus[] = [];
    const byShape: Record<RouteShape, number> = { direct: 0, ipip: 0, blackhole: 0, ecmp: 0 };
    let installed = 0;
    let listed = 0;
    const st = this.store;
    for (let i = 0; i < st.top; i++) {
      if (!st.isLive(i)) continue;
      const s = this.statusOf(i, list);
      if (s === null) continue;
      listed++;
      if (list) routes.push(s);
      if (s.installed) {
        installed++;
        if (s.shape !== null) byShape[s.shape]++;
      }
    }
    listed += this.invalid.size;
    if (list) {
      for (const [prefix, why] of this.invalid) routes.push(invalidStatus(prefix, why));
      routes.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
    }
    const t = this.tunnel;
    return {
      table: this.target.table,
      protocol: this.target.protocol,
      converged: this.isConverged,
      routes,
      counts: { installed, notInstalled: listed - installed, byShape },
      tunnel: {
        wanted: this.wantTunnel,
        available: t?.available ?? null,
        name: this.tunnelName,
        up: t?.up ?? false,
        mtu: t?.mtu ?? null,
        address: t?.address ?? null,
        pmtudisc: t?.pmtudisc ?? null,
        error: t?.unavailableReason ?? t?.error ?? null,
      },
      lastReconcileAt: this.lastReconcileAt,
      reconciles: this.reconciles,
      reconcileErrors: this.reconcileErrors,
      driftRepaired: this.driftRepaired,
    };
  }
}

function v4PoolsOf(pools: ParsedPool[]): V4Pool[] {
  const out: V4Pool[] = [];
  for (const p of pools) {
    if (p.prefix.family === 4)
      out.push({ net: Number(p.prefix.value), len: p.prefix.len, mode: p.mode });
  }
  return out;
}

const REASON_RANK: Record<Reason, number> = {
  change: 0,
  flush: 0,
  periodic: 1,
  topology: 2,
  drift: 3,
  converged: 4,
};

function strongerReason(a: Reason | null, b: Reason): Reason {
  return a === null || REASON_RANK[b] > REASON_RANK[a] ? b : a;
}
