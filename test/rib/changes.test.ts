// The best-path change log reads back what was appended, in order, as accessors and as objects,
// across growth, IPv4/IPv6 mixes and clear().
import fc from 'fast-check';
import t from 'tap';
import { v4Key } from '../../protocol/prefix.js';
import { BestPathChanges } from '../../src/rib/changes.js';
import type { BestPathChange } from '../../src/rib/types.js';

const changeArb: fc.Arbitrary<BestPathChange> = fc.oneof(
  fc.record({
    withdrawn: fc.constant(false as const),
    family: fc.constant('ipv4-unicast' as const),
    key: fc
      .tuple(fc.nat(0xffffff), fc.integer({ min: 8, max: 32 }))
      .map(([a, l]) => v4Key(a * 256, l)),
    nexthops: fc.constantFrom([], ['192.0.2.1'], ['192.0.2.1', '192.0.2.2']),
    local: fc.boolean(),
  }),
  fc.record({
    withdrawn: fc.constant(true as const),
    family: fc.constantFrom('ipv4-unicast' as const, 'ipv6-unicast' as const),
    key: fc.nat(0xffff).map((a) => a * 64 + 24),
  }),
  fc.record({
    withdrawn: fc.constant(false as const),
    family: fc.constant('ipv6-unicast' as const),
    key: fc.nat(0xffff).map((a) => `2001:db8:${a.toString(16)}::/48`),
    nexthops: fc.constantFrom(['2001:db8::1'], ['fe80::1%eth0', 'fe80::2%eth0']),
    local: fc.boolean(),
  }),
);

/** What a reader should see for an appended change: a local route lists no next hops. */
function expected(c: BestPathChange): BestPathChange {
  if (c.withdrawn) return c;
  return { ...c, nexthops: c.local ? [] : c.nexthops };
}

t.test('reads back every change in order, after growth and clear', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.array(changeArb, { maxLength: 300 }), { maxLength: 4 }), (rounds) => {
      const log = new BestPathChanges();
      for (const round of rounds) {
        log.clear();
        for (const c of round) {
          const fi = c.family === 'ipv4-unicast' ? 0 : 1;
          log.push(fi, c.key, c.withdrawn ? null : c.nexthops, !c.withdrawn && c.local);
        }
        if (log.length !== round.length) return false;
        const want = round.map(expected);
        if (JSON.stringify([...log]) !== JSON.stringify(want)) return false;
        for (let i = 0; i < round.length; i++) {
          const c = want[i];
          if (log.key(i) !== c.key || log.family(i) !== c.family) return false;
          if (log.v4Key(i) !== (typeof c.key === 'number' ? c.key : -1)) return false;
          if (log.withdrawn(i) !== c.withdrawn) return false;
          if (
            !c.withdrawn &&
            (log.local(i) !== c.local ||
              log.nexthops(i) !== (c.local ? log.nexthops(i) : c.nexthops))
          )
            return false;
        }
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass('checked');
});
