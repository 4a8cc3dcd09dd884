// An open-addressing hash index over IPv4 prefix keys (see v4-key.ts) for a set of numbered
// records whose keys live in the owner's Float64Array column: a slot is one Int32 (the record
// number), 4 bytes, and no object per prefix. Must not know what the records hold. No RFC.

const EMPTY = -1;
const TOMBSTONE = -2;
const MIN_BITS = 4;

export class V4Index {
  private bits = MIN_BITS;
  private mask = (1 << MIN_BITS) - 1;
  private slots = new Int32Array(1 << MIN_BITS).fill(EMPTY);
  /** The owner's key column: record r has key `keys[r]`. Replace it with attach() on growth. */
  private keys: Float64Array;
  /** Live records plus tombstones. */
  private used = 0;
  private live = 0;
  /** forEach() calls running: a shrink waits for them (a grow cannot happen: no insert). */
  private walking = 0;

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
    return this.mask + 1;
  }

  private slot(key: number): number {
    // Mix the address and the length, then a 32-bit finaliser (xor-shift-multiply).
    // Floors, not `%`: a floating-point remainder is a slow library call on this hot path.
    const a = Math.floor(key / 64);
    let h = a >>> 0;
    h ^= Math.imul(key - a * 64, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
    h ^= h >>> 15;
    return h >>> (32 - this.bits);
  }

  /** The record with `key`, or -1. */
  get(key: number): number {
    const slots = this.slots;
    const keys = this.keys;
    const mask = this.mask;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const r = slots[i];
      if (r === EMPTY) return -1;
      if (r >= 0 && keys[r] === key) return r;
    }
  }

  /**
   * The record with `key` if there is one; otherwise indexes `record` (whose key column entry
   * the owner has already set to `key`) and returns -1. One probe for lookup and insert.
   */
  getOrAdd(key: number, record: number): number {
    const slots = this.slots;
    const keys = this.keys;
    const mask = this.mask;
    let free = -1;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const r = slots[i];
      if (r === EMPTY) {
        if (free < 0) {
          free = i;
          this.used++;
        }
        break;
      }
      if (r === TOMBSTONE) {
        if (free < 0) free = i;
      } else if (keys[r] === key) return r;
    }
    slots[free] = record;
    this.live++;
    // Keep at most 3/4 of the slots used; grow when live records (not tombstones) fill half.
    if (this.used * 4 > (mask + 1) * 3) {
      this.rehash(this.live * 2 > mask + 1 ? this.bits + 1 : this.bits);
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
    const slots = this.slots;
    const keys = this.keys;
    const mask = this.mask;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const r = slots[i];
      if (r === EMPTY) return -1;
      if (r >= 0 && keys[r] === key) {
        // A slot followed by an empty one can be emptied outright: no probe run passes it.
        if (slots[(i + 1) & mask] === EMPTY) {
          slots[i] = EMPTY;
          this.used--;
        } else slots[i] = TOMBSTONE;
        this.live--;
        this.maybeShrink();
        return r;
      }
    }
  }

  private maybeShrink(): void {
    if (this.walking === 0 && this.bits > MIN_BITS && this.live * 8 < this.mask + 1) {
      let bits = this.bits;
      while (bits > MIN_BITS && this.live * 4 < 1 << (bits - 1)) bits--;
      this.rehash(bits);
    }
  }

  clear(): void {
    this.bits = MIN_BITS;
    this.mask = (1 << MIN_BITS) - 1;
    this.slots = new Int32Array(1 << MIN_BITS).fill(EMPTY);
    this.used = 0;
    this.live = 0;
  }

  private rehash(bits: number): void {
    const old = this.slots;
    this.bits = Math.max(MIN_BITS, bits);
    const cap = 1 << this.bits;
    this.mask = cap - 1;
    const slots = new Int32Array(cap).fill(EMPTY);
    for (let i = 0; i < old.length; i++) {
      const r = old[i];
      if (r < 0) continue;
      let j = this.slot(this.keys[r]);
      while (slots[j] !== EMPTY) j = (j + 1) & this.mask;
      slots[j] = r;
    }
    this.slots = slots;
    this.used = this.live;
  }

  /**
   * Calls `fn` for every record. `fn` may delete keys (any key, the current one included): each
   * key present from start to end is visited once. Inserting during the walk is not allowed.
   */
  forEach(fn: (key: number, record: number) => void): void {
    this.walking++;
    try {
      const slots = this.slots;
      for (let i = 0; i < slots.length; i++) {
        const r = slots[i];
        if (r >= 0) fn(this.keys[r], r);
      }
    } finally {
      this.walking--;
    }
    this.maybeShrink();
  }
}
