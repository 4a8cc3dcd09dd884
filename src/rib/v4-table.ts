// Prefix tables without a boxed number or map entry per prefix: `V4IntTable`, an open-addressing
// hash from IPv4 prefix keys (address * 64 + length) to small integers, bucketed by /16;
// `V4Table<V>`, the same with object values. No BGP logic here.

const EMPTY = -1;
const TOMBSTONE = -2;
/** What `IntTable.get` returns for a key that is not there. */
export const ABSENT = -1;

let seedCounter = 0x2545f491;
function nextSeed(): number {
  seedCounter = (seedCounter + 0x9e3779b9) | 0;
  return seedCounter;
}

/** The subset of Map the RIB uses, so IPv4 and IPv6 (a Map) tables look alike. */
export interface PrefixTable<K, V> {
  readonly size: number;
  get(key: K): V | undefined;
  set(key: K, value: V): unknown;
  delete(key: K): boolean;
  keys(): Iterator<K>;
  values(): Iterable<V>;
  [Symbol.iterator](): Iterator<[K, V]>;
}

/** A table from prefix keys to non-negative integers; `get` answers ABSENT for a missing key. */
export interface IntTable<K> {
  readonly size: number;
  get(key: K): number;
  set(key: K, value: number): void;
  delete(key: K): boolean;
  keys(): Iterator<K>;
  /** Every entry; deleting during the walk is allowed. */
  forEach(fn: (key: K, value: number) => void): void;
  [Symbol.iterator](): Iterator<[K, number]>;
}

/**
 * The table is split by the top 16 bits of the address into up to 65,536 small open-addressing
 * tables ("buckets"). A peer sends a full table in address order, so consecutive prefixes land
 * in the same small bucket, which stays in cache, and growing means rehashing one small bucket,
 * not the whole table. Each bucket is one Int32Array: a header, then slots of three Int32s side
 * by side (address, length or EMPTY/TOMBSTONE, value).
 */
const BITS = 0;
const USED = 1; // live + tombstones
const LIVE = 2;
const HEAD = 3;
const STRIDE = 3;
const BUCKET_MIN_BITS = 3;
const BUCKETS = 65536;

/** A position in a walk of a V4IntTable: bucket, slot offset, the bucket's version. */
interface Walk {
  top: number;
  at: number;
  version: number;
}

/** Small buckets grow 4x at a time (fewer rebuilds while a /16 fills), large ones 2x. */
function grown(bits: number): number {
  return bits + (bits < 8 ? 2 : 1);
}

/** Spare buckets kept per size for reuse: a /16 that grows frees the sizes the next one needs. */
const SPARES_PER_SIZE = 32;

/** A bucket of 2^bits slots: a spare one of that size if there is one, else a new array. */
function takeBucket(spares: Int32Array[][], bits: number): Int32Array {
  const b = spares[bits]?.pop() ?? new Int32Array(HEAD + (1 << bits) * STRIDE);
  b.fill(EMPTY);
  b[BITS] = bits;
  b[USED] = 0;
  b[LIVE] = 0;
  return b;
}

function spareBucket(spares: Int32Array[][], b: Int32Array): void {
  const list = (spares[b[BITS]] ??= []);
  if (list.length < SPARES_PER_SIZE) list.push(b);
}

/** The murmur3 finaliser over the low address bits, the length and the seed. */
function slotOf(addr: number, len: number, seed: number, bits: number): number {
  let h = (addr & 0xffff) ^ Math.imul(len, 0x27d4eb2f) ^ seed;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> (32 - bits);
}

export class V4IntTable implements IntTable<number> {
  private readonly buckets: (Int32Array | null)[] = new Array<Int32Array | null>(BUCKETS).fill(
    null,
  );
  private live = 0;
  /** Per bucket, bumped when it is rebuilt: an iterator inside it starts that bucket again. */
  private readonly versions = new Uint32Array(BUCKETS);
  private readonly seed = nextSeed();
  /**
   * Bucket allocation is a large share of filling a table (a typed array of this size lives
   * outside the JS heap): replaced buckets are reused.
   */
  private readonly spares: Int32Array[][] = [];

  get size(): number {
    return this.live;
  }

  get(key: number): number {
    // The key is split with a division, not `%`: a floating-point remainder is a library call.
    const a = Math.floor(key / 64);
    const len = key - a * 64;
    const b = this.buckets[a >>> 16];
    if (b === null) return ABSENT;
    const addr = a | 0;
    const bits = b[BITS];
    const mask = (1 << bits) - 1;
    for (let i = slotOf(addr, len, this.seed, bits); ; i = (i + 1) & mask) {
      const at = HEAD + i * STRIDE;
      const l = b[at + 1];
      if (l === len && b[at] === addr) return b[at + 2];
      if (l === EMPTY) return ABSENT;
    }
  }

  set(key: number, value: number): void {
    const a = Math.floor(key / 64);
    const len = key - a * 64;
    const addr = a | 0;
    const top = a >>> 16;
    let b = this.buckets[top];
    if (b === null) b = this.buckets[top] = takeBucket(this.spares, BUCKET_MIN_BITS);
    const bits = b[BITS];
    const mask = (1 << bits) - 1;
    let free = -1;
    for (let i = slotOf(addr, len, this.seed, bits); ; i = (i + 1) & mask) {
      const at = HEAD + i * STRIDE;
      const l = b[at + 1];
      if (l === len && b[at] === addr) {
        b[at + 2] = value;
        return;
      }
      if (l === TOMBSTONE) {
        if (free < 0) free = at;
      } else if (l === EMPTY) {
        if (free < 0) {
          free = at;
          b[USED]++;
        }
        break;
      }
    }
    b[free] = addr;
    b[free + 1] = len;
    b[free + 2] = value;
    b[LIVE]++;
    this.live++;
    if (b[USED] * 4 > (mask + 1) * 3)
      this.rebuild(top, b[LIVE] * 2 > mask + 1 ? grown(bits) : bits);
  }

  delete(key: number): boolean {
    const a = Math.floor(key / 64);
    const len = key - a * 64;
    const top = a >>> 16;
    const b = this.buckets[top];
    if (b === null) return false;
    const addr = a | 0;
    const bits = b[BITS];
    const mask = (1 << bits) - 1;
    for (let i = slotOf(addr, len, this.seed, bits); ; i = (i + 1) & mask) {
      const at = HEAD + i * STRIDE;
      const l = b[at + 1];
      if (l === len && b[at] === addr) {
        b[at + 1] = TOMBSTONE;
        b[LIVE]--;
        this.live--;
        if (b[LIVE] === 0) {
          this.buckets[top] = null;
          this.versions[top]++;
          spareBucket(this.spares, b);
        } else if (bits > BUCKET_MIN_BITS && b[LIVE] * 8 < mask + 1) {
          // Mostly tombstones: rebuild smaller so probes stay short.
          this.rebuild(top, bits - 2);
        }
        return true;
      }
      if (l === EMPTY) return false;
    }
  }

  private rebuild(top: number, bits: number): void {
    const old = this.buckets[top]!;
    const b = takeBucket(this.spares, Math.max(BUCKET_MIN_BITS, bits));
    const nbits = b[BITS];
    const mask = (1 << nbits) - 1;
    for (let at = HEAD; at < old.length; at += STRIDE) {
      const len = old[at + 1];
      if (len < 0) continue;
      // Fresh bucket: no tombstones, no duplicates: a plain probe for the first empty slot.
      const addr = old[at];
      let j = slotOf(addr, len, this.seed, nbits);
      while (b[HEAD + j * STRIDE + 1] !== EMPTY) j = (j + 1) & mask;
      const to = HEAD + j * STRIDE;
      b[to] = addr;
      b[to + 1] = len;
      b[to + 2] = old[at + 2];
      b[USED]++;
      b[LIVE]++;
    }
    this.buckets[top] = b;
    this.versions[top]++;
    spareBucket(this.spares, old);
  }

  /** A walk from the first slot (see `step`). */
  private walk(): Walk {
    return { top: 0, at: HEAD - STRIDE, version: this.versions[0] };
  }

  /**
   * Moves a walk to the next live slot: returns its bucket (the slot is at `w.at`), or null at
   * the end. Deletions during a walk are safe and keys present throughout are visited; a
   * bucket rebuilt under the walk is walked again from its start, so a key may repeat.
   */
  private step(w: Walk): Int32Array | null {
    while (w.top < BUCKETS) {
      if (w.version !== this.versions[w.top]) {
        w.version = this.versions[w.top];
        w.at = HEAD - STRIDE;
      }
      const b = this.buckets[w.top];
      w.at += STRIDE;
      if (b !== null && w.at < b.length) {
        if (b[w.at + 1] >= 0) return b;
        continue;
      }
      w.top++;
      w.at = HEAD - STRIDE;
      if (w.top < BUCKETS) w.version = this.versions[w.top];
    }
    return null;
  }

  /**
   * Every entry, without an iterator object or a pair per entry: for walks of a whole table,
   * such as removing a peer's routes after its session went down. Same guarantees as `step`.
   */
  forEach(fn: (key: number, value: number) => void): void {
    const w = this.walk();
    for (let b = this.step(w); b !== null; b = this.step(w)) {
      fn((b[w.at] >>> 0) * 64 + b[w.at + 1], b[w.at + 2]);
    }
  }

  /** Live iteration, with the guarantees of `step`. */
  *entries(): Generator<[number, number]> {
    const w = this.walk();
    for (let b = this.step(w); b !== null; b = this.step(w)) {
      yield [(b[w.at] >>> 0) * 64 + b[w.at + 1], b[w.at + 2]];
    }
  }

  /** The keys alone (Adj-RIB-Out walks of Loc-RIB): no pair per key. */
  *keys(): Generator<number> {
    const w = this.walk();
    for (let b = this.step(w); b !== null; b = this.step(w))
      yield (b[w.at] >>> 0) * 64 + b[w.at + 1];
  }

  [Symbol.iterator](): Generator<[number, number]> {
    return this.entries();
  }
}

/** IPv6 keys (canonical text) in a Map, behind the same surface as V4IntTable. */
export class TextIntTable implements IntTable<string> {
  private readonly map = new Map<string, number>();

  get size(): number {
    return this.map.size;
  }

  get(key: string): number {
    return this.map.get(key) ?? ABSENT;
  }

  set(key: string, value: number): void {
    this.map.set(key, value);
  }

  delete(key: string): boolean {
    return this.map.delete(key);
  }

  keys(): Iterator<string> {
    return this.map.keys();
  }

  forEach(fn: (key: string, value: number) => void): void {
    for (const [k, v] of this.map) fn(k, v);
  }

  [Symbol.iterator](): Iterator<[string, number]> {
    return this.map.entries();
  }
}

/**
 * IPv4 keys to object values: the keys in a V4IntTable whose integers index a value array
 * (freed cells are reused), so the hash itself holds no pointers.
 */
export class V4Table<V> implements PrefixTable<number, V> {
  private readonly index = new V4IntTable();
  private readonly cells: (V | undefined)[] = [];
  private readonly free: number[] = [];

  get size(): number {
    return this.index.size;
  }

  get(key: number): V | undefined {
    const at = this.index.get(key);
    return at === ABSENT ? undefined : this.cells[at];
  }

  set(key: number, value: V): this {
    const at = this.index.get(key);
    if (at !== ABSENT) {
      this.cells[at] = value;
      return this;
    }
    const cell = this.free.length ? this.free.pop()! : this.cells.length;
    this.cells[cell] = value;
    this.index.set(key, cell);
    return this;
  }

  delete(key: number): boolean {
    const at = this.index.get(key);
    if (at === ABSENT) return false;
    this.index.delete(key);
    this.cells[at] = undefined;
    this.free.push(at);
    if (this.index.size === 0) {
      this.cells.length = 0;
      this.free.length = 0;
    }
    return true;
  }

  *entries(): Generator<[number, V]> {
    for (const [k, at] of this.index.entries()) yield [k, this.cells[at] as V];
  }

  keys(): Generator<number> {
    return this.index.keys();
  }

  *values(): Generator<V> {
    for (const [, at] of this.index.entries()) yield this.cells[at] as V;
  }

  [Symbol.iterator](): Generator<[number, V]> {
    return this.entries();
  }
}
