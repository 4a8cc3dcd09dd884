// Update packing tests: the fewest messages (counts worked out from the RFC 4271 §4.3 sizes),
// each within the negotiated maximum (RFC 8654), every prefix exactly once, for announcements
// (NLRI field or MP_REACH_NLRI, RFC 4760 / RFC 8950), withdrawals and End-of-RIB (RFC 4724).

import t, { type Test } from 'tap';
import fc from 'fast-check';
import { AsPath } from '../../protocol/as-path.js';
import { endOfRib, packUpdates, packWithdrawals } from '../../protocol/pack.js';
import { decodeUpdate } from '../../protocol/update.js';
import { prefixListFromStrings, prefixListToStrings, v4Key } from '../../protocol/prefix.js';
import type {
  CodecContext,
  PathAttributes,
  PrefixList,
  UpdateMessage,
} from '../../protocol/types.js';

const CTX: CodecContext = {
  as4: true,
  addPath: { ipv4: false, ipv6: false },
  extendedMessage: false,
  ebgp: false,
};
const ATTRS: PathAttributes = {
  origin: 0,
  asPath: AsPath.sequence([65001]),
  nextHop: '192.0.2.1',
};
/** ORIGIN (3+1) + AS_PATH (3+2+4) + NEXT_HOP (3+4) octets. */
const ATTRS_LEN = 4 + 9 + 7;

function v4s(n: number, len = 24): PrefixList {
  return prefixListFromStrings(
    1,
    Array.from({ length: n }, (_, i) =>
      len === 24 ? `10.${i >> 8}.${i & 255}.0/24` : `${10 + (i >> 8)}.${i & 255}.0.0/16`,
    ),
  );
}

function decodeAll(t: Test, msgs: Buffer[], ctx: CodecContext, max: number): UpdateMessage[] {
  return msgs.map((m, i) => {
    t.ok(m.length <= max, `message ${i} is ${m.length} <= ${max} octets`);
    t.same([...m.subarray(0, 16)], new Array(16).fill(0xff), 'marker');
    t.equal(m.readUInt16BE(16), m.length, 'length field');
    t.equal(m[18], 2, 'type UPDATE');
    const d = decodeUpdate(m.subarray(19), ctx);
    t.equal(d.errors, undefined, 'decodes without errors');
    return d;
  });
}

const sorted = (xs: string[]): string[] => [...xs].sort();

t.test('IPv4 announcements: fewest messages of at most 4096 octets', async (t) => {
  const n = 5000;
  const msgs = packUpdates(ATTRS, v4s(n), CTX);
  // Room for prefixes: 4096 - header 19 - two length fields 4 - attributes; a /24 takes 4.
  const perMessage = Math.floor((4096 - 19 - 4 - ATTRS_LEN) / 4);
  t.equal(msgs.length, Math.ceil(n / perMessage), `${Math.ceil(n / perMessage)} messages`);
  t.equal(
    msgs[0].length,
    19 + 4 + ATTRS_LEN + 4 * perMessage,
    'full messages are as full as they can be',
  );
  const decoded = decodeAll(t, msgs, CTX, 4096);
  for (const d of decoded) t.same(d.attributes, ATTRS);
  t.same(
    sorted(decoded.flatMap((d) => prefixListToStrings(d.nlri))),
    sorted(prefixListToStrings(v4s(n))),
    'each prefix exactly once',
  );
});

t.test('RFC 8654: with the extended message capability up to 65535 octets', async (t) => {
  const n = 20000;
  const ctx = { ...CTX, extendedMessage: true };
  const msgs = packUpdates(ATTRS, v4s(n), ctx);
  const perMessage = Math.floor((65535 - 19 - 4 - ATTRS_LEN) / 4);
  t.equal(msgs.length, Math.ceil(n / perMessage));
  const decoded = decodeAll(t, msgs, ctx, 65535);
  t.equal(
    decoded.reduce((k, d) => k + d.nlri.length, 0),
    n,
  );
});

t.test(
  'the next hop parameter replaces attrs.nextHop; none at all is a caller error',
  async (t) => {
    const [m] = packUpdates(ATTRS, v4s(1), CTX, ['198.51.100.7']);
    t.equal(decodeUpdate(m.subarray(19), CTX).attributes.nextHop, '198.51.100.7');
    t.throws(() => packUpdates({ origin: 0, asPath: AsPath.EMPTY }, v4s(1), CTX), TypeError);
    t.same(packUpdates(ATTRS, v4s(0), CTX), [], 'no prefixes, no messages');
  },
);

t.test('IPv6 announcements go in MP_REACH_NLRI, first, without NEXT_HOP', async (t) => {
  const n = 1000;
  const list = prefixListFromStrings(
    2,
    Array.from({ length: n }, (_, i) => `2001:db8:${i.toString(16)}::/48`),
  );
  const attrs: PathAttributes = { origin: 0, asPath: AsPath.EMPTY, nextHop: '192.0.2.1' };
  const msgs = packUpdates(attrs, list, CTX, ['2001:db8::1', 'fe80::1']);
  // Fixed: header 19 + lengths 4 + MP header 4 + AFI/SAFI/len 4 + next hops 32 + reserved 1
  // + ORIGIN 4 + AS_PATH 3. A /48 takes 7 octets.
  const perMessage = Math.floor((4096 - (19 + 4 + 4 + 4 + 32 + 1 + 4 + 3)) / 7);
  t.equal(msgs.length, Math.ceil(n / perMessage));
  t.same(
    [...msgs[0].subarray(23, 25)],
    [0x90, 14],
    'MP_REACH_NLRI is the first attribute, extended length',
  );
  const decoded = decodeAll(t, msgs, CTX, 4096);
  for (const d of decoded) {
    t.equal(d.attributes.nextHop, undefined, 'no NEXT_HOP (RFC 4760 §3)');
    t.same(d.attributes.mpReach?.nextHops, ['2001:db8::1', 'fe80::1']);
    t.equal(d.nlri.length, 0);
  }
  const got = decoded.flatMap((d) =>
    d.attributes.mpReach?.nlri ? prefixListToStrings(d.attributes.mpReach.nlri) : [],
  );
  t.same(sorted(got), sorted(prefixListToStrings(list)));
  // A short MP_REACH_NLRI uses a one-octet length.
  const [small] = packUpdates(attrs, prefixListFromStrings(2, ['2001:db8::/32']), CTX, [
    '2001:db8::1',
  ]);
  t.same([...small.subarray(23, 26)], [0x80, 14, 4 + 16 + 1 + 5]);
});

t.test('RFC 8950: IPv4 prefixes with an IPv6 next hop go in MP_REACH_NLRI', async (t) => {
  const msgs = packUpdates(ATTRS, v4s(3), CTX, ['2001:db8::1']);
  t.equal(msgs.length, 1);
  const [d] = decodeAll(t, msgs, CTX, 4096);
  t.equal(d.nlri.length, 0);
  t.equal(d.attributes.mpReach?.afi, 1);
  t.same(d.attributes.mpReach?.nextHops, ['2001:db8::1']);
  t.same(prefixListToStrings(d.attributes.mpReach?.nlri ?? v4s(0)), prefixListToStrings(v4s(3)));
});

t.test('ADD-PATH: path ids travel with their prefixes (RFC 7911)', async (t) => {
  const ctx = { ...CTX, addPath: { ipv4: true, ipv6: false } };
  const n = 2000;
  const list: PrefixList = { ...v4s(n), pathIds: Uint32Array.from({ length: n }, (_, i) => i * 7) };
  const msgs = packUpdates(ATTRS, list, ctx);
  t.equal(
    msgs.length,
    Math.ceil(n / Math.floor((4096 - 19 - 4 - ATTRS_LEN) / 8)),
    '8 octets per prefix',
  );
  const pairs = decodeAll(t, msgs, ctx, 4096).flatMap((d) =>
    prefixListToStrings(d.nlri).map((p, i) => `${p}#${d.nlri.pathIds?.[i]}`),
  );
  t.same(sorted(pairs), sorted(prefixListToStrings(list).map((p, i) => `${p}#${i * 7}`)));
});

t.test('withdrawals: Withdrawn Routes for IPv4, MP_UNREACH_NLRI for IPv6', async (t) => {
  const n = 5000;
  const msgs = packWithdrawals(v4s(n), CTX);
  t.equal(msgs.length, Math.ceil(n / Math.floor((4096 - 19 - 4) / 4)));
  const d4 = decodeAll(t, msgs, CTX, 4096);
  for (const d of d4) t.same(d.attributes, {});
  t.same(
    sorted(d4.flatMap((d) => prefixListToStrings(d.withdrawn))),
    sorted(prefixListToStrings(v4s(n))),
  );

  const list6 = prefixListFromStrings(
    2,
    Array.from({ length: 1000 }, (_, i) => `2001:db8:${i.toString(16)}::/48`),
  );
  const m6 = packWithdrawals(list6, CTX);
  t.equal(m6.length, Math.ceil(1000 / Math.floor((4096 - 19 - 4 - 4 - 3) / 7)));
  const d6 = decodeAll(t, m6, CTX, 4096);
  const got = d6.flatMap((d) =>
    d.attributes.mpUnreach?.withdrawn ? prefixListToStrings(d.attributes.mpUnreach.withdrawn) : [],
  );
  t.same(sorted(got), sorted(prefixListToStrings(list6)));
  t.same(packWithdrawals(v4s(0), CTX), []);
});

t.test('End-of-RIB messages (RFC 4724 §2), octet for octet', async (t) => {
  const marker = new Array(16).fill(0xff);
  t.same([...endOfRib('ipv4-unicast', CTX)], [...marker, 0, 23, 2, 0, 0, 0, 0]);
  t.same(
    [...endOfRib('ipv6-unicast', CTX)],
    [...marker, 0, 29, 2, 0, 0, 0, 6, 0x80, 15, 3, 0, 2, 1],
  );
  t.equal(decodeUpdate(endOfRib('ipv6-unicast', CTX).subarray(19), CTX).endOfRib, 'ipv6-unicast');
});

t.test(
  'property: mixed prefix sizes, small room: near-optimal count, all prefixes once',
  async (t) => {
    const prefix = fc
      .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
      .map(([a, len]) => v4Key(len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0, len));
    fc.assert(
      fc.property(
        fc.array(prefix, { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 990, max: 1010 }),
        fc.boolean(),
        (keys, k, withdraw) => {
          // Many communities shrink the room left for prefixes to a few dozen octets.
          const attrs: PathAttributes = {
            ...ATTRS,
            communities: Array.from({ length: k }, (_, i) => i),
          };
          const attrLen = ATTRS_LEN + 4 + 4 * k;
          const room = withdraw ? 4096 - 23 : 4096 - 23 - attrLen;
          const list: PrefixList = {
            afi: 1,
            length: keys.length,
            v4: Float64Array.from(keys),
            v6: [],
            pathIds: null,
          };
          const msgs = withdraw ? packWithdrawals(list, CTX) : packUpdates(attrs, list, CTX);
          const total = keys.reduce((s, key) => s + 1 + (((key % 64) + 7) >> 3), 0);
          // Never fewer than the octets allow; a message closes only when no remaining prefix fits,
          // so each but the last wastes at most 4 octets (a prefix is at most 5).
          if (msgs.length < Math.ceil(total / room)) return false;
          if ((msgs.length - 1) * (room - 4) + 1 > total) return false;
          const got: number[] = [];
          for (const m of msgs) {
            if (m.length > 4096) return false;
            const d = decodeUpdate(m.subarray(19), CTX);
            if (d.errors !== undefined) return false;
            got.push(...(withdraw ? d.withdrawn : d.nlri).v4);
          }
          return (
            JSON.stringify(got.sort((a, b) => a - b)) ===
            JSON.stringify([...keys].sort((a, b) => a - b))
          );
        },
      ),
      { numRuns: 3000 },
    );
    t.pass('3,000 random prefix sets packed');
  },
);
