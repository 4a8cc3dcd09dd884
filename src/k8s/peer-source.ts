// The Kubernetes side of the daemon: watches Nodes and BGPPeers, keeps this node's annotations,
// and emits incremental desired-peer and own-block updates. Never withdraws on an API outage:
// the informer caches survive it, and only a successful re-list can remove anything.
// RFC 4456 (route-reflector topology) via peer-set.ts.
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type KubernetesListObject,
  type V1Node,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { NodeAnnotator, mergePatchAnnotations, type AnnotationPatcher } from './annotator.js';
import { parseBgpPeer, type BgpPeer, type BgpPeerObject } from './bgppeer.js';
import { readNode, type NodeInfo, type NodeObject } from './node-info.js';
import { computePeers, diffPeers, isEmptyDiff, localState } from './peer-set.js';
import {
  ResilientInformer,
  errorCode,
  errorText,
  realTimers,
  type Timers,
} from './resilient-informer.js';
import {
  BGPPEER_GROUP,
  BGPPEER_PLURAL,
  BGPPEER_VERSION,
  type ApiStatus,
  type BackoffOptions,
  type DesiredPeer,
  type LocalNodeIdentity,
  type LocalNodeState,
  type PeerUpdate,
} from './types.js';

export interface K8sPeerSourceOptions {
  /** Points at the API server; see kubeConfigFrom(). */
  kubeConfig: KubeConfig;
  identity: LocalNodeIdentity;
  /** Node-to-node full mesh when no reflector exists. Default true. */
  mesh?: boolean;
  /** Write this node's address annotations. Default true. */
  annotate?: boolean;
  log: Logger;
  /** Called with each non-empty change, the first time with `initial: true`. */
  onUpdate(update: PeerUpdate): void;
  /** Called when the API connection status changes. */
  onStatus?(status: ApiStatus): void;
  backoff?: BackoffOptions;
  watchTimeoutSeconds?: number;
  listTimeoutMs?: number;
  timers?: Timers;
  now?: () => number;
  /** Replaces the real merge-patch call (tests of failure paths). */
  patcher?: AnnotationPatcher;
}

type BgpPeerKObject = BgpPeerObject & { metadata?: { name?: string } };

/** Build a KubeConfig from a kubeconfig file, or from the in-cluster service account when absent. */
export function kubeConfigFrom(opts: { kubeconfig?: string }): KubeConfig {
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromCluster();
  return kc;
}

export const NODES_PATH = '/api/v1/nodes';
export const BGPPEERS_PATH = `/apis/${BGPPEER_GROUP}/${BGPPEER_VERSION}/${BGPPEER_PLURAL}`;

export class K8sPeerSource {
  private identity: LocalNodeIdentity;
  private mesh: boolean;
  private readonly log: Logger;
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly nodesInf: ResilientInformer<V1Node>;
  private readonly peersInf: ResilientInformer<BgpPeerKObject>;
  private readonly annotator: NodeAnnotator | undefined;

  private readonly rawNodes = new Map<string, NodeObject>();
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly bgpPeers = new Map<string, BgpPeer>();
  private readonly badPeers = new Map<string, string>();
  private readonly nodeWarnings = new Map<string, string>();

  private current = new Map<string, DesiredPeer>();
  private blocks: string[] = [];
  private emittedInitial = false;
  private flushScheduled = false;
  private nodesSynced = false;
  private peersSynced = false;
  private readonly health = { nodes: true, bgppeers: true };
  private st: ApiStatus = { synced: false, connected: false };
  private lastConflicts = '';
  private synced: Promise<void>;
  private resolveSynced!: () => void;

  constructor(private readonly opts: K8sPeerSourceOptions) {
    this.identity = structuredClone(opts.identity);
    this.mesh = opts.mesh ?? true;
    this.log = opts.log.child({ component: 'k8s' });
    this.timers = opts.timers ?? realTimers;
    this.now = opts.now ?? Date.now;
    this.synced = new Promise((r) => (this.resolveSynced = r));

    const core = opts.kubeConfig.makeApiClient(CoreV1Api);
    const custom = opts.kubeConfig.makeApiClient(CustomObjectsApi);
    const common = {
      kubeConfig: opts.kubeConfig,
      log: this.log,
      backoff: opts.backoff,
      watchTimeoutSeconds: opts.watchTimeoutSeconds,
      listTimeoutMs: opts.listTimeoutMs,
      timers: this.timers,
      now: this.now,
    };

    this.nodesInf = new ResilientInformer<V1Node>({
      ...common,
      path: NODES_PATH,
      list: () => core.listNode(),
      onAdd: (n) => this.nodeChanged(n),
      onUpdate: (n) => this.nodeChanged(n),
      onDelete: (n) => this.nodeDeleted(n),
      onListed: () => {
        this.nodesSynced = true;
        this.schedule();
      },
      onHealthy: () => this.setHealth('nodes', true),
      onFailure: (err, retry) => this.failure('nodes', err, retry),
    });

    this.peersInf = new ResilientInformer<BgpPeerKObject>({
      ...common,
      path: BGPPEERS_PATH,
      list: async () =>
        (await custom.listClusterCustomObject({
          group: BGPPEER_GROUP,
          version: BGPPEER_VERSION,
          plural: BGPPEER_PLURAL,
        })) as KubernetesListObject<BgpPeerKObject>,
      onAdd: (p) => this.peerChanged(p),
      onUpdate: (p) => this.peerChanged(p),
      onDelete: (p) => this.peerDeleted(p),
      onListed: () => {
        this.peersSynced = true;
        this.schedule();
      },
      onHealthy: () => this.setHealth('bgppeers', true),
      onFailure: (err, retry) => this.failure('bgppeers', err, retry),
    });

    if (opts.annotate ?? true) {
      this.annotator = new NodeAnnotator({
        nodeName: this.identity.nodeName,
        addresses: this.identity.addresses,
        patch: opts.patcher ?? mergePatchAnnotations(core),
        log: this.log,
        backoff: opts.backoff,
        timers: this.timers,
      });
    }
  }

  start(): void {
    this.nodesInf.start();
    this.peersInf.start();
  }

  async stop(): Promise<void> {
    this.annotator?.stop();
    await Promise.all([this.nodesInf.stop(), this.peersInf.stop()]);
  }

  /** Resolves after the first update (both collections listed, or BGPPeers known absent). */
  whenSynced(): Promise<void> {
    return this.synced;
  }

  /** The desired peers as last emitted, sorted by address. */
  peers(): DesiredPeer[] {
    return [...this.current.values()].sort((a, b) => (a.address < b.address ? -1 : 1));
  }

  /** This node's state as last emitted. */
  local(): LocalNodeState {
    return { ...localState(this.input()), blocks: [...this.blocks] };
  }

  status(): ApiStatus {
    return { ...this.st };
  }

  /**
   * Apply a new identity or mesh setting (config reload). Peers recompute; only the difference
   * is emitted, and the annotations follow the new addresses.
   */
  reconfigure(identity: LocalNodeIdentity, mesh: boolean = this.mesh): void {
    if (identity.nodeName !== this.identity.nodeName) {
      throw new Error('the node name cannot change while running');
    }
    const asnChanged = identity.globalAsn !== this.identity.globalAsn;
    this.identity = structuredClone(identity);
    this.mesh = mesh;
    if (asnChanged) {
      for (const [name, raw] of this.rawNodes) {
        const info = readNode(raw, this.identity.globalAsn);
        if (info) this.nodes.set(name, info);
      }
    }
    this.annotator?.setAddresses(this.identity.addresses);
    this.schedule();
  }

  // --- informer events ---

  private nodeChanged(n: NodeObject): void {
    const info = readNode(n, this.identity.globalAsn);
    if (!info) return;
    this.rawNodes.set(info.name, n);
    this.nodes.set(info.name, info);
    const w = info.warnings.join('; ');
    if (w && this.nodeWarnings.get(info.name) !== w) {
      this.log.warn({ node: info.name, problems: info.warnings }, 'node has invalid podbgp data');
    }
    if (w) this.nodeWarnings.set(info.name, w);
    else this.nodeWarnings.delete(info.name);
    if (info.name === this.identity.nodeName) this.annotator?.observe(n);
    this.schedule();
  }

  private nodeDeleted(n: NodeObject): void {
    const name = n.metadata?.name;
    if (!name) return;
    this.rawNodes.delete(name);
    this.nodes.delete(name);
    this.nodeWarnings.delete(name);
    if (name === this.identity.nodeName) this.annotator?.observe(undefined);
    this.schedule();
  }

  private peerChanged(obj: BgpPeerKObject): void {
    const name = obj.metadata?.name ?? '';
    const res = parseBgpPeer(obj);
    if (res.ok) {
      this.bgpPeers.set(res.peer.name, res.peer);
      this.badPeers.delete(name);
    } else {
      // An invalid resource selects nothing; its previous valid version is dropped too.
      this.bgpPeers.delete(name);
      const text = res.errors.join('; ');
      if (this.badPeers.get(name) !== text) {
        this.log.warn({ bgppeer: name, errors: res.errors }, 'ignoring invalid BGPPeer');
      }
      this.badPeers.set(name, text);
    }
    this.schedule();
  }

  private peerDeleted(obj: BgpPeerKObject): void {
    const name = obj.metadata?.name ?? '';
    this.bgpPeers.delete(name);
    this.badPeers.delete(name);
    this.schedule();
  }

  // --- health ---

  private setHealth(which: 'nodes' | 'bgppeers', ok: boolean, err?: unknown): void {
    this.health[which] = ok;
    if (!ok) {
      const first = this.st.outageSince === undefined;
      this.st = {
        ...this.st,
        connected: false,
        outageSince: this.st.outageSince ?? this.now(),
        lastError: errorText(err),
      };
      if (first) {
        // Log once per outage; the informers retry with backoff on their own.
        this.log.warn(
          { err: errorText(err), peers: this.current.size, blocks: this.blocks.length },
          'Kubernetes API unreachable; keeping current peers and blocks, withdrawing nothing',
        );
        this.opts.onStatus?.(this.status());
      }
      return;
    }
    if (!this.health.nodes || !this.health.bgppeers || this.st.connected) return;
    const since = this.st.outageSince;
    this.st = { synced: this.st.synced, connected: true };
    if (since !== undefined) {
      this.log.info({ downForMs: this.now() - since }, 'Kubernetes API reachable again');
    }
    this.opts.onStatus?.(this.status());
  }

  private failure(which: 'nodes' | 'bgppeers', err: unknown, retryInMs: number): void {
    const code = errorCode(err);
    this.log.debug({ resource: which, err: errorText(err), retryInMs }, 'list/watch failed');
    if (which === 'bgppeers' && (code === 404 || code === 403)) {
      // The CRD is not installed (404) or RBAC does not allow it (403): run with nodes only,
      // and keep retrying in case it appears.
      if (!this.peersSynced) {
        this.log.warn(
          { err: errorText(err) },
          code === 404
            ? 'BGPPeer CRD not installed; running without BGPPeer resources'
            : 'not allowed to list BGPPeers (RBAC); running without BGPPeer resources',
        );
        this.peersSynced = true;
        this.schedule();
      }
      return;
    }
    this.setHealth(which, false, err);
  }

  // --- recompute and emit ---

  private input(): Parameters<typeof computePeers>[0] {
    return { identity: this.identity, mesh: this.mesh, nodes: this.nodes, bgpPeers: this.bgpPeers };
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Coalesce the events of one list or one burst into a single update.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (!this.nodesSynced || !this.peersSynced) return;
    const input = this.input();
    const { peers, conflicts } = computePeers(input);
    const c = conflicts.join('\n');
    if (c && c !== this.lastConflicts) this.log.warn({ conflicts }, 'conflicting peer definitions');
    this.lastConflicts = c;
    const diff = diffPeers(this.current, peers);
    const local = localState(input);
    const prevBlocks = new Set(this.blocks);
    const nextBlocks = new Set(local.blocks);
    const added = local.blocks.filter((b) => !prevBlocks.has(b));
    const removed = this.blocks.filter((b) => !nextBlocks.has(b));
    const initial = !this.emittedInitial;
    if (!initial && isEmptyDiff(diff) && added.length === 0 && removed.length === 0) return;
    this.current = peers;
    this.blocks = [...local.blocks];
    this.emittedInitial = true;
    if (initial) {
      this.st = { ...this.st, synced: true };
      if (!this.nodes.has(this.identity.nodeName)) {
        this.log.warn({ node: this.identity.nodeName }, 'this node has no Node object; no blocks');
      }
    }
    this.log.info(
      {
        added: diff.added.map((p) => p.address),
        changed: diff.changed.map((p) => p.address),
        removed: diff.removed.map((p) => p.address),
        blocks: local.blocks,
      },
      initial ? 'initial peer set from Kubernetes' : 'peer set changed',
    );
    this.opts.onUpdate({
      initial,
      peers: diff,
      blocks: { added, removed, current: [...local.blocks] },
      local,
    });
    if (initial) {
      this.resolveSynced();
      this.opts.onStatus?.(this.status());
    }
  }
}
