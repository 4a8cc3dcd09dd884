// An open-addressing hash table from IPv4 prefix keys (address * 64 + length) to the head of a
// prefix's route list: keys in a Float64Array, values in a packed array, no boxed number or map
// entry per prefix. Map-like surface (get/set/delete/size/iteration) for the RIB's tables.
// No BGP logic here.

const EMPTY = -1;
const TOMBSTONE = -2;
const MIN_BITS = 10;

let seedCounter = 0x2545f491;
function nextSeed(): number {
  seedCounter = (seedCounter + 0x9e3779b9) | 0;
  return seedCounter;
}

/** The subset of Map the RIB uses, so IPv4 (this class) and IPv6 (a Map) tables look alike. */
export interface PrefixTable<K, V> {
  readonly size: number;
  get(key: K): V | undefined;
  set(key: K, value: V): unknown;
  delete(key: K): boolean;
  keys(): Iterator<K>;
  values(): Iterable<V>;
  [Symbol.iterator](): Iterator<[K, V]>;
}

export class V4Table<V> implements PrefixTable<number, V> {
  private bits = MIN_BITS;
  private mask = (1 << MIN_BITS) - 1;
  private keysArr = new Float64Array(1 << MIN_BITS).fill(EMPTY);
  private vals: (V | null)[] = new Array<V | null>(1 << MIN_BITS).fill(null);
  private used = 0; // live + tombstones
  private live = 0;
  /** Bumped on every rehash: running iterators restart (they may then repeat keys, never miss). */
  private version = 0;

  get size(): number {
    return this.live;
  }

  /**
   * Each table (and each rehash) hashes with its own seed: filling one table while walking
   * another in slot order would otherwise pile keys into a few long probe runs.
   */
  private seed = nextSeed();

  private slot(key: number): number {
    // The murmur3 finaliser over the address, the length and the seed.
    let h = ((key / 64) >>> 0) ^ Math.imul(key % 64, 0x27d4eb2f) ^ this.seed;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> (32 - this.bits);
  }

  get(key: number): V | undefined {
    const keys = this.keysArr;
    const mask = this.mask;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === key) return this.vals[i] as V;
      if (k === EMPTY) return undefined;
    }
  }

  set(key: number, value: V): this {
    const keys = this.keysArr;
    const mask = this.mask;
    let free = -1;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === key) {
        this.vals[i] = value;
        return this;
      }
      if (k === TOMBSTONE) {
        if (free < 0) free = i;
      } else if (k === EMPTY) {
        if (free < 0) {
          free = i;
          this.used++;
        }
        break;
      }
    }
    keys[free] = key;
    this.vals[free] = value;
    this.live++;
    if (this.used * 4 > (mask + 1) * 3)
      this.rehash(this.live * 2 > mask + 1 ? this.bits + 1 : this.bits);
    return this;
  }

  delete(key: number): boolean {
    const keys = this.keysArr;
    const mask = this.mask;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === key) {
        keys[i] = TOMBSTONE;
        this.vals[i] = null;
        this.live--;
        // Mostly tombstones: rebuild smaller so probes stay short (running iterators restart).
        if (this.bits > MIN_BITS && this.live * 8 < mask + 1) this.rehash(this.bits - 2);
        return true;
      }
      if (k === EMPTY) return false;
    }
  }

  private rehash(bits: number): void {
    const oldKeys = this.keysArr;
    const oldVals = this.vals;
    this.bits = Math.max(MIN_BITS, bits);
    const cap = 1 << this.bits;
    this.mask = cap - 1;
    this.keysArr = new Float64Array(cap).fill(EMPTY);
    this.vals = new Array<V | null>(cap).fill(null);
    this.used = 0;
    this.live = 0;
    this.version++;
    this.seed = nextSeed();
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i];
      if (k >= 0) {
        // Fresh table: no tombstones, no duplicates: a plain probe for the first empty slot.
        let j = this.slot(k);
        while (this.keysArr[j] !== EMPTY) j = (j + 1) & this.mask;
        this.keysArr[j] = k;
        this.vals[j] = oldVals[i];
        this.used++;
        this.live++;
      }
    }
  }

  /** Live iteration: deletions during it are safe; a rehash (growth) restarts it. */
  *entries(): Generator<[number, V]> {
    let version = this.version;
    for (let i = 0; ; i++) {
      // Checked before the bound: a rehash may have made the array shorter than `i`.
      if (version !== this.version) {
        version = this.version;
        i = -1;
        continue;
      }
      if (i >= this.keysArr.length) break;
      const k = this.keysArr[i];
      if (k >= 0) yield [k, this.vals[i] as V];
    }
  }

  *keys(): Generator<number> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): Generator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): Generator<[number, V]> {
    return this.entries();
  }
}
