// K8sPeerSource against the fake API server: the switch from full mesh to route reflectors,
// BGPPeer resources selecting a subset of nodes, the mesh switched off, and a missing CRD.
import t from 'tap';
import { makeBgpPeer, makeNode, type FakeApiServer } from './fake-apiserver.js';
import { addrs, makeSource, sleep, startServer, waitFor, type Recorder } from './harness.js';

const ASN = 64512;

function cluster(api: FakeApiServer, n: number, labels: (i: number) => Record<string, string>) {
  for (let i = 1; i <= n; i++) {
    api.create(
      'nodes',
      makeNode(`n${i}`, {
        internalIP: `10.0.0.${i}`,
        labels: labels(i),
        podCIDRs: [`10.244.${i}.0/24`],
      }),
    );
  }
}

async function started(t: { teardown(fn: () => unknown): void }, r: Recorder): Promise<void> {
  t.teardown(() => r.source.stop());
  r.source.start();
  await r.source.whenSynced();
}

const ident = (i: number) => ({
  nodeName: `n${i}`,
  globalAsn: ASN,
  addresses: { ipv4: `10.0.0.${i}/24` },
});

const RR = { 'podbgp.io/route-reflector': 'true' };

t.test('route reflectors replace the full mesh', async (t) => {
  const api = await startServer();
  t.teardown(() => api.stop());
  cluster(api, 4, () => ({}));
  const n1 = makeSource(api, ident(1));
  const n4 = makeSource(api, ident(4));
  await started(t, n1);
  await started(t, n4);
  t.same(addrs(n1.source.peers()), ['10.0.0.2', '10.0.0.3', '10.0.0.4'], 'full mesh at first');
  t.ok(n1.source.peers().every((p) => p.type === 'mesh'));

  // n4 becomes a reflector: the label alone is not enough, the cluster id is required.
  api.update('nodes', 'n4', (o) => {
    o.metadata.labels = { ...o.metadata.labels, ...RR };
  });
  await sleep(300);
  t.equal(n1.updates.length, 1, 'a label without cluster id changes nothing');
  t.ok(
    n4.logs.some((l) => l.msg === 'node has invalid podbgp data'),
    'the missing cluster id is logged',
  );
  api.update('nodes', 'n4', (o) => {
    o.metadata.annotations = {
      ...o.metadata.annotations,
      'podbgp.io/route-reflector-cluster-id': '224.0.0.1',
    };
  });
  await waitFor(() => n1.updates.length === 2 && n4.updates.length === 2, 'switch to RR');

  // Ordinary n1: drops n2 and n3, keeps n4 as its reflector.
  const u1 = n1.updates[1].peers;
  t.same(addrs(u1.removed), ['10.0.0.2', '10.0.0.3'], 'ordinary node drops the mesh');
  t.same(
    u1.changed.map((p) => [p.address, p.type]),
    [['10.0.0.4', 'route-reflector']],
  );
  t.same(u1.added, []);
  // Reflector n4: every ordinary node becomes an RR client (RFC 4456).
  const u4 = n4.updates[1];
  t.same(
    u4.peers.changed.map((p) => [p.address, p.type, p.routeReflectorClient]),
    [
      ['10.0.0.1', 'rr-client', true],
      ['10.0.0.2', 'rr-client', true],
      ['10.0.0.3', 'rr-client', true],
    ],
  );
  t.same(u4.local.routeReflector, true);
  t.same(u4.local.clusterId, '224.0.0.1');

  // A second reflector, cluster id as an integer (3758096385 = 224.0.0.1).
  api.update('nodes', 'n3', (o) => {
    o.metadata.labels = { ...o.metadata.labels, ...RR };
    o.metadata.annotations = {
      ...o.metadata.annotations,
      'podbgp.io/route-reflector-cluster-id': '3758096385',
    };
  });
  await waitFor(() => n1.updates.length === 3 && n4.updates.length === 3, 'second RR');
  t.same(
    n1.updates[2].peers.added.map((p) => [p.address, p.type]),
    [['10.0.0.3', 'route-reflector']],
    'ordinary node adds the new reflector, touches nothing else',
  );
  t.same(n1.updates[2].peers.changed, []);
  t.same(n1.updates[2].peers.removed, []);
  t.same(
    n4.updates[2].peers.changed.map((p) => [p.address, p.type, p.routeReflectorClient]),
    [['10.0.0.3', 'route-reflector', undefined]],
    'reflectors peer with each other as non-clients',
  );
  t.same(n4.updates[2].peers.added, []);

  // A node joins: only the reflectors gain a client; ordinary nodes do not change.
  api.create('nodes', makeNode('n5', { internalIP: '10.0.0.5' }));
  await waitFor(() => n4.updates.length === 4, 'join seen by RR');
  t.same(
    n4.updates[3].peers.added.map((p) => [p.address, p.type]),
    [['10.0.0.5', 'rr-client']],
  );
  await sleep(300);
  t.equal(n1.updates.length, 3, 'an ordinary node does not peer with a new ordinary node');

  // All reflectors gone: back to the full mesh.
  for (const n of ['n3', 'n4']) {
    api.update('nodes', n, (o) => {
      const labels = { ...o.metadata.labels };
      delete labels['podbgp.io/route-reflector'];
      o.metadata.labels = labels;
    });
  }
  await waitFor(
    () => addrs(n1.source.peers()).join() === '10.0.0.2,10.0.0.3,10.0.0.4,10.0.0.5',
    'back to mesh',
  );
  t.ok(n1.source.peers().every((p) => p.type === 'mesh'));
});

t.test('mesh off: no node-to-node peers without reflectors, reflectors still apply', async (t) => {
  const api = await startServer();
  t.teardown(() => api.stop());
  cluster(api, 3, () => ({}));
  api.create('bgppeers', makeBgpPeer('tor', { peerAddress: '10.0.0.254', peerASN: 65000 }));
  const r = makeSource(api, ident(1), { mesh: false });
  await started(t, r);
  t.same(
    r.source.peers().map((p) => [p.address, p.type]),
    [['10.0.0.254', 'global']],
    'only the BGPPeer',
  );
  api.update('nodes', 'n3', (o) => {
    o.metadata.labels = { ...o.metadata.labels, ...RR };
    o.metadata.annotations = { 'podbgp.io/route-reflector-cluster-id': '1.2.3.4' };
  });
  await waitFor(() => r.updates.length === 2, 'reflector appears');
  t.same(
    r.updates[1].peers.added.map((p) => [p.address, p.type]),
    [['10.0.0.3', 'route-reflector']],
  );
});

t.test('BGPPeers select a subset of nodes', async (t) => {
  const api = await startServer();
  t.teardown(() => api.stop());
  cluster(api, 3, (i): Record<string, string> =>
    i <= 2 ? { rack: 'a' } : { rack: 'b', tier: 'edge' },
  );
  api.create(
    'bgppeers',
    makeBgpPeer('tor-a', {
      peerAddress: '10.0.0.251',
      peerASN: 65001,
      nodeSelector: { matchLabels: { rack: 'a' } },
      holdTime: 9,
      passive: true,
      maxPrefixes: 1000,
      policy: 'tor-in',
      localAddress: '10.0.0.99',
    }),
  );
  api.create(
    'bgppeers',
    makeBgpPeer('tor-b', {
      peerAddress: '10.0.0.252',
      peerASN: 65002,
      nodeSelector: {
        matchExpressions: [
          { key: 'rack', operator: 'In', values: ['b', 'c'] },
          { key: 'tier', operator: 'Exists' },
        ],
      },
    }),
  );
  api.create(
    'bgppeers',
    makeBgpPeer('not-a', {
      peerAddress: '2001:db8::1',
      peerASN: 65003,
      nodeSelector: { matchExpressions: [{ key: 'rack', operator: 'NotIn', values: ['a'] }] },
    }),
  );
  api.create('bgppeers', makeBgpPeer('rs', { peerAddress: '10.0.0.250', peerASN: 65100 }));

  const n1 = makeSource(api, ident(1), { mesh: false });
  const n3 = makeSource(api, ident(3), { mesh: false });
  await started(t, n1);
  await started(t, n3);
  t.same(
    n1.source.peers(),
    [
      { address: '10.0.0.250', family: 'ipv4', asn: 65100, type: 'global', source: 'bgppeer/rs' },
      {
        address: '10.0.0.251',
        family: 'ipv4',
        asn: 65001,
        type: 'node-specific',
        source: 'bgppeer/tor-a',
        holdTime: 9,
        passive: true,
        maxPrefixes: 1000,
        policy: 'tor-in',
        localAddress: '10.0.0.99',
      },
    ],
    'rack a: its ToR and the global route server, with every option carried',
  );
  t.same(
    n3.source.peers().map((p) => [p.address, p.type]),
    [
      ['10.0.0.250', 'global'],
      ['10.0.0.252', 'node-specific'],
      ['2001:db8::1', 'node-specific'],
    ],
    'rack b: In + Exists and NotIn match',
  );

  // n1 moves to rack b (without tier=edge): tor-a goes, not-a comes; tor-b needs tier.
  api.update('nodes', 'n1', (o) => {
    o.metadata.labels = { ...o.metadata.labels, rack: 'b' };
  });
  await waitFor(() => n1.updates.length === 2, 'relabel');
  t.same(addrs(n1.updates[1].peers.removed), ['10.0.0.251']);
  t.same(addrs(n1.updates[1].peers.added), ['2001:db8::1']);
  t.same(n1.updates[1].peers.changed, []);

  // A BGPPeer changes its hold time: one changed peer on the selected node, nothing elsewhere.
  api.update('bgppeers', 'tor-b', (o) => {
    o.spec = { ...o.spec, holdTime: 30 };
  });
  await waitFor(() => n3.updates.length === 2, 'holdTime change');
  t.same(
    n3.updates[1].peers.changed.map((p) => [p.address, p.holdTime]),
    [['10.0.0.252', 30]],
  );
  t.same(n3.updates[1].peers.added, []);
  t.same(n3.updates[1].peers.removed, []);

  // An invalid edit (RFC 4271 §4.2: hold time 2) removes the peer and is logged.
  api.update('bgppeers', 'tor-b', (o) => {
    o.spec = { ...o.spec, holdTime: 2 };
  });
  await waitFor(() => n3.updates.length === 3, 'invalid BGPPeer');
  t.same(addrs(n3.updates[2].peers.removed), ['10.0.0.252']);
  t.ok(n3.logs.some((l) => l.msg === 'ignoring invalid BGPPeer'));

  // Deleting the global peer removes it everywhere, and only it.
  api.delete('bgppeers', 'rs');
  await waitFor(() => n1.updates.length === 3 && n3.updates.length === 4, 'delete');
  for (const r of [n1, n3]) {
    const last = r.updates[r.updates.length - 1].peers;
    t.same(addrs(last.removed), ['10.0.0.250']);
    t.same([...last.added, ...last.changed], []);
  }
  t.ok(
    api.requests.every((q) => q.status !== 403),
    'RBAC allowed every request',
  );
});

t.test('a missing BGPPeer CRD does not block the mesh; installing it later works', async (t) => {
  const api = await startServer({ crdInstalled: false });
  t.teardown(() => api.stop());
  cluster(api, 2, () => ({}));
  const r = makeSource(api, ident(1));
  await started(t, r);
  t.same(addrs(r.source.peers()), ['10.0.0.2']);
  t.ok(r.logs.some((l) => l.msg.startsWith('BGPPeer CRD not installed')));
  api.crdInstalled = true;
  api.create('bgppeers', makeBgpPeer('tor', { peerAddress: '10.0.0.254', peerASN: 65000 }));
  await waitFor(() => r.updates.length === 2, 'BGPPeer after CRD install');
  t.same(addrs(r.updates[1].peers.added), ['10.0.0.254']);
});
