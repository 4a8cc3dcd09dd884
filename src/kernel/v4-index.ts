// An open-addressing hash table from IPv4 prefix keys (see v4-key.ts) to small non-negative
// integers (entry indices): keys in a Float64Array, values in an Int32Array, 12 bytes a slot and
// no object per prefix. Must not know what the values mean. No RFC.

const EMPTY = -1;
const TOMBSTONE = -2;
const MIN_BITS = 4;

export class V4Index {
  private bits = MIN_BITS;
  private mask = (1 << MIN_BITS) - 1;
  private keys = new Float64Array(1 << MIN_BITS).fill(EMPTY);
  private vals = new Int32Array(1 << MIN_BITS);
  /** Live keys plus tombstones. */
  private used = 0;
  private live = 0;
  /** forEach() calls running: a shrink waits for them (a grow cannot happen: no insert). */
  private walking = 0;

  get size(): number {
    return this.live;
  }

  /** Slots allocated (for memory accounting). */
  get capacity(): number {
    return this.mask + 1;
  }

  private slot(key: number): number {
    // Mix the address and the length, then a 32-bit finaliser (xor-shift-multiply).
    let h = (key / 64) >>> 0;
    h ^= Math.imul(key % 64, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
    h ^= h >>> 15;
    return h >>> (32 - this.bits);
  }

  /** The value for `key`, or -1. */
  get(key: number): number {
    const keys = this.keys;
    const mask = this.mask;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === key) return this.vals[i];
      if (k === EMPTY) return -1;
    }
  }

  /** Sets `key` to `value` (a non-negative int32). */
  set(key: number, value: number): void {
    const keys = this.keys;
    const mask = this.mask;
    let free = -1;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === key) {
        this.vals[i] = value;
        return;
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
    // Keep at most 3/4 of the slots used; grow when live keys (not tombstones) fill half.
    if (this.used * 4 > (mask + 1) * 3) {
      this.rehash(this.live * 2 > mask + 1 ? this.bits + 1 : this.bits);
    }
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: number): boolean {
    const keys = this.keys;
    const mask = this.mask;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === key) {
        // A slot followed by an empty one can be emptied outright: no probe run passes it.
        if (keys[(i + 1) & mask] === EMPTY) {
          keys[i] = EMPTY;
          this.used--;
        } else keys[i] = TOMBSTONE;
        this.live--;
        this.maybeShrink();
        return true;
      }
      if (k === EMPTY) return false;
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
    this.keys = new Float64Array(1 << MIN_BITS).fill(EMPTY);
    this.vals = new Int32Array(1 << MIN_BITS);
    this.used = 0;
    this.live = 0;
  }

  private rehash(bits: number): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    this.bits = Math.max(MIN_BITS, bits);
    const cap = 1 << this.bits;
    this.mask = cap - 1;
    const keys = new Float64Array(cap).fill(EMPTY);
    const vals = new Int32Array(cap);
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i];
      if (k < 0) continue;
      let j = this.slot(k);
      while (keys[j] !== EMPTY) j = (j + 1) & this.mask;
      keys[j] = k;
      vals[j] = oldVals[i];
    }
    this.keys = keys;
    this.vals = vals;
    this.used = this.live;
  }

  /**
   * Calls `fn` for every key. `fn` may delete keys (any key, the current one included): each key
   * present from start to end is visited once. Inserting during the walk is not allowed.
   */
  forEach(fn: (key: number, value: number) => void): void {
    this.walking++;
    try {
      const keys = this.keys;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        if (k >= 0) fn(k, this.vals[i]);
      }
    } finally {
      this.walking--;
    }
    this.maybeShrink();
  }
}
