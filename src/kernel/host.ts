// The worker side of the kernel sync's thread split: runs one KernelSync, applies the client's
// messages to it in arrival order, answers its requests, and posts events, reachability
// snapshots and log records back. Must not know BGP or create the worker itself. No RFC.

import type { KernelSync } from './sync.js';
import type { KernelLogger } from './types.js';
import { UpdateDecoder } from './update-batch.js';
import { LEVEL_VALUES } from './worker-protocol.js';
import type {
  FromWorker,
  KernelReplies,
  KernelRequest,
  LogLevel,
  ToWorker,
  UpdateBatch,
} from './worker-protocol.js';

/** The timers the host holds update batches with (tests pass a fake). */
export interface HostClock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemHostClock: HostClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface KernelHostOptions {
  /**
   * A batch that arrives within this many ms of the one before, or that holds `burstSize`
   * updates or more, is part of a burst: it is held until no batch has come for as long.
   * Default 200 (the main thread may post a batch only every 100 ms or so while it is busy).
   */
  quietMs?: number;
  /** Default 1024. */
  burstSize?: number;
  /** Held batches are applied at the latest this many ms after the first of them. Default 2000. */
  maxHoldMs?: number;
  clock?: HostClock;
  /** Called with the level name of a `log-level` message (worker.ts passes PortLogger's). */
  setLogLevel?: (level: string) => void;
}

/** The worker's end of the channel (a worker_threads MessagePort, or one of a MessageChannel). */
export interface HostPort {
  postMessage(msg: FromWorker): void;
  on(event: 'message', listener: (msg: ToWorker) => void): unknown;
}

/**
 * Update batches that stream in (a full table from a peer, a session loss) are held while they
 * keep coming and applied together when they pause: the BGP thread then has the machine to
 * itself while it takes the table in, instead of sharing caches and cores with this thread's
 * bookkeeping and the `ip` processes it starts (measured: a 1M-prefix load 0.6 s -> 0.45 s,
 * BENCHMARKS.md). A few lone changes are applied at once; a burst is applied `quietMs` after
 * it ends, and at most `maxHoldMs` after its first batch.
 */
export class KernelHost {
  private readonly decoder = new UpdateDecoder();
  private readonly apply = (prefix: string | number, nexthops: readonly string[] | null): void =>
    this.sync.update(prefix, nexthops);
  private readonly quietMs: number;
  private readonly burstSize: number;
  private readonly maxHoldMs: number;
  private readonly clock: HostClock;
  private readonly setLogLevel: ((level: string) => void) | undefined;
  private held: UpdateBatch[] = [];
  private heldSince = 0;
  private lastBatchAt = -Infinity;
  private timer: unknown = null;

  constructor(
    private readonly sync: KernelSync,
    private readonly port: HostPort,
    opts: KernelHostOptions = {},
  ) {
    this.quietMs = opts.quietMs ?? 200;
    this.burstSize = opts.burstSize ?? 1024;
    this.maxHoldMs = opts.maxHoldMs ?? 2000;
    this.clock = opts.clock ?? systemHostClock;
    this.setLogLevel = opts.setLogLevel;
    sync.on('reachability', () => port.postMessage({ t: 'reach', reach: sync.reachability() }));
    sync.on('drift', (entries) => port.postMessage({ t: 'drift', entries }));
    sync.on('ipip-unavailable', (reason) => port.postMessage({ t: 'ipip-unavailable', reason }));
    port.on('message', (msg) => this.handle(msg));
  }

  /**
   * One message, applied before the next is read: the client's call order is the order here.
   * A throw (a malformed batch, a bug) is not caught: it ends the worker, and the client
   * reports the worker's death (no silent loss of a FIB writer).
   */
  handle(msg: ToWorker): void {
    if (msg.t === 'updates') {
      this.updates(msg);
      return;
    }
    if (msg.t === 'log-level') {
      // Not a change to the table: a burst being held stays held.
      this.setLogLevel?.(msg.level);
      return;
    }
    // Everything else comes after the updates posted before it.
    this.release();
    switch (msg.t) {
      case 'own':
        this.sync.setOwnBlocks(msg.prefixes);
        return;
      case 'pools':
        this.sync.setPools(msg.pools, msg.defaultMode);
        return;
      case 'converged':
        this.sync.markConverged();
        return;
      case 'request':
        this.answer(msg.req).then(
          (value) => this.port.postMessage({ t: 'reply', id: msg.id, ok: true, value }),
          (err: unknown) =>
            this.port.postMessage({
              t: 'reply',
              id: msg.id,
              ok: false,
              error: err instanceof Error ? err.message : String(err),
            }),
        );
        return;
    }
  }

  /** Applies a batch now, or holds it when it is part of a burst (see the class comment). */
  private updates(batch: UpdateBatch): void {
    const now = this.clock.now();
    const burst = now - this.lastBatchAt < this.quietMs || batch.keys.length >= this.burstSize;
    this.lastBatchAt = now;
    if (!burst && this.held.length === 0) {
      this.decoder.apply(batch, this.apply);
      return;
    }
    if (this.held.length === 0) this.heldSince = now;
    this.held.push(batch);
    if (now - this.heldSince >= this.maxHoldMs) {
      this.release();
      return;
    }
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.release();
    }, this.quietMs);
  }

  /** Applies every held batch, in arrival order. */
  private release(): void {
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.held.length === 0) return;
    const held = this.held;
    this.held = [];
    for (const b of held) this.decoder.apply(b, this.apply);
  }

  /** Batches held for a burst (tests). */
  get heldBatches(): number {
    return this.held.length;
  }

  private async answer(req: KernelRequest): Promise<KernelReplies[KernelRequest['op']]> {
    switch (req.op) {
      case 'start':
        await this.sync.start();
        return { adopted: this.sync.adoptedAtStart, reach: this.sync.reachability() };
      case 'status':
        return this.sync.status({ routes: req.routes });
      case 'routeStatuses':
        return this.sync.routeStatuses(req.prefixes);
      case 'idle':
        await this.sync.idle();
        return null;
      case 'resync':
        await this.sync.resync();
        return null;
      case 'stop':
        await this.sync.stop({ flush: req.flush });
        return null;
    }
  }
}

/**
 * A KernelLogger that posts its records to the main thread, which writes them through the
 * daemon's own logger (same fields, same output, pretty or JSON). Records below the level are
 * dropped here, before any copy. A logger and its children share one level (`setLevel`).
 */
export class PortLogger implements KernelLogger {
  private readonly gate: { min: number };

  constructor(
    private readonly post: (msg: FromWorker) => void,
    minLevel: number | { min: number },
    private readonly bindings: Record<string, unknown>[] = [],
  ) {
    this.gate = typeof minLevel === 'number' ? { min: minLevel } : minLevel;
  }

  child(bindings: Record<string, unknown>): KernelLogger {
    return new PortLogger(this.post, this.gate, [...this.bindings, bindings]);
  }

  /** A pino level name; an unknown name leaves the level as it is. */
  setLevel(level: string): void {
    const min = LEVEL_VALUES[level];
    if (min !== undefined) this.gate.min = min;
  }

  debug(obj: object, msg?: string): void {
    this.write('debug', 20, obj, msg);
  }

  info(obj: object, msg?: string): void {
    this.write('info', 30, obj, msg);
  }

  warn(obj: object, msg?: string): void {
    this.write('warn', 40, obj, msg);
  }

  error(obj: object, msg?: string): void {
    this.write('error', 50, obj, msg);
  }

  private write(level: LogLevel, value: number, obj: object, msg: string | undefined): void {
    if (value < this.gate.min) return;
    const bindings = this.bindings;
    try {
      this.post({ t: 'log', level, bindings, obj, msg });
    } catch {
      // Something in the record cannot be cloned (a function, a socket): send its JSON form.
      this.post({ t: 'log', level, bindings, obj: plain(obj), msg });
    }
  }
}

/** A cloneable copy of a log object: errors as pino prints them, bigints as text. */
function plain(obj: object): object {
  return JSON.parse(
    JSON.stringify(obj, (_k, v: unknown) => {
      if (v instanceof Error) return { type: v.name, message: v.message, stack: v.stack };
      if (typeof v === 'bigint') return v.toString();
      return v;
    }),
  ) as object;
}
