// The pre-policy row table behaves like a Map over the RIB's keys: IPv4 numbers, ADD-PATH
// "key#pathId" strings and IPv6 prefix texts, through random sets, deletes and a clear.
import fc from 'fast-check';
import t from 'tap';
import { v4Key } from '../../protocol/prefix.js';
import { AttrTable } from '../../src/rib/attrs.js';
import { PreTable } from '../../src/rib/pre-table.js';
import type { PrefixKey } from '../../src/rib/types.js';

const table = new AttrTable(() => true);
const sets = [1, 2, 3].map((n) => table.intern(1, { origin: 0, nextHop: `192.0.2.${n}` }));

const keyArb: fc.Arbitrary<PrefixKey> = fc.oneof(
  fc.nat(5000).map((a) => v4Key(a * 65536, 16)),
  fc
    .tuple(fc.nat(50), fc.integer({ min: 1, max: 4 }))
    .map(([a, id]) => `${v4Key(a * 256, 24)}#${id}`),
  fc.nat(50).map((a) => `2001:db8:${a.toString(16)}::/48`),
);

t.test('same contents as a Map after random operations', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(3), keyArb, fc.nat(2)), { maxLength: 2000 }), (ops) => {
      const pre = new PreTable();
      const model = new Map<PrefixKey, (typeof sets)[number]>();
      for (const [op, k, v] of ops) {
        if (op === 3 && ops.length % 7 === 0) {
          pre.clear();
          model.clear();
        } else if (op === 0) {
          if (pre.delete(k) !== model.delete(k)) return false;
        } else {
          pre.set(k, sets[v]);
          model.set(k, sets[v]);
        }
      }
      if (pre.size !== model.size) return false;
      for (const [k, v] of model) if (pre.get(k) !== v) return false;
      const seen = new Map(pre);
      if (seen.size !== model.size || [...model].some(([k, v]) => seen.get(k) !== v)) return false;
      return [...pre.values()].length === model.size;
    }),
    { numRuns: 200 },
  );
  t.pass('matches');
});
