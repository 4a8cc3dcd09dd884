// The attribute intern table: one object per distinct set, found again by value, through random
// intern/acquire/release sequences, with the real hash and with a hash that always collides.
// The notion of "same set" is written here independently, as a text over the compared fields.
import fc from 'fast-check';
import t from 'tap';
import { AsPath } from '../../protocol/as-path.js';
import type { PathAttributes } from '../../protocol/types.js';
import {
  AttrTable,
  attrsHash,
  normalisedAttrs,
  sameAttrs,
  type RouteAttrs,
} from '../../src/rib/attrs.js';

/** The fields a set is identified by; absent lists equal empty ones. */
function identity(afi: number, a: PathAttributes): string {
  return JSON.stringify([
    afi,
    a.origin ?? null,
    (a.asPath?.segments ?? []).map((s) => [s.type, s.asns]),
    a.nextHop ?? null,
    a.med ?? null,
    a.localPref ?? null,
    !!a.atomicAggregate,
    a.aggregator ?? null,
    a.communities ?? [],
    a.originatorId ?? null,
    a.clusterList ?? [],
    (a.extendedCommunities ?? []).map((e) => e.raw.toString('hex')),
    a.largeCommunities ?? [],
    (a.unknown ?? []).map((u) => [u.code, u.flags, u.value.toString('hex')]),
  ]);
}

const small = fc.integer({ min: 0, max: 2 });
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.option(arb, { nil: undefined });
const attrsArb: fc.Arbitrary<PathAttributes> = fc.record(
  {
    origin: maybe(fc.constantFrom(0 as const, 1 as const, 2 as const)),
    asPath: maybe(
      fc
        .array(
          fc.record({
            type: fc.constantFrom(1 as const, 2 as const),
            asns: fc.array(small, { maxLength: 2 }),
          }),
          { maxLength: 2 },
        )
        .map((segs) => AsPath.of(segs)),
    ),
    nextHop: maybe(fc.constantFrom('192.0.2.1', '192.0.2.2')),
    med: maybe(small),
    localPref: maybe(fc.constantFrom(0, 100)),
    atomicAggregate: maybe(fc.boolean()),
    aggregator: maybe(fc.record({ asn: small, address: fc.constantFrom('10.0.0.1', '10.0.0.2') })),
    communities: maybe(fc.array(small, { maxLength: 2 })),
    originatorId: maybe(fc.constantFrom('1.1.1.1', '2.2.2.2')),
    clusterList: maybe(fc.array(fc.constantFrom('1.1.1.1', '3.3.3.3'), { maxLength: 2 })),
    extendedCommunities: maybe(
      fc.array(
        small.map((n) => ({ type: 0, subtype: 2, raw: Buffer.from([0, 2, 0, 0, 0, 0, 0, n]) })),
        { maxLength: 1 },
      ),
    ),
    largeCommunities: maybe(
      fc.array(fc.tuple(small, small, small) as fc.Arbitrary<readonly [number, number, number]>, {
        maxLength: 1,
      }),
    ),
    unknown: maybe(
      fc.array(
        fc.record({
          code: fc.constantFrom(99, 100),
          flags: fc.constant(0xc0),
          value: small.map((n) => Buffer.from([n])),
        }),
        { maxLength: 1 },
      ),
    ),
  },
  { requiredKeys: [] },
);
const afiArb = fc.constantFrom(1 as const, 2 as const);

/**
 * A deep copy, as from a second UPDATE: structuredClone, with the AS paths made again as AsPath
 * values (structuredClone keeps a class instance's fields but not its class).
 */
function copy(a: PathAttributes): PathAttributes {
  const c = structuredClone(a);
  if (a.asPath !== undefined) c.asPath = AsPath.of(a.asPath.segments);
  if (a.as4Path !== undefined) c.as4Path = AsPath.of(a.as4Path.segments);
  return c;
}

t.test('sameAttrs agrees with the field-by-field identity; equal sets hash alike', async (t) => {
  fc.assert(
    fc.property(afiArb, attrsArb, attrsArb, (afi, a, b) => {
      const eq = identity(afi, a) === identity(afi, b);
      if (sameAttrs(a, b) !== eq) return false;
      return !eq || attrsHash(afi, a) === attrsHash(afi, b);
    }),
    { numRuns: 5000 },
  );
  // Deep copies are still the same set.
  const a: PathAttributes = { origin: 0, asPath: AsPath.sequence([1, 2]), communities: [5] };
  t.ok(sameAttrs(a, copy(a)));
  t.notOk(sameAttrs(a, { ...a, med: 0 }), 'a MED of 0 is not an absent MED');
});

for (const [name, hash] of [
  ['the real hash', attrsHash],
  ['a hash where everything collides', () => 7],
] as const) {
  t.test(`one object per held set, found by value (${name})`, async () => {
    // Ops: 0 releases a held set; 1 acquires a fresh intern; 2 interns without acquiring (kept
    // aside); 3 acquires one kept aside, after whatever other sets were added meanwhile.
    fc.assert(
      fc.property(
        // Sets are drawn from a small pool so that equal ones meet often.
        fc.array(attrsArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), afiArb, fc.nat(), fc.nat()), {
          maxLength: 120,
        }),
        (pool, ops) => {
          const table = new AttrTable(() => true, hash);
          const held = new Map<string, { obj: RouteAttrs; refs: number }>();
          const aside: { id: string; made: RouteAttrs }[] = [];
          const hold = (id: string, obj: RouteAttrs): boolean => {
            const h = held.get(id);
            if (h) {
              if (h.obj !== obj) return false;
              h.refs++;
            } else held.set(id, { obj, refs: 1 });
            return table.byId[obj.id] === obj;
          };
          for (const [kind, afi, which, pick] of ops) {
            // A copy: equal sets arrive as distinct objects, as from two UPDATEs.
            const a = copy(pool[which % pool.length]);
            if (kind === 0 && held.size) {
              const keys = [...held.keys()];
              const k = keys[pick % keys.length];
              const h = held.get(k)!;
              table.release(h.obj);
              if (--h.refs === 0) held.delete(k);
            } else if (kind === 2) {
              aside.push({ id: identity(afi, a), made: table.intern(afi, a) });
            } else if (kind === 3 && aside.length) {
              const { id, made } = aside.splice(pick % aside.length, 1)[0];
              if (!hold(id, table.acquire(made))) return false;
            } else if (!hold(identity(afi, a), table.acquire(table.intern(afi, a)))) {
              return false;
            }
            if (table.size !== held.size) return false;
          }
          // Every held set is listed once, and a fresh intern of its value finds it.
          const listed = [...table.values()];
          if (listed.length !== held.size) return false;
          for (const { obj } of held.values()) {
            if (table.intern(obj.afi, copy(obj.attrs)) !== obj) return false;
          }
          return true;
        },
      ),
      { numRuns: 400 },
    );
  });
}

for (const [name, hash] of [
  ['the real hash', attrsHash],
  ['a hash with 64 values', (_afi: number, a: PathAttributes) => (a.med ?? 0) % 64],
  ['a hash with more values than slots', (_afi: number, a: PathAttributes) => (a.med ?? 0) * 4099],
] as const) {
  t.test(`thousands of sets: the table grows and still finds each (${name})`, async (t) => {
    const table = new AttrTable(() => true, hash);
    const set = (i: number): PathAttributes => ({
      origin: 0,
      asPath: AsPath.sequence([65001, i]),
      nextHop: '192.0.2.1',
      med: i,
    });
    const held: RouteAttrs[] = [];
    for (let i = 0; i < 5000; i++) held.push(table.acquire(table.intern(1, set(i))));
    // Every other set is released, then a new batch arrives (reusing the freed ids).
    for (let i = 0; i < 5000; i += 2) table.release(held[i]);
    for (let i = 5000; i < 6000; i++) held.push(table.acquire(table.intern(1, set(i))));
    const live = held.filter((_a, i) => i >= 5000 || i % 2 === 1);
    t.equal(table.size, live.length);
    t.equal(new Set(table.values()).size, live.length, 'values() lists each held set once');
    let found = 0;
    let fresh = 0;
    for (let i = 0; i < 6000; i++) {
      const again = table.intern(1, set(i));
      if (again === held[i]) found++;
      else if (again.id === -1 && again.refs === 0) fresh++;
    }
    t.equal(found, live.length, 'each held set is found by value');
    t.equal(fresh, 6000 - live.length, 'each released set is made anew');
  });
}

t.test(
  'normalisedAttrs drops the MP and AS4 copies, and from eBGP the iBGP-only attributes; a set already in that form is kept as it is',
  async (t) => {
    const always = ['mpReach', 'mpUnreach', 'as4Path', 'as4Aggregator', 'nextHop'];
    const ibgpOnly = ['localPref', 'originatorId', 'clusterList'];
    const extra = fc.record(
      {
        as4Path: fc.constant(AsPath.sequence([1])),
        as4Aggregator: fc.constant({ asn: 1, address: '10.0.0.1' }),
        mpUnreach: fc.constant({ afi: 2, safi: 1, withdrawn: undefined }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(attrsArb, extra, fc.boolean(), fc.boolean(), (a, more, ebgp, sameHop) => {
        // Absent attributes are left out, as the decoder leaves them out.
        const input = Object.fromEntries(
          Object.entries({ ...a, ...more }).filter(([, v]) => v !== undefined),
        ) as PathAttributes;
        const nextHop = sameHop && input.nextHop ? input.nextHop : '198.51.100.9';
        const drop = ebgp ? [...always, ...ibgpOnly] : always;
        const want = Object.fromEntries(Object.entries(input).filter(([k]) => !drop.includes(k)));
        want.nextHop = nextHop;
        const got = normalisedAttrs(input, nextHop, ebgp) as Record<string, unknown>;
        const keys = Object.keys(got).sort();
        if (keys.join() !== Object.keys(want).sort().join()) return false;
        // A set that needs no change is the input object itself; otherwise a new object.
        const unchanged =
          Object.keys(input).sort().join() === keys.join() && input.nextHop === nextHop;
        if ((got === input) !== unchanged) return false;
        // The values are the input's own (shared, not copied).
        return keys.every((k) => got[k] === want[k]);
      }),
      { numRuns: 2000 },
    );
    t.pass('checked against a filter of the input');
  },
);

t.test('normalisedAttrs keeps the decoded object only when nothing would change', async (t) => {
  const base: PathAttributes = {
    origin: 0,
    asPath: AsPath.sequence([65001]),
    nextHop: '192.0.2.1',
  };
  const cases: [string, PathAttributes, boolean, boolean][] = [
    // [what, attributes, eBGP, kept as it is]
    ['eBGP, plain', { ...base, med: 5 }, true, true],
    [
      'iBGP with LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST',
      { ...base, localPref: 200, originatorId: '1.1.1.1', clusterList: ['2.2.2.2'] },
      false,
      true,
    ],
    ['eBGP with LOCAL_PREF', { ...base, localPref: 200 }, true, false],
    ['eBGP with ORIGINATOR_ID', { ...base, originatorId: '1.1.1.1' }, true, false],
    ['eBGP with CLUSTER_LIST', { ...base, clusterList: ['2.2.2.2'] }, true, false],
    ['another next hop', { ...base, nextHop: '192.0.2.2' }, false, false],
    ['AS4_PATH', { ...base, as4Path: AsPath.sequence([1]) }, false, false],
    ['AS4_AGGREGATOR', { ...base, as4Aggregator: { asn: 1, address: '10.0.0.1' } }, false, false],
    ['MP_UNREACH_NLRI', { ...base, mpUnreach: { afi: 2, safi: 1, withdrawn: null } }, false, false],
  ];
  for (const [what, a, ebgp, kept] of cases) {
    const got = normalisedAttrs(a, '192.0.2.1', ebgp);
    t.equal(got === a, kept, `${what}: ${kept ? 'the same object' : 'a copy'}`);
    if (!kept) t.equal(got.nextHop, '192.0.2.1', `${what}: the copy has the family's next hop`);
  }
});
