// The AS_PATH value (protocol/as-path.ts): what each accessor reports, the wire forms with 2- and
// 4-octet ASNs, and a property test against a model kept as plain segment arrays. Expected
// values are written out by hand or computed by the model, never by AsPath itself.

import t from 'tap';
import fc from 'fast-check';
import { AsPath } from '../../protocol/as-path.js';
import type { AsPathSegment } from '../../protocol/types.js';

const seq = (...asns: number[]): AsPathSegment => ({ type: 2, asns });
const set = (...asns: number[]): AsPathSegment => ({ type: 1, asns });
const confedSeq = (...asns: number[]): AsPathSegment => ({ type: 3, asns });
const confedSet = (...asns: number[]): AsPathSegment => ({ type: 4, asns });

t.test('accessors of one path', async (t) => {
  const p = AsPath.of([seq(65001, 4200000001), set(7, 8), confedSeq(64512), confedSet(64513)]);
  t.same(p.segments, [seq(65001, 4200000001), set(7, 8), confedSeq(64512), confedSet(64513)]);
  t.same(p.asns, [65001, 4200000001, 7, 8, 64512, 64513]);
  t.equal(p.pathLength, 3, 'sequence 2 + set 1 + confederation segments 0');
  t.equal(p.neighborAs, 65001);
  t.equal(p.includes(8), true);
  t.equal(p.includes(64513), true, 'a confederation ASN is found too');
  t.equal(p.includes(9), false);
  t.equal(p.hasConfed, true);
  t.equal(p.hasFourOctetAsn, true);
  t.equal(p.isEmpty, false);
  t.equal(p.toString(), '65001 4200000001 {7 8} (64512) [64513]');
  t.equal(JSON.stringify({ asPath: p }), '{"asPath":"65001 4200000001 {7 8} (64512) [64513]"}');
  t.same(p.withoutConfed().segments, [seq(65001, 4200000001), set(7, 8)]);

  const s = AsPath.of([set(1, 2), seq(3)]);
  t.equal(s.neighborAs, -1, 'a path led by an AS_SET has no neighbouring AS');
  t.equal(s.hasConfed, false);
  t.equal(s.hasFourOctetAsn, false);
  t.equal(s.withoutConfed(), s, 'nothing to remove: the same object');
  // The boundaries of the 2-octet range, one octet at a time.
  for (const [asn, big] of [
    [65535, false],
    [65536, true],
    [0x00ff0000, true],
    [0x01000000, true],
  ] as const)
    t.equal(AsPath.of([set(1), seq(7, asn)]).hasFourOctetAsn, big, `hasFourOctetAsn of ${asn}`);
});

t.test('includes finds ASNs only where ASNs are, not in octets that straddle them', async (t) => {
  // seq(2571) set(5) is 02 01 00 00 0a 0b 01 01 00 00 00 05: the octets 0a 0b 01 01 read as
  // an ASN straddle the first ASN and the second segment's header.
  const straddle = 0x0a0b0101;
  t.equal(AsPath.of([seq(2571), set(5)]).includes(straddle), false, 'across a segment header');
  t.equal(AsPath.of([seq(2571), set(5), seq(straddle)]).includes(straddle), true, 'after one');
  // 00 01 02 03 04 05 06 07: 02 03 04 05 spans two ASNs.
  t.equal(AsPath.sequence([0x00010203, 0x04050607]).includes(0x02030405), false, 'across ASNs');
  t.equal(AsPath.sequence([0x00010203, 0x04050607]).includes(0x04050607), true);
  t.equal(AsPath.sequence([7, 7]).includes(7), true, 'the same ASN asked twice in a row');
  t.equal(AsPath.sequence([7, 7]).includes(8), false);
});

t.test('the empty path', async (t) => {
  t.equal(AsPath.of([]), AsPath.EMPTY);
  t.equal(AsPath.sequence([]), AsPath.EMPTY);
  t.equal(AsPath.of([seq()]), AsPath.EMPTY, 'an empty segment is dropped');
  t.equal(AsPath.decode(new Uint8Array(4), 2, 2, 4), AsPath.EMPTY);
  const e = AsPath.EMPTY;
  t.same(e.segments, []);
  t.equal(e.pathLength, 0);
  t.equal(e.neighborAs, -1);
  t.equal(e.isEmpty, true);
  t.equal(e.toString(), '');
  t.equal(e.encodedLength(4), 0);
  t.equal(e.encodedLength(2), 0);
});

t.test('prepend joins a leading AS_SEQUENCE with room, or starts one', async (t) => {
  t.same(AsPath.sequence([2, 3]).prepend([1, 1]).segments, [seq(1, 1, 2, 3)]);
  t.same(AsPath.of([set(2, 3)]).prepend([1]).segments, [seq(1), set(2, 3)]);
  t.same(AsPath.of([confedSeq(5), seq(6)]).prepend([1]).segments, [seq(1), confedSeq(5), seq(6)]);
  t.same(AsPath.EMPTY.prepend([1]).segments, [seq(1)]);
  const p = AsPath.sequence([9]);
  t.equal(p.prepend([]), p);
  t.same(p.segments, [seq(9)], 'the original is unchanged');
});

t.test('a segment over 255 ASNs is split, from the front', async (t) => {
  const asns = Array.from({ length: 300 }, (_, i) => 1000 + i);
  const p = AsPath.sequence(asns);
  t.same(p.segments, [seq(...asns.slice(0, 255)), seq(...asns.slice(255))]);
  t.equal(p.pathLength, 300);
  t.equal(p.encodedLength(4), 2 + 255 * 4 + 2 + 45 * 4);
  // A full leading segment takes no more: the prepended ASN starts a segment of its own.
  t.same(AsPath.sequence(asns.slice(0, 255)).prepend([7]).segments, [
    seq(7),
    seq(...asns.slice(0, 255)),
  ]);
  t.same(AsPath.sequence(asns.slice(0, 254)).prepend([7]).segments, [
    seq(7, ...asns.slice(0, 254)),
  ]);
});

t.test('wire forms with 4- and 2-octet ASNs (RFC 6793 §4.2.2: AS_TRANS)', async (t) => {
  const p = AsPath.of([seq(65001, 4200000001), set(23456, 5)]);
  // Written out by hand: type, count, then each ASN.
  const four = [2, 2, 0, 0, 0xfd, 0xe9, 0xfa, 0x56, 0xea, 0x01, 1, 2, 0, 0, 0x5b, 0xa0, 0, 0, 0, 5];
  const two = [2, 2, 0xfd, 0xe9, 0x5b, 0xa0, 1, 2, 0x5b, 0xa0, 0, 5];
  t.equal(p.encodedLength(4), four.length);
  t.equal(p.encodedLength(2), two.length);
  const buf = new Uint8Array(40).fill(0xee);
  t.equal(p.write(buf, 3, 4), 3 + four.length);
  t.same([...buf.subarray(3, 3 + four.length)], four);
  t.equal(buf[3 + four.length], 0xee, 'nothing written past the end');
  t.equal(p.write(buf, 1, 2), 1 + two.length);
  t.same([...buf.subarray(1, 1 + two.length)], two);

  const in4 = Uint8Array.from([0xaa, ...four, 0xbb]);
  t.equal(AsPath.decode(in4, 1, 1 + four.length, 4).wire, p.wire);
  // 2-octet input keeps what it says: 23456 is AS_TRANS, not the ASN it stood for.
  const in2 = Uint8Array.from(two);
  t.same(AsPath.decode(in2, 0, two.length, 2).segments, [seq(65001, 23456), set(23456, 5)]);
});

// --- property: AsPath against plain segment arrays --------------------------------------------

const asn = fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }));
const segment = fc.record({
  type: fc.constantFrom(1, 2, 3, 4) as fc.Arbitrary<AsPathSegment['type']>,
  asns: fc.array(asn, { minLength: 0, maxLength: 300 }),
});
const segments = fc.array(segment, { maxLength: 5 });

/** The model: empty segments dropped, long ones cut in 255-ASN pieces from the front. */
function normalise(segs: readonly AsPathSegment[]): AsPathSegment[] {
  const out: AsPathSegment[] = [];
  for (const s of segs)
    for (let i = 0; i < s.asns.length; i += 255)
      out.push({ type: s.type, asns: s.asns.slice(i, i + 255) });
  return out;
}

/** The model's wire form with `width`-octet ASNs. */
function modelWire(segs: readonly AsPathSegment[], width: 2 | 4): number[] {
  const out: number[] = [];
  for (const s of normalise(segs)) {
    out.push(s.type, s.asns.length);
    for (const a of s.asns) {
      if (width === 4) out.push(a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255);
      else {
        const v = a > 0xffff ? 23456 : a;
        out.push(v >>> 8, v & 255);
      }
    }
  }
  return out;
}

t.test('property: every accessor agrees with the segment model', async (t) => {
  fc.assert(
    fc.property(segments, asn, (segs, probe) => {
      const p = AsPath.of(segs);
      const norm = normalise(segs);
      const all = norm.flatMap((s) => s.asns);
      t.same(p.segments, norm);
      t.same(p.asns, all);
      t.equal(
        p.pathLength,
        norm.reduce((n, s) => n + (s.type === 2 ? s.asns.length : s.type === 1 ? 1 : 0), 0),
      );
      t.equal(p.neighborAs, norm.length > 0 && norm[0].type === 2 ? norm[0].asns[0] : -1);
      t.equal(p.includes(probe), all.includes(probe));
      if (all.length > 0) t.equal(p.includes(all[all.length - 1]), true);
      t.equal(
        p.hasConfed,
        norm.some((s) => s.type === 3 || s.type === 4),
      );
      t.equal(
        p.hasFourOctetAsn,
        all.some((a) => a > 0xffff),
      );
      t.same(
        p.withoutConfed().segments,
        norm.filter((s) => s.type === 1 || s.type === 2),
      );
      for (const width of [2, 4] as const) {
        const want = modelWire(segs, width);
        t.equal(p.encodedLength(width), want.length);
        const buf = new Uint8Array(want.length);
        t.equal(p.write(buf, 0, width), want.length);
        t.same([...buf], want);
        // Decoding what was written gives the same path back (2-octet: after AS_TRANS).
        const back = AsPath.decode(buf, 0, buf.length, width);
        if (width === 4) t.equal(back.wire, p.wire);
        else
          t.same(
            back.asns,
            all.map((a) => (a > 0xffff ? 23456 : a)),
          );
      }
      // Equal wire strings exactly when the normalised segments are equal.
      const other = AsPath.of(segs.slice(1));
      t.equal(
        other.wire === p.wire,
        JSON.stringify(normalise(segs.slice(1))) === JSON.stringify(norm),
      );
    }),
    { numRuns: 300 },
  );
});
