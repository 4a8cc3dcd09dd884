// KernelSync: keeps the kernel table equal to the desired routes. Scan (ip -json route), diff,
// apply (one ip -batch per reconcile), watch (ip monitor) and heal drift; adopt on start, keep on
// stop. Touches only routes with our protocol tag. Must not know BGP (input is prefix/next hops).

import {
  canonicalV4Fast,
  formatAddr,
  parseAddr,
  parsePrefix,
  type Family,
  type Prefix,
} from './addr.js';
import { BatchStream, runBatch } from './batch.js';
import { systemClock } from './clock.js';
import { RouteMonitor } from './monitor.js';
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
import {
  parseJsonRoute,
  renderDelete,
  renderInstall,
  routeKey,
  type JsonRoute,
  type KernelRoute,
  type MonitorRouteEvent,
  type RouteTarget,
} from './routes.js';
import { diffActual, entryStatus, invalidStatus, type Entry } from './status.js';
import { buildTopology, Topology, type JsonLink, type JsonLinkRoute } from './topology.js';
import { ensureTunnel, type TunnelState } from './tunnel.js';
import type {
  Clock,
  CommandRunner,
  DesiredRoute,
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

type Reason = ReconcileReport['reason'];

interface Op {
  entry: Entry;
  /** routeKey of what the line installs (null for a delete). */
  key: string | null;
  kind: 'add' | 'replace' | 'del';
  route: KernelRoute | null;
}

const MAIN_TABLE = normalizeTable('main');
const KERNEL_PROTO = normalizeProtocol('kernel');
const MAX_LOGGED = 20;
/** After a batch run with the monitor paused, verify the table this much later. */
const VERIFY_AFTER_PAUSE_MS = 5000;
/** Lines per chunk written to a running `ip -batch`. */
const CHUNK_LINES = 2000;

/** A delayed full resync waits at most this many delays for queued changes to drain. */
const MAX_FULL_DEFERRALS = 12;

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
  private defaultMode: IpipMode;
  private wantTunnel: boolean;
  private topology = Topology.empty();
  private tunnel: TunnelState | null = null;
  private tunnelAddressSet: string | null = null;
  private tunnelDirty = false;
  private ipipWarned = false;

  private readonly entries = new Map<string, Entry>();
  private readonly invalid = new Map<string, string>();
  private ownOrder: string[] = [];
  private dirtyList: Entry[] = [];
  private pendingTable: readonly DesiredRoute[] | null = null;
  private monitorPaused = false;
  /** Whether the last acceptRemote() changed its entry. */
  private acceptChanged = false;
  private generation = 0;

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
    const gen = ++this.generation;
    for (const r of table) {
      const e = this.acceptRemote(r.prefix, r.nexthops, true);
      if (e !== null) e.seen = gen;
    }
    for (const e of this.entries.values()) {
      if (e.nexthops !== null && e.seen !== gen) {
        e.nexthops = null;
        this.markDirty(e);
      }
    }
  }

  /** Sets one prefix's next hops, or removes it with null. */
  update(prefix: string, nexthops: readonly string[] | null): void {
    // A later single change must land on top of an earlier whole table.
    this.absorbPendingTable();
    if (nexthops === null) {
      this.invalid.delete(prefix);
      const e = this.lookup(prefix);
      if (e !== undefined && e.nexthops !== null) {
        e.nexthops = null;
        this.markDirty(e);
      }
    } else {
      const e = this.acceptRemote(prefix, nexthops, true);
      if (e !== null) e.seen = this.generation;
    }
    this.schedule();
  }

  /** The node's own blocks: installed as `blackhole P proto bgp`; the first IPv4 one addresses tunl0. */
  setOwnBlocks(prefixes: readonly string[]): void {
    const oldFirst = this.firstOwnV4();
    const next = new Set<Entry>();
    const order: string[] = [];
    for (const text of prefixes) {
      const p = parsePrefix(text, text.includes(':') ? 6 : 4);
      if (!p.ok) {
        this.log.warn({ prefix: text, error: p.error }, 'ignoring invalid own block');
        continue;
      }
      const e = this.entry(this.keyOf(p.prefix), p.prefix.family);
      if (!next.has(e)) order.push(e.key);
      next.add(e);
    }
    for (const e of this.entries.values()) {
      const want = next.has(e);
      if (e.own !== want) {
        e.own = want;
        this.markDirty(e);
      }
    }
    this.ownOrder = order;
    if (this.wantTunnel && this.firstOwnV4() !== oldFirst) this.tunnelDirty = true;
    this.schedule();
  }

  /** Replaces the pools (and optionally the mode for prefixes outside them); reshapes every route. */
  setPools(pools: readonly PoolConfig[], defaultMode?: IpipMode): void {
    this.pools = parsePools([...pools]);
    if (defaultMode !== undefined) this.defaultMode = defaultMode;
    this.wantTunnel = tunnelWanted(this.pools, this.defaultMode);
    if (this.wantTunnel && (this.tunnel === null || !this.tunnel.available))
      this.tunnelDirty = true;
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
    const addr = parseAddr(nexthop.split('%')[0]);
    if (addr === null) return `next hop ${nexthop} is not an IP address`;
    if (this.topology.lookup(addr) !== null) return null;
    const off = `next hop ${nexthop} is not on a connected segment`;
    if (addr.family === 6) return `${off} (IPIP carries IPv4 only)`;
    if (!this.wantTunnel) return `${off} and the pool's ipipMode is Never`;
    if (this.tunnel?.available !== true) return `${off} and the kernel has no IPIP support`;
    return null;
  }

  private keyOf(p: Prefix): string {
    // The same canonical text iproute2 prints, so desired and actual keys meet.
    const a = formatAddr({ family: p.family, value: p.value });
    return p.len === (p.family === 4 ? 32 : 128) ? a : `${a}/${p.len}`;
  }

  /** The entry for a prefix in any spelling, without creating one. */
  private lookup(prefix: string): Entry | undefined {
    const hit = this.entries.get(prefix);
    if (hit !== undefined) return hit;
    const p = parsePrefix(prefix, prefix.includes(':') ? 6 : 4);
    return p.ok ? this.entries.get(this.keyOf(p.prefix)) : undefined;
  }

  private entry(key: string, family: Family): Entry {
    let e = this.entries.get(key);
    if (e === undefined) {
      e = {
        key,
        family,
        nexthops: null,
        own: false,
        plan: null,
        actual: undefined,
        actualKey: null,
        error: null,
        dirty: false,
        seen: 0,
      };
      this.entries.set(key, e);
    }
    return e;
  }

  /** Forgets an entry nobody wants and the kernel does not hold. */
  private prune(e: Entry): void {
    if (!e.own && e.nexthops === null && e.actual === undefined && !e.dirty) {
      this.entries.delete(e.key);
    }
  }

  /** Records a prefix's next hops; `mark` puts a changed entry on the dirty list. */
  private acceptRemote(prefix: string, nexthops: readonly string[], mark: boolean): Entry | null {
    // Canonical input (the usual case) finds its entry without parsing.
    let e = this.entries.get(prefix);
    if (e === undefined && canonicalV4Fast(prefix) !== null) e = this.entry(prefix, 4);
    if (e === undefined) {
      const p = parsePrefix(prefix, prefix.includes(':') ? 6 : 4);
      if (!p.ok) {
        this.invalid.set(prefix, `invalid prefix: ${p.error}`);
        return null;
      }
      e = this.entry(this.keyOf(p.prefix), p.prefix.family);
    }
    this.acceptChanged = false;
    if (e.nexthops !== null && sameList(e.nexthops, nexthops)) return e;
    this.acceptChanged = true;
    // Kept by reference, not copied (100,000 arrays cost a lot of GC): callers pass fresh arrays.
    e.nexthops = nexthops;
    e.error = null;
    if (mark) this.markDirty(e);
    return e;
  }

  private firstOwnV4(): string | null {
    for (const k of this.ownOrder) {
      const e = this.entries.get(k);
      const p = parsePrefix(k, 4);
      if (e !== undefined && e.own && p.ok && p.prefix.family === 4) {
        return formatAddr({ family: 4, value: p.prefix.value });
      }
    }
    return null;
  }

  private markDirty(e: Entry): void {
    if (e.dirty) return;
    e.dirty = true;
    this.dirtyList.push(e);
  }

  private markAllDirty(): void {
    for (const e of this.entries.values()) this.markDirty(e);
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
      this.adopt(fresh);
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
      const fresh = (await this.readActual()) ?? this.actualMap();
      const lines = [...fresh.keys()].map((p) => renderDelete(p, this.target));
      const out = await runBatch(this.runner, lines);
      this.log.info(
        { deleted: lines.length - out.failures.size, failed: out.failures.size, fatal: out.fatal },
        'flushed our kernel routes on exit',
      );
    } else {
      this.log.info({ kept: this.actualMap().size }, 'leaving kernel routes in place');
    }
    for (const w of this.idleWaiters.splice(0)) w();
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

  private computePlan(e: Entry, ctx: PlanContext): PathPlan | null {
    let plan: PathPlan | null = null;
    if (e.own) plan = ownBlockPath(e.family);
    else if (e.nexthops !== null) {
      // Without pools every prefix has the default mode: no need to parse it.
      let mode: IpipMode | null = ctx.defaultMode;
      if (ctx.pools.length > 0) {
        const p = prefixOf(e);
        mode = p === null ? null : modeFor(p, ctx);
      }
      if (mode !== null) plan = remotePath(e.family, mode, e.nexthops, ctx);
    }
    e.plan = plan;
    return plan;
  }

  private diffOne(e: Entry, full: boolean, ctx: PlanContext): Op | null {
    const plan = this.computePlan(e, ctx);
    const cur = e.actual;
    if (plan !== null && plan.route !== null) {
      if (cur !== undefined && cur !== null && e.actualKey === plan.key) {
        e.error = null;
        return null;
      }
      if (!full && e.error !== null && e.error.key === plan.key) return null;
      if (cur === undefined) {
        return {
          entry: e,
          key: plan.key,
          kind: 'add',
          route: plan.route,
        };
      }
      // Before convergence only new prefixes are added: an adopted route is kept as it is.
      if (!this.isConverged) return null;
      return {
        entry: e,
        key: plan.key,
        kind: 'replace',
        route: plan.route,
      };
    }
    if (cur === undefined) {
      this.prune(e);
      return null;
    }
    if (!this.isConverged) return null;
    if (!full && e.error !== null && e.error.key === 'del') return null;
    return {
      entry: e,
      key: null,
      kind: 'del',
      route: null,
    };
  }

  private takeDirty(): Entry[] {
    const list = this.dirtyList;
    this.dirtyList = [];
    for (const e of list) e.dirty = false;
    return list;
  }

  /** The `ip -batch` line of an operation. */
  private lineOf(op: Op): string {
    if (op.kind === 'del' || op.route === null) return renderDelete(op.entry.key, this.target);
    return renderInstall(op.kind, op.route, this.target, op.entry.key);
  }

  private newBatch(): BatchStream<Op> {
    return new BatchStream<Op>(this.runner, (expected) => {
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
    const ctx = this.planContext();
    const batch = this.newBatch();
    const table = this.pendingTable;
    this.pendingTable = null;
    if (table !== null) {
      // A whole new table: plan and send it in chunks, so ip works while we plan the rest.
      const gen = ++this.generation;
      for (let i = 0; i < table.length; i++) {
        const r = table[i];
        const e = this.acceptRemote(r.prefix, r.nexthops, false);
        if (e === null) continue;
        e.seen = gen;
        // Unchanged prefixes need no work; dirty ones are handled with the dirty list below.
        if (!this.acceptChanged || e.dirty) continue;
        const op = this.diffOne(e, false, ctx);
        if (op !== null) batch.push(op, this.lineOf(op));
        if (batch.unsent >= CHUNK_LINES) await batch.flush();
      }
      for (const e of this.entries.values()) {
        if (e.nexthops !== null && e.seen !== gen) {
          e.nexthops = null;
          this.markDirty(e);
        }
      }
    }
    for (const e of this.takeDirty()) {
      const op = this.diffOne(e, false, ctx);
      if (op !== null) batch.push(op, this.lineOf(op));
      if (batch.unsent >= CHUNK_LINES) await batch.flush();
    }
    await this.apply(batch, 'change', started);
  }

  /** What we believe the kernel holds, as a map (for drift reports and flush). */
  private actualMap(): Map<string, KernelRoute | null> {
    const m = new Map<string, KernelRoute | null>();
    for (const e of this.entries.values()) if (e.actual !== undefined) m.set(e.key, e.actual);
    return m;
  }

  /** Takes a fresh read as the truth about the kernel; creates entries for adopted routes. */
  private adopt(fresh: Map<string, KernelRoute | null>): void {
    for (const e of this.entries.values()) {
      if (!fresh.has(e.key)) {
        e.actual = undefined;
        e.actualKey = null;
      }
    }
    for (const [key, route] of fresh) {
      let e = this.entries.get(key);
      if (e === undefined) {
        const p = parsePrefix(key, key.includes(':') ? 6 : 4);
        if (!p.ok) continue;
        e = this.entry(key, p.prefix.family);
      }
      e.actual = route;
      e.actualKey = route === null ? null : routeKey(route);
    }
  }

  private async fullResync(reason: Reason): Promise<void> {
    const started = this.clock.now();
    if (this.wantTunnel) await this.setupTunnel();
    await this.refreshTopology();
    const fresh = await this.readActual();
    if (fresh === null) {
      this.reconcileErrors++;
      this.armPeriodic();
      return;
    }
    const drift = diffActual(this.actualMap(), fresh, this.target);
    if (drift.length > 0) {
      this.driftRepaired += drift.length;
      this.log.warn(
        { count: drift.length, drift: drift.slice(0, MAX_LOGGED), trigger: reason },
        'kernel routes with our tag changed behind our back; repairing',
      );
      this.emit('drift', drift);
    } else if (reason === 'drift') {
      this.log.debug({}, 'monitor event explained by our own changes; no drift');
    }
    this.adopt(fresh);
    this.absorbPendingTable();
    this.takeDirty();
    const ctx = this.planContext();
    const batch = this.newBatch();
    for (const e of [...this.entries.values()]) {
      const op = this.diffOne(e, true, ctx);
      if (op !== null) batch.push(op, this.lineOf(op));
      if (batch.unsent >= CHUNK_LINES) await batch.flush();
    }
    await this.apply(batch, reason, started);
    this.armPeriodic();
  }

  private async apply(batch: BatchStream<Op>, reason: Reason, started: number): Promise<void> {
    const ops = batch.items;
    const report: ReconcileReport = {
      reason,
      added: 0,
      replaced: 0,
      deleted: 0,
      failed: 0,
      durationMs: 0,
    };
    if (ops.length > 0) {
      const out = await batch.finish();
      if (this.monitorPaused) {
        this.monitorPaused = false;
        if (!this.stopped) {
          this.startMonitor();
          this.requestFull('drift', VERIFY_AFTER_PAUSE_MS);
        }
      }
      const now = this.clock.now();
      const logged: { prefix: string; error: string; line: string }[] = [];
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i];
        const e = op.entry;
        let error = out.fatal ?? out.failures.get(i) ?? null;
        if (error !== null && op.kind === 'del' && /No such process/.test(error)) error = null;
        if (error === null) {
          e.error = null;
          if (op.kind === 'del') {
            e.actual = undefined;
            e.actualKey = null;
            report.deleted++;
            this.prune(e);
          } else {
            e.actual = op.route;
            e.actualKey = op.key;
            if (op.kind === 'add') report.added++;
            else report.replaced++;
          }
          continue;
        }
        if (/File exists/.test(error)) {
          error += ` (a route for ${e.key} without protocol ${this.target.protocol} is in the way; not touched)`;
        }
        report.failed++;
        e.error = {
          error,
          at: now,
          key: op.key ?? 'del',
        };
        const line = this.lineOf(op);
        if (logged.length < MAX_LOGGED) logged.push({ prefix: e.key, error, line });
        this.emit('route-error', { prefix: e.key, line, error });
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
    if (ops.length > 0) {
      this.log.info({ ...report }, 'kernel reconcile applied');
    } else {
      this.log.debug({ ...report }, 'kernel reconcile: no change');
    }
    this.emit('reconcile', report);
  }

  // ---- kernel reads ------------------------------------------------------------------------

  private async readActual(): Promise<Map<string, KernelRoute | null> | null> {
    const out = new Map<string, KernelRoute | null>();
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
      const r = await this.runner.run(family === 6 ? ['-6', ...args] : args);
      // A table nobody has used yet does not exist in the kernel: it is simply empty.
      if (r.code !== 0 && /FIB table does not exist/i.test(r.stderr)) continue;
      if (r.code !== 0) {
        this.log.error({ family, error: r.stderr.trim() }, 'cannot read kernel routes');
        return null;
      }
      let list: JsonRoute[];
      try {
        list = r.stdout.trim() === '' ? [] : (JSON.parse(r.stdout) as JsonRoute[]);
      } catch (err) {
        this.log.error({ family, err }, 'cannot parse ip -json route output');
        return null;
      }
      for (const j of list) {
        if (j.dst === undefined) continue;
        const route = parseJsonRoute(j, family);
        const p = parsePrefix(j.dst, family);
        if (!p.ok) continue;
        out.set(this.keyOf(p.prefix), route);
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
    const e = this.entries.get(ev.prefix);
    const cur = e?.actual;
    let suspect = false;
    if (ev.protocol === this.protoNorm) {
      if (ev.deleted) suspect = cur !== undefined;
      else
        suspect =
          cur === undefined ||
          cur === null ||
          ev.route === null ||
          e?.actualKey !== routeKey(ev.route);
    } else if (!ev.deleted && cur !== undefined) {
      // A route with another tag may have replaced ours.
      suspect = true;
    }
    if (suspect) this.requestFull('drift', this.driftDelayMs);
  }

  // ---- status ------------------------------------------------------------------------------

  /** Status of one prefix (any spelling), or null if we neither want nor hold it. */
  routeStatus(prefix: string): RouteStatus | null {
    this.absorbPendingTable();
    const e = this.lookup(prefix);
    if (e !== undefined) return this.statusOf(e);
    const why = this.invalid.get(prefix);
    return why === undefined ? null : invalidStatus(prefix, why);
  }

  private statusOf(e: Entry): RouteStatus | null {
    const plan = this.started && !e.dirty ? e.plan : this.computePlan(e, this.planContext());
    return entryStatus(e, plan, this.isConverged, this.tunnelName);
  }

  status(): KernelStatus {
    this.absorbPendingTable();
    const routes: RouteStatus[] = [];
    const byShape: Record<RouteShape, number> = { direct: 0, ipip: 0, blackhole: 0, ecmp: 0 };
    let installed = 0;
    for (const e of this.entries.values()) {
      const s = this.statusOf(e);
      if (s === null) continue;
      routes.push(s);
      if (s.installed) {
        installed++;
        if (s.shape !== null) byShape[s.shape]++;
      }
    }
    for (const [prefix, why] of this.invalid) routes.push(invalidStatus(prefix, why));
    routes.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
    const t = this.tunnel;
    return {
      table: this.target.table,
      protocol: this.target.protocol,
      converged: this.isConverged,
      routes,
      counts: { installed, notInstalled: routes.length - installed, byShape },
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

function prefixOf(e: Entry): Prefix | null {
  const p = parsePrefix(e.key, e.family);
  return p.ok ? p.prefix : null;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
