// The node annotations the daemon writes: a merge PATCH of metadata.annotations carrying only
// podbgp.io/ipv4-address and ipv6-address, through the real client-node, and nothing else changed.
import t from 'tap';
import { pino } from 'pino';
import { annotationPatch, NodeAnnotator } from '../../src/k8s/annotator.js';
import { makeNode } from './fake-apiserver.js';
import { makeSource, sleep, startServer, waitFor } from './harness.js';

const V4 = 'podbgp.io/ipv4-address';
const V6 = 'podbgp.io/ipv6-address';

t.test('annotationPatch: only our keys, only when they differ', async (t) => {
  t.same(annotationPatch(undefined, { ipv4: '10.0.0.1/24' }), { [V4]: '10.0.0.1/24' });
  t.same(annotationPatch({ [V4]: '10.0.0.1/24', other: 'x' }, { ipv4: '10.0.0.1/24' }), {});
  t.same(
    annotationPatch({ [V4]: '10.0.0.1/24', [V6]: 'fd00::1/64' }, { ipv4: '10.0.0.2/24' }),
    { [V4]: '10.0.0.2/24', [V6]: null },
    'a family we no longer have is removed with null (RFC 7386)',
  );
  t.same(annotationPatch({ 'podbgp.io/asn': '65001' }, {}), {}, 'operator keys are left alone');
});

t.test('PATCH touches only our annotations', async (t) => {
  const api = await startServer();
  t.teardown(() => api.stop());
  const foreign = {
    'node.alpha.kubernetes.io/ttl': '0',
    'podbgp.io/asn': '65001',
    'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
    [V6]: 'fd00::dead/64', // stale: this node no longer has IPv6
  };
  api.create(
    'nodes',
    makeNode('vms71', {
      internalIP: '192.168.26.71',
      podCIDRs: ['10.244.118.192/26'],
      labels: { 'topology.kubernetes.io/zone': 'z1' },
      annotations: foreign,
    }),
  );
  api.create('nodes', makeNode('vms72', { internalIP: '192.168.26.72' }));
  const before = api.get('nodes', 'vms71');

  const self = makeSource(api, {
    nodeName: 'vms71',
    globalAsn: 64512,
    addresses: { ipv4: '192.168.30.71/24' },
  });
  const other = makeSource(api, {
    nodeName: 'vms72',
    globalAsn: 64512,
    addresses: { ipv4: '192.168.30.72/24' },
  });
  for (const r of [self, other]) {
    t.teardown(() => r.source.stop());
    r.source.start();
  }
  await waitFor(
    () => api.get('nodes', 'vms71')?.metadata.annotations?.[V4] === '192.168.30.71/24',
    'own annotation written',
  );
  const patches = api.requests.filter((q) => q.verb === 'patch' && q.name === 'vms71');
  t.equal(patches.length, 1, 'one PATCH');
  t.match(patches[0].contentType, /^application\/merge-patch\+json/, 'a JSON merge patch');
  t.same(
    patches[0].body,
    { metadata: { annotations: { [V4]: '192.168.30.71/24', [V6]: null } } },
    'the body names only our two annotation keys',
  );
  t.equal(patches[0].status, 200);

  const after = api.get('nodes', 'vms71');
  t.ok(before && after);
  if (!before || !after) return;
  const { [V6]: _stale, ...kept } = foreign;
  t.same(after.metadata.annotations, { ...kept, [V4]: '192.168.30.71/24' }, 'foreign kept');
  t.same(after.metadata.labels, before.metadata.labels, 'labels untouched');
  t.same(after.spec, before.spec, 'spec untouched');
  t.same(after.status, before.status, 'status untouched');
  t.equal(after.metadata.uid, before.metadata.uid);

  // The other node's daemon now reaches vms71 by the annotated address, not the InternalIP.
  await waitFor(
    () => other.source.peers().some((p) => p.address === '192.168.30.71'),
    'peer address from annotation',
  );
  t.notOk(other.source.peers().some((p) => p.address === '192.168.26.71'));

  // Someone removes our annotation: the daemon writes it back, again only it.
  api.update('nodes', 'vms71', (o) => {
    const ann = { ...o.metadata.annotations };
    delete ann[V4];
    o.metadata.annotations = ann;
  });
  await waitFor(
    () => api.requests.filter((q) => q.verb === 'patch' && q.name === 'vms71').length === 2,
    'second PATCH',
  );
  const second = api.requests.filter((q) => q.verb === 'patch' && q.name === 'vms71')[1];
  t.same(second.body, { metadata: { annotations: { [V4]: '192.168.30.71/24' } } });

  // New addresses on reload: one more PATCH with the new values.
  self.source.reconfigure({
    nodeName: 'vms71',
    globalAsn: 64512,
    addresses: { ipv4: '192.168.30.81/24', ipv6: 'fd00:30::71/64' },
  });
  await waitFor(
    () => api.get('nodes', 'vms71')?.metadata.annotations?.[V6] === 'fd00:30::71/64',
    'reconfigured annotations',
  );
  await sleep(200);
  const all = api.requests.filter((q) => q.verb === 'patch');
  t.equal(all.filter((q) => q.name === 'vms71').length, 3, 'no redundant PATCHes of vms71');
  t.equal(all.filter((q) => q.name === 'vms72').length, 1, 'vms72 annotated once by its daemon');
  t.ok(
    all.every((q) => q.name === 'vms71' || q.name === 'vms72'),
    'each daemon patches only its own Node',
  );
  t.ok(
    api.requests.every((q) => q.status !== 403),
    'RBAC allowed every request',
  );
});

t.test('a failing PATCH is retried with backoff and does not disturb peers', async (t) => {
  let calls = 0;
  const sent: Array<Record<string, string | null>> = [];
  const annotator = new NodeAnnotator({
    nodeName: 'n1',
    addresses: { ipv4: '10.0.0.1/24' },
    log: pino({ level: 'silent' }),
    backoff: { initialMs: 20, maxMs: 40 },
    patch: async (_name, ann) => {
      calls++;
      if (calls < 3) throw Object.assign(new Error('Service Unavailable'), { code: 503 });
      sent.push(ann);
    },
  });
  t.teardown(() => annotator.stop());
  annotator.observe({ metadata: { name: 'n1', annotations: {} } });
  await waitFor(() => sent.length === 1, 'patch eventually succeeds', 5000);
  t.equal(calls, 3, 'two failures, then success');
  t.same(sent[0], { [V4]: '10.0.0.1/24' });
});

t.test('no Node object yet: no PATCH until it appears', async (t) => {
  const api = await startServer();
  t.teardown(() => api.stop());
  api.create('nodes', makeNode('other', { internalIP: '10.0.0.2' }));
  const r = makeSource(api, {
    nodeName: 'late',
    globalAsn: 64512,
    addresses: { ipv4: '10.0.0.3/24' },
  });
  t.teardown(() => r.source.stop());
  r.source.start();
  await r.source.whenSynced();
  await sleep(200);
  t.equal(api.requests.filter((q) => q.verb === 'patch').length, 0, 'nothing patched');
  api.create('nodes', makeNode('late', { internalIP: '10.0.0.3' }));
  await waitFor(
    () => api.get('nodes', 'late')?.metadata.annotations?.[V4] === '10.0.0.3/24',
    'annotated once the Node exists',
  );
  t.pass('annotated after the Node appeared');
});
