// BGPPeer validation: every field of the CRD, limits from RFC 4271 §4.2 and RFC 6793,
// and errors that name the field path.
import t from 'tap';
import { parseBgpPeer } from '../../src/k8s/bgppeer.js';

const ok = (spec: Record<string, unknown>) => parseBgpPeer({ metadata: { name: 'p' }, spec });

t.test('a full valid peer', async (t) => {
  const r = ok({
    peerAddress: '2001:db8::1',
    peerASN: 4200000000,
    nodeSelector: { matchLabels: { rack: 'a' } },
    holdTime: 0,
    passive: true,
    maxPrefixes: 10,
    routeReflectorClient: true,
    policy: 'tor-in',
    localAddress: '2001:db8::2',
  });
  t.ok(r.ok);
  if (r.ok) {
    t.equal(r.peer.family, 'ipv6');
    t.equal(r.peer.spec.peerASN, 4200000000, '4-octet ASN accepted (RFC 6793)');
    t.equal(r.peer.spec.holdTime, 0, 'hold time 0 is allowed (RFC 4271 §4.2)');
  }
});

const bad: Array<[string, Record<string, unknown>, RegExp]> = [
  ['missing address', { peerASN: 1 }, /spec\.peerAddress/],
  [
    'address with prefix',
    { peerAddress: '10.0.0.1/24', peerASN: 1 },
    /spec\.peerAddress: must be an IP/,
  ],
  ['ASN 0', { peerAddress: '10.0.0.1', peerASN: 0 }, /spec\.peerASN/],
  ['ASN above 32 bits', { peerAddress: '10.0.0.1', peerASN: 4294967296 }, /spec\.peerASN/],
  [
    'hold time 1',
    { peerAddress: '10.0.0.1', peerASN: 1, holdTime: 1 },
    /spec\.holdTime: must be 0 or at least 3/,
  ],
  ['hold time 2', { peerAddress: '10.0.0.1', peerASN: 1, holdTime: 2 }, /spec\.holdTime/],
  ['hold time too big', { peerAddress: '10.0.0.1', peerASN: 1, holdTime: 65536 }, /spec\.holdTime/],
  ['maxPrefixes 0', { peerAddress: '10.0.0.1', peerASN: 1, maxPrefixes: 0 }, /spec\.maxPrefixes/],
  ['passive not boolean', { peerAddress: '10.0.0.1', peerASN: 1, passive: 'yes' }, /spec\.passive/],
  [
    'localAddress of the other family',
    { peerAddress: '10.0.0.1', peerASN: 1, localAddress: 'fd00::1' },
    /spec\.localAddress: must be of the same address family/,
  ],
  [
    'selector In without values',
    {
      peerAddress: '10.0.0.1',
      peerASN: 1,
      nodeSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] },
    },
    /spec\.nodeSelector\.matchExpressions\[0\]\.values/,
  ],
  [
    'unknown operator',
    {
      peerAddress: '10.0.0.1',
      peerASN: 1,
      nodeSelector: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] },
    },
    /spec\.nodeSelector\.matchExpressions\.0\.operator/,
  ],
];

for (const [name, spec, re] of bad) {
  t.test(name, async (t) => {
    const r = ok(spec);
    t.equal(r.ok, false);
    if (!r.ok) t.match(r.errors.join('\n'), re);
  });
}

t.test('hold time 3 is the smallest non-zero value', async (t) => {
  t.ok(ok({ peerAddress: '10.0.0.1', peerASN: 1, holdTime: 3 }).ok);
});

t.test('no name, no spec', async (t) => {
  const r = parseBgpPeer({ spec: { peerAddress: '10.0.0.1', peerASN: 1 } });
  t.equal(r.ok, false);
  t.equal(parseBgpPeer({ metadata: { name: 'x' } }).ok, false);
});
