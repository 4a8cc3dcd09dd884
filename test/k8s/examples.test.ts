// The Kubernetes manifests in examples/: RBAC grants exactly what the daemon uses, and the BGPPeer
// CRD matches the resource the daemon reads (group, version, scope, fields, limits).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { parseBgpPeer } from '../../src/k8s/bgppeer.js';
import { BGPPEER_GROUP, BGPPEER_PLURAL, BGPPEER_VERSION } from '../../src/k8s/types.js';

type Doc = Record<string, unknown> & {
  kind: string;
  metadata: { name: string; namespace?: string };
};
const load = (f: string): Doc[] =>
  parseAllDocuments(readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8')).map(
    (d) => d.toJS() as Doc,
  );

t.test('rbac.yaml grants exactly get/list/watch/patch nodes and list/watch bgppeers', async (t) => {
  const docs = load('rbac.yaml');
  t.same(docs.map((d) => d.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'ServiceAccount']);
  const role = docs.find((d) => d.kind === 'ClusterRole') as Doc & {
    rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
  };
  const grants = new Set<string>();
  for (const r of role.rules) {
    for (const g of r.apiGroups)
      for (const res of r.resources) for (const v of r.verbs) grants.add(`${g}/${res}:${v}`);
  }
  t.same(
    [...grants].sort(),
    [
      '/nodes:get',
      '/nodes:list',
      '/nodes:patch',
      '/nodes:watch',
      'podbgp.io/bgppeers:list',
      'podbgp.io/bgppeers:watch',
    ],
    'no more, no less',
  );
  const sa = docs.find((d) => d.kind === 'ServiceAccount');
  const binding = docs.find((d) => d.kind === 'ClusterRoleBinding') as Doc & {
    roleRef: { kind: string; name: string };
    subjects: Array<{ kind: string; name: string; namespace: string }>;
  };
  t.same(binding.roleRef, {
    apiGroup: 'rbac.authorization.k8s.io',
    kind: 'ClusterRole',
    name: role.metadata.name,
  });
  t.same(binding.subjects, [
    { kind: 'ServiceAccount', name: sa?.metadata.name, namespace: sa?.metadata.namespace },
  ]);
});

t.test('crd-bgppeer.yaml describes what the daemon reads', async (t) => {
  const [crd] = load('crd-bgppeer.yaml') as Array<
    Doc & {
      spec: {
        group: string;
        scope: string;
        names: { kind: string; plural: string };
        versions: Array<{
          name: string;
          served: boolean;
          storage: boolean;
          schema: {
            openAPIV3Schema: {
              properties: {
                spec: {
                  required: string[];
                  properties: Record<string, { type: string; minimum?: number; maximum?: number }>;
                };
              };
            };
          };
        }>;
      };
    }
  >;
  t.equal(crd.kind, 'CustomResourceDefinition');
  t.equal(crd.metadata.name, `${BGPPEER_PLURAL}.${BGPPEER_GROUP}`);
  t.equal(crd.spec.group, BGPPEER_GROUP);
  t.equal(crd.spec.scope, 'Cluster');
  t.same(crd.spec.names.kind, 'BGPPeer');
  t.equal(crd.spec.names.plural, BGPPEER_PLURAL);
  const v = crd.spec.versions.find((x) => x.name === BGPPEER_VERSION);
  t.ok(v?.served && v.storage, 'v1 is served and stored');
  const spec = v?.schema.openAPIV3Schema.properties.spec;
  t.same(spec?.required, ['peerAddress', 'peerASN']);
  t.same(Object.keys(spec?.properties ?? {}).sort(), [
    'holdTime',
    'localAddress',
    'maxPrefixes',
    'nodeSelector',
    'passive',
    'peerASN',
    'peerAddress',
    'policy',
    'routeReflectorClient',
  ]);
  // The CRD's numeric limits agree with the daemon's validation at each edge.
  for (const field of ['peerASN', 'holdTime', 'maxPrefixes'] as const) {
    const p = spec?.properties[field];
    const base = { peerAddress: '10.0.0.1', peerASN: 1 };
    for (const [value, inCrd] of [
      [p?.minimum, true],
      [p?.maximum, true],
      [(p?.minimum ?? 0) - 1, false],
      [(p?.maximum ?? 0) + 1, false],
    ] as const) {
      const r = parseBgpPeer({ metadata: { name: 'x' }, spec: { ...base, [field]: value } });
      // holdTime 0 is fine; 1 and 2 are rejected by the CEL rule and by the daemon alike.
      t.equal(r.ok, inCrd, `${field}=${value} accepted by the daemon iff the CRD allows it`);
    }
  }
});
