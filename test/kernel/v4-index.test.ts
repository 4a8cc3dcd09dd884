// The IPv4 key index behaves like a Map under random insert/delete sequences (through growth
// and shrinking), and forEach with deletions visits every key that stays exactly once. Records
// keep their keys in a column outside the index, as the entry store does.
import fc from 'fast-check';
import t from 'tap';
import { V4Index } from '../../src/kernel/v4-index.js';
import { v4PrefixKey } from '../../src/kernel/v4-key.js';

// Keys spread over /16s (the index is bucketed by the top 16 bits) and packed inside a few of
// them, so buckets both multiply and grow and shrink.
const keyArb = fc
  .tuple(fc.oneof(fc.nat(5000), fc.nat(3)), fc.nat(4095), fc.constantFrom(0, 8, 16, 24, 26, 30, 32))
  .map(([hi, lo, l]) => {
    const addr = (hi * 65536 + lo * 16) >>> 0;
    return v4PrefixKey(addr - (addr % 2 ** (32 - l)), l);
  });

/** An index over a key column, with records numbered in insertion order. */
class Harness {
  keys = new Float64Array(16);
  index = new V4Index(this.keys);
  next = 0;

  /** Inserts key (if absent) as a new record; returns the record holding it. */
  insert(key: number): number {
    if (this.next === this.keys.length) {
      const k = new Float64Array(this.keys.length * 2);
      k.set(this.keys);
      this.keys = k;
      this.index.attach(k);
    }
    const r = this.next;
    this.keys[r] = key;
    const found = this.index.getOrAdd(key, r);
    if (found >= 0) return found;
    this.next++;
    return r;
  }
}

t.test('same contents as a Map after random operations', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(3), keyArb), { maxLength: 4000 }), (ops) => {
      const h = new Harness();
      const model = new Map<number, number>();
      for (const [what, k] of ops) {
        if (what > 0) {
          const r = h.insert(k);
          const had = model.get(k);
          if (had !== undefined && had !== r) return false;
          model.set(k, r);
        } else {
          const r = h.index.delete(k);
          const had = model.get(k) ?? -1;
          model.delete(k);
          if (r !== had) return false;
        }
        if (h.index.size !== model.size) return false;
      }
      for (const [k, r] of model) if (h.index.get(k) !== r) return false;
      const seen = new Map<number, number>();
      h.index.forEach((k, r) => seen.set(k, r));
      return seen.size === model.size && [...model].every(([k, r]) => seen.get(k) === r);
    }),
    { numRuns: 150 },
  );
  t.pass('matches');
});

t.test('grows to hold many keys and shrinks when they go', async (t) => {
  const h = new Harness();
  const n = 50_000;
  for (let i = 0; i < n; i++) h.insert(v4PrefixKey(i * 256, 24));
  t.equal(h.index.size, n);
  t.ok(h.index.capacity >= n / 0.75, `capacity ${h.index.capacity} keeps the load under 3/4`);
  let wrong = 0;
  for (let i = 0; i < n; i++) if (h.index.get(v4PrefixKey(i * 256, 24)) !== i) wrong++;
  t.equal(wrong, 0, 'every key found');
  t.equal(h.index.get(v4PrefixKey(n * 256, 24)), -1, 'a missing key');
  t.equal(h.insert(v4PrefixKey(7 * 256, 24)), 7, 'inserting a present key finds it');
  const big = h.index.capacity;
  for (let i = 0; i < n - 10; i++) h.index.delete(v4PrefixKey(i * 256, 24));
  t.equal(h.index.size, 10);
  t.ok(h.index.capacity < big / 100, `shrunk from ${big} to ${h.index.capacity} slots`);
  for (let i = n - 10; i < n; i++) t.equal(h.index.get(v4PrefixKey(i * 256, 24)), i);
});

t.test('forEach with deletions visits every key that stays exactly once', async (t) => {
  fc.assert(
    fc.property(fc.uniqueArray(keyArb, { maxLength: 3000 }), fc.nat(), (keys, seed) => {
      const h = new Harness();
      const model = new Map(keys.map((k) => [k, h.insert(k)]));
      const visits = new Map<number, number>();
      let step = seed;
      h.index.forEach((k, r) => {
        visits.set(k, (visits.get(k) ?? 0) + 1);
        if (model.get(k) !== r) throw new Error('wrong record');
        // Delete the current key or some other key, pseudo-randomly.
        step = (step * 1103515245 + 12345) >>> 0;
        if (step % 3 === 0) {
          h.index.delete(k);
          model.delete(k);
        } else if (step % 3 === 1 && keys.length > 0) {
          const other = keys[step % keys.length];
          if (!visits.has(other)) {
            h.index.delete(other);
            model.delete(other);
          }
        }
      });
      // Kept keys were each visited once; no key was visited twice.
      for (const k of model.keys()) if (visits.get(k) !== 1) return false;
      for (const n of visits.values()) if (n !== 1) return false;
      if (h.index.size !== model.size) return false;
      for (const [k, r] of model) if (h.index.get(k) !== r) return false;
      return true;
    }),
    { numRuns: 100 },
  );
  t.pass('every kept key once');
});
