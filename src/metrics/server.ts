// The metrics and health listener: Prometheus text on /metrics (prom-client), liveness on
// /healthz, and readiness on /readyz (every configured peer Established, or a grace time
// passed). Values are read from a snapshot the daemon provides at scrape time.

import http, { type Server } from 'node:http';
import { Gauge, Counter, Registry, collectDefaultMetrics } from 'prom-client';

export interface PeerMetrics {
  address: string;
  type: string;
  state: string;
  /** Seconds in Established, 0 otherwise. */
  uptimeSeconds: number;
  messagesIn: Record<string, number>;
  messagesOut: Record<string, number>;
  received: number;
  accepted: number;
  advertised: number;
  decodeErrors: Record<string, number>;
}

export interface MetricsSnapshot {
  peers: PeerMetrics[];
  kernelRoutes: Record<string, number>;
  kernelNotInstalled: number;
  reconciles: number;
  reconcileErrors: number;
  driftRepaired: number;
}

const STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

/** Counters that only grow: prom-client counters are set by the delta since the last scrape. */
class MonotonicCounter {
  private readonly last = new Map<string, number>();
  constructor(readonly counter: Counter<string>) {}
  set(labels: Record<string, string>, value: number): void {
    const key = JSON.stringify(labels);
    const prev = this.last.get(key) ?? 0;
    // A session reset restarts a peer's counters; Prometheus handles resets on its side.
    if (value < prev) this.counter.reset();
    const delta = value < prev ? value : value - prev;
    if (delta > 0) this.counter.inc(labels, delta);
    this.last.set(key, value);
  }
}

export class Metrics {
  readonly registry = new Registry();
  private readonly state: Gauge<string>;
  private readonly uptime: Gauge<string>;
  private readonly prefixes: Gauge<string>;
  private readonly routes: Gauge<string>;
  private readonly messagesIn: MonotonicCounter;
  private readonly messagesOut: MonotonicCounter;
  private readonly decodeErrors: MonotonicCounter;
  private readonly reconciles: MonotonicCounter;
  private readonly reconcileErrors: MonotonicCounter;
  private readonly drift: MonotonicCounter;

  constructor(private readonly snapshot: () => MetricsSnapshot | Promise<MetricsSnapshot>) {
    const r = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'podbgp_process_' });
    this.state = new Gauge({
      name: 'podbgp_peer_state',
      help: 'BGP session state: 1 for the current state of each peer (RFC 4271 §8)',
      labelNames: ['peer', 'type', 'state'],
      registers: r,
    });
    this.uptime = new Gauge({
      name: 'podbgp_peer_uptime_seconds',
      help: 'Seconds the session has been Established (0 when down)',
      labelNames: ['peer'],
      registers: r,
    });
    this.prefixes = new Gauge({
      name: 'podbgp_peer_prefixes',
      help: 'Prefixes received, accepted (post-policy) and advertised, per peer',
      labelNames: ['peer', 'kind'],
      registers: r,
    });
    this.routes = new Gauge({
      name: 'podbgp_kernel_routes',
      help: 'Routes in the kernel by shape (direct, ipip, blackhole, ecmp), and not installed',
      labelNames: ['shape'],
      registers: r,
    });
    const counter = (name: string, help: string, labelNames: string[]) =>
      new MonotonicCounter(new Counter({ name, help, labelNames, registers: r }));
    this.messagesIn = counter(
      'podbgp_peer_messages_received_total',
      'BGP messages received, by type',
      ['peer', 'type'],
    );
    this.messagesOut = counter('podbgp_peer_messages_sent_total', 'BGP messages sent, by type', [
      'peer',
      'type',
    ]);
    this.decodeErrors = counter(
      'podbgp_decode_errors_total',
      'Malformed UPDATEs and messages, by RFC 7606 action',
      ['peer', 'action'],
    );
    this.reconciles = counter('podbgp_kernel_reconciles_total', 'Kernel reconcile runs', []);
    this.reconcileErrors = counter(
      'podbgp_kernel_reconcile_errors_total',
      'Kernel route changes that failed',
      [],
    );
    this.drift = counter(
      'podbgp_kernel_drift_repaired_total',
      'Our kernel routes changed by someone else and repaired',
      [],
    );
  }

  /** Reads the snapshot into the registry and returns the Prometheus text. */
  async render(): Promise<string> {
    const s = await this.snapshot();
    this.state.reset();
    this.uptime.reset();
    this.prefixes.reset();
    for (const p of s.peers) {
      for (const st of STATES)
        this.state.set({ peer: p.address, type: p.type, state: st }, st === p.state ? 1 : 0);
      this.uptime.set({ peer: p.address }, p.uptimeSeconds);
      this.prefixes.set({ peer: p.address, kind: 'received' }, p.received);
      this.prefixes.set({ peer: p.address, kind: 'accepted' }, p.accepted);
      this.prefixes.set({ peer: p.address, kind: 'advertised' }, p.advertised);
      for (const [type, n] of Object.entries(p.messagesIn))
        this.messagesIn.set({ peer: p.address, type }, n);
      for (const [type, n] of Object.entries(p.messagesOut))
        this.messagesOut.set({ peer: p.address, type }, n);
      for (const [action, n] of Object.entries(p.decodeErrors))
        this.decodeErrors.set({ peer: p.address, action }, n);
    }
    this.routes.reset();
    for (const [shape, n] of Object.entries(s.kernelRoutes)) this.routes.set({ shape }, n);
    this.routes.set({ shape: 'not-installed' }, s.kernelNotInstalled);
    this.reconciles.set({}, s.reconciles);
    this.reconcileErrors.set({}, s.reconcileErrors);
    this.drift.set({}, s.driftRepaired);
    return this.registry.metrics();
  }
}

export interface Readiness {
  ready: boolean;
  notUp: string[];
  reason: string;
}

/** Serves /metrics, /healthz and /readyz. */
export async function startMetricsServer(
  listen: { host: string; port: number },
  metrics: Metrics,
  readiness: () => Readiness,
): Promise<Server> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const reply = (code: number, type: string, body: string) => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (url === '/healthz') return reply(200, 'text/plain', 'ok\n');
    if (url === '/readyz') {
      const r = readiness();
      return reply(r.ready ? 200 : 503, 'application/json', JSON.stringify(r) + '\n');
    }
    if (url === '/metrics') {
      metrics.render().then(
        (text) => reply(200, metrics.registry.contentType, text),
        (err: Error) => reply(500, 'text/plain', `${err.message}\n`),
      );
      return;
    }
    reply(404, 'text/plain', 'not found: try /metrics, /healthz or /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `cannot listen for metrics on ${listen.host}:${listen.port}: ${err.code ?? err.message}`,
        ),
      ),
    );
    server.listen(listen.port, listen.host, () => resolve());
  });
  return server;
}
