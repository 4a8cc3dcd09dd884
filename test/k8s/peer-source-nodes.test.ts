// K8sPeerSource against the fake API server: initial mesh, a node joining, leaving and changing
// its address or ASN, and updates that must not move any peer.
import t from 'tap';
import { makeNode } from './fake-apiserver.js';
import { addrs, makeSource, sleep, startServer, waitFor } from './harness.js';

const ASN = 64512;

t.test('mesh follows nodes joining, changing and leaving', async (t) => {
  const api = await startServer();
  t.teardown(() => api.stop());
  // Self: InternalIP only, two pod blocks (dual stack).
  api.create(
    'nodes',
    makeNode('vms71', {
      internalIP: '192.168.30.71',
      podCIDRs: ['10.244.118.192/26', 'fd00:244:118::/112'],
    }),
  );
  // Annotated by its daemon: the annotation wins over the InternalIP.
  api.create(
    'nodes',
    makeNode('vms72', {
      internalIP: '192.168.26.72',
      annotations: { 'podbgp.io/ipv4-address': '192.168.30.72/24' },
      podCIDRs: ['10.244.5.192/26'],
    }),
  );
  // Not annotated yet: falls back to InternalIP; own ASN by annotation.
  api.create(
    'nodes',
    makeNode('vms73', {
      internalIP: '192.168.30.73',
      annotations: { 'podbgp.io/asn': '65010' },
    }),
  );

  const r = makeSource(api, {
    nodeName: 'vms71',
    globalAsn: ASN,
    addresses: { ipv4: '192.168.30.71/24' },
  });
  t.teardown(() => r.source.stop());
  r.source.start();
  await r.source.whenSynced();

  t.equal(r.updates.length, 1, 'one initial update');
  const first = r.updates[0];
  t.equal(first.initial, true);
  t.same(
    first.peers.added.map((p) => [p.address, p.asn, p.type, p.node]),
    [
      ['192.168.30.72', ASN, 'mesh', 'vms72'],
      ['192.168.30.73', 65010, 'mesh', 'vms73'],
    ],
    'every other node is a mesh peer; annotation address first, else InternalIP; ASN annotation',
  );
  t.same(first.peers.changed, []);
  t.same(first.peers.removed, []);
  t.same(first.blocks.current, ['10.244.118.192/26', 'fd00:244:118::/112'], 'own podCIDRs');
  t.same(first.blocks.added, ['10.244.118.192/26', 'fd00:244:118::/112']);
  t.equal(first.local.asn, ASN);
  t.equal(first.local.routeReflector, false);

  // A node joins.
  api.create('nodes', makeNode('vms74', { internalIP: '192.168.26.74' }));
  await waitFor(() => r.updates.length === 2, 'join update');
  t.same(addrs(r.updates[1].peers.added), ['192.168.26.74'], 'only the new node is added');
  t.same(r.updates[1].peers.changed, []);
  t.same(r.updates[1].peers.removed, []);
  t.same(r.updates[1].blocks, { added: [], removed: [], current: first.blocks.current });

  // A status heartbeat changes nothing podbgp reads: no update. Then vms72 changes its address.
  api.update('nodes', 'vms73', (o) => {
    o.status = { ...o.status, conditions: [{ type: 'Ready', status: 'True' }] };
  });
  await sleep(300);
  t.equal(r.updates.length, 2, 'a heartbeat update emits nothing');
  api.update('nodes', 'vms72', (o) => {
    o.metadata.annotations = {
      ...o.metadata.annotations,
      'podbgp.io/ipv4-address': '192.168.30.82/24',
    };
  });
  await waitFor(() => r.updates.length >= 3, 'address change update');
  const u3 = r.updates.slice(2);
  t.equal(u3.length, 1, 'one update for the address change');
  t.same(addrs(u3[0].peers.removed), ['192.168.30.72'], 'old address removed');
  t.same(addrs(u3[0].peers.added), ['192.168.30.82'], 'new address added');
  t.same(u3[0].peers.changed, []);

  // vms73's ASN changes: the same address, a changed peer.
  api.update('nodes', 'vms73', (o) => {
    o.metadata.annotations = { ...o.metadata.annotations, 'podbgp.io/asn': '65011' };
  });
  await waitFor(() => r.updates.length === 4, 'asn change');
  t.same(
    r.updates[3].peers.changed.map((p) => [p.address, p.asn]),
    [['192.168.30.73', 65011]],
  );
  t.same(r.updates[3].peers.added, []);
  t.same(r.updates[3].peers.removed, []);

  // A node leaves.
  api.delete('nodes', 'vms74');
  await waitFor(() => r.updates.length === 5, 'leave update');
  t.same(addrs(r.updates[4].peers.removed), ['192.168.26.74']);
  t.same(r.updates[4].peers.added, []);
  t.same(r.updates[4].peers.changed, []);

  // Own blocks change.
  api.update('nodes', 'vms71', (o) => {
    o.spec = { podCIDRs: ['10.244.118.192/26'] };
  });
  await waitFor(() => r.updates.length === 6, 'blocks update');
  t.same(r.updates[5].blocks, {
    added: [],
    removed: ['fd00:244:118::/112'],
    current: ['10.244.118.192/26'],
  });
  t.same(r.updates[5].peers, { added: [], changed: [], removed: [] }, 'no peer moved');

  t.same(addrs(r.source.peers()), ['192.168.30.73', '192.168.30.82']);
  t.ok(
    api.requests.every((q) => q.status !== 403),
    'every request was allowed by examples/rbac.yaml',
  );
  t.ok(
    api.requests.some((q) => q.verb === 'watch' && q.query.allowWatchBookmarks === 'true'),
    'watches ask for bookmarks',
  );
});

t.test('IPv6 mesh peers only when this node speaks IPv6', async (t) => {
  const api = await startServer();
  t.teardown(() => api.stop());
  api.create('nodes', makeNode('a', { internalIP: ['10.0.0.1', 'fd00::1'] }));
  api.create(
    'nodes',
    makeNode('b', {
      internalIP: ['10.0.0.2', 'fd00::2'],
      annotations: { 'podbgp.io/ipv6-address': 'fd00:30::2/64' },
    }),
  );
  const v4only = makeSource(api, {
    nodeName: 'a',
    globalAsn: ASN,
    addresses: { ipv4: '10.0.0.1/24' },
  });
  const dual = makeSource(api, {
    nodeName: 'a',
    globalAsn: ASN,
    addresses: { ipv4: '10.0.0.1/24', ipv6: 'fd00::1/64' },
  });
  for (const r of [v4only, dual]) {
    t.teardown(() => r.source.stop());
    r.source.start();
  }
  await Promise.all([v4only.source.whenSynced(), dual.source.whenSynced()]);
  t.same(addrs(v4only.source.peers()), ['10.0.0.2']);
  t.same(
    dual.source.peers().map((p) => [p.address, p.family]),
    [
      ['10.0.0.2', 'ipv4'],
      ['fd00:30::2', 'ipv6'],
    ],
  );
});
