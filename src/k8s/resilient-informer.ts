// A list/watch informer over client-node's ListWatch that never gives up: it restarts after errors
// with backoff, re-lists on 410 Gone (HTTP status or ERROR event), requests bookmarks and aborts
// silent watches. Knows nothing of nodes or peers; keeps its cache across outages.
import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { KubernetesListObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { BackoffOptions } from './types.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Exponential backoff with jitter: attempt 0 -> about initialMs, doubling up to maxMs. */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}): number {
  const initial = opts.initialMs ?? 1000;
  const max = opts.maxMs ?? 30000;
  const base = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(base / 2 + (Math.random() * base) / 2);
}

/** The HTTP-ish status code of an error from client-node (ApiException.code or Watch statusCode). */
export function errorCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  if (typeof e.code === 'number') return e.code;
  return undefined;
}

export function errorText(err: unknown): string {
  const code = errorCode(err);
  if (err instanceof Error) {
    const first = err.message.split('\n')[0];
    return code !== undefined && !first.includes(String(code)) ? `${code} ${first}` : first;
  }
  return String(err);
}

class StatusError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
  }
}

interface GuardedWatchHooks {
  /** Called when ListWatch asks for a watch: any list it made has just been applied. */
  beforeWatch(): void;
  /** The watch stream opened (HTTP 200). */
  opened(): void;
  isStopped(): boolean;
}

/**
 * client-node's Watch with three guards: bookmarks and a server-side timeout are requested;
 * a watch that hears nothing for longer than the timeout plus grace is aborted; an ERROR event
 * ends the watch at once (a 410 one as "Gone", so ListWatch re-lists).
 */
class GuardedWatch extends Watch {
  private readonly active = new Set<AbortController>();
  private quickCloses = 0;

  constructor(
    config: KubeConfig,
    private readonly hooks: GuardedWatchHooks,
    private readonly timeoutSeconds: number,
    private readonly backoff: BackoffOptions,
    private readonly timers: Timers,
    private readonly now: () => number,
  ) {
    super(config);
  }

  abortAll(): void {
    for (const c of this.active) c.abort();
    this.active.clear();
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    this.hooks.beforeWatch();
    if (this.quickCloses > 0) {
      // A server that closes watches at once must not make us spin: back off before re-watching.
      const wait = backoffDelay(this.quickCloses - 1, this.backoff);
      await new Promise<void>((r) => this.timers.setTimeout(r, wait));
    }
    if (this.hooks.isStopped()) {
      const dead = new AbortController();
      dead.abort();
      return dead;
    }
    const started = this.now();
    let events = 0;
    let finished = false;
    let inner: AbortController | undefined;
    let idleTimer: unknown;
    // The server ends the watch after timeoutSeconds; silence well past that means a dead
    // connection (for example a half-open TCP session after a load-balancer failover).
    const idleMs = this.timeoutSeconds * 1000 + Math.min(30000, this.timeoutSeconds * 1000);
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      this.timers.clearTimeout(idleTimer);
      if (inner) {
        inner.abort();
        this.active.delete(inner);
      }
      // A watch that ends within a second having delivered nothing (closed at once, or 410 again
      // right after a re-list) counts toward the delay before the next one.
      const ended = err === null || errorCode(err) === 410;
      const quick = ended && events === 0 && this.now() - started < 1000;
      this.quickCloses = quick ? this.quickCloses + 1 : 0;
      done(err);
    };
    const armIdle = (): void => {
      this.timers.clearTimeout(idleTimer);
      idleTimer = this.timers.setTimeout(
        () => finish(new Error(`watch ${path} silent for ${idleMs / 1000} s; reconnecting`)),
        idleMs,
      );
    };
    armIdle();
    const wrapped = (phase: string, obj: unknown, watchObj?: unknown): void => {
      if (finished) return;
      if (phase !== 'ERROR') events++;
      armIdle();
      callback(phase, obj, watchObj);
      if (phase === 'ERROR') {
        const status = obj as { code?: number; message?: string } | undefined;
        const code = status?.code ?? 500;
        // 410 Gone: our resourceVersion is too old; ListWatch re-lists on a 410 error.
        finish(new StatusError(`watch ${path}: ${status?.message ?? 'ERROR event'}`, code));
      }
    };
    const params = {
      ...queryParams,
      allowWatchBookmarks: true,
      timeoutSeconds: this.timeoutSeconds,
    };
    let controller: AbortController;
    try {
      controller = await super.watch(path, params, wrapped, finish);
    } catch (err) {
      // Watch.watch throws before its own error handling (e.g. credentials that cannot be
      // loaded); report it as a failed watch instead of an unhandled rejection.
      finish(err);
      controller = new AbortController();
    }
    if (finished) {
      controller.abort();
    } else {
      inner = controller;
      this.active.add(controller);
      if (this.hooks.isStopped()) finish(null);
      else this.hooks.opened();
    }
    return controller;
  }
}

export interface ResilientInformerOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** API path of the collection, e.g. /api/v1/nodes. */
  path: string;
  /** Lists the collection (CoreV1Api.listNode and the like). */
  list: () => Promise<KubernetesListObject<T>>;
  log: Logger;
  backoff?: BackoffOptions;
  /** Server-side watch timeout; the watch is re-opened after it. Default 300 s. */
  watchTimeoutSeconds?: number;
  /** A list that takes longer fails (and is retried). Default 30000 ms. */
  listTimeoutMs?: number;
  timers?: Timers;
  now?: () => number;
  onAdd(obj: T): void;
  onUpdate(obj: T): void;
  onDelete(obj: T): void;
  /** A list has been applied to the cache (initial or re-list). */
  onListed(): void;
  /** A request succeeded after none or after failures. */
  onHealthy(): void;
  /** A request failed; the informer retries by itself after `retryInMs`. */
  onFailure(err: unknown, retryInMs: number): void;
}

export class ResilientInformer<T extends KubernetesObject> {
  private readonly lw: ListWatch<T>;
  private readonly watcher: GuardedWatch;
  private readonly timers: Timers;
  private stopped = true;
  private attempt = 0;
  private retryTimer: unknown;
  private listed = false;

  constructor(private readonly opts: ResilientInformerOptions<T>) {
    this.timers = opts.timers ?? realTimers;
    const now = opts.now ?? Date.now;
    this.watcher = new GuardedWatch(
      opts.kubeConfig,
      {
        beforeWatch: () => {
          if (this.listed) {
            this.listed = false;
            opts.onListed();
          }
        },
        opened: () => this.healthy(),
        isStopped: () => this.stopped,
      },
      opts.watchTimeoutSeconds ?? 300,
      opts.backoff ?? {},
      this.timers,
      now,
    );
    this.lw = new ListWatch<T>(opts.path, this.watcher, () => this.timedList(), false);
    this.lw.on('add', (o) => opts.onAdd(o));
    this.lw.on('update', (o) => opts.onUpdate(o));
    this.lw.on('delete', (o) => opts.onDelete(o));
    this.lw.on('error', (err) => this.failed(err));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.restart();
  }

  private restart(): void {
    this.lw.start().catch((err: unknown) => this.failed(err));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clearTimeout(this.retryTimer);
    await this.lw.stop();
    this.watcher.abortAll();
  }

  /** The cached objects (kept across outages). */
  list(): readonly T[] {
    return this.lw.list();
  }

  private async timedList(): Promise<KubernetesListObject<T>> {
    const ms = this.opts.listTimeoutMs ?? 30000;
    let timer: unknown;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.timers.setTimeout(
        () => reject(new Error(`list ${this.opts.path} timed out after ${ms} ms`)),
        ms,
      );
    });
    try {
      const res = await Promise.race([this.opts.list(), timeout]);
      this.listed = true;
      this.healthy();
      return res;
    } finally {
      this.timers.clearTimeout(timer);
    }
  }

  private healthy(): void {
    this.attempt = 0;
    this.opts.onHealthy();
  }

  private failed(err: unknown): void {
    if (this.stopped) return; // aborting our own watch on stop() reports an error; ignore it
    const delay = backoffDelay(this.attempt++, this.opts.backoff);
    this.opts.onFailure(err, delay);
    this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = this.timers.setTimeout(() => {
      if (!this.stopped) this.restart();
    }, delay);
  }
}
