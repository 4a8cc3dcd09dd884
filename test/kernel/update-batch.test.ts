// The update batches between the kernel client and its worker: whatever sequence of update()
// calls goes in comes out of the decoder in the same order with the same next hops, lists are
// sent once per generation and shared by id, and batch limits are respected.
import t from 'tap';
import fc from 'fast-check';
import { UpdateDecoder, UpdateEncoder } from '../../src/kernel/update-batch.js';
import { v4PrefixKey } from '../../src/kernel/v4-key.js';
import type { UpdateBatch } from '../../src/kernel/worker-protocol.js';

type Prefix = string | number;
interface Op {
  prefix: Prefix;
  /** Index into the shared lists, a fresh copy of one, or null (withdraw). */
  list: { shared: number; fresh: boolean } | null;
}

const SHARED: readonly (readonly string[])[] = [
  ['192.168.30.72'],
  ['192.168.30.73'],
  ['192.168.26.72', '192.168.30.72'],
  ['fe80::1%eth0'],
  ['fd00:30::72'],
  ['192.168.30.74'],
];

const prefixArb: fc.Arbitrary<Prefix> = fc.oneof(
  // Well-formed IPv4 keys (a /24 or /26 in 10.0.0.0/8).
  fc
    .tuple(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(24, 26))
    .map(([n, len]) => v4PrefixKey((10 * 2 ** 24 + n * 256) >>> 0, len)),
  fc.constantFrom('fd00:10::/64', 'fd00:11::/64', '10.244.5.192/26', 'not a prefix'),
  // Numbers that are not keys travel as they are (the worker rejects them as KernelSync does).
  fc.constantFrom(-1, -64, 1.5, Number.NaN),
);

const opArb: fc.Arbitrary<Op> = fc.record({
  prefix: prefixArb,
  list: fc.option(
    fc.record({ shared: fc.integer({ min: 0, max: SHARED.length - 1 }), fresh: fc.boolean() }),
    { nil: null },
  ),
});

function run(ops: Op[], capacity: number, maxLists: number, flushEvery: number) {
  const enc = new UpdateEncoder({ capacity, maxLists });
  const batches: UpdateBatch[] = [];
  ops.forEach((op, k) => {
    const list =
      op.list === null
        ? null
        : op.list.fresh
          ? [...SHARED[op.list.shared]]
          : SHARED[op.list.shared];
    enc.push(op.prefix, list);
    if (enc.hasSealed || (k + 1) % flushEvery === 0) batches.push(...enc.take());
  });
  batches.push(...enc.take());
  return batches;
}

t.test('decoding the batches replays every update in call order', async (t) => {
  fc.assert(
    fc.property(
      fc.array(opArb, { maxLength: 200 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 50 }),
      (ops, capacity, maxLists, flushEvery) => {
        const batches = run(ops, capacity, maxLists, flushEvery);
        const dec = new UpdateDecoder();
        const out: { prefix: Prefix; nexthops: readonly string[] | null }[] = [];
        for (const b of batches) {
          if (b.keys.length > capacity) return false;
          if (b.keys.length !== b.lists.length) return false;
          dec.apply(b, (prefix, nexthops) => out.push({ prefix, nexthops }));
        }
        if (out.length !== ops.length) return false;
        return ops.every((op, k) => {
          const got = out[k];
          const want = op.list === null ? null : SHARED[op.list.shared];
          const samePrefix = Object.is(got.prefix, op.prefix);
          const sameHops =
            want === null ? got.nexthops === null : got.nexthops?.join() === want.join();
          return samePrefix && sameHops;
        });
      },
    ),
    { numRuns: 300 },
  );
  t.pass('300 random runs replayed exactly');
});

t.test('a list is sent once per generation, and decodes to one shared array', async (t) => {
  fc.assert(
    fc.property(
      fc.array(opArb, { maxLength: 200 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 8 }),
      (ops, capacity, maxLists) => {
        const batches = run(ops, capacity, maxLists, 7);
        const defined = new Set<string>();
        for (const b of batches) {
          if (b.reset) defined.clear();
          for (const [id, list] of b.defs) {
            const text = list.join(' ');
            // Neither an id nor a content is defined twice in one generation.
            if (defined.has(`id:${id}`) || defined.has(text)) return false;
            if (id < 1 || id > maxLists) return false;
            defined.add(`id:${id}`);
            defined.add(text);
          }
        }
        // Within a generation, equal lists decode to the very same array (KernelSync's fast path).
        const dec = new UpdateDecoder();
        for (const b of batches) {
          const seen = new Map<string, readonly string[]>();
          let ok = true;
          dec.apply(b, (_p, nexthops) => {
            if (nexthops === null) return;
            const prev = seen.get(nexthops.join(' '));
            if (prev !== undefined && prev !== nexthops) ok = false;
            seen.set(nexthops.join(' '), nexthops);
          });
          if (!ok) return false;
        }
        return true;
      },
    ),
    { numRuns: 300 },
  );
  t.pass('300 random runs');
});

t.test('IPv4 keys travel as numbers, other prefixes in the side list', async (t) => {
  const enc = new UpdateEncoder();
  const nh = ['192.168.30.72'];
  const key = v4PrefixKey(0x0af40500, 26);
  enc.push(key, nh);
  enc.push('fd00:10::/64', nh);
  enc.push(key, null);
  const [b] = enc.take();
  t.same([...b.keys], [key, -1, key]);
  t.same([...b.lists], [1, 1, 0], 'one id for the shared list; 0 for the withdrawal');
  t.same(b.side, ['fd00:10::/64']);
  t.same(b.defs, [[1, ['192.168.30.72']]], "the list's addresses once");
  t.equal(enc.pending, false, 'nothing left after take');
  t.same(enc.take(), [], 'an empty encoder gives no batch');
});

t.test('a full batch is sealed at once and its buffers are handed over whole', async (t) => {
  const enc = new UpdateEncoder({ capacity: 4 });
  const nh = ['192.168.30.72'];
  for (let i = 0; i < 3; i++) enc.push(v4PrefixKey(0x0af40000 + i * 256, 24), nh);
  t.equal(enc.hasSealed, false, 'three of four: still open');
  enc.push(v4PrefixKey(0x0af40300, 24), nh);
  t.equal(enc.hasSealed, true, 'the fourth fills the batch');
  enc.push(v4PrefixKey(0x0af40400, 24), nh);
  const [full, rest] = enc.take();
  t.equal(full.keys.length, 4);
  t.equal(full.keys.buffer.byteLength, 4 * 8, 'the whole buffer (transferable as it is)');
  t.equal(rest.keys.length, 1);
  t.same(rest.defs, [], 'the list was defined in the first batch');
});

t.test('past maxLists a new generation starts and reuses ids', async (t) => {
  const enc = new UpdateEncoder({ maxLists: 2 });
  enc.push(v4PrefixKey(0x0a000000, 24), ['192.168.30.1']);
  enc.push(v4PrefixKey(0x0a000100, 24), ['192.168.30.2']);
  enc.push(v4PrefixKey(0x0a000200, 24), ['192.168.30.3']);
  const batches = enc.take();
  t.equal(batches.length, 2, 'the old generation is sealed before the reset');
  t.equal(batches[0].reset, false);
  t.equal(batches[1].reset, true);
  t.same(batches[1].defs, [[1, ['192.168.30.3']]]);
  const dec = new UpdateDecoder();
  const out: (readonly string[] | null)[] = [];
  for (const b of batches) dec.apply(b, (_p, nh) => out.push(nh));
  t.same(out, [['192.168.30.1'], ['192.168.30.2'], ['192.168.30.3']]);
});

t.test('the decoder refuses a list id it was never given', async (t) => {
  const dec = new UpdateDecoder();
  t.throws(
    () =>
      dec.apply(
        { reset: false, defs: [], keys: Float64Array.of(64), lists: Int32Array.of(7), side: [] },
        () => undefined,
      ),
    /undefined next-hop list 7/,
  );
});
