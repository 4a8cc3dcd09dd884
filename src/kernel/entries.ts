// The kernel sync's per-prefix state as columns indexed by a small entry number: the IPv4 key,
// the interned next-hop set, the interned shape the kernel holds, and flag bits. IPv4 prefixes
// are found through a numeric hash index (no string per prefix); IPv6 ones through a Map.
// Must not plan, parse routes or run commands. No RFC.

import { V4Index } from './v4-index.js';
import { canonicalV4Text } from './v4-key.js';

/** An own block (installed as a blackhole). */
export const F_OWN = 1;
/** On the dirty list. */
export const F_DIRTY = 2;
/** Listed by the setRoutes() table being absorbed. */
export const F_SEEN = 4;
/** Has an entry in the error map. */
export const F_ERROR = 8;
export const F_V6 = 16;
/** The slot holds an entry (free slots have it clear). */
export const F_LIVE = 32;
/** Found by the table read being adopted. */
export const F_READ = 64;

const MIN_CAP = 16;

export class EntryStore {
  /** IPv4 key of the entry (-1 for IPv6). */
  keyNum = new Float64Array(MIN_CAP);
  /** Interned next-hop set (0: the RIB does not want the prefix). */
  nh = new Uint32Array(MIN_CAP);
  /** Interned shape the kernel holds with our tag (SHAPE_NONE: nothing). */
  act = new Uint32Array(MIN_CAP);
  flags = new Uint8Array(MIN_CAP);
  /** One past the highest slot ever used (slots below may be free). */
  top = 0;
  private live = 0;
  private freeSlots: number[] = [];
  private v4 = new V4Index(this.keyNum);
  private v6 = new Map<string, number>();
  private v6Text = new Map<number, string>();

  get size(): number {
    return this.live;
  }

  findV4(key: number): number {
    return this.v4.get(key);
  }

  findV6(text: string): number {
    return this.v6.get(text) ?? -1;
  }

  addV4(key: number): number {
    const i = this.alloc();
    this.keyNum[i] = key;
    this.flags[i] = F_LIVE;
    this.v4.add(i);
    return i;
  }

  /** The entry of an IPv4 key, created when new (one hash probe for both). */
  findOrAddV4(key: number): number {
    const i = this.alloc();
    this.keyNum[i] = key;
    const found = this.v4.getOrAdd(key, i);
    if (found < 0) {
      this.flags[i] = F_LIVE;
      return i;
    }
    this.unalloc(i);
    return found;
  }

  addV6(text: string): number {
    const i = this.alloc();
    this.keyNum[i] = -1;
    this.flags[i] = F_LIVE | F_V6;
    this.v6.set(text, i);
    this.v6Text.set(i, text);
    return i;
  }

  /** Frees a slot; the caller has dropped its references (next hops, errors). */
  remove(i: number): void {
    if ((this.flags[i] & F_LIVE) === 0) return;
    if ((this.flags[i] & F_V6) !== 0) {
      const text = this.v6Text.get(i);
      if (text !== undefined) this.v6.delete(text);
      this.v6Text.delete(i);
    } else this.v4.delete(this.keyNum[i]);
    this.flags[i] = 0;
    this.keyNum[i] = -1;
    this.nh[i] = 0;
    this.act[i] = 0;
    this.live--;
    if (this.live === 0) this.reset();
    else this.freeSlots.push(i);
  }

  isLive(i: number): boolean {
    return (this.flags[i] & F_LIVE) !== 0;
  }

  isV6(i: number): boolean {
    return (this.flags[i] & F_V6) !== 0;
  }

  /** The prefix as iproute2 prints it (`/32` and `/128` left out). */
  text(i: number): string {
    if ((this.flags[i] & F_V6) !== 0) return this.v6Text.get(i) ?? '';
    return canonicalV4Text(this.keyNum[i]);
  }

  /** Whether many slots are free: compact() would give memory back. */
  get sparse(): boolean {
    return this.top > 4096 && this.live * 4 < this.top;
  }

  /**
   * Moves live entries to the lowest slots and shrinks the columns. Slot numbers change: `remap`
   * receives old -> new (or -1) for every slot below the old top, for lists kept outside.
   */
  compact(): Int32Array {
    const map = new Int32Array(this.top).fill(-1);
    let n = 0;
    for (let i = 0; i < this.top; i++) if ((this.flags[i] & F_LIVE) !== 0) map[i] = n++;
    const cap = capacityFor(n);
    const keyNum = new Float64Array(cap);
    const nh = new Uint32Array(cap);
    const act = new Uint32Array(cap);
    const flags = new Uint8Array(cap);
    const v6Text = new Map<number, string>();
    this.v4.clear();
    this.v4.attach(keyNum);
    this.v6.clear();
    for (let i = 0; i < this.top; i++) {
      const j = map[i];
      if (j < 0) continue;
      keyNum[j] = this.keyNum[i];
      nh[j] = this.nh[i];
      act[j] = this.act[i];
      flags[j] = this.flags[i];
      if ((flags[j] & F_V6) !== 0) {
        const text = this.v6Text.get(i) ?? '';
        v6Text.set(j, text);
        this.v6.set(text, j);
      } else this.v4.add(j);
    }
    this.keyNum = keyNum;
    this.nh = nh;
    this.act = act;
    this.flags = flags;
    this.v6Text = v6Text;
    this.top = n;
    this.live = n;
    this.freeSlots = [];
    return map;
  }

  private reset(): void {
    this.keyNum = new Float64Array(MIN_CAP);
    this.nh = new Uint32Array(MIN_CAP);
    this.act = new Uint32Array(MIN_CAP);
    this.flags = new Uint8Array(MIN_CAP);
    this.top = 0;
    this.live = 0;
    this.freeSlots = [];
    this.v4.clear();
    this.v4.attach(this.keyNum);
    this.v6.clear();
    this.v6Text.clear();
  }

  private alloc(): number {
    this.live++;
    const reuse = this.freeSlots.pop();
    if (reuse !== undefined) return reuse;
    if (this.top === this.flags.length) this.grow(this.top * 2);
    return this.top++;
  }

  /** Gives back the slot alloc() just handed out (nothing was stored in it). */
  private unalloc(i: number): void {
    this.live--;
    this.keyNum[i] = -1;
    if (i === this.top - 1) this.top--;
    else this.freeSlots.push(i);
  }

  private grow(cap: number): void {
    const keyNum = new Float64Array(cap);
    keyNum.set(this.keyNum);
    const nh = new Uint32Array(cap);
    nh.set(this.nh);
    const act = new Uint32Array(cap);
    act.set(this.act);
    const flags = new Uint8Array(cap);
    flags.set(this.flags);
    this.keyNum = keyNum;
    this.nh = nh;
    this.act = act;
    this.flags = flags;
    this.v4.attach(keyNum);
  }
}

function capacityFor(n: number): number {
  let cap = MIN_CAP;
  while (cap < n) cap *= 2;
  return cap;
}
