// Test helpers for the Kubernetes integration: a fake API server that enforces examples/rbac.yaml,
// K8sPeerSource instances recording their updates, and polling with a deadline.
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';
import { K8sPeerSource, type K8sPeerSourceOptions } from '../../src/k8s/peer-source.js';
import type { ApiStatus, LocalNodeIdentity, PeerUpdate } from '../../src/k8s/types.js';
import { FakeApiServer, type FakeApiServerOptions } from './fake-apiserver.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** The "verb resource" pairs that examples/rbac.yaml grants. */
export function rbacGrants(): Set<string> {
  const docs = parseAllDocuments(
    readFileSync(new URL('../../examples/rbac.yaml', import.meta.url), 'utf8'),
  ).map((d) => d.toJS() as { kind: string; rules?: Rule[] });
  const role = docs.find((d) => d.kind === 'ClusterRole');
  const out = new Set<string>();
  for (const r of role?.rules ?? []) {
    for (const res of r.resources) for (const v of r.verbs) out.add(`${v} ${res}`);
  }
  return out;
}

export async function startServer(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const s = new FakeApiServer({ allow: rbacGrants(), ...opts });
  await s.start();
  return s;
}

export interface Recorder {
  source: K8sPeerSource;
  updates: PeerUpdate[];
  statuses: ApiStatus[];
  logs: Array<{ level: number; msg: string }>;
}

export const FAST_BACKOFF = { initialMs: 50, maxMs: 300 };

export function makeSource(
  server: FakeApiServer,
  identity: LocalNodeIdentity,
  extra: Partial<K8sPeerSourceOptions> = {},
): Recorder {
  const updates: PeerUpdate[] = [];
  const statuses: ApiStatus[] = [];
  const logs: Array<{ level: number; msg: string }> = [];
  const log = pino(
    { level: 'debug' },
    {
      write(line: string) {
        const o = JSON.parse(line) as { level: number; msg: string };
        logs.push({ level: o.level, msg: o.msg });
      },
    },
  );
  const source = new K8sPeerSource({
    kubeConfig: server.kubeConfig(),
    identity,
    log,
    backoff: FAST_BACKOFF,
    listTimeoutMs: 5000,
    onUpdate: (u) => updates.push(structuredClone(u)),
    onStatus: (s) => statuses.push(s),
    ...extra,
  });
  return { source, updates, statuses, logs };
}

/** Poll until `pred` holds; fail with `what` after `ms`. */
export async function waitFor(pred: () => boolean, what: string, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Addresses of a list of peers, sorted. */
export const addrs = (ps: Array<{ address: string }>): string[] => ps.map((p) => p.address).sort();
