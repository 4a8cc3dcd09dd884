// The IPv4 key index behaves like a Map under random insert/delete sequences (through growth
// and shrinking), and forEach with deletions visits every key that stays exactly once.
import fc from 'fast-check';
import t from 'tap';
import { V4Index } from '../../src/kernel/v4-index.js';
import { v4PrefixKey } from '../../src/kernel/v4-key.js';

const keyArb = fc
  .tuple(fc.nat(5000), fc.constantFrom(0, 8, 24, 26, 32))
  .map(([a, l]) => v4PrefixKey(((a * 65536) >>> 0) - (((a * 65536) >>> 0) % 2 ** (32 - l)), l));

t.test('same contents as a Map after random operations', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(3), keyArb, fc.nat(1_000_000)), { maxLength: 4000 }),
      (ops) => {
        const index = new V4Index();
        const model = new Map<number, number>();
        for (const [what, k, v] of ops) {
          if (what > 0) {
            index.set(k, v);
            model.set(k, v);
          } else if (index.delete(k) !== model.delete(k)) return false;
          if (index.size !== model.size) return false;
        }
        for (const [k, v] of model) if (index.get(k) !== v) return false;
        const seen = new Map<number, number>();
        index.forEach((k, v) => seen.set(k, v));
        return seen.size === model.size && [...model].every(([k, v]) => seen.get(k) === v);
      },
    ),
    { numRuns: 150 },
  );
  t.pass('matches');
});

t.test('grows to hold many keys and shrinks when they go', async (t) => {
  const index = new V4Index();
  const n = 50_000;
  for (let i = 0; i < n; i++) index.set(v4PrefixKey(i * 256, 24), i);
  t.equal(index.size, n);
  t.ok(index.capacity >= n / 0.75, `capacity ${index.capacity} keeps the load under 3/4`);
  let wrong = 0;
  for (let i = 0; i < n; i++) if (index.get(v4PrefixKey(i * 256, 24)) !== i) wrong++;
  t.equal(wrong, 0, 'every key found');
  t.equal(index.get(v4PrefixKey(n * 256, 24)), -1, 'a missing key');
  const big = index.capacity;
  for (let i = 0; i < n - 10; i++) index.delete(v4PrefixKey(i * 256, 24));
  t.equal(index.size, 10);
  t.ok(index.capacity < big / 100, `shrunk from ${big} to ${index.capacity} slots`);
  for (let i = n - 10; i < n; i++) t.equal(index.get(v4PrefixKey(i * 256, 24)), i);
});

t.test('forEach with deletions visits every key that stays exactly once', async (t) => {
  fc.assert(
    fc.property(fc.uniqueArray(keyArb, { maxLength: 3000 }), fc.nat(), (keys, seed) => {
      const index = new V4Index();
      keys.forEach((k, i) => index.set(k, i));
      const model = new Map(keys.map((k, i) => [k, i]));
      const visits = new Map<number, number>();
      let step = seed;
      index.forEach((k, v) => {
        visits.set(k, (visits.get(k) ?? 0) + 1);
        if (model.get(k) !== v) throw new Error('wrong value');
        // Delete the current key or some other key, pseudo-randomly.
        step = (step * 1103515245 + 12345) >>> 0;
        if (step % 3 === 0) {
          index.delete(k);
          model.delete(k);
        } else if (step % 3 === 1 && keys.length > 0) {
          const other = keys[step % keys.length];
          if (!visits.has(other)) {
            index.delete(other);
            model.delete(other);
          }
        }
      });
      // Kept keys were each visited once; no key was visited twice.
      for (const k of model.keys()) if (visits.get(k) !== 1) return false;
      for (const n of visits.values()) if (n !== 1) return false;
      if (index.size !== model.size) return false;
      for (const [k, v] of model) if (index.get(k) !== v) return false;
      return true;
    }),
    { numRuns: 100 },
  );
  t.pass('every kept key once');
});
