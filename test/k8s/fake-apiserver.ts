// A small Kubernetes API server for tests: nodes and podbgp.io/v1 bgppeers over HTTP on 127.0.0.1,
// speaking list/watch (resourceVersion, JSON-line events, BOOKMARK, 410 Gone as HTTP status or as
// an ERROR event), GET and merge PATCH of nodes, RBAC checks, and stop/start on the same port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
}

type Resource = 'nodes' | 'bgppeers';
type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface Collection {
  resource: Resource;
  apiVersion: string;
  kind: string;
  path: string;
  objects: Map<string, KObject>;
  log: Array<{ rv: number; type: EventType; object: KObject }>;
}

interface Watcher {
  coll: Collection;
  res: ServerResponse;
  bookmarks: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

export interface RequestRecord {
  method: string;
  path: string;
  verb: string;
  resource: string;
  name?: string;
  query: Record<string, string>;
  contentType?: string;
  body?: unknown;
  status: number;
}

export interface FakeApiServerOptions {
  /** How an expired resourceVersion is reported on watch: HTTP 410, or a 200 stream carrying an ERROR event. */
  goneMode?: 'status' | 'event';
  /** "verb resource" pairs allowed (e.g. "list nodes"); everything else gets 403. Undefined: allow all. */
  allow?: Set<string>;
  /** Serve bgppeers (the CRD is installed). Default true. */
  crdInstalled?: boolean;
}

const clone = <T>(v: T): T => structuredClone(v);

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return clone(patch);
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class FakeApiServer {
  readonly requests: RequestRecord[] = [];
  goneMode: 'status' | 'event';
  allow: Set<string> | undefined;
  crdInstalled: boolean;
  /** Accept watches, send headers, then say nothing and never time out (a dead connection). */
  hangWatches = false;
  private rv = 100;
  /** Watches from a resourceVersion below this get 410 Gone. */
  private compactedRv = 0;
  private uid = 0;
  private server: Server | undefined;
  private port = 0;
  private readonly watchers = new Set<Watcher>();
  private readonly hung = new Set<ServerResponse>();
  private readonly colls: Record<Resource, Collection> = {
    nodes: {
      resource: 'nodes',
      apiVersion: 'v1',
      kind: 'Node',
      path: '/api/v1/nodes',
      objects: new Map(),
      log: [],
    },
    bgppeers: {
      resource: 'bgppeers',
      apiVersion: 'podbgp.io/v1',
      kind: 'BGPPeer',
      path: '/apis/podbgp.io/v1/bgppeers',
      objects: new Map(),
      log: [],
    },
  };

  constructor(opts: FakeApiServerOptions = {}) {
    this.goneMode = opts.goneMode ?? 'status';
    this.allow = opts.allow;
    this.crdInstalled = opts.crdInstalled ?? true;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A KubeConfig for the real client-node that points here. */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'podbgp', token: 'test-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'podbgp' }],
      currentContext: 'fake',
    });
    return kc;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Stop as a crashed API server would: every open watch and connection is cut. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const w of this.watchers) {
      clearTimeout(w.timer);
      w.res.destroy();
    }
    this.watchers.clear();
    for (const h of this.hung) h.destroy();
    this.hung.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** The watch history before now is lost (as after an API server restart with a new cache). */
  compact(): void {
    this.rv++;
    this.compactedRv = this.rv;
  }

  /** Send a 410 Gone ERROR event to every open watch and end it, like an expired watch cache. */
  expireWatches(): void {
    this.compact();
    for (const w of [...this.watchers]) {
      this.writeEvent(w, {
        type: 'ERROR',
        object: this.goneStatus(),
      });
      this.endWatch(w);
    }
  }

  /** Send a BOOKMARK carrying the current resourceVersion to every watch that asked for them. */
  bookmark(): number {
    let n = 0;
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      this.writeEvent(w, {
        type: 'BOOKMARK',
        object: {
          kind: w.coll.kind,
          apiVersion: w.coll.apiVersion,
          metadata: { resourceVersion: String(this.rv) },
        },
      });
      n++;
    }
    return n;
  }

  openWatches(resource?: Resource): number {
    return [...this.watchers].filter((w) => !resource || w.coll.resource === resource).length;
  }

  // --- state changes (what kubectl or the kubelet would do) ---

  get(resource: Resource, name: string): KObject | undefined {
    const o = this.colls[resource].objects.get(name);
    return o ? clone(o) : undefined;
  }

  create(resource: Resource, obj: KObject): KObject {
    const c = this.colls[resource];
    if (c.objects.has(obj.metadata.name))
      throw new Error(`${resource}/${obj.metadata.name} exists`);
    const o = clone(obj);
    o.apiVersion = c.apiVersion;
    o.kind = c.kind;
    o.metadata.uid = `uid-${++this.uid}`;
    return this.commit(c, 'ADDED', o);
  }

  update(resource: Resource, name: string, mutate: (o: KObject) => void): KObject {
    const c = this.colls[resource];
    const cur = c.objects.get(name);
    if (!cur) throw new Error(`${resource}/${name} not found`);
    const o = clone(cur);
    mutate(o);
    return this.commit(c, 'MODIFIED', o);
  }

  delete(resource: Resource, name: string): void {
    const c = this.colls[resource];
    const cur = c.objects.get(name);
    if (!cur) throw new Error(`${resource}/${name} not found`);
    this.commit(c, 'DELETED', clone(cur));
  }

  private commit(c: Collection, type: EventType, o: KObject): KObject {
    this.rv++;
    o.metadata.resourceVersion = String(this.rv);
    if (type === 'DELETED') c.objects.delete(o.metadata.name);
    else c.objects.set(o.metadata.name, o);
    c.log.push({ rv: this.rv, type, object: clone(o) });
    for (const w of this.watchers) {
      if (w.coll === c) this.writeEvent(w, { type, object: o });
    }
    return clone(o);
  }

  // --- HTTP ---

  private goneStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'too old resource version',
      reason: 'Expired',
      code: 410,
    };
  }

  private writeEvent(w: Watcher, ev: unknown): void {
    if (!w.res.writableEnded) w.res.write(JSON.stringify(ev) + '\n');
  }

  private endWatch(w: Watcher): void {
    clearTimeout(w.timer);
    this.watchers.delete(w);
    if (!w.res.writableEnded) w.res.end();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        this.route(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        this.status(res, 500, String(err));
      }
    });
  }

  private status(res: ServerResponse, code: number, message: string, reason = ''): void {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        message,
        reason,
        code,
      }),
    );
  }

  private route(req: IncomingMessage, res: ServerResponse, bodyText: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams.entries());
    const method = req.method ?? 'GET';
    let coll: Collection | undefined;
    let name: string | undefined;
    for (const c of Object.values(this.colls)) {
      if (url.pathname === c.path) coll = c;
      else if (url.pathname.startsWith(c.path + '/')) {
        coll = c;
        name = decodeURIComponent(url.pathname.slice(c.path.length + 1));
      }
    }
    const verb =
      method === 'GET'
        ? name
          ? 'get'
          : query.watch === 'true' || query.watch === '1'
            ? 'watch'
            : 'list'
        : method.toLowerCase();
    const contentType = req.headers['content-type'];
    let body: unknown;
    if (bodyText) {
      try {
        body = JSON.parse(bodyText);
      } catch {
        body = bodyText;
      }
    }
    const record: RequestRecord = {
      method,
      path: url.pathname,
      verb,
      resource: coll?.resource ?? url.pathname,
      ...(name !== undefined ? { name } : {}),
      query,
      ...(contentType ? { contentType } : {}),
      ...(body !== undefined ? { body } : {}),
      status: 200,
    };
    this.requests.push(record);
    const fail = (code: number, msg: string, reason = ''): void => {
      record.status = code;
      this.status(res, code, msg, reason);
    };

    if (!coll || (coll.resource === 'bgppeers' && !this.crdInstalled)) {
      return fail(404, `the server could not find the requested resource`, 'NotFound');
    }
    if (this.allow && !this.allow.has(`${verb} ${coll.resource}`)) {
      return fail(403, `${verb} ${coll.resource} is forbidden`, 'Forbidden');
    }
    if (verb === 'list') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          apiVersion: coll.apiVersion,
          kind: `${coll.kind}List`,
          metadata: { resourceVersion: String(this.rv) },
          items: [...coll.objects.values()],
        }),
      );
      return;
    }
    if (verb === 'watch') return this.watch(coll, query, res, record);
    if (verb === 'get' && name !== undefined) {
      const o = coll.objects.get(name);
      if (!o) return fail(404, `${coll.resource} "${name}" not found`, 'NotFound');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(o));
      return;
    }
    if (verb === 'patch' && name !== undefined && coll.resource === 'nodes') {
      const cur = coll.objects.get(name);
      if (!cur) return fail(404, `nodes "${name}" not found`, 'NotFound');
      const ct = (contentType ?? '').split(';')[0].trim();
      // Strategic merge of metadata.annotations (a map) is the same as a JSON merge patch.
      if (
        ct !== 'application/merge-patch+json' &&
        ct !== 'application/strategic-merge-patch+json'
      ) {
        return fail(415, `unsupported patch type ${ct}`, 'UnsupportedMediaType');
      }
      if (typeof body !== 'object' || body === null) return fail(400, 'bad patch body');
      const next = mergePatch(cur, body) as KObject;
      next.metadata.name = name;
      const out = this.commit(coll, 'MODIFIED', next);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(out));
      return;
    }
    fail(405, `${method} not supported here`, 'MethodNotAllowed');
  }

  private watch(
    coll: Collection,
    query: Record<string, string>,
    res: ServerResponse,
    record: RequestRecord,
  ): void {
    const from = query.resourceVersion ?? '';
    const fromRv = from === '' || from === '0' ? undefined : Number(from);
    const expired = fromRv !== undefined && (!Number.isFinite(fromRv) || fromRv < this.compactedRv);
    if (expired && this.goneMode === 'status') {
      record.status = 410;
      this.status(res, 410, 'too old resource version', 'Expired');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    if (this.hangWatches) {
      record.status = 0; // never answered
      res.on('close', () => this.hung.delete(res));
      this.hung.add(res);
      return;
    }
    const w: Watcher = { coll, res, bookmarks: query.allowWatchBookmarks === 'true' };
    this.watchers.add(w);
    res.on('close', () => {
      clearTimeout(w.timer);
      this.watchers.delete(w);
    });
    if (expired) {
      record.status = 410;
      this.writeEvent(w, { type: 'ERROR', object: this.goneStatus() });
      this.endWatch(w);
      return;
    }
    if (fromRv === undefined) {
      for (const o of coll.objects.values()) this.writeEvent(w, { type: 'ADDED', object: o });
    } else {
      for (const e of coll.log) {
        if (e.rv > fromRv) this.writeEvent(w, { type: e.type, object: e.object });
      }
    }
    const timeout = Number(query.timeoutSeconds);
    if (Number.isFinite(timeout) && timeout > 0) {
      w.timer = setTimeout(() => this.endWatch(w), timeout * 1000);
    }
  }
}

/** A Node object as the kubelet and the node controller would create it. */
export function makeNode(
  name: string,
  opts: {
    internalIP?: string | string[];
    podCIDRs?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  } = {},
): KObject {
  const ips = opts.internalIP === undefined ? [] : [opts.internalIP].flat();
  return {
    metadata: {
      name,
      labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', ...(opts.annotations ?? {}) },
    },
    spec: {
      ...(opts.podCIDRs ? { podCIDR: opts.podCIDRs[0], podCIDRs: opts.podCIDRs } : {}),
    },
    status: {
      addresses: [
        ...ips.map((address) => ({ type: 'InternalIP', address })),
        { type: 'Hostname', address: name },
      ],
    },
  };
}

export function makeBgpPeer(name: string, spec: Record<string, unknown>): KObject {
  return { metadata: { name }, spec };
}
