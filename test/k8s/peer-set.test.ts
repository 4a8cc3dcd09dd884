// Pure peer-set computation: reading Nodes (annotations, InternalIP fallback, ASN, cluster id),
// the mesh / route-reflector topology (RFC 4456), BGPPeer precedence, and the incremental
// property: changing one node moves only that node's peers.
import t from 'tap';
import fc from 'fast-check';
import { parseBgpPeer, type BgpPeer } from '../../src/k8s/bgppeer.js';
import {
  parseAddressWithPrefix,
  parseClusterId,
  readNode,
  type NodeInfo,
  type NodeObject,
} from '../../src/k8s/node-info.js';
import { computePeers, diffPeers, samePeer, type PeerSetInput } from '../../src/k8s/peer-set.js';
import type { DesiredPeer } from '../../src/k8s/types.js';

const ASN = 64512;

function node(
  name: string,
  ip: string,
  extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): NodeObject {
  return {
    metadata: { name, labels: extra.labels ?? {}, annotations: extra.annotations ?? {} },
    status: { addresses: [{ type: 'InternalIP', address: ip }] },
  };
}

function input(objs: NodeObject[], peers: BgpPeer[] = [], self = 'n1', mesh = true): PeerSetInput {
  const nodes = new Map<string, NodeInfo>();
  for (const o of objs) {
    const info = readNode(o, ASN);
    if (info) nodes.set(info.name, info);
  }
  const selfIp = nodes.get(self)?.addresses.ipv4?.ip;
  return {
    identity: { nodeName: self, globalAsn: ASN, addresses: selfIp ? { ipv4: `${selfIp}/24` } : {} },
    mesh,
    nodes,
    bgpPeers: new Map(peers.map((p) => [p.name, p])),
  };
}

function bgpPeer(name: string, spec: Record<string, unknown>): BgpPeer {
  const r = parseBgpPeer({ metadata: { name }, spec });
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.peer;
}

t.test('readNode', async (t) => {
  const n = readNode(
    {
      metadata: {
        name: 'x',
        annotations: {
          'podbgp.io/ipv4-address': 'not-an-ip',
          'podbgp.io/ipv6-address': 'fd00::5/64',
          'podbgp.io/asn': '70000',
        },
        labels: { 'podbgp.io/route-reflector': 'true' },
      },
      spec: { podCIDR: '10.244.1.0/24' },
      status: {
        addresses: [
          { type: 'ExternalIP', address: '203.0.113.5' },
          { type: 'InternalIP', address: '10.0.0.5' },
        ],
      },
    },
    ASN,
  );
  t.ok(n);
  if (!n) return;
  t.same(n.addresses.ipv4, { ip: '10.0.0.5', from: 'internal-ip' }, 'bad annotation -> InternalIP');
  t.same(n.addresses.ipv6, { ip: 'fd00::5', prefixLength: 64, from: 'annotation' });
  t.equal(n.asn, 70000);
  t.equal(n.routeReflector, false, 'label without cluster id is not a reflector');
  t.same(n.blocks, ['10.244.1.0/24'], 'spec.podCIDR when podCIDRs is absent');
  t.equal(n.warnings.length, 2, 'bad address and missing cluster id are reported');

  const bad = readNode(node('y', '10.0.0.6', { annotations: { 'podbgp.io/asn': '0' } }), ASN);
  t.equal(bad?.asn, ASN, 'ASN 0 falls back to the global ASN');
  t.equal(bad?.warnings.length, 1);

  t.same(parseAddressWithPrefix('192.168.30.71/24', 'ipv4'), {
    ip: '192.168.30.71',
    prefixLength: 24,
  });
  t.equal(parseAddressWithPrefix('192.168.30.71/33', 'ipv4'), undefined);
  t.equal(parseAddressWithPrefix('fd00::1/64', 'ipv4'), undefined, 'wrong family');
  t.equal(parseClusterId('224.0.0.1'), '224.0.0.1');
  t.equal(parseClusterId('16909060'), '1.2.3.4', '0x01020304');
  t.equal(parseClusterId('4294967296'), undefined);
  t.equal(parseClusterId('rr-1'), undefined);
});

t.test('never peers with itself, even through a BGPPeer', async (t) => {
  const inp = input(
    [node('n1', '10.0.0.1'), node('n2', '10.0.0.2')],
    [bgpPeer('me', { peerAddress: '10.0.0.1', peerASN: 1 })],
  );
  t.same([...computePeers(inp).peers.keys()], ['10.0.0.2']);
});

t.test('an explicit BGPPeer wins over the mesh for the same address', async (t) => {
  const inp = input(
    [node('n1', '10.0.0.1'), node('n2', '10.0.0.2')],
    [bgpPeer('n2-ebgp', { peerAddress: '10.0.0.2', peerASN: 65002, holdTime: 30 })],
  );
  const { peers, conflicts } = computePeers(inp);
  t.same([peers.get('10.0.0.2')?.type, peers.get('10.0.0.2')?.asn], ['global', 65002]);
  t.equal(conflicts.length, 1, 'the conflict is reported');
  t.match(conflicts[0], /node\/n2 and bgppeer\/n2-ebgp both want peer 10\.0\.0\.2/);
});

t.test('diffPeers', async (t) => {
  const a: DesiredPeer = {
    address: '10.0.0.2',
    family: 'ipv4',
    asn: 1,
    type: 'mesh',
    source: 'node/a',
  };
  const b: DesiredPeer = { ...a, address: '10.0.0.3', source: 'node/b' };
  const a2: DesiredPeer = { ...a, holdTime: 9 };
  const c: DesiredPeer = { ...a, address: '10.0.0.4', source: 'node/c' };
  const d = diffPeers(
    new Map([
      [a.address, a],
      [b.address, b],
    ]),
    new Map([
      [a.address, a2],
      [c.address, c],
    ]),
  );
  t.same(d, { added: [c], changed: [a2], removed: [b] });
  t.equal(samePeer(a, { ...a }), true);
  t.equal(samePeer(a, a2), false, 'an added option is a change');
});

// --- property: incremental changes ---

const arbNode = (i: number) =>
  fc
    .record({
      annotated: fc.boolean(),
      ipLast: fc.integer({ min: 1, max: 250 }),
      asn: fc.option(fc.integer({ min: 1, max: 4294967295 }), { nil: undefined }),
      rack: fc.constantFrom('a', 'b', 'c'),
    })
    .map((r) => ({ i, ...r }));

type ArbNode = { i: number; annotated: boolean; ipLast: number; asn?: number; rack: string };

function toObject(n: ArbNode): NodeObject {
  const ip = `10.${n.i}.0.${n.ipLast}`;
  return node(`n${n.i}`, `10.${n.i}.1.${n.ipLast}`, {
    labels: { rack: n.rack },
    annotations: {
      ...(n.annotated ? { 'podbgp.io/ipv4-address': `${ip}/24` } : {}),
      ...(n.asn !== undefined ? { 'podbgp.io/asn': String(n.asn) } : {}),
    },
  });
}

const torPeers = [
  bgpPeer('tor-a', {
    peerAddress: '192.0.2.1',
    peerASN: 65001,
    nodeSelector: { matchLabels: { rack: 'a' } },
  }),
  bgpPeer('tor-b', {
    peerAddress: '192.0.2.2',
    peerASN: 65002,
    nodeSelector: { matchExpressions: [{ key: 'rack', operator: 'In', values: ['b'] }] },
  }),
];

t.test("changing, adding or removing one other node moves only that node's peers", async (t) => {
  fc.assert(
    fc.property(
      fc.tuple(...[1, 2, 3, 4, 5, 6].map(arbNode)),
      fc.integer({ min: 2, max: 7 }),
      fc.option(arbNode(0), { nil: undefined }),
      (nodes, victim, replacement) => {
        const before = nodes.map(toObject);
        let after: NodeObject[];
        if (victim === 7) {
          after = [...before, toObject({ ...(replacement ?? nodes[0]), i: 7 })]; // join
        } else if (replacement === undefined) {
          after = before.filter((o) => o.metadata?.name !== `n${victim}`); // leave
        } else {
          after = before.map((o) =>
            o.metadata?.name === `n${victim}` ? toObject({ ...replacement, i: victim }) : o,
          ); // change
        }
        const d = diffPeers(
          computePeers(input(before, torPeers)).peers,
          computePeers(input(after, torPeers)).peers,
        );
        const touched = [...d.added, ...d.changed, ...d.removed];
        return touched.every((p) => p.source === `node/n${victim}`);
      },
    ),
    { numRuns: 300 },
  );
  t.pass('300 random clusters: every diff names only the changed node');
});

t.test('route reflector switch, from each side', async (t) => {
  const rr = {
    labels: { 'podbgp.io/route-reflector': 'true' },
    annotations: { 'podbgp.io/route-reflector-cluster-id': '1.1.1.1' },
  };
  const objs = [
    node('n1', '10.0.0.1'),
    node('n2', '10.0.0.2'),
    node('n3', '10.0.0.3', rr),
    node('n4', '10.0.0.4', rr),
  ];
  const ordinary = computePeers(input(objs, [], 'n1')).peers;
  t.same(
    [...ordinary.values()].map((p) => [p.address, p.type]),
    [
      ['10.0.0.3', 'route-reflector'],
      ['10.0.0.4', 'route-reflector'],
    ],
  );
  const reflector = computePeers(input(objs, [], 'n3')).peers;
  t.same(
    [...reflector.values()].map((p) => [p.address, p.type, p.routeReflectorClient ?? false]),
    [
      ['10.0.0.1', 'rr-client', true],
      ['10.0.0.2', 'rr-client', true],
      ['10.0.0.4', 'route-reflector', false],
    ],
  );
  const noMesh = computePeers(
    input([node('n1', '10.0.0.1'), node('n2', '10.0.0.2')], [], 'n1', false),
  ).peers;
  t.equal(noMesh.size, 0, 'mesh off and no reflector: no node peers');
});
