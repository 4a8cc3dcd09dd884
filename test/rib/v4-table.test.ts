// The IPv4 prefix hash table behaves like a Map under random set/delete sequences, and its
// live iteration never misses a key that stays present.
import fc from 'fast-check';
import t from 'tap';
import { v4Key } from '../../protocol/prefix.js';
import { ABSENT, V4IntTable, V4Table } from '../../src/rib/v4-table.js';
import { NONE, RouteStore } from '../../src/rib/route-store.js';
import { AttrTable } from '../../src/rib/attrs.js';

const keyArb = fc
  .tuple(fc.nat(3000), fc.constantFrom(0, 8, 24, 26, 32))
  .map(([a, l]) => v4Key(a * 4096, l));

t.test('same contents as a Map after random operations', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), keyArb, fc.nat()), { maxLength: 3000 }), (ops) => {
      const table = new V4Table<number>();
      const model = new Map<number, number>();
      for (const [add, k, v] of ops) {
        if (add) {
          table.set(k, v);
          model.set(k, v);
        } else if (table.delete(k) !== model.delete(k)) return false;
      }
      if (table.size !== model.size) return false;
      for (const [k, v] of model) if (table.get(k) !== v) return false;
      const seen = new Map(table);
      return seen.size === model.size && [...model].every(([k, v]) => seen.get(k) === v);
    }),
    { numRuns: 100 },
  );
  t.pass('matches');
});

t.test('iteration with deletions and growth visits every key that stays', async (t) => {
  const table = new V4Table<number>();
  for (let i = 0; i < 500; i++) table.set(v4Key(i * 256, 24), i);
  const seen = new Set<number>();
  let added = 0;
  for (const [k, v] of table) {
    seen.add(k);
    if (v % 2 === 0) table.delete(k);
    if (added < 5000) {
      // Growth forces a rehash mid-iteration.
      table.set(v4Key(0x80000000 + added * 256, 24), -1);
      added++;
    }
  }
  for (let i = 1; i < 500; i += 2) t.ok(seen.has(v4Key(i * 256, 24)), `kept key ${i} visited`);
  t.equal(table.size, 250 + added);
  t.equal(table.get(v4Key(0, 24)), undefined);
  t.equal(table.get(v4Key(256, 24)), 1);
  t.equal(table.get(v4Key(0, 0)), undefined, '0.0.0.0/0 is a valid, absent key');
  table.set(v4Key(0, 0), 7);
  t.equal(table.get(v4Key(0, 0)), 7, 'key 0 (the default route) is stored');
});

t.test('deleting everything while iterating (the table shrinks under the iterator)', async (t) => {
  for (const n of [100, 1025, 5000, 70000]) {
    const table = new V4Table<number>();
    for (let i = 0; i < n; i++) table.set(v4Key(i * 64, 26), i);
    const seen = new Set<number>();
    for (const [k] of table) {
      seen.add(k);
      table.delete(k);
    }
    t.equal(seen.size, n, `${n}: every key visited`);
    t.equal(table.size, 0, `${n}: nothing left`);
  }
});

t.test('the integer table: same contents as a Map, ABSENT for a missing key', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), keyArb, fc.nat(2 ** 31 - 1)), { maxLength: 3000 }),
      (ops) => {
        const table = new V4IntTable();
        const model = new Map<number, number>();
        for (const [add, k, v] of ops) {
          if (add) {
            table.set(k, v);
            model.set(k, v);
          } else if (table.delete(k) !== model.delete(k)) return false;
        }
        if (table.size !== model.size) return false;
        for (const [k, v] of model) if (table.get(k) !== v) return false;
        for (const [, k] of ops) if (!model.has(k) && table.get(k) !== ABSENT) return false;
        const walked = new Map<number, number>();
        table.forEach((k, v) => walked.set(k, v));
        if (walked.size !== model.size || [...model].some(([k, v]) => walked.get(k) !== v))
          return false;
        const keys = [...table.keys()].sort((a, b) => a - b);
        if (keys.join() !== [...model.keys()].sort((a, b) => a - b).join()) return false;
        const seen = new Map(table);
        return seen.size === model.size && [...model].every(([k, v]) => seen.get(k) === v);
      },
    ),
    { numRuns: 100 },
  );
  t.pass('matches');
});

t.test('the route store reuses freed ids, grows, and starts over when empty', async (t) => {
  const table = new AttrTable(() => true);
  const store = new RouteStore(table);
  const sets = [1, 2, 3].map((n) =>
    table.acquire(table.intern(1, { origin: 0, nextHop: `192.0.2.${n}` })),
  );
  // Every third route is IPv6 (its prefix as text); the others carry IPv4 keys over the whole
  // address and length range, the top address bit included.
  const keyOf = (i: number): number | string =>
    i % 3 === 2
      ? `2001:db8:${i.toString(16)}::/48`
      : v4Key(((i * 2654435761) >>> 0) & 0xffffff00, 8 + (i % 25));
  const v6 = (i: number): boolean => typeof keyOf(i) === 'string';
  const ids = Array.from({ length: 5000 }, (_, i) =>
    store.alloc(i % 7, i, sets[i % 3], i * 3, keyOf(i)),
  );
  t.equal(new Set(ids).size, 5000, 'distinct ids across growth');
  t.equal(store.end, 5000, 'the walk bound covers every id handed out');
  t.ok(
    ids.every((id, i) => store.pathId(id) === i && store.src(id) === i % 7),
    'fields kept across growth',
  );
  t.ok(ids.every((id, i) => store.since(id) === i * 3 && store.next(id) === NONE));
  t.ok(
    ids.every((id, i) => store.attrs(id) === sets[i % 3]),
    'attribute sets by id',
  );
  t.ok(
    ids.every((id, i) => store.key(id) === keyOf(i)),
    'routes give back their prefix',
  );
  t.ok(
    ids.every(
      (id, i) =>
        store.isOf(id, i % 7, v6(i) ? 1 : 0) &&
        !store.isOf(id, i % 7, v6(i) ? 0 : 1) &&
        !store.isOf(id, (i + 1) % 7, v6(i) ? 1 : 0),
    ),
    'isOf tells source and family',
  );
  // Route 4 is IPv4, from source 4.
  store.setFlags(ids[4], 5);
  t.equal(store.flags(ids[4]), 5);
  t.equal(store.src(ids[4]), 4, 'flags and source share a field without clobbering');
  t.equal(store.key(ids[4]), keyOf(4), 'nor the prefix length');
  t.ok(store.isOf(ids[4], 4, 0), 'nor the family');
  store.setFlags(ids[4], 0);
  t.equal(store.flags(ids[4]), 0);
  t.equal(store.key(ids[4]), keyOf(4), 'clearing the flags keeps the prefix');
  store.free(ids[10]);
  store.free(ids[20]);
  t.equal(store.size, 4998);
  t.notOk(store.isOf(ids[10], 10 % 7, 0), 'a freed record belongs to nobody');
  t.notOk(store.isOf(ids[20], 20 % 7, 1), 'a freed IPv6 record neither');
  // The freed IPv4 id comes back as IPv6 and the IPv6 one as IPv4.
  const again = [
    store.alloc(1, 1, sets[0], 0, keyOf(20)),
    store.alloc(2, 2, sets[0], 0, keyOf(10)),
  ];
  t.same([...again].sort(), [ids[10], ids[20]].sort(), 'freed ids are handed out again');
  t.equal(store.key(again[0]), keyOf(20));
  t.equal(store.key(again[1]), keyOf(10));
  t.ok(store.isOf(again[0], 1, 1) && store.isOf(again[1], 2, 0), 'with their new family');
  for (const id of ids) store.free(id);
  t.equal(store.size, 0);
  t.equal(store.end, 0, 'an empty store has nothing to walk');
  t.equal(
    store.alloc(3, 2 ** 32 - 1, sets[1], 0, keyOf(1)),
    0,
    'an empty store numbers from 0 again',
  );
  t.equal(store.pathId(0), 2 ** 32 - 1, 'path ids are unsigned 32-bit');
});

t.test('V4IntTable: gets, sets and deletes in any interleaving match a Map', async (t) => {
  // Op 0 looks a key up, 1 sets it, 2 does both (a miss then the insert), 3 deletes it.
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), keyArb, fc.nat(1000)), {
        maxLength: 4000,
      }),
      (ops) => {
        const table = new V4IntTable();
        const model = new Map<number, number>();
        for (const [op, k, v] of ops) {
          if (op === 0 || op === 2) {
            if (table.get(k) !== (model.get(k) ?? ABSENT)) return false;
          }
          if (op === 1 || op === 2) {
            table.set(k, v);
            model.set(k, v);
          }
          if (op === 3 && table.delete(k) !== model.delete(k)) return false;
        }
        if (table.size !== model.size) return false;
        for (const [k, v] of model) if (table.get(k) !== v) return false;
        let n = 0;
        table.forEach((k, v) => {
          if (model.get(k) === v) n++;
        });
        return n === model.size;
      },
    ),
    { numRuns: 200 },
  );
  t.pass('matches');
});

t.test(
  'V4IntTable: a set after a miss still finds its slot when a delete moved things',
  async (t) => {
    const k = v4Key(0x0a000000, 24);
    const j = v4Key(0x0a000100, 24);
    // The only other key of the bucket goes: the bucket is dropped between the miss and the set.
    const table = new V4IntTable();
    table.set(j, 1);
    t.equal(table.get(k), ABSENT);
    t.ok(table.delete(j));
    table.set(k, 2);
    t.equal(table.get(k), 2, 'found after its bucket was dropped and made again');
    // A delete that shrinks the bucket between the miss and the set.
    const big = new V4IntTable();
    const keys = Array.from({ length: 200 }, (_, i) => v4Key(0x0a000000 + i * 256, 24));
    for (const key of keys) big.set(key, 0);
    const probe = v4Key(0x0a00ff00, 32);
    t.equal(big.get(probe), ABSENT);
    for (const key of keys.slice(1)) big.delete(key);
    big.set(probe, 7);
    t.equal(big.get(probe), 7, 'found after its bucket was rebuilt smaller');
    t.equal(big.get(keys[0]), 0);
  },
);
