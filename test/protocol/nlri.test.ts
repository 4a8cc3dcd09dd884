// Tests for protocol/nlri.ts: prefix fields decoded and encoded byte for byte as RFC 4271 §4.3
// and RFC 7911 §3 lay them out, malformed fields (RFC 7606 §5.3), and a round-trip property.

import t from 'tap';
import fc from 'fast-check';
import { countPrefixes, decodeNlri, encodedLengthNlri, writeNlri } from '../../protocol/nlri.js';
import { BgpError } from '../../protocol/errors.js';
import {
  formatIpv6,
  prefixListFromStrings,
  prefixListToStrings,
  v4Key,
} from '../../protocol/prefix.js';
import type { PrefixList } from '../../protocol/types.js';

const KIND = { subcode: 10, field: 'NLRI' };

function encode(list: PrefixList, addPath = false): Buffer {
  const buf = Buffer.alloc(encodedLengthNlri(list, addPath));
  const end = writeNlri(buf, 0, list, addPath);
  if (end !== buf.length) throw new Error(`wrote ${end} octets, encodedLength said ${buf.length}`);
  return buf;
}

t.test('IPv4 prefixes: length octet then the fewest octets that hold the prefix', async (t) => {
  // RFC 4271 §4.3: 10.0.0.0/8 -> 08 0a; 192.168.1.0/24 -> 18 c0 a8 01; 0/0 -> 00; /32 -> 4 octets.
  const bytes = Buffer.from([8, 10, 24, 192, 168, 1, 0, 32, 1, 2, 3, 4, 17, 172, 16, 128]);
  const list = decodeNlri(bytes, 0, bytes.length, 1, false, KIND);
  t.same(prefixListToStrings(list), [
    '10.0.0.0/8',
    '192.168.1.0/24',
    '0.0.0.0/0',
    '1.2.3.4/32',
    '172.16.128.0/17',
  ]);
  t.equal(list.v4[1], 0xc0a80100 * 64 + 24, 'key is address * 64 + length');
  t.equal(list.pathIds, null);
  t.same(encode(list), bytes, 'encodes back to the same octets');
});

t.test(
  'host bits past the length are ignored on receipt (RFC 4271 §4.3 trailing bits)',
  async (t) => {
    const bytes = Buffer.from([9, 10, 0xff]);
    const list = decodeNlri(bytes, 0, bytes.length, 1, false, KIND);
    t.same(prefixListToStrings(list), ['10.128.0.0/9']);
  },
);

t.test('ADD-PATH: a 4-octet path id before each prefix (RFC 7911 §3)', async (t) => {
  const bytes = Buffer.from([0, 0, 0, 7, 24, 10, 1, 2, 0xff, 0xff, 0xff, 0xfe, 16, 10, 9]);
  const list = decodeNlri(bytes, 0, bytes.length, 1, true, KIND);
  t.same(prefixListToStrings(list), ['10.1.2.0/24', '10.9.0.0/16']);
  t.same(Array.from(list.pathIds ?? []), [7, 0xfffffffe]);
  t.same(encode(list, true), bytes);
});

t.test('IPv6 prefixes decode to canonical text', async (t) => {
  const bytes = Buffer.from([
    32,
    0x20,
    0x01,
    0x0d,
    0xb8,
    0,
    64,
    0xfd,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    128,
    ...new Array(15).fill(0),
    1,
  ]);
  const list = decodeNlri(bytes, 0, bytes.length, 2, false, KIND);
  t.same(prefixListToStrings(list), ['2001:db8::/32', '::/0', 'fd00:0:0:1::/64', '::1/128']);
  t.same(encode(list), bytes);
});

t.test(
  'malformed fields reset the session with the subcode asked for (RFC 7606 §5.3)',
  async (t) => {
    const cases: [string, number[], 1 | 2, boolean][] = [
      ['IPv4 length 33', [33, 1, 2, 3, 4, 5], 1, false],
      ['IPv6 length 129', [129, ...new Array(17).fill(0)], 2, false],
      ['prefix overruns the field', [24, 10, 1], 1, false],
      ['path id cut short', [0, 0, 0], 1, true],
      ['path id without a prefix length', [0, 0, 0, 1], 1, true],
    ];
    for (const [name, bytes, afi, addPath] of cases) {
      const buf = Buffer.from(bytes);
      t.throws(
        () => decodeNlri(buf, 0, buf.length, afi, addPath, { subcode: 10, field: 'NLRI' }),
        {
          name: 'BgpError',
          handling: 'session-reset',
          notification: { code: 3, subcode: 10 },
        },
        name,
      );
    }
    t.throws(
      () => countPrefixes(Buffer.from([40]), 0, 1, 1, false, { subcode: 9, field: 'MP' }),
      {
        name: 'BgpError',
        notification: { subcode: 9 },
      },
      'the MP subcode is used',
    );
  },
);

t.test('decoding is confined to [start, end)', async (t) => {
  const buf = Buffer.from([0xee, 8, 10, 0xee]);
  t.same(prefixListToStrings(decodeNlri(buf, 1, 3, 1, false, KIND)), ['10.0.0.0/8']);
  t.equal(decodeNlri(buf, 1, 1, 1, false, KIND).length, 0);
});

const v4Prefix = fc
  .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
  .map(([a, len]) => v4Key(len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0, len));

const v6Prefix = fc
  .tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 }))
  .map(([b, len]) => {
    for (let bit = len; bit < 128; bit++) b[bit >> 3] &= ~(0x80 >> (bit & 7));
    return `${formatIpv6(b)}/${len}`;
  });

t.test('property: decode(encode(list)) gives the list back', async (t) => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.boolean(),
      fc.array(v4Prefix, { maxLength: 40 }),
      fc.array(v6Prefix, { maxLength: 20 }),
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 40, maxLength: 40 }),
      (v6, addPath, keys, v6s, ids) => {
        const n = v6 ? v6s.length : keys.length;
        const list: PrefixList = v6
          ? prefixListFromStrings(2, v6s, addPath ? ids.slice(0, n) : null)
          : {
              afi: 1,
              length: n,
              v4: Float64Array.from(keys),
              v6: [],
              pathIds: addPath ? Uint32Array.from(ids.slice(0, n)) : null,
            };
        const buf = encode(list, addPath);
        const back = decodeNlri(buf, 0, buf.length, v6 ? 2 : 1, addPath, KIND);
        if (back.length !== n) return false;
        if (JSON.stringify(prefixListToStrings(back)) !== JSON.stringify(prefixListToStrings(list)))
          return false;
        return (
          !addPath ||
          JSON.stringify(Array.from(back.pathIds ?? [])) === JSON.stringify(ids.slice(0, n))
        );
      },
    ),
    { numRuns: 10000 },
  );
  t.pass('10,000 random lists round-tripped');
});

t.test('BgpError is the only error type thrown', async (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 64 }),
      fc.boolean(),
      fc.boolean(),
      (bytes, v6, addPath) => {
        const buf = Buffer.from(bytes);
        try {
          decodeNlri(buf, 0, buf.length, v6 ? 2 : 1, addPath, KIND);
        } catch (err) {
          return err instanceof BgpError;
        }
        return true;
      },
    ),
    { numRuns: 5000 },
  );
  t.pass('5,000 random fields');
});
