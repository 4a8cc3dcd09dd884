// The main thread's handle on the kernel sync, which runs in a worker thread (worker.ts): the
// same calls as KernelSync, with update() buffered and posted in batches, statuses answered
// asynchronously and canReach answered here from the worker's reachability snapshot.
// Must not know BGP (prefixes and next-hop lists only). RFC 4271 §9.1.2.1 (next hop resolvable).

import { Worker, type ResourceLimits } from 'node:worker_threads';
import { parsePools, tunnelWanted } from './plan.js';
import {
  ConnectedSegments,
  unreachableReason,
  type ReachFacts,
  type ReachSnapshot,
} from './reach.js';
import type {
  IpipMode,
  KernelLogger,
  KernelStatus,
  KernelSyncEvents,
  PoolConfig,
  RouteStatus,
} from './types.js';
import { UpdateEncoder } from './update-batch.js';
import type {
  FromWorker,
  KernelReplies,
  KernelRequest,
  KernelWorkerInit,
  KernelWorkerOptions,
  ToWorker,
} from './worker-protocol.js';

/** The client's end of the channel to the worker. */
export interface KernelChannel {
  post(msg: ToWorker, transfer: ArrayBuffer[]): void;
  onMessage(listener: (msg: FromWorker) => void): void;
  /** Called at most once, when the other side dies (an uncaught error, or an exit not asked for). */
  onFailure(listener: (err: Error) => void): void;
  /** Ends the other side on purpose (no failure is reported). */
  close(): Promise<void>;
}

export interface KernelClientOptions extends KernelWorkerOptions {
  /** The daemon's logger: the worker's records are written through it. */
  logger: KernelLogger;
  /** pino level name below which the worker does not even post records. Default `info`. */
  logLevel?: string;
  /** Run `ip` in this network namespace (tests, the lab). */
  netns?: string;
  /** How to reach the worker. Default: start src/kernel/worker in a worker thread. */
  connect?: (init: KernelWorkerInit) => KernelChannel;
  /** update() entries per posted batch at most. Default 65 536. */
  batchCapacity?: number;
  /** Heap limits of the worker thread (default: V8's, not the main thread's flags). */
  resourceLimits?: ResourceLimits;
}

export interface KernelClientEvents {
  drift: KernelSyncEvents['drift'];
  'ipip-unavailable': KernelSyncEvents['ipip-unavailable'];
  reachability: KernelSyncEvents['reachability'];
  /** The worker died: no more kernel writes. The daemon must not carry on without it. */
  fatal: (err: Error) => void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

export class KernelClient {
  private readonly channel: KernelChannel;
  private readonly log: KernelLogger;
  private readonly encoder: UpdateEncoder;
  private flushArmed = false;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private defaultMode: IpipMode;
  private segments = new ConnectedSegments([]);
  /** `unreachableReason` answers under the current facts, by next hop. */
  private readonly reachCache = new Map<string, string | null>();
  private readonly facts: ReachFacts;
  private isConverged = false;
  private stopped = false;
  private closing = false;
  private failure: Error | null = null;
  private readonly loggers = new Map<string, KernelLogger>();
  private readonly listeners: { [K in keyof KernelClientEvents]: Set<KernelClientEvents[K]> } = {
    drift: new Set(),
    'ipip-unavailable': new Set(),
    reachability: new Set(),
    fatal: new Set(),
  };

  constructor(opts: KernelClientOptions) {
    const { logger, logLevel, netns, connect, batchCapacity, resourceLimits, ...options } = opts;
    this.log = logger;
    this.defaultMode = options.defaultIpipMode ?? 'Never';
    // Invalid pools throw here, as KernelSync's constructor throws, before a thread starts.
    const want = tunnelWanted(parsePools(options.pools ?? []), this.defaultMode);
    this.facts = {
      onSegment: (addr) => this.segments.has(addr),
      tunnelWanted: want,
      tunnelAvailable: false,
    };
    this.encoder = new UpdateEncoder({ capacity: batchCapacity });
    const init: KernelWorkerInit = { options, logLevel: logLevel ?? 'info', netns };
    this.channel = connect ? connect(init) : spawnKernelWorker(init, { resourceLimits });
    this.channel.onMessage((msg) => this.onMessage(msg));
    this.channel.onFailure((err) => this.fail(err));
  }

  // ---- events ------------------------------------------------------------------------------

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof KernelClientEvents>(event: K, listener: KernelClientEvents[K]): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  private emit<K extends keyof KernelClientEvents>(
    event: K,
    ...args: Parameters<KernelClientEvents[K]>
  ): void {
    for (const fn of this.listeners[event]) {
      try {
        (fn as (...a: Parameters<KernelClientEvents[K]>) => void)(...args);
      } catch (err) {
        this.log.error({ err, event }, 'kernel client listener threw');
      }
    }
  }

  // ---- input (same meaning as KernelSync's) ------------------------------------------------

  /**
   * Sets one prefix's next hops, or removes it with null: text or an IPv4 key
   * (`address * 64 + length`). Buffered: posted when this macrotask ends, when a batch fills,
   * or before any other call to the worker. `nexthops` is read now and never kept.
   */
  update(prefix: string | number, nexthops: readonly string[] | null): void {
    if (this.stopped) return;
    this.encoder.push(prefix, nexthops);
    if (this.encoder.hasSealed) this.flush();
    else if (!this.flushArmed) {
      this.flushArmed = true;
      setImmediate(this.flushLater);
    }
  }

  private readonly flushLater = (): void => {
    this.flushArmed = false;
    this.flush();
  };

  /** Posts every buffered update (before any other message, so the worker sees call order). */
  private flush(): void {
    if (!this.encoder.pending) return;
    for (const b of this.encoder.take()) {
      if (this.failure !== null) continue;
      this.channel.post({ t: 'updates', ...b }, [b.keys.buffer, b.lists.buffer] as ArrayBuffer[]);
    }
  }

  private send(msg: ToWorker): void {
    this.flush();
    if (this.failure === null) this.channel.post(msg, []);
  }

  /** The node's own blocks (blackholes; the first IPv4 one addresses tunl0). */
  setOwnBlocks(prefixes: readonly string[]): void {
    this.send({ t: 'own', prefixes: [...prefixes] });
  }

  /** Replaces the pools (and optionally the default mode); invalid pools throw here. */
  setPools(pools: readonly PoolConfig[], defaultMode?: IpipMode): void {
    const parsed = parsePools([...pools]);
    if (defaultMode !== undefined) this.defaultMode = defaultMode;
    // What KernelSync.setPools decides at once: canReach must agree before the worker runs.
    this.facts.tunnelWanted = tunnelWanted(parsed, this.defaultMode);
    this.reachCache.clear();
    this.send({
      t: 'pools',
      pools: pools.map((p) => ({ cidr: p.cidr, ipipMode: p.ipipMode })),
      defaultMode,
    });
  }

  /** A config reload changed the log level: the worker posts records from this level up. */
  setLogLevel(level: string): void {
    this.send({ t: 'log-level', level });
  }

  /** The RIB converged: replacements and deletions may now run. */
  markConverged(): void {
    if (this.isConverged) return;
    this.isConverged = true;
    this.send({ t: 'converged' });
  }

  get converged(): boolean {
    return this.isConverged;
  }

  // ---- reachability (answered here, from the last snapshot) --------------------------------

  canReach(nexthop: string): boolean {
    return this.unreachableReason(nexthop) === null;
  }

  unreachableReason(nexthop: string): string | null {
    // Asked once per new attribute set (tens of thousands in a full table, few next hops):
    // answers are kept until the facts change.
    let why = this.reachCache.get(nexthop);
    if (why === undefined) {
      why = unreachableReason(nexthop, this.facts);
      if (this.reachCache.size >= 4096) this.reachCache.clear();
      this.reachCache.set(nexthop, why);
    }
    return why;
  }

  private takeReach(reach: ReachSnapshot): void {
    this.segments = new ConnectedSegments(reach.connected);
    this.facts.tunnelAvailable = reach.tunnelAvailable;
    this.reachCache.clear();
  }

  // ---- lifecycle and status ----------------------------------------------------------------

  /** Resolves once the worker's KernelSync has adopted the routes in the kernel. */
  async start(): Promise<{ adopted: number }> {
    const r = await this.request({ op: 'start' });
    this.takeReach(r.reach);
    return { adopted: r.adopted };
  }

  /**
   * Posts what is buffered, stops the KernelSync (routes stay unless `flush`), then ends the
   * worker. Later updates are dropped.
   */
  async stop(opts: { flush?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    const done =
      this.failure === null ? this.request({ op: 'stop', flush: opts.flush === true }) : null;
    this.stopped = true;
    try {
      await done;
    } finally {
      this.closing = true;
      await this.channel.close();
    }
  }

  status(opts: { routes?: boolean } = {}): Promise<KernelStatus> {
    return this.request({ op: 'status', routes: opts.routes !== false });
  }

  async routeStatus(prefix: string | number): Promise<RouteStatus | null> {
    const [s] = await this.routeStatuses([prefix]);
    return s ?? null;
  }

  /** The status of many prefixes in one round trip (a whole `show routes`). */
  routeStatuses(prefixes: (string | number)[]): Promise<(RouteStatus | null)[]> {
    return this.request({ op: 'routeStatuses', prefixes });
  }

  /** Resolves once every change given so far has been applied (or deferred until convergence). */
  idle(): Promise<null> {
    return this.request({ op: 'idle' });
  }

  /** A full read-diff-apply now. */
  resync(): Promise<null> {
    return this.request({ op: 'resync' });
  }

  private request<R extends KernelRequest>(req: R): Promise<KernelReplies[R['op']]> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.stopped) return Promise.reject(new Error('the kernel sync is stopped'));
    const id = this.nextId++;
    const p = new Promise<KernelReplies[R['op']]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
    this.send({ t: 'request', id, req });
    return p;
  }

  // ---- from the worker ---------------------------------------------------------------------

  private onMessage(msg: FromWorker): void {
    switch (msg.t) {
      case 'reply': {
        const p = this.pending.get(msg.id);
        if (p === undefined) return;
        this.pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.value);
        else p.reject(new Error(msg.error));
        return;
      }
      case 'reach':
        this.takeReach(msg.reach);
        this.emit('reachability');
        return;
      case 'drift':
        this.emit('drift', msg.entries);
        return;
      case 'ipip-unavailable':
        this.emit('ipip-unavailable', msg.reason);
        return;
      case 'log':
        this.loggerFor(msg.bindings)[msg.level](msg.obj, msg.msg);
        return;
    }
  }

  private loggerFor(bindings: Record<string, unknown>[]): KernelLogger {
    const key = JSON.stringify(bindings);
    let log = this.loggers.get(key);
    if (log === undefined) {
      log = this.log;
      for (const b of bindings) log = log.child(b);
      this.loggers.set(key, log);
    }
    return log;
  }

  private fail(err: Error): void {
    if (this.closing || this.failure !== null) return;
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (this.listeners.fatal.size === 0) {
      this.log.error({ err }, 'the kernel worker thread died: no more kernel route changes');
    }
    this.emit('fatal', err);
  }
}

// ---- the worker thread ---------------------------------------------------------------------

export interface SpawnOptions {
  /** The worker's entry module. Default: next to this module (see workerEntry). */
  entry?: URL;
  resourceLimits?: ResourceLimits;
}

/**
 * Where the worker's entry is, next to this module in the same form: `worker.js` in dist/,
 * `worker.mjs` in a bundle whose entries are `.mjs`, `worker.ts` when run through tsx.
 */
export function workerEntry(here: string = import.meta.url): URL {
  const ext = /\.(ts|mts|mjs|js)$/.exec(new URL(here).pathname)?.[1] ?? 'js';
  return new URL(`./worker.${ext === 'mts' ? 'ts' : ext}`, here);
}

/** Starts the kernel worker thread. */
export function spawnKernelWorker(init: KernelWorkerInit, opts: SpawnOptions = {}): KernelChannel {
  const entry = opts.entry ?? workerEntry();
  let worker: Worker;
  if (entry.pathname.endsWith('.ts')) {
    // tsx's loader hooks do not reach worker threads by themselves (Node 20): register them in
    // the worker first, then load the TypeScript entry.
    const tsx = import.meta.resolve('tsx/esm/api');
    const code =
      `import(${JSON.stringify(tsx)}).then((m) => { m.register(); ` +
      `return import(${JSON.stringify(entry.href)}); });`;
    worker = new Worker(code, {
      eval: true,
      workerData: init,
      resourceLimits: opts.resourceLimits,
    });
  } else {
    worker = new Worker(entry, { workerData: init, resourceLimits: opts.resourceLimits });
  }
  let closing = false;
  let failed = false;
  const failureListeners: ((err: Error) => void)[] = [];
  const fail = (err: Error): void => {
    if (closing || failed) return;
    failed = true;
    for (const fn of failureListeners) fn(err);
  };
  worker.on('error', (err: Error) => fail(err));
  worker.on('messageerror', (err: Error) => fail(err));
  worker.on('exit', (code) => fail(new Error(`the kernel worker thread exited (code ${code})`)));
  return {
    post: (msg, transfer) => worker.postMessage(msg, transfer),
    onMessage: (listener) => worker.on('message', listener),
    onFailure: (listener) => failureListeners.push(listener),
    close: async () => {
      closing = true;
      await worker.terminate();
    },
  };
}
