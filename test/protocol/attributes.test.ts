// Each path attribute decoded from octets written out by hand from its RFC, and encoded back
// to exactly those octets; plus the typed extended community view and community names.
// RFC 4271 §4.3, RFC 1997, RFC 4360, RFC 4456, RFC 4760, RFC 5668, RFC 6793, RFC 8092, RFC 8950.

import t, { type Test } from 'tap';
import { AsPath } from '../../protocol/as-path.js';
import { decodeUpdate, encodeUpdate } from '../../protocol/update.js';
import { EMPTY_V4_LIST } from '../../protocol/nlri.js';
import { formatCommunity, parseCommunity } from '../../protocol/attributes/communities.js';
import {
  decodeExtendedCommunity,
  makeExtendedCommunity,
} from '../../protocol/attributes/extended-communities.js';
import {
  ATTRIBUTES,
  ATTRIBUTE_BY_CODE,
  encodeAttributes,
} from '../../protocol/attributes/index.js';
import { prefixListToStrings } from '../../protocol/prefix.js';
import type { CodecContext, PathAttributes } from '../../protocol/types.js';

const CTX: CodecContext = {
  as4: true,
  addPath: { ipv4: false, ipv6: false },
  extendedMessage: false,
  ebgp: false,
};
const AS2: CodecContext = { ...CTX, as4: false };

function attr(flags: number, code: number, value: number[]): number[] {
  return flags & 0x10
    ? [flags, code, value.length >> 8, value.length & 255, ...value]
    : [flags, code, value.length, ...value];
}

/** An UPDATE body with only these path attributes (no prefixes). */
function onlyAttrs(attrs: number[]): Buffer {
  return Buffer.from([0, 0, attrs.length >> 8, attrs.length & 255, ...attrs]);
}

/** Decodes the attribute octets alone and checks they encode back to the same octets. */
function roundTrip(
  t: Test,
  name: string,
  octets: number[],
  expected: PathAttributes,
  ctx = CTX,
): void {
  const msg = decodeUpdate(onlyAttrs(octets), ctx);
  t.equal(msg.errors, undefined, `${name}: no errors`);
  t.same(msg.attributes, expected, `${name}: decoded`);
  t.same(
    [...encodeAttributes(msg.attributes, ctx)],
    octets,
    `${name}: encoded back octet for octet`,
  );
}

t.test(
  'the descriptor table: one row per code, flags as RFC 4271 §5 and the attribute RFCs',
  async (t) => {
    const flags = Object.fromEntries(ATTRIBUTES.map((d) => [d.code, d.flags]));
    t.same(flags, {
      1: 0x40,
      2: 0x40,
      3: 0x40,
      4: 0x80,
      5: 0x40,
      6: 0x40,
      7: 0xc0,
      8: 0xc0,
      9: 0x80,
      10: 0x80,
      14: 0x80,
      15: 0x80,
      16: 0xc0,
      17: 0xc0,
      18: 0xc0,
      32: 0xc0,
    });
    t.equal(ATTRIBUTE_BY_CODE[2]?.name, 'AS_PATH');
    t.equal(ATTRIBUTE_BY_CODE[19], undefined);
  },
);

t.test('well-known mandatory and discretionary attributes (RFC 4271 §4.3)', async (t) => {
  roundTrip(t, 'ORIGIN INCOMPLETE', [0x40, 1, 1, 2], { origin: 2 });
  roundTrip(
    t,
    'AS_PATH SET + SEQUENCE, 4-octet',
    [0x40, 2, 16, 1, 1, 0, 0, 0x30, 0x39, 2, 2, 0xfa, 0x56, 0xea, 0x00, 0, 0, 0xfd, 0xe8],
    {
      asPath: AsPath.of([
        { type: 1, asns: [12345] },
        { type: 2, asns: [4200000000, 65000] },
      ]),
    },
  );
  roundTrip(
    t,
    'AS_PATH confed types',
    [0x40, 2, 12, 3, 1, 0, 0, 0xfd, 0xe9, 4, 1, 0, 0, 0xfd, 0xea],
    {
      asPath: AsPath.of([
        { type: 3, asns: [65001] },
        { type: 4, asns: [65002] },
      ]),
    },
  );
  roundTrip(t, 'empty AS_PATH (iBGP origination)', [0x40, 2, 0], { asPath: AsPath.EMPTY });
  roundTrip(
    t,
    'AS_PATH with 2-octet ASNs',
    [0x40, 2, 6, 2, 2, 0xfd, 0xe8, 0x30, 0x39],
    { asPath: AsPath.sequence([65000, 12345]) },
    AS2,
  );
  roundTrip(t, 'NEXT_HOP', [0x40, 3, 4, 192, 0, 2, 33], { nextHop: '192.0.2.33' });
  roundTrip(t, 'MED', [0x80, 4, 4, 0xff, 0xff, 0xff, 0xff], { med: 0xffffffff });
  roundTrip(t, 'LOCAL_PREF', [0x40, 5, 4, 0, 0, 0, 200], { localPref: 200 });
  roundTrip(t, 'ATOMIC_AGGREGATE', [0x40, 6, 0], { atomicAggregate: true });
  roundTrip(t, 'AGGREGATOR, 4-octet', [0xc0, 7, 8, 0, 1, 0, 0, 10, 1, 2, 3], {
    aggregator: { asn: 65536, address: '10.1.2.3' },
  });
  roundTrip(
    t,
    'AGGREGATOR, 2-octet',
    [0xc0, 7, 6, 0xfd, 0xe8, 10, 1, 2, 3],
    { aggregator: { asn: 65000, address: '10.1.2.3' } },
    AS2,
  );
});

t.test(
  'communities (RFC 1997), route reflection (RFC 4456), large communities (RFC 8092)',
  async (t) => {
    roundTrip(t, 'COMMUNITIES', [0xc0, 8, 8, 0xfd, 0xe8, 0, 1, 0xff, 0xff, 0xff, 0x01], {
      communities: [65000 * 65536 + 1, 0xffffff01],
    });
    roundTrip(t, 'ORIGINATOR_ID', [0x80, 9, 4, 10, 0, 0, 9], { originatorId: '10.0.0.9' });
    roundTrip(t, 'CLUSTER_LIST', [0x80, 10, 8, 10, 0, 0, 1, 10, 0, 0, 2], {
      clusterList: ['10.0.0.1', '10.0.0.2'],
    });
    roundTrip(
      t,
      'LARGE_COMMUNITY',
      [0xc0, 32, 12, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff],
      {
        largeCommunities: [[65000, 1, 0xffffffff]],
      },
    );
    t.equal(formatCommunity(65000 * 65536 + 1), '65000:1');
    t.equal(formatCommunity(0xffffff01), 'no-export');
    t.equal(formatCommunity(0xffffff02), 'no-advertise');
    t.equal(formatCommunity(0xffffff03), 'no-export-subconfed');
    t.equal(formatCommunity(0xffff0000), 'graceful-shutdown');
    t.equal(formatCommunity(0xffff029a), 'blackhole');
    t.equal(parseCommunity('no-peer'), 0xffffff04);
    t.equal(parseCommunity('1:2'), 65538);
    t.equal(parseCommunity('65536:1'), null);
  },
);

t.test(
  'extended communities: typed view of the common kinds (RFC 4360, RFC 5668, RFC 9012)',
  async (t) => {
    const rt2 = decodeExtendedCommunity(Buffer.from([0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100]));
    t.match(rt2, { type: 0, subtype: 2, kind: 'route-target', global: 65000, local: 100 });
    const roIp = decodeExtendedCommunity(Buffer.from([0x01, 0x03, 10, 0, 0, 1, 0, 7]));
    t.match(roIp, { kind: 'route-origin', global: '10.0.0.1', local: 7 });
    const rt4 = decodeExtendedCommunity(Buffer.from([0x02, 0x02, 0xfa, 0x56, 0xea, 0x00, 0, 9]));
    t.match(rt4, { kind: 'route-target', global: 4200000000, local: 9 });
    // draft-ietf-idr-link-bandwidth: 0x40/0x04, AS then IEEE float octets/s (1.25e9 = 10 Gbit/s).
    const bw = Buffer.alloc(8);
    bw.set([0x40, 0x04, 0xfd, 0xe8]);
    bw.writeFloatBE(1.25e9, 4);
    t.match(decodeExtendedCommunity(bw), { kind: 'link-bandwidth', global: 65000, local: 1.25e9 });
    // RFC 9012 §4.1: encapsulation, tunnel type 8 (VXLAN) in the last two octets.
    t.match(decodeExtendedCommunity(Buffer.from([0x03, 0x0c, 0, 0, 0, 0, 0, 8])), {
      kind: 'encapsulation',
      local: 8,
    });
    t.match(decodeExtendedCommunity(Buffer.from([0x03, 0x0b, 0, 0, 0, 0, 0, 42])), {
      kind: 'color',
      local: 42,
    });
    const odd = decodeExtendedCommunity(Buffer.from([0x80, 0x06, 1, 2, 3, 4, 5, 6]));
    t.equal(odd.kind, undefined, 'unknown kinds keep only type, subtype and raw');
    t.same(
      [...makeExtendedCommunity('route-target', 65000, 100).raw],
      [0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100],
    );
    t.same(
      [...makeExtendedCommunity('route-origin', '10.0.0.1', 7).raw],
      [0x01, 0x03, 10, 0, 0, 1, 0, 7],
    );
    t.same(
      [...makeExtendedCommunity('route-target', 4200000000, 9).raw],
      [0x02, 0x02, 0xfa, 0x56, 0xea, 0x00, 0, 9],
    );

    const octets = [
      0xc0, 16, 16, 0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100, 0x03, 0x0c, 0, 0, 0, 0, 0, 8,
    ];
    const msg = decodeUpdate(onlyAttrs(octets), CTX);
    t.same(
      msg.attributes.extendedCommunities?.map((c) => c.kind),
      ['route-target', 'encapsulation'],
    );
    t.same([...encodeAttributes(msg.attributes, CTX)], octets, 'encoded back from the raw octets');
  },
);

t.test('MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760, RFC 2545, RFC 8950)', async (t) => {
  const gua = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  const ll = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  const v6 = [
    0x80,
    14,
    4 + 32 + 1 + 5 + 1,
    0,
    2,
    1,
    32,
    ...gua,
    ...ll,
    0,
    32,
    0x20,
    0x01,
    0x0d,
    0xb8,
    0,
  ];
  const m6 = decodeUpdate(onlyAttrs(v6), CTX);
  t.same(m6.attributes.mpReach?.nextHops, ['2001:db8::1', 'fe80::1']);
  t.same(prefixListToStrings(m6.attributes.mpReach?.nlri ?? EMPTY_V4_LIST), [
    '2001:db8::/32',
    '::/0',
  ]);
  t.same([...encodeAttributes(m6.attributes, CTX)], v6);

  // RFC 8950: IPv4 NLRI with an IPv6 next hop.
  const v4v6 = [0x80, 14, 5 + 16 + 4, 0, 1, 1, 16, ...gua, 0, 24, 10, 2, 3];
  const m4 = decodeUpdate(onlyAttrs(v4v6), CTX);
  t.same(m4.attributes.mpReach?.nextHops, ['2001:db8::1']);
  t.same(prefixListToStrings(m4.attributes.mpReach?.nlri ?? EMPTY_V4_LIST), ['10.2.3.0/24']);
  t.same([...encodeAttributes(m4.attributes, CTX)], v4v6);

  const v4 = [0x80, 14, 5 + 4 + 2, 0, 1, 1, 4, 10, 0, 0, 1, 0, 8, 10];
  t.same(decodeUpdate(onlyAttrs(v4), CTX).attributes.mpReach?.nextHops, ['10.0.0.1']);

  const unreach = [0x80, 15, 3 + 9, 0, 2, 1, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2];
  const mu = decodeUpdate(onlyAttrs(unreach), CTX);
  t.same(prefixListToStrings(mu.attributes.mpUnreach?.withdrawn ?? EMPTY_V4_LIST), [
    '2001:db8:1:2::/64',
  ]);
  t.same([...encodeAttributes(mu.attributes, CTX)], unreach);

  // An extended-length MP_REACH_NLRI (as FRR sends) decodes the same.
  const ext = [0x90, 14, 0, 4 + 16 + 1 + 5, 0, 2, 1, 16, ...gua, 0, 32, 0x20, 0x01, 0x0d, 0xb8];
  t.same(
    prefixListToStrings(
      decodeUpdate(onlyAttrs(ext), CTX).attributes.mpReach?.nlri ?? EMPTY_V4_LIST,
    ),
    ['2001:db8::/32'],
  );
});

t.test('other address families are kept raw, never interpreted', async (t) => {
  // L2VPN EVPN (AFI 25, SAFI 70) and IPv4 flowspec (1/133): whatever the bytes, no crash.
  const evpnValue = [0, 25, 70, 4, 10, 0, 0, 1, 0, 2, 5, 1, 2, 3, 4, 5];
  const evpn = attr(0x80, 14, evpnValue);
  const fs = attr(0x80, 15, [0, 1, 133, 9, 9, 9]);
  const m = decodeUpdate(onlyAttrs([...evpn, ...fs]), CTX);
  t.same(m.attributes.mpReach, {
    afi: 25,
    safi: 70,
    nextHops: [],
    nlri: null,
    raw: Buffer.from(evpnValue),
  });
  t.same(m.attributes.mpUnreach, {
    afi: 1,
    safi: 133,
    withdrawn: null,
    raw: Buffer.from([0, 1, 133, 9, 9, 9]),
  });
  t.same([...encodeAttributes(m.attributes, CTX)], [...evpn, ...fs], 're-encoded as received');
});

t.test('unknown optional attributes (RFC 4271 §5)', async (t) => {
  const octets = [...attr(0xc0, 99, [1, 2, 3]), ...attr(0x80, 100, [4])];
  const m = decodeUpdate(onlyAttrs(octets), CTX);
  t.same(
    m.attributes.unknown?.map((u) => [u.code, u.flags]),
    [
      [99, 0xc0],
      [100, 0x80],
    ],
  );
  // Transitive: passed on with Partial set. Non-transitive: not passed on.
  t.same([...encodeAttributes(m.attributes, CTX)], [0xe0, 99, 3, 1, 2, 3]);
});

t.test('encoding order: MP attributes first (RFC 7606 §5.1), then ascending codes', async (t) => {
  const attrs: PathAttributes = {
    largeCommunities: [[1, 2, 3]],
    med: 5,
    origin: 0,
    unknown: [{ code: 20, flags: 0xc0, value: Buffer.from([7]) }],
    mpUnreach: {
      afi: 2,
      safi: 1,
      withdrawn: { afi: 2, length: 0, v4: new Float64Array(0), v6: [], pathIds: null },
    },
    asPath: AsPath.EMPTY,
  };
  const buf = encodeAttributes(attrs, CTX);
  const codes: number[] = [];
  for (let p = 0; p < buf.length;) {
    codes.push(buf[p + 1]);
    p += buf[p] & 0x10 ? 4 + buf.readUInt16BE(p + 2) : 3 + buf[p + 2];
  }
  t.same(codes, [15, 1, 2, 4, 20, 32]);
});

t.test('attributes longer than 255 octets use the Extended Length bit', async (t) => {
  const communities = Array.from({ length: 100 }, (_, i) => i + 1);
  const buf = encodeAttributes({ communities }, CTX);
  t.same([...buf.subarray(0, 4)], [0xd0, 8, 400 >> 8, 400 & 255]);
  t.equal(buf.length, 404);
  t.same(decodeUpdate(onlyAttrs([...buf]), CTX).attributes.communities, communities);
});

t.test('a whole UPDATE, octet for octet', async (t) => {
  // Withdraw 10.9.0.0/16; announce 10.0.1.0/24 with ORIGIN IGP, AS_PATH [65001], NEXT_HOP.
  const octets = [
    0, 3, 16, 10, 9, 0, 27, 0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, 0x40, 3, 4, 192, 0,
    2, 1, 0x80, 4, 4, 0, 0, 0, 50, 24, 10, 0, 1,
  ];
  const m = decodeUpdate(Buffer.from(octets), CTX);
  t.same(prefixListToStrings(m.withdrawn), ['10.9.0.0/16']);
  t.same(prefixListToStrings(m.nlri), ['10.0.1.0/24']);
  t.same(m.attributes, {
    origin: 0,
    asPath: AsPath.sequence([65001]),
    nextHop: '192.0.2.1',
    med: 50,
  });
  t.same([...encodeUpdate(m, CTX)], octets);
});
