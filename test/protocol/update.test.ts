// UPDATE message tests: End-of-RIB (RFC 4724 §2), the RFC 6793 §4.2.3 AS4 merge and §4.2.2
// AS_TRANS encoding, ADD-PATH in the IPv4 fields (RFC 7911), the JSON form, and the header.
// Expected octets and values are worked out by hand from the RFCs.

import { join } from 'node:path';
import t from 'tap';
import { AsPath } from '../../protocol/as-path.js';
import { BgpError } from '../../protocol/errors.js';
import { decodeMessage } from '../../protocol/message.js';
import { contextOf, loadIndex, readFixture } from './fixture-expect.js';
import { decodeUpdate, encodeUpdate, encodedLengthUpdate } from '../../protocol/update.js';
import { updateToJson } from '../../protocol/update-json.js';
import { encodeUpdateMessage } from '../../protocol/pack.js';
import { EMPTY_V4_LIST } from '../../protocol/nlri.js';
import { makeExtendedCommunity } from '../../protocol/attributes/extended-communities.js';
import { prefixListFromStrings } from '../../protocol/prefix.js';
import type { CodecContext, UpdateMessage } from '../../protocol/types.js';

const CTX: CodecContext = {
  as4: true,
  addPath: { ipv4: false, ipv6: false },
  extendedMessage: false,
  ebgp: false,
};
const AS2: CodecContext = { ...CTX, as4: false };

function attr(flags: number, code: number, value: number[]): number[] {
  return [flags, code, value.length, ...value];
}
function body(withdrawn: number[], attrs: number[], nlri: number[]): Buffer {
  return Buffer.from([
    withdrawn.length >> 8,
    withdrawn.length & 255,
    ...withdrawn,
    attrs.length >> 8,
    attrs.length & 255,
    ...attrs,
    ...nlri,
  ]);
}
const u16 = (v: number): number[] => [v >> 8, v & 255];
const u32 = (v: number): number[] => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const ORIGIN = attr(0x40, 1, [0]);
const NEXT_HOP = attr(0x40, 3, [192, 0, 2, 1]);
const NLRI = [24, 10, 0, 1];

t.test('End-of-RIB markers (RFC 4724 §2)', async (t) => {
  const v4 = decodeUpdate(Buffer.from([0, 0, 0, 0]), CTX);
  t.equal(v4.endOfRib, 'ipv4-unicast');
  t.same(updateToJson(v4), {
    type: 'update',
    withdrawn: [],
    nlri: [],
    attributes: {},
    endOfRib: 'ipv4-unicast',
  });
  const v6 = decodeUpdate(body([], attr(0x80, 15, [0, 2, 1]), []), CTX);
  t.equal(v6.endOfRib, 'ipv6-unicast');
  t.equal(updateToJson(v6).endOfRib, 'ipv6-unicast');
  t.same(
    [...encodeUpdate(v6, CTX)],
    [0, 0, 0, 6, 0x80, 15, 3, 0, 2, 1],
    're-encodes as the marker',
  );
  t.equal(
    decodeUpdate(body([], attr(0x80, 15, [0, 1, 1]), []), CTX).endOfRib,
    'ipv4-unicast',
    'IPv4 by MP_UNREACH',
  );
  t.equal(
    decodeUpdate(body([], [...attr(0x80, 15, [0, 2, 1]), ...ORIGIN], []), CTX).endOfRib,
    undefined,
    'other attributes: not a marker',
  );
  t.equal(
    decodeUpdate(body([], attr(0x80, 15, [0, 2, 1, 0]), []), CTX).endOfRib,
    undefined,
    'withdraws ::/0: not a marker',
  );
  t.equal(
    decodeUpdate(body([], attr(0x80, 15, [0, 2, 128]), []), CTX).endOfRib,
    undefined,
    'other SAFI: not named',
  );
  t.equal(
    decodeUpdate(body([8, 10], [], []), CTX).endOfRib,
    undefined,
    'a withdrawal is not a marker',
  );
});

t.test('RFC 6793 §4.2.3: AS_PATH and AS4_PATH merged on a 2-octet session', async (t) => {
  const merge = (asPath: number[], as4Path: number[], extra: number[] = []) =>
    decodeUpdate(
      body(
        [],
        [...ORIGIN, ...attr(0x40, 2, asPath), ...NEXT_HOP, ...extra, ...attr(0xc0, 17, as4Path)],
        NLRI,
      ),
      AS2,
    );

  // Same length: AS4_PATH is the path.
  let m = merge(
    [2, 3, ...u16(65001), ...u16(23456), ...u16(23456)],
    [2, 3, ...u32(65001), ...u32(4200000001), ...u32(4200000002)],
  );
  t.equal(m.errors, undefined);
  t.same(m.attributes.asPath?.segments, [{ type: 2, asns: [65001, 4200000001, 4200000002] }]);
  t.same(
    m.attributes.as4Path?.segments,
    [{ type: 2, asns: [65001, 4200000001, 4200000002] }],
    'AS4_PATH kept as received',
  );

  // A 2-octet speaker prepended 65002: the leading AS is kept and joined to AS4_PATH.
  m = merge(
    [2, 3, ...u16(65002), ...u16(65001), ...u16(23456)],
    [2, 2, ...u32(65001), ...u32(4200000001)],
  );
  t.same(m.attributes.asPath?.segments, [{ type: 2, asns: [65002, 65001, 4200000001] }]);

  // An AS_SET counts as one AS (RFC 4271 §9.1.2.2 (a)).
  m = merge(
    [1, 3, ...u16(1), ...u16(2), ...u16(3), 2, 1, ...u16(23456)],
    [2, 1, ...u32(4200000001)],
  );
  t.same(m.attributes.asPath?.segments, [
    { type: 1, asns: [1, 2, 3] },
    { type: 2, asns: [4200000001] },
  ]);

  // AS_PATH shorter than AS4_PATH: AS4_PATH is ignored.
  m = merge([2, 1, ...u16(23456)], [2, 2, ...u32(1), ...u32(2)]);
  t.same(m.attributes.asPath?.segments, [{ type: 2, asns: [23456] }]);

  // AGGREGATOR not AS_TRANS: both AS4 attributes are ignored.
  m = merge(
    [2, 1, ...u16(23456)],
    [2, 1, ...u32(4200000001)],
    [
      ...attr(0xc0, 7, [...u16(65000), 10, 0, 0, 1]),
      ...attr(0xc0, 18, [...u32(4200000009), 10, 0, 0, 9]),
    ],
  );
  t.same(m.attributes.asPath?.segments, [{ type: 2, asns: [23456] }]);
  t.same(m.attributes.aggregator, { asn: 65000, address: '10.0.0.1' });

  // AGGREGATOR is AS_TRANS: AS4_AGGREGATOR gives the real aggregator.
  m = merge(
    [2, 1, ...u16(23456)],
    [2, 1, ...u32(4200000001)],
    [
      ...attr(0xc0, 7, [...u16(23456), 10, 0, 0, 1]),
      ...attr(0xc0, 18, [...u32(4200000009), 10, 0, 0, 9]),
    ],
  );
  t.same(m.attributes.asPath?.segments, [{ type: 2, asns: [4200000001] }]);
  t.same(m.attributes.aggregator, { asn: 4200000009, address: '10.0.0.9' });
});

t.test(
  'RFC 6793 §4.2.2: encoding for a 2-octet peer uses AS_TRANS and the AS4 attributes',
  async (t) => {
    const msg: UpdateMessage = {
      type: 'update',
      withdrawn: EMPTY_V4_LIST,
      nlri: prefixListFromStrings(1, ['10.0.1.0/24']),
      attributes: {
        origin: 0,
        asPath: AsPath.of([
          { type: 3, asns: [65010] },
          { type: 2, asns: [65001, 4200000001] },
        ]),
        nextHop: '192.0.2.1',
        aggregator: { asn: 4200000009, address: '10.0.0.9' },
      },
    };
    const expected = body(
      [],
      [
        ...ORIGIN,
        ...attr(0x40, 2, [3, 1, ...u16(65010), 2, 2, ...u16(65001), ...u16(23456)]),
        ...NEXT_HOP,
        ...attr(0xc0, 7, [...u16(23456), 10, 0, 0, 9]),
        // AS4_PATH leaves out the confederation segment.
        ...attr(0xc0, 17, [2, 2, ...u32(65001), ...u32(4200000001)]),
        ...attr(0xc0, 18, [...u32(4200000009), 10, 0, 0, 9]),
      ],
      NLRI,
    );
    t.same([...encodeUpdate(msg, AS2)], [...expected]);
    t.equal(encodedLengthUpdate(msg, AS2), expected.length);
    const back = decodeUpdate(expected, AS2);
    t.same(back.attributes.asPath, msg.attributes.asPath, 'the merge restores the path');
    t.same(back.attributes.aggregator, msg.attributes.aggregator);

    // Only 2-octet ASNs: no AS4_PATH (RFC 6793 §4.2.2 SHOULD NOT).
    const small = {
      ...msg,
      attributes: {
        origin: 0 as const,
        asPath: AsPath.sequence([65001]),
        nextHop: '192.0.2.1',
      },
    };
    t.same(
      [...encodeUpdate(small, AS2)],
      [...body([], [...ORIGIN, ...attr(0x40, 2, [2, 1, ...u16(65001)]), ...NEXT_HOP], NLRI)],
    );

    // To a 4-octet peer the AS4 attributes are never sent (RFC 6793 §4.1).
    const withAs4 = {
      ...msg,
      attributes: { ...small.attributes, as4Path: AsPath.sequence([1]) },
    };
    t.same(
      [...encodeUpdate(withAs4, CTX)],
      [...body([], [...ORIGIN, ...attr(0x40, 2, [2, 1, ...u32(65001)]), ...NEXT_HOP], NLRI)],
    );
  },
);

t.test('ADD-PATH in the Withdrawn Routes and NLRI fields (RFC 7911 §3)', async (t) => {
  const ctx = { ...CTX, addPath: { ipv4: true, ipv6: false } };
  const octets = body(
    [0, 0, 0, 9, 8, 10],
    [...ORIGIN, ...attr(0x40, 2, []), ...NEXT_HOP],
    [0, 0, 0, 1, ...NLRI, 0, 0, 0, 2, ...NLRI],
  );
  const m = decodeUpdate(octets, ctx);
  t.same(updateToJson(m).withdrawn, [{ prefix: '10.0.0.0/8', pathId: 9 }]);
  t.same(updateToJson(m).nlri, [
    { prefix: '10.0.1.0/24', pathId: 1 },
    { prefix: '10.0.1.0/24', pathId: 2 },
  ]);
  t.same([...encodeUpdate(m, ctx)], [...octets]);
  // Without ADD-PATH on send, the ids are not written.
  t.same(
    [...encodeUpdate(m, CTX)],
    [...body([8, 10], [...ORIGIN, ...attr(0x40, 2, []), ...NEXT_HOP], [...NLRI, ...NLRI])],
  );
});

t.test('the JSON form (issue #2)', async (t) => {
  const gua = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1];
  const octets = body(
    [16, 10, 9],
    [
      ...attr(0x80, 14, [0, 2, 1, 16, ...gua, 0, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1]),
      ...attr(0x80, 15, [0, 2, 1, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 9]),
      ...attr(0x40, 1, [2]),
      ...attr(0x40, 2, [
        2,
        2,
        ...u32(65001),
        ...u32(65002),
        1,
        2,
        ...u32(1),
        ...u32(2),
        3,
        1,
        ...u32(3),
        4,
        1,
        ...u32(4),
      ]),
      ...NEXT_HOP,
      ...attr(0x80, 4, u32(10)),
      ...attr(0x40, 5, u32(200)),
      ...attr(0x40, 6, []),
      ...attr(0xc0, 7, [...u32(65001), 10, 0, 0, 1]),
      ...attr(0xc0, 8, [...u32(65000 * 65536 + 1), ...u32(0xffffff01)]),
      ...attr(0x80, 9, [10, 0, 0, 2]),
      ...attr(0x80, 10, [10, 0, 0, 3]),
      ...attr(0xc0, 16, [...makeExtendedCommunity('route-target', 65000, 100).raw]),
      ...attr(0xc0, 32, [...u32(65000), ...u32(1), ...u32(2)]),
      ...attr(0xc0, 99, [0xab]),
    ],
    NLRI,
  );
  t.same(updateToJson(decodeUpdate(octets, CTX)), {
    type: 'update',
    withdrawn: ['10.9.0.0/16'],
    nlri: ['10.0.1.0/24'],
    attributes: {
      origin: 'incomplete',
      asPath: [
        { type: 'sequence', asns: [65001, 65002] },
        { type: 'set', asns: [1, 2] },
        { type: 'confed-sequence', asns: [3] },
        { type: 'confed-set', asns: [4] },
      ],
      nextHop: '192.0.2.1',
      med: 10,
      localPref: 200,
      atomicAggregate: true,
      aggregator: { asn: 65001, address: '10.0.0.1' },
      communities: ['65000:1', 'no-export'],
      originatorId: '10.0.0.2',
      clusterList: ['10.0.0.3'],
      mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: ['2001:db8:0:1::/64'] },
      mpUnreach: { afi: 2, safi: 1, withdrawn: ['2001:db8:9::/48'] },
      extendedCommunities: [
        {
          type: 0,
          subtype: 2,
          kind: 'route-target',
          global: 65000,
          local: 100,
          hex: '0002fde800000064',
        },
      ],
      largeCommunities: ['65000:1:2'],
      unknown: [{ code: 99, flags: 0xc0, hex: 'ab' }],
    },
  });
  const raw = updateToJson(
    decodeUpdate(
      body([], [...attr(0x80, 14, [0, 25, 70, 0, 0, 7]), ...ORIGIN, ...attr(0x40, 2, [])], []),
      CTX,
    ),
  );
  t.same((raw.attributes as Record<string, unknown>).mpReach, {
    afi: 25,
    safi: 70,
    unsupported: true,
    hex: '0019460000' + '07',
  });
});

t.test('encodeUpdateMessage adds the RFC 4271 §4.1 header and enforces the maximum', async (t) => {
  const msg = decodeUpdate(body([8, 10], [], []), CTX);
  t.same(
    [...encodeUpdateMessage(msg, CTX)],
    [...new Array(16).fill(0xff), 0, 25, 2, 0, 2, 8, 10, 0, 0],
  );
  const big = {
    ...msg,
    withdrawn: prefixListFromStrings(
      1,
      Array.from({ length: 1100 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`),
    ),
  };
  t.throws(() => encodeUpdateMessage(big, CTX), RangeError, '4400 octets exceed 4096');
  t.equal(
    encodeUpdateMessage(big, { ...CTX, extendedMessage: true }).length,
    19 + 4 + 4400,
    'fits with RFC 8654',
  );
});

// The receive path decodes an UPDATE where it lies in the socket's chunk (decodeUpdateAt via
// decodeMessage). Every real UPDATE of fixtures/, and copies with one octet changed, placed at
// an offset inside other bytes, must decode exactly as their body alone does: the same message,
// or the same error with the same NOTIFICATION data.
t.test(
  'an UPDATE decoded in place inside a larger buffer equals its body decoded alone',
  async (t) => {
    const dir = join(import.meta.dirname, '..', '..', 'fixtures');
    const updates = loadIndex(join(dir, 'index.json')).fixtures.filter((f) => f.type === 'update');
    t.ok(updates.length >= 20, `${updates.length} real UPDATEs`);
    const outcome = (fn: () => UpdateMessage): string => {
      try {
        return JSON.stringify(updateToJson(fn()));
      } catch (err) {
        if (!(err instanceof BgpError)) throw err;
        const n = err.notification;
        return `${err.handling} ${n.code}/${n.subcode} ${n.data?.toString('hex')} ${err.message}`;
      }
    };
    let runs = 0;
    let differ = 0;
    let seed = 7;
    for (const f of updates) {
      const msg = readFixture(join(dir, f.file));
      const ctx = contextOf(f);
      const variants = [msg];
      for (let k = 0; k < 40; k++) {
        // One octet of the body changed (the header stays valid so the message is framed).
        seed = (seed * 1103515245 + 12345) >>> 0;
        const v = Buffer.from(msg);
        const at = 19 + (seed % Math.max(1, msg.length - 19));
        v[at] = (seed >>> 8) & 0xff;
        variants.push(v);
      }
      for (const v of variants) {
        const around = Buffer.concat([Buffer.alloc(37, 0xa5), v, Buffer.alloc(11, 0x5a)]);
        const alone = outcome(() => decodeUpdate(v.subarray(19), ctx));
        const inPlace = outcome(() => decodeMessage(around, 37, ctx).value as UpdateMessage);
        if (alone !== inPlace) differ++;
        runs++;
      }
    }
    t.equal(differ, 0, `${runs} real and changed UPDATEs decode alike in place`);
  },
);
