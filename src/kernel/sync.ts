// KernelSync: keeps the kernel table equal to the desired routes. Scan (ip -json route), diff,
// apply (one ip -batch per reconcile), watch (ip monitor) and heal drift; adopt on start, keep on
// stop. Touches only routes with our protocol tag. Must not know BGP (input is prefix/next hops).

import { formatAddr, parsePrefix, type Prefix } from './addr.js';
import { runBatch } from './batch.js';
import { systemClock } from './clock.js';
import { RouteMonitor } from './monitor.js';
import { normalizeProtocol, normalizeTable, spellProtocol, spellTable } from './names.js';
import {
  parsePools,
  planOwnBlock,
  planRemote,
  shapeOf,
  tunnelWanted,
  type ParsedPool,
  type Plan,
  type PlanContext,
} from './plan.js';
import {
  parseJsonRoute,
  renderDelete,
  renderInstall,
  renderRoute,
  routeKey,
  type JsonRoute,
  type KernelRoute,
  type MonitorRouteEvent,
  type RouteTarget,
} from './routes.js';
import { buildTopology, Topology, type JsonLink, type JsonLinkRoute } from './topology.js';
import { ensureTunnel, type TunnelState } from './tunnel.js';
import type {
  Clock,
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

type Reason = ReconcileReport['reason'];

interface Op {
  prefix: string;
  kind: 'add' | 'replace' | 'del';
  route: KernelRoute | null;
  line: string;
}

interface RouteError {
  error: string;
  at: number;
  /** The route key (or `del`) that failed: not retried until a full resync or a new input. */
  key: string;
}

const MAIN_TABLE = normalizeTable('main');
const KERNEL_PROTO = normalizeProtocol('kernel');
const MAX_LOGGED = 20;

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
  private readonly opts: KernelSyncOptions;

  private pools: ParsedPool[];
  private defaultMode: IpipMode;
  private wantTunnel: boolean;
  private topology = Topology.empty();
  private tunnel: TunnelState | null = null;
  private tunnelAddressSet: string | null = null;
  private tunnelDirty = false;
  private ipipWarned = false;

  private readonly remote = new Map<string, { p: Prefix; nexthops: string[] }>();
  private readonly invalid = new Map<string, string>();
  private readonly own = new Map<string, Prefix>();
  private ownOrder: string[] = [];
  private readonly plans = new Map<string, Plan>();
  private actual = new Map<string, KernelRoute | null>();
  private readonly errors = new Map<string, RouteError>();
  private readonly dirty = new Set<string>();

  private started = false;
  private stopped = false;
  private isConverged = false;
  private working = false;
  private fullPending: Reason | null = null;
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

  /** Replaces the whole desired remote table. Prefixes not listed are removed (after convergence). */
  setRoutes(routes: readonly DesiredRoute[]): void {
    const seen = new Set<string>();
    this.invalid.clear();
    for (const r of routes) {
      const key = this.acceptRemote(r.prefix, r.nexthops);
      if (key !== null) seen.add(key);
    }
    for (const key of this.remote.keys()) {
      if (!seen.has(key)) {
        this.remote.delete(key);
        this.markDirty(key);
      }
    }
    this.schedule();
  }

  /** Sets one prefix's next hops, or removes it with null. */
  update(prefix: string, nexthops: readonly string[] | null): void {
    if (nexthops === null) {
      const p = parsePrefix(prefix, prefix.includes(':') ? 6 : 4);
      this.invalid.delete(prefix);
      if (p.ok) {
        const key = this.keyOf(p.prefix);
        if (this.remote.delete(key)) this.markDirty(key);
      }
    } else {
      this.acceptRemote(prefix, nexthops);
    }
    this.schedule();
  }

  /** The node's own blocks: installed as `blackhole P proto bgp`; the first IPv4 one addresses tunl0. */
  setOwnBlocks(prefixes: readonly string[]): void {
    const oldFirst = this.firstOwnV4();
    const next = new Map<string, Prefix>();
    const order: string[] = [];
    for (const text of prefixes) {
      const p = parsePrefix(text, text.includes(':') ? 6 : 4);
      if (!p.ok) {
        this.log.warn({ prefix: text, error: p.error }, 'ignoring invalid own block');
        continue;
      }
      const key = this.keyOf(p.prefix);
      if (!next.has(key)) order.push(key);
      next.set(key, p.prefix);
    }
    for (const key of this.own.keys()) if (!next.has(key)) this.markDirty(key);
    for (const key of next.keys()) if (!this.own.has(key)) this.markDirty(key);
    this.own.clear();
    for (const [k, v] of next) this.own.set(k, v);
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

  private keyOf(p: Prefix): string {
    // The same canonical text iproute2 prints, so desired and actual keys meet.
    const a = formatAddr({ family: p.family, value: p.value });
    return p.len === (p.family === 4 ? 32 : 128) ? a : `${a}/${p.len}`;
  }

  private acceptRemote(prefix: string, nexthops: readonly string[]): string | null {
    const p = parsePrefix(prefix, prefix.includes(':') ? 6 : 4);
    if (!p.ok) {
      this.invalid.set(prefix, `invalid prefix: ${p.error}`);
      return null;
    }
    const key = this.keyOf(p.prefix);
    const old = this.remote.get(key);
    if (old !== undefined && sameList(old.nexthops, nexthops)) return key;
    this.remote.set(key, { p: p.prefix, nexthops: [...nexthops] });
    this.errors.delete(key);
    this.markDirty(key);
    return key;
  }

  private firstOwnV4(): string | null {
    for (const k of this.ownOrder) {
      const p = this.own.get(k);
      if (p !== undefined && p.family === 4) return formatAddr({ family: 4, value: p.value });
    }
    return null;
  }

  private markDirty(key: string): void {
    this.dirty.add(key);
  }

  private markAllDirty(): void {
    for (const k of this.own.keys()) this.dirty.add(k);
    for (const k of this.remote.keys()) this.dirty.add(k);
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
      if (this.wantTunnel) await this.setupTunnel();
      const fresh = await this.readActual();
      if (fresh === null) throw new Error(`cannot read kernel table ${this.target.table}`);
      this.actual = fresh;
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
      const fresh = (await this.readActual()) ?? this.actual;
      const lines = [...fresh.keys()].map((p) => renderDelete(p, this.target));
      const out = await runBatch(this.runner, lines);
      this.log.info(
        { deleted: lines.length - out.failures.size, failed: out.failures.size, fatal: out.fatal },
        'flushed our kernel routes on exit',
      );
    } else {
      this.log.info({ kept: this.actual.size }, 'leaving kernel routes in place');
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
      (!this.working && this.dirty.size === 0 && this.fullPending === null && !this.tunnelDirty)
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
    if (this.dirty.size === 0 && !this.tunnelDirty) return;
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
      else if (this.fullPending !== null || this.dirty.size > 0 || this.tunnelDirty) this.pump();
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
        if (this.dirty.size > 0) {
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
    };
  }

  private computePlan(key: string, ctx: PlanContext): Plan | null {
    const own = this.own.get(key);
    let plan: Plan | null = null;
    if (own !== undefined) plan = planOwnBlock(key, own);
    else {
      const r = this.remote.get(key);
      if (r !== undefined) plan = planRemote(key, r.p, r.nexthops, ctx);
    }
    if (plan === null) this.plans.delete(key);
    else this.plans.set(key, plan);
    return plan;
  }

  private diffOne(key: string, full: boolean, ctx: PlanContext): Op | null {
    const plan = this.computePlan(key, ctx);
    const cur = this.actual.get(key);
    if (plan !== null && plan.route !== null) {
      const want = routeKey(plan.route);
      if (cur !== undefined && cur !== null && routeKey(cur) === want) {
        this.errors.delete(key);
        return null;
      }
      const err = this.errors.get(key);
      if (!full && err !== undefined && err.key === want) return null;
      if (cur === undefined) {
        return {
          prefix: key,
          kind: 'add',
          route: plan.route,
          line: renderInstall('add', plan.route, this.target),
        };
      }
      // Before convergence only new prefixes are added: an adopted route is kept as it is.
      if (!this.isConverged) return null;
      return {
        prefix: key,
        kind: 'replace',
        route: plan.route,
        line: renderInstall('replace', plan.route, this.target),
      };
    }
    if (cur === undefined || !this.isConverged) return null;
    const err = this.errors.get(key);
    if (!full && err !== undefined && err.key === 'del') return null;
    return { prefix: key, kind: 'del', route: null, line: renderDelete(key, this.target) };
  }

  private async incremental(): Promise<void> {
    const started = this.clock.now();
    const ctx = this.planContext();
    const ops: Op[] = [];
    const keys = [...this.dirty];
    this.dirty.clear();
    for (const k of keys) {
      const op = this.diffOne(k, false, ctx);
      if (op !== null) ops.push(op);
    }
    await this.apply(ops, 'change', started);
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
    const drift = diffActual(this.actual, fresh, this.target);
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
    this.actual = fresh;
    this.dirty.clear();
    const ctx = this.planContext();
    const ops: Op[] = [];
    const keys = new Set<string>([...this.own.keys(), ...this.remote.keys(), ...fresh.keys()]);
    for (const k of keys) {
      const op = this.diffOne(k, true, ctx);
      if (op !== null) ops.push(op);
    }
    for (const k of [...this.plans.keys()]) if (!keys.has(k)) this.plans.delete(k);
    await this.apply(ops, reason, started);
    this.armPeriodic();
  }

  private async apply(ops: Op[], reason: Reason, started: number): Promise<void> {
    const report: ReconcileReport = {
      reason,
      added: 0,
      replaced: 0,
      deleted: 0,
      failed: 0,
      durationMs: 0,
    };
    if (ops.length > 0) {
      const out = await runBatch(
        this.runner,
        ops.map((o) => o.line),
      );
      const now = this.clock.now();
      const logged: { prefix: string; error: string; line: string }[] = [];
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i];
        let error = out.fatal ?? out.failures.get(i) ?? null;
        if (error !== null && op.kind === 'del' && /No such process/.test(error)) error = null;
        if (error === null) {
          if (op.kind === 'del') {
            this.actual.delete(op.prefix);
            report.deleted++;
          } else {
            this.actual.set(op.prefix, op.route);
            if (op.kind === 'add') report.added++;
            else report.replaced++;
          }
          this.errors.delete(op.prefix);
          continue;
        }
        if (/File exists/.test(error)) {
          error += ` (a route for ${op.prefix} without protocol ${this.target.protocol} is in the way; not touched)`;
        }
        report.failed++;
        this.errors.set(op.prefix, {
          error,
          at: now,
          key: op.route === null ? 'del' : routeKey(op.route),
        });
        if (logged.length < MAX_LOGGED) logged.push({ prefix: op.prefix, error, line: op.line });
        this.emit('route-error', { prefix: op.prefix, line: op.line, error });
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
      if (next.signature() !== this.topology.signature()) {
        this.log.info({ connected: next.signature() }, 'connected segments');
        this.markAllDirty();
      }
      this.topology = next;
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
    this.tunnel = state;
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
    const cur = this.actual.get(ev.prefix);
    let suspect = false;
    if (ev.protocol === this.protoNorm) {
      if (ev.deleted) suspect = cur !== undefined;
      else
        suspect =
          cur === undefined ||
          cur === null ||
          ev.route === null ||
          routeKey(cur) !== routeKey(ev.route);
    } else if (!ev.deleted && cur !== undefined) {
      // A route with another tag may have replaced ours.
      suspect = true;
    }
    if (suspect) this.requestFull('drift', this.driftDelayMs);
  }

  // ---- status ------------------------------------------------------------------------------

  /** Status of one prefix (any spelling), or null if we neither want nor hold it. */
  routeStatus(prefix: string): RouteStatus | null {
    const p = parsePrefix(prefix, prefix.includes(':') ? 6 : 4);
    if (!p.ok) {
      const why = this.invalid.get(prefix);
      return why === undefined ? null : invalidStatus(prefix, why);
    }
    return this.statusOf(this.keyOf(p.prefix));
  }

  private statusOf(key: string): RouteStatus | null {
    const plan =
      this.plans.get(key) ?? (this.started ? null : this.computePlan(key, this.planContext()));
    const cur = this.actual.get(key);
    const origin: RouteStatus['origin'] = this.own.has(key)
      ? 'own'
      : this.remote.has(key)
        ? 'remote'
        : 'adopted';
    if (plan === null && cur === undefined) return null;
    const err = this.errors.get(key) ?? null;
    const route = plan?.route ?? (origin === 'adopted' ? (cur ?? null) : null);
    let installed: boolean;
    if (plan !== null && plan.route !== null) {
      installed = cur !== undefined && cur !== null && routeKey(cur) === routeKey(plan.route);
    } else installed = origin === 'adopted' && cur !== undefined;
    let reason: string | null = null;
    if (!installed) {
      if (plan !== null && plan.route === null) reason = plan.reason;
      else if (err !== null) reason = err.error;
      else if (!this.isConverged && cur !== undefined)
        reason = 'waiting for RIB convergence (the kernel holds an older route)';
      else reason = 'pending';
    }
    return {
      prefix: key,
      installed,
      shape: plan?.shape ?? (route !== null ? shapeOf(route, this.tunnelName) : null),
      interfaces: route === null ? [] : route.nexthops.map((n) => n.dev),
      nexthops:
        plan?.nexthops ??
        (route === null
          ? []
          : route.nexthops.map((n) => ({
              via: n.via,
              dev: n.dev,
              shape: n.dev === this.tunnelName ? ('ipip' as const) : ('direct' as const),
            }))),
      skipped: plan?.skipped ?? [],
      reason,
      lastError: err?.error ?? null,
      lastErrorAt: err?.at ?? null,
      origin,
    };
  }

  status(): KernelStatus {
    const keys = new Set<string>([
      ...this.own.keys(),
      ...this.remote.keys(),
      ...this.actual.keys(),
    ]);
    const routes: RouteStatus[] = [];
    const byShape: Record<RouteShape, number> = { direct: 0, ipip: 0, blackhole: 0, ecmp: 0 };
    let installed = 0;
    for (const k of keys) {
      const s = this.statusOf(k);
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

function invalidStatus(prefix: string, why: string): RouteStatus {
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

/** What changed between what we believed the kernel held and what it holds. */
export function diffActual(
  before: ReadonlyMap<string, KernelRoute | null>,
  after: ReadonlyMap<string, KernelRoute | null>,
  t: RouteTarget,
): DriftEntry[] {
  const out: DriftEntry[] = [];
  const show = (r: KernelRoute | null | undefined): string | null =>
    r === undefined
      ? null
      : r === null
        ? '(a tagged route of a shape we never install)'
        : renderRoute(r, t);
  for (const [k, b] of before) {
    const a = after.get(k);
    if (a === undefined) out.push({ prefix: k, expected: show(b), found: null });
    else if (
      (a === null) !== (b === null) ||
      (a !== null && b !== null && routeKey(a) !== routeKey(b))
    ) {
      out.push({ prefix: k, expected: show(b), found: show(a) });
    }
  }
  for (const [k, a] of after)
    if (!before.has(k)) out.push({ prefix: k, expected: null, found: show(a) });
  return out;
}
