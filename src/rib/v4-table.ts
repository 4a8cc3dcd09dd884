// Prefix tables without a boxed number or map entry per prefix: `V4IntTable`, an open-addressing
// hash from IPv4 prefix keys (address * 64 + length) to small integers in one Int32Array;
// `V4Table<V>`, the same with object values. No BGP logic here.

const EMPTY = -1;
const TOMBSTONE = -2;
const MIN_BITS = 10;
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
  [Symbol.iterator](): Iterator<[K, number]>;
}

/**
 * Slots are three Int32s side by side: the prefix address, its length (or EMPTY / TOMBSTONE) and
 * the value, so a lookup touches one cache line, not one in a key array and one in a value array.
 */
const STRIDE = 3;

export class V4IntTable implements IntTable<number> {
  private bits = MIN_BITS;
  private mask = (1 << MIN_BITS) - 1;
  private slots = new Int32Array((1 << MIN_BITS) * STRIDE).fill(EMPTY);
  private used = 0; // live + tombstones
  private live = 0;
  /** Bumped on every rehash: running iterators restart (they may then repeat keys, never miss). */
  private version = 0;
  /**
   * Each table (and each rehash) hashes with its own seed: filling one table while walking
   * another in slot order would otherwise pile keys into a few long probe runs.
   */
  private seed = nextSeed();

  get size(): number {
    return this.live;
  }

  /** The murmur3 finaliser over the address, the length and the seed. */
  private slot(addr: number, len: number): number {
    let h = addr ^ Math.imul(len, 0x27d4eb2f) ^ this.seed;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> (32 - this.bits);
  }

  get(key: number): number {
    // The key is split with a division, not `%`: a floating-point remainder is a library call.
    const a = Math.floor(key / 64);
    const len = key - a * 64;
    const addr = a | 0;
    const slots = this.slots;
    const mask = this.mask;
    for (let i = this.slot(addr, len); ; i = (i + 1) & mask) {
      const at = i * STRIDE;
      const l = slots[at + 1];
      if (l === len && slots[at] === addr) return slots[at + 2];
      if (l === EMPTY) return ABSENT;
    }
  }

  set(key: number, value: number): void {
    const a = Math.floor(key / 64);
    const len = key - a * 64;
    const addr = a | 0;
    const slots = this.slots;
    const mask = this.mask;
    let free = -1;
    for (let i = this.slot(addr, len); ; i = (i + 1) & mask) {
      const at = i * STRIDE;
      const l = slots[at + 1];
      if (l === len && slots[at] === addr) {
        slots[at + 2] = value;
        return;
      }
      if (l === TOMBSTONE) {
        if (free < 0) free = at;
      } else if (l === EMPTY) {
        if (free < 0) {
          free = at;
          this.used++;
        }
        break;
      }
    }
    slots[free] = addr;
    slots[free + 1] = len;
    slots[free + 2] = value;
    this.live++;
    if (this.used * 4 > (mask + 1) * 3)
      this.rehash(this.live * 2 > mask + 1 ? this.bits + 1 : this.bits);
  }

  delete(key: number): boolean {
    const a = Math.floor(key / 64);
    const len = key - a * 64;
    const addr = a | 0;
    const slots = this.slots;
    const mask = this.mask;
    for (let i = this.slot(addr, len); ; i = (i + 1) & mask) {
      const at = i * STRIDE;
      const l = slots[at + 1];
      if (l === len && slots[at] === addr) {
        slots[at + 1] = TOMBSTONE;
        this.live--;
        // Mostly tombstones: rebuild smaller so probes stay short (running iterators restart).
        if (this.bits > MIN_BITS && this.live * 8 < mask + 1) this.rehash(this.bits - 2);
        return true;
      }
      if (l === EMPTY) return false;
    }
  }

  private rehash(bits: number): void {
    const old = this.slots;
    this.bits = Math.max(MIN_BITS, bits);
    const cap = 1 << this.bits;
    this.mask = cap - 1;
    const slots = new Int32Array(cap * STRIDE).fill(EMPTY);
    this.slots = slots;
    this.used = 0;
    this.live = 0;
    this.version++;
    this.seed = nextSeed();
    for (let at = 0; at < old.length; at += STRIDE) {
      const len = old[at + 1];
      if (len >= 0) {
        // Fresh table: no tombstones, no duplicates: a plain probe for the first empty slot.
        const addr = old[at];
        let j = this.slot(addr, len);
        while (slots[j * STRIDE + 1] !== EMPTY) j = (j + 1) & this.mask;
        slots[j * STRIDE] = addr;
        slots[j * STRIDE + 1] = len;
        slots[j * STRIDE + 2] = old[at + 2];
        this.used++;
        this.live++;
      }
    }
  }

  /** Live iteration: deletions during it are safe; a rehash restarts it. */
  *entries(): Generator<[number, number]> {
    let version = this.version;
    for (let at = 0; ; at += STRIDE) {
      // Checked before the bound: a rehash may have made the array shorter than `at`.
      if (version !== this.version) {
        version = this.version;
        at = -STRIDE;
        continue;
      }
      if (at >= this.slots.length) break;
      const len = this.slots[at + 1];
      if (len >= 0) yield [(this.slots[at] >>> 0) * 64 + len, this.slots[at + 2]];
    }
  }

  *keys(): Generator<number> {
    for (const [k] of this.entries()) yield k;
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
