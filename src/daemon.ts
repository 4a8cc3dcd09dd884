// The wiring: builds node identity, kernel sync, RIB, sessions, Kubernetes watchers, the
// control socket and the metrics listener from the config, and connects them. The only
// module that constructs the real edges (sockets, `ip`, the clock). No protocol logic here.
// Start order (ops issue): identity, kernel adoption, sessions, RIB, kernel reconcile on
// convergence. RFC 4724: routes stay in the kernel across restarts.

import net from 'node:net';
import os from 'node:os';
import type { Server } from 'node:http';
import type { ResourceLimits } from 'node:worker_threads';
import type { Logger } from 'pino';
import {
  diffConfigs,
  formatConfigErrors,
  loadConfig,
  type Env,
  type PodbgpConfig,
} from './config/index.js';
import type { Command } from './control/protocol.js';
import { ControlServer, type Handler } from './control/server.js';
import { KernelClient } from './kernel/index.js';
// The Kubernetes client is loaded only when kubernetes.enabled (it costs ~75 MiB of RSS).
import type { K8sPeerSource, PeerUpdate } from './k8s/index.js';
import {
  Metrics,
  startMetricsServer,
  type MetricsSnapshot,
  type Readiness,
} from './metrics/server.js';
import {
  dnsResolver,
  execFileRunner,
  ipAddrSource,
  logDecisions,
  resolveNodeIdentity,
  udpReachSource,
  type NodeIdentity,
} from './node/index.js';
import { compilePolicies, type CompiledPolicy } from './policy/index.js';
import { Rib, parsePrefixKey, type BestPathChanges } from './rib/rib.js';
import type { MaxPrefixEvent, PrefixKey } from './rib/types.js';
import { Listener } from './session/listener.js';
import { systemClock, type Clock } from './session/timers.js';
import { needsNewSession, PeerRuntime, samePeerSpec, type PeerSpec } from './daemon/peer.js';
import { policyConfigFrom } from './daemon/policy.js';
import { mergeSpecs, specFromK8s, specsFromConfig } from './daemon/specs.js';
import { peerDetail, peerSummary, ribRows, routeRows, staleCount } from './daemon/views.js';

export class ConfigInvalid extends Error {
  constructor(readonly report: string) {
    super(report);
    this.name = 'ConfigInvalid';
  }
}

export interface DaemonOptions {
  configPath: string;
  env: Env;
  log: Logger;
  /** `--flush-on-exit`: remove our kernel routes on SIGTERM (overrides the config). */
  flushOnExit?: boolean;
  /** `--log-level` was given: it wins over the config's `logLevel`, on reload too. */
  logLevelFixed?: boolean;
  clock?: Clock;
  /** Called after the kernel worker died (logged as fatal). Default: exit the process with 1. */
  onFatal?: (err: Error) => void;
}

/** Seconds to wait for End-of-RIB from every peer before reconciling the kernel anyway. */
const CONVERGE_TIMEOUT_MS = 60_000;

/**
 * The young generation the launcher gave the main thread (`--max-semi-space-size=N`, see
 * cli/main.ts), for the kernel worker too: V8 flags do not reach worker threads, and V8 sizes a
 * young generation at three semi-spaces.
 */
function workerHeapLimits(execArgv: readonly string[]): ResourceLimits | undefined {
  for (const a of execArgv) {
    const m = /^--max[-_]semi[-_]space[-_]size=(\d+)$/.exec(a);
    if (m) return { maxYoungGenerationSizeMb: 3 * Number(m[1]) };
  }
  return undefined;
}

export class Daemon {
  private config: PodbgpConfig;
  private identity!: NodeIdentity;
  private kernel!: KernelClient;
  private rib!: Rib;
  private listener: Listener | null = null;
  private control: ControlServer | null = null;
  private metricsServer: Server | null = null;
  private k8s: K8sPeerSource | null = null;
  private readonly peers = new Map<string, PeerRuntime>();
  private readonly policies = new Map<string, CompiledPolicy>();
  private k8sSpecs: PeerSpec[] = [];
  private k8sBlocks: string[] = [];
  private ownBlocks = new Set<string>();
  /** The own blocks as RIB keys: a withdrawn best path for one of these keeps its blackhole. */
  private ownKeys = new Set<PrefixKey>();
  private localAsn: number;
  private restarting = false;
  private converged = false;
  private stopping = false;
  private readonly startedAt: number;
  private readonly clock: Clock;
  private readonly log: Logger;

  private constructor(
    private readonly opts: DaemonOptions,
    config: PodbgpConfig,
  ) {
    this.config = config;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log;
    this.localAsn = config.node.asn;
    this.startedAt = this.clock.now();
  }

  /** Loads and validates the config; throws ConfigInvalid with every error. */
  static load(opts: DaemonOptions): Daemon {
    const r = loadConfig({ path: opts.configPath }, opts.env);
    if (!r.ok) throw new ConfigInvalid(formatConfigErrors(r.errors));
    for (const w of r.warnings ?? []) opts.log.warn(w);
    return new Daemon(opts, r.config);
  }

  get effectiveConfig(): PodbgpConfig {
    return this.config;
  }

  async start(): Promise<void> {
    const cfg = this.config;
    // 1. Who we are.
    const id = await resolveNodeIdentity(cfg.node, {
      hostname: () => this.opts.env.HOSTNAME ?? os.hostname(),
      interfaces: ipAddrSource(execFileRunner),
      reach: udpReachSource,
      resolve: dnsResolver,
      // `kubernetes-internal-ip`: ask the API for this Node's InternalIP addresses.
      kubernetesInternalIps: async () => {
        if (!cfg.kubernetes.enabled)
          throw new Error('kubernetes-internal-ip needs kubernetes.enabled');
        const name = cfg.node.name ?? (this.opts.env.HOSTNAME ?? os.hostname()).toLowerCase();
        const k8s = await import('./k8s/index.js');
        const kc = k8s.kubeConfigFrom({ kubeconfig: cfg.kubernetes.kubeconfig ?? undefined });
        return k8s.nodeInternalIps(kc, name);
      },
    });
    logDecisions(this.log, id.ok ? id.identity.decisions : id.decisions);
    if (!id.ok) throw new Error(`cannot determine the node identity: ${id.errors.join('; ')}`);
    this.identity = id.identity;
    this.log.info(
      {
        node: id.identity.name,
        asn: id.identity.asn,
        routerId: id.identity.routerId,
        ipv4: id.identity.ipv4?.cidr,
        ipv6: id.identity.ipv6?.cidr,
      },
      'node identity',
    );

    // 2. Adopt the routes a previous run left in the kernel; reconcile only after convergence.
    // The kernel sync runs on its own thread (zebra to our bgpd): the RIB's changes are posted
    // to it in batches, and a dead worker ends the daemon (kernel routes stay for the restart).
    this.kernel = new KernelClient({
      logger: this.log,
      logLevel: this.log.level,
      table: cfg.kernel.table,
      protocol: cfg.kernel.protocol,
      pools: cfg.pools.map((p) => ({ cidr: p.cidr, ipipMode: p.ipipMode })),
      tunnelMtu: cfg.kernel.tunnelMtu ?? undefined,
      convergeTimeoutMs: CONVERGE_TIMEOUT_MS,
      resourceLimits: workerHeapLimits(process.execArgv),
    });
    this.kernel.on('fatal', (err) => this.kernelDied(err));
    this.kernel.on('ipip-unavailable', (reason) =>
      this.log.error(
        { reason },
        'the kernel has no IPIP support: routes that need tunl0 are not installed',
      ),
    );
    this.kernel.on('drift', (entries) =>
      this.log.warn({ entries }, 'kernel routes changed by someone else: repairing'),
    );
    const { adopted } = await this.kernel.start();
    this.restarting = adopted > 0;

    // 3. The RIB, with its policies, feeding the kernel.
    this.compilePolicyMap();
    this.rib = new Rib({
      localAsn: this.localAsn,
      routerId: this.identity.routerId,
      clusterId: cfg.rib.clusterId ?? undefined,
      logger: this.log.child({ component: 'rib' }),
      timers: this.clock,
      policies: this.policies,
      alwaysCompareMed: cfg.rib.alwaysCompareMed,
      maxPaths: cfg.rib.multipathMax,
      // RFC 4271 §9.1.2.1: a route whose next hop cannot be reached is not eligible. Here that
      // is a next hop off every connected segment when no IPIP tunnel can carry the traffic.
      resolveNextHop: (nextHop) => this.kernel.canReach(nextHop),
      onBestPathChanges: (changes) => this.toKernel(changes),
      now: () => this.clock.now(),
      onMaxPrefix: (e) => this.maxPrefix(e),
    });
    this.kernel.on('reachability', () => this.rib.nextHopsChanged());
    this.setOwnBlocks();

    // 4. Sessions: one listener, then every configured peer.
    this.listener = new Listener(
      { address: cfg.listen.address ?? '::', port: cfg.listen.port },
      (remote, socket) => {
        const peer = this.peers.get(remote);
        if (!peer) return false;
        peer.session.acceptIncoming(socket);
        return true;
      },
      this.log,
    );
    await this.listener.listen();
    this.applyPeers();

    // 5. Kubernetes: mesh peers, BGPPeers and our pod blocks.
    if (cfg.kubernetes.enabled) await this.startKubernetes();

    // 6. Operators: control socket and metrics.
    this.control = new ControlServer(cfg.control.socket, this.controlHandlers(), this.log);
    await this.control.listen();
    const metrics = new Metrics(() => this.metricsSnapshot());
    this.metricsServer = await startMetricsServer(
      { host: cfg.metrics.host || '127.0.0.1', port: cfg.metrics.port },
      metrics,
      () => this.readiness(),
    );
    this.checkConverged();
    this.log.info(
      { peers: this.peers.size, socket: cfg.control.socket, metrics: cfg.metrics.listen, adopted },
      'podbgp running',
    );
  }

  // --- routes ---------------------------------------------------------------------------

  private toKernel(changes: BestPathChanges): void {
    if (this.stopping) return;
    // The RIB's IPv4 key (address * 64 + length) is the kernel sync's numeric prefix form.
    for (let i = 0; i < changes.length; i++) {
      if (changes.withdrawn(i)) {
        const key = changes.key(i);
        if (!this.ownKeys.has(key)) this.kernel.update(key, null);
      } else if (!changes.local(i)) {
        const v4 = changes.v4Key(i);
        this.kernel.update(v4 >= 0 ? v4 : changes.key(i), changes.nexthops(i));
      }
    }
  }

  /** The kernel worker is gone: without a FIB writer the daemon must not go on. */
  private kernelDied(err: Error): void {
    this.log.fatal(
      { err },
      `the kernel route sync thread died (${err.message}): exiting; kernel routes stay in place`,
    );
    if (this.opts.onFatal) this.opts.onFatal(err);
    else process.exit(1);
  }

  private setOwnBlocks(): void {
    const next = new Set([...this.config.staticBlocks, ...this.k8sBlocks]);
    for (const b of this.ownBlocks) if (!next.has(b)) this.rib.withdrawOriginated(b);
    for (const b of next) if (!this.ownBlocks.has(b)) this.rib.originate(b);
    this.ownBlocks = next;
    this.ownKeys = new Set([...next].map((b) => parsePrefixKey(b).key));
    this.kernel.setOwnBlocks([...next]);
  }

  private maxPrefix(e: MaxPrefixEvent): void {
    const peer = this.peers.get(e.peer);
    if (!peer) return;
    this.log.warn(
      { peer: e.peer, family: e.family, count: e.count, limit: e.limit },
      'maximum prefixes exceeded',
    );
    peer.session.maxPrefixExceeded(e.family === 'ipv4-unicast' ? 1 : 2, 1, e.limit);
  }

  private compilePolicyMap(): void {
    const subnets = [this.identity.ipv4?.cidr, this.identity.ipv6?.cidr].filter(
      (s): s is string => !!s,
    );
    const compiled = compilePolicies(policyConfigFrom(this.config, subnets), {
      localAsn: this.localAsn,
    });
    this.policies.clear();
    for (const [k, v] of compiled) this.policies.set(k, v);
  }

  // --- peers ----------------------------------------------------------------------------

  /** Brings the sessions in line with the desired peers; untouched peers do not flap. */
  private applyPeers(): void {
    const want = mergeSpecs(specsFromConfig(this.config), this.k8sSpecs);
    for (const [address, peer] of this.peers) {
      const spec = want.get(address);
      if (!spec) {
        this.log.info({ peer: address }, 'peer removed');
        peer.remove('peer removed from configuration');
        this.peers.delete(address);
      } else if (needsNewSession(peer.spec, spec)) {
        this.log.info({ peer: address }, 'peer changed: restarting its session');
        peer.remove('peer configuration changed');
        this.peers.delete(address);
      } else if (!samePeerSpec(peer.spec, spec)) {
        this.log.info({ peer: address }, 'peer policy changed: soft reset');
        peer.reconfigure(spec);
      }
    }
    for (const [address, spec] of want) {
      if (this.peers.has(address)) continue;
      const peer = new PeerRuntime(spec, {
        rib: this.rib,
        log: this.log,
        clock: this.clock,
        dial: (o) => net.connect(o),
        local: () => ({
          asn: this.localAsn,
          routerId: this.identity.routerId,
          hostname: this.identity.name,
          restarting: this.restarting,
        }),
        onProgress: () => this.checkConverged(),
      });
      this.peers.set(address, peer);
      this.log.info({ peer: address, asn: spec.asn, type: spec.type }, 'peer added');
      peer.start();
    }
  }

  /** The RIB has converged once every peer sent End-of-RIB for its families or went down. */
  private checkConverged(): void {
    if (this.converged) return;
    for (const p of this.peers.values()) if (!p.settled) return;
    if (this.config.kubernetes.enabled && this.k8s && !this.k8s.status().synced) return;
    this.converged = true;
    this.restarting = false;
    this.kernel.markConverged();
  }

  private async startKubernetes(): Promise<void> {
    const cfg = this.config;
    const identity = this.identity;
    const { K8sPeerSource, kubeConfigFrom } = await import('./k8s/index.js');
    const kubeConfig = kubeConfigFrom({ kubeconfig: cfg.kubernetes.kubeconfig ?? undefined });
    const cluster = kubeConfig.getCurrentCluster();
    // @kubernetes/client-node refuses plain HTTP unless TLS verification is off; say so now
    // rather than retrying forever as if the API server were down.
    if (cluster?.server.startsWith('http://') && !cluster.skipTLSVerify) {
      throw new Error(
        `kubernetes.kubeconfig: the API server ${cluster.server} is plain HTTP; set insecure-skip-tls-verify: true on the cluster or use https`,
      );
    }
    this.k8s = new K8sPeerSource({
      kubeConfig,
      identity: {
        nodeName: identity.name,
        globalAsn: cfg.node.asn,
        addresses: { ipv4: identity.ipv4?.cidr, ipv6: identity.ipv6?.cidr },
      },
      mesh: cfg.kubernetes.mesh,
      log: this.log.child({ component: 'k8s' }),
      onUpdate: (u) => this.onK8sUpdate(u),
    });
    this.k8s.start();
  }

  private onK8sUpdate(u: PeerUpdate): void {
    if (u.local.asn !== this.localAsn) {
      this.log.warn(
        { configured: this.localAsn, annotated: u.local.asn },
        'node ASN annotation differs: restart to apply',
      );
    }
    this.k8sSpecs = this.k8s ? this.k8s.peers().map(specFromK8s) : [];
    this.k8sBlocks = [...u.blocks.current];
    this.setOwnBlocks();
    this.applyPeers();
    this.checkConverged();
  }

  // --- reload and shutdown --------------------------------------------------------------

  /** SIGHUP: a valid new config replaces the old; only changed peers and policies are touched. */
  reload(): boolean {
    const r = loadConfig({ path: this.opts.configPath }, this.opts.env);
    if (!r.ok) {
      this.log.error(
        { errors: r.errors },
        `config reload rejected; keeping the running config:\n${formatConfigErrors(r.errors)}`,
      );
      return false;
    }
    const diff = diffConfigs(this.config, r.config);
    if (diff.restartRequired.length > 0) {
      this.log.warn(
        { fields: diff.restartRequired },
        'some changes need a restart to take effect; the rest is applied now',
      );
    }
    if (!this.opts.logLevelFixed && r.config.logLevel !== this.config.logLevel) {
      // pino children follow their parent's level unless one was set on them.
      this.log.level = r.config.logLevel;
      this.kernel.setLogLevel(r.config.logLevel);
      this.log.info({ level: r.config.logLevel }, 'log level changed');
    }
    this.config = r.config;
    const poolsChanged = diff.sections.includes('pools');
    if (poolsChanged) {
      // New pools: new IPIP modes for the kernel and a new pool filter for every peer.
      this.kernel.setPools(r.config.pools.map((p) => ({ cidr: p.cidr, ipipMode: p.ipipMode })));
      this.compilePolicyMap();
      for (const p of this.peers.values()) p.reconfigure(p.spec);
      this.rib.nextHopsChanged();
    } else if (
      diff.policies.added.length + diff.policies.removed.length + diff.policies.changed.length >
      0
    ) {
      this.compilePolicyMap();
      const changed = new Set([
        ...diff.policies.changed,
        ...diff.policies.added,
        ...diff.policies.removed,
      ]);
      for (const p of this.peers.values())
        if (p.spec.policy && changed.has(p.spec.policy)) p.reconfigure(p.spec);
    }
    this.setOwnBlocks();
    this.applyPeers();
    this.log.info(
      { added: diff.peers.added.length, removed: diff.peers.removed.length },
      'config reloaded',
    );
    return true;
  }

  /**
   * SIGTERM: Cease / Administrative Shutdown to every peer, then close. Kernel routes stay
   * (graceful restart keeps forwarding) unless flush-on-exit was asked for.
   */
  async shutdown(): Promise<void> {
    this.log.info('shutting down: sending Cease to every peer, keeping kernel routes');
    // Detach the kernel first: withdrawals caused by our own Cease must not reach it.
    this.stopping = true;
    const flush = this.opts.flushOnExit ?? this.config.kernel.flushOnExit;
    await this.kernel.stop({ flush });
    // A plain Cease (not Hard Reset): RFC 8538 peers keep our routes until we are back.
    for (const p of this.peers.values()) p.session.stop('podbgp is restarting', { graceful: true });
    await new Promise((r) => setTimeout(r, 200));
    for (const p of this.peers.values()) p.session.destroy();
    await this.listener?.close();
    await this.control?.close();
    await this.k8s?.stop();
    await new Promise<void>((r) =>
      this.metricsServer ? this.metricsServer.close(() => r()) : r(),
    );
    this.log.info({ flushed: flush }, 'stopped');
  }

  // --- operators ------------------------------------------------------------------------

  private peerOrThrow(address: unknown): PeerRuntime {
    const p = this.peers.get(String(address));
    if (!p) throw new Error(`no such peer: ${String(address)}`);
    return p;
  }

  private controlHandlers(): Partial<Record<Command, Handler>> {
    return {
      'show-peers': () => [...this.peers.values()].map(peerSummary),
      'show-peer': (a) => {
        const p = this.peerOrThrow(a.address);
        return peerDetail(p, this.localAsn, staleCount(this.rib, p));
      },
      'show-routes': async (a) => ({
        routes: await routeRows(this.rib, this.kernel, {
          prefix: typeof a.prefix === 'string' ? a.prefix : undefined,
          peer: typeof a.peer === 'string' ? a.peer : undefined,
          family: a.family === 'ipv4' || a.family === 'ipv6' ? a.family : undefined,
          all: a.all === true,
        }),
      }),
      'show-rib': async (a) => ({
        routes: await ribRows(
          this.rib,
          this.peerOrThrow(a.address),
          a.direction === 'out' ? 'out' : 'in',
          this.kernel,
        ),
      }),
      'show-kernel': () => this.kernel.status(),
      'show-node': () => ({
        ...this.identity,
        kubernetes: this.k8s ? this.k8s.status() : null,
        startedAt: this.startedAt,
        converged: this.converged,
        // The node's own pod blocks (static and from Kubernetes), announced and blackholed.
        blocks: [...this.ownBlocks].sort(),
      }),
      'show-config': () => this.config,
      'peer-reset': (a) => {
        const p = this.peerOrThrow(a.address);
        if (a.soft === 'in') {
          const done = ['ipv4-unicast', 'ipv6-unicast'].map((f) => {
            if (this.rib.softResetIn(p.ribPeer, f as 'ipv4-unicast')) return true;
            return p.session.requestRefresh(f === 'ipv4-unicast' ? 1 : 2, 1);
          });
          return done.some(Boolean)
            ? 'soft reset in requested'
            : 'peer does not support route refresh';
        }
        if (a.soft === 'out') {
          this.rib.softResetOut(p.ribPeer);
          return 'soft reset out done';
        }
        p.session.reset(typeof a.message === 'string' ? a.message : 'reset by operator');
        return 'session reset';
      },
      'peer-disable': (a) => {
        this.peerOrThrow(a.address).session.stop(
          typeof a.message === 'string' ? a.message : 'disabled by operator',
        );
        return 'peer disabled';
      },
      'peer-enable': (a) => {
        const p = this.peerOrThrow(a.address);
        if (!p.session.isEnabled) p.session.start();
        return 'peer enabled';
      },
    };
  }

  private async metricsSnapshot(): Promise<MetricsSnapshot> {
    const k = await this.kernel.status({ routes: false });
    const now = this.clock.now();
    return {
      peers: [...this.peers.values()].map((p) => {
        const s = peerSummary(p);
        return {
          address: s.address,
          type: s.type,
          state: s.state,
          uptimeSeconds: s.state === 'Established' ? Math.floor((now - s.since) / 1000) : 0,
          messagesIn: { ...p.session.counters.in },
          messagesOut: { ...p.session.counters.out },
          received: s.prefixes.received,
          accepted: s.prefixes.accepted,
          advertised: s.prefixes.advertised,
          decodeErrors: { ...p.session.counters.decodeErrors },
        };
      }),
      kernelRoutes: { ...k.counts.byShape },
      kernelNotInstalled: k.counts.notInstalled,
      reconciles: k.reconciles,
      reconcileErrors: k.reconcileErrors,
      driftRepaired: k.driftRepaired,
    };
  }

  private readiness(): Readiness {
    const notUp = [...this.peers.values()]
      .filter((p) => p.session.isEnabled && p.session.state !== 'Established')
      .map((p) => p.spec.address);
    const graceOver =
      this.clock.now() - this.startedAt >= this.config.metrics.readyGraceTime * 1000;
    if (notUp.length === 0) return { ready: true, notUp, reason: 'every peer is Established' };
    if (graceOver) return { ready: true, notUp, reason: 'grace time passed' };
    return { ready: false, notUp, reason: 'waiting for peers' };
  }
}
