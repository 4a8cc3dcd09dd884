// An open-addressing hash index over IPv4 prefix keys (see v4-key.ts) for a set of numbered
// records whose keys live in the owner's Float64Array column: a slot is one Int32 (the record
// number), 4 bytes, and no object per prefix. Must not know what the records hold. No RFC.
//
// The index is split by the top 16 bits of the address into small tables ("buckets"): routes
// arrive in address order (a full table, a table read), so consecutive prefixes hit the same
// small bucket, which stays in cache, and growth rebuilds one small bucket, not everything.
// A bucket is one Int32Array: [bits, used (live + tombstones), live, slots...].

const EMPTY = -1;
const TOMBSTONE = -2;
const BITS = 0;
const USED = 1;
const LIVE = 2;
const HEAD = 3;
const MIN_BITS = 2;
const BUCKETS = 65536;

/** Spare buckets kept per size for reuse: a /16 that grows frees the sizes the next one needs. */
const SPARES_PER_SIZE = 32;

export class V4Index {
  private buckets: (Int32Array | null)[] = new Array<Int32Array | null>(BUCKETS).fill(null);
  /** The owner's key column: record r has key `keys[r]`. Replace it with attach() on growth. */
  private keys: Float64Array;
  private live = 0;
  private slotCount = 0;
  /** forEach() calls running: a shrink waits for them (a grow cannot happen: no insert). */
  private walking = 0;
  /** Replaced buckets by size, reused (a typed array this size lives outside the JS heap). */
  private spares: Int32Array[][] = [];

  /** A bucket of 2^bits slots: a spare one of that size if there is one, else a new array. */
  private newBucket(bits: number): Int32Array {
    const b = this.spares[bits]?.pop() ?? new Int32Array(HEAD + (1 << bits));
    b.fill(EMPTY);
    b[BITS] = bits;
    b[USED] = 0;
    b[LIVE] = 0;
    return b;
  }

  private spare(b: Int32Array): void {
    const list = (this.spares[b[BITS]] ??= []);
    if (list.length < SPARES_PER_SIZE) list.push(b);
  }

  constructor(keys: Float64Array) {
    this.keys = keys;
  }

  /** Points the index at the owner's (grown or replaced) key column; same contents. */
  attach(keys: Float64Array): void {
    this.keys = keys;
  }

  get size(): number {
    return this.live;
  }

  /** Slots allocated (for memory accounting). */
  get capacity(): number {
    return this.slotCount;
  }

  /** Mix the low address bits and the length, then a 32-bit finaliser (xor-shift-multiply). */
  private static slot(a: number, len: number, bits: number): number {
    let h = a & 0xffff;
    h ^= Math.imul(len, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
    h ^= h >>> 15;
    return h >>> (32 - bits);
  }

  /** The record with `key`, or -1. */
  get(key: number): number {
    // Floors, not `%`: a floating-point remainder is a slow library call on this hot path.
    const a = Math.floor(key / 64);
    const b = this.buckets[a >>> 16];
    if (b === null) return -1;
    const keys = this.keys;
    const bits = b[BITS];
    const mask = (1 << bits) - 1;
    for (let i = V4Index.slot(a, key - a * 64, bits); ; i = (i + 1) & mask) {
      const r = b[HEAD + i];
      if (r === EMPTY) return -1;
      if (r >= 0 && keys[r] === key) return r;
    }
  }

  /**
   * The record with `key` if there is one; otherwise indexes `record` (whose key column entry
   * the owner has already set to `key`) and returns -1. One probe for lookup and insert.
   */
  getOrAdd(key: number, record: number): number {
    const a = Math.floor(key / 64);
    const top = a >>> 16;
    let b = this.buckets[top];
    if (b === null) {
      b = this.buckets[top] = this.newBucket(MIN_BITS);
      this.slotCount += 1 << MIN_BITS;
    }
    const keys = this.keys;
    const bits = b[BITS];
    const mask = (1 << bits) - 1;
    let free = -1;
    for (let i = V4Index.slot(a, key - a * 64, bits); ; i = (i + 1) & mask) {
      const r = b[HEAD + i];
      if (r === EMPTY) {
        if (free < 0) {
          free = i;
          b[USED]++;
        }
        break;
      }
      if (r === TOMBSTONE) {
        if (free < 0) free = i;
      } else if (keys[r] === key) return r;
    }
    b[HEAD + free] = record;
    b[LIVE]++;
    this.live++;
    // Keep at most 3/4 of the slots used; grow when live records (not tombstones) fill half.
    if (b[USED] * 4 > (mask + 1) * 3) {
      // Small buckets grow 4x at a time (fewer rebuilds while a /16 fills), large ones 2x.
      this.rebuild(top, b[LIVE] * 2 > mask + 1 ? bits + (bits < 8 ? 2 : 1) : bits);
    }
    return -1;
  }

  /** Indexes `record` under its key (the owner sets the key column first). */
  add(record: number): void {
    const found = this.getOrAdd(this.keys[record], record);
    if (found >= 0 && found !== record) throw new Error('V4Index: key already indexed');
  }

  /** Removes the record with `key`; returns it, or -1 when there was none. */
  delete(key: number): number {
    const a = Math.floor(key / 64);
    const top = a >>> 16;
    const b = this.buckets[top];
    if (b === null) return -1;
    const keys = this.keys;
    const bits = b[BITS];
    const mask = (1 << bits) - 1;
    for (let i = V4Index.slot(a, key - a * 64, bits); ; i = (i + 1) & mask) {
      const r = b[HEAD + i];
      if (r === EMPTY) return -1;
      if (r >= 0 && keys[r] === key) {
        // A slot followed by an empty one can be emptied outright: no probe run passes it.
        if (b[HEAD + ((i + 1) & mask)] === EMPTY) {
          b[HEAD + i] = EMPTY;
          b[USED]--;
        } else b[HEAD + i] = TOMBSTONE;
        b[LIVE]--;
        this.live--;
        if (this.walking === 0) this.maybeShrink(top);
        return r;
      }
    }
  }

  private maybeShrink(top: number): void {
    const b = this.buckets[top]!;
    const live = b[LIVE];
    if (live === 0) {
      this.slotCount -= 1 << b[BITS];
      this.buckets[top] = null;
      this.spare(b);
      return;
    }
    let bits = b[BITS];
    if (bits <= MIN_BITS || live * 8 >= 1 << bits) return;
    while (bits > MIN_BITS && live * 4 < 1 << (bits - 1)) bits--;
    this.rebuild(top, bits);
  }

  clear(): void {
    this.buckets = new Array<Int32Array | null>(BUCKETS).fill(null);
    this.spares = [];
    this.live = 0;
    this.slotCount = 0;
  }

  private rebuild(top: number, bits: number): void {
    const old = this.buckets[top]!;
    const b = this.newBucket(Math.max(MIN_BITS, bits));
    const nbits = b[BITS];
    const mask = (1 << nbits) - 1;
    for (let i = HEAD; i < old.length; i++) {
      const r = old[i];
      if (r < 0) continue;
      const key = this.keys[r];
      const a = Math.floor(key / 64);
      let j = V4Index.slot(a, key - a * 64, nbits);
      while (b[HEAD + j] !== EMPTY) j = (j + 1) & mask;
      b[HEAD + j] = r;
    }
    b[USED] = old[LIVE];
    b[LIVE] = old[LIVE];
    this.slotCount += (1 << nbits) - (1 << old[BITS]);
    this.buckets[top] = b;
    this.spare(old);
  }

  /**
   * Calls `fn` for every record. `fn` may delete keys (any key, the current one included): each
   * key present from start to end is visited once. Inserting during the walk is not allowed.
   */
  forEach(fn: (key: number, record: number) => void): void {
    this.walking++;
    try {
      for (let top = 0; top < BUCKETS; top++) {
        const b = this.buckets[top];
        if (b === null) continue;
        for (let i = HEAD; i < b.length; i++) {
          const r = b[i];
          if (r >= 0) fn(this.keys[r], r);
        }
      }
    } finally {
      this.walking--;
    }
    if (this.walking === 0) {
      for (let top = 0; top < BUCKETS; top++) if (this.buckets[top] !== null) this.maybeShrink(top);
    }
  }
}
