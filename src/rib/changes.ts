// The best-path changes of one RIB operation, in order, kept in columns: a full table makes a
// million of them, and an object (and a boxed IPv4 key) per change was a large share of the
// load's allocation. Knows nothing of the kernel or of sessions. RFC 4271 §9.1.3 (what changes
// in Loc-RIB is what gets installed).

import type { BestPathChange, FamilyName, PrefixKey } from './types.js';

const FAMILIES: readonly FamilyName[] = ['ipv4-unicast', 'ipv6-unicast'];
/** The next-hop list of a change whose best route is one we originate (a blackhole). */
const LOCAL: readonly string[] = Object.freeze([]);
const NO_NEXTHOPS: readonly string[] = Object.freeze([]);

/**
 * Read with `length` and the accessors, or iterate for one `BestPathChange` object per change
 * (tests, small listeners). Valid during the `onBestPathChanges` call only: the RIB reuses it.
 */
export class BestPathChanges implements Iterable<BestPathChange> {
  length = 0;
  private fis = new Uint8Array(64);
  /** IPv4 keys (address * 64 + length, >= 0); for IPv6, -1 - the key's index in `texts`. */
  private keys = new Float64Array(64);
  private readonly texts: string[] = [];
  /** The next hops; null for a withdrawal, LOCAL for an originated block. */
  private readonly hops: (readonly string[] | null)[] = [];

  /** Appends a change: `nexthops` null when the prefix has no best route any more. */
  push(fi: number, key: PrefixKey, nexthops: readonly string[] | null, local: boolean): void {
    const i = this.length++;
    if (i === this.fis.length) this.grow();
    this.fis[i] = fi;
    this.keys[i] = typeof key === 'number' ? key : -this.texts.push(key);
    this.hops[i] = nexthops === null ? null : local ? LOCAL : nexthops;
  }

  private grow(): void {
    const fis = new Uint8Array(this.fis.length * 2);
    fis.set(this.fis);
    this.fis = fis;
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
  }

  /** Forgets every change (keeps the storage). */
  clear(): void {
    // The next-hop column keeps its storage (truncating it would free and regrow it for every
    // UPDATE); a log that grew past a normal operation (a session loss) gives its memory back.
    if (this.hops.length > 65_536) this.hops.length = 0;
    this.length = 0;
    this.texts.length = 0;
  }

  family(i: number): FamilyName {
    return FAMILIES[this.fis[i]];
  }

  key(i: number): PrefixKey {
    const k = this.keys[i];
    return k >= 0 ? k : this.texts[-1 - k];
  }

  /** The IPv4 key of change `i`, or -1 for an IPv6 one (no boxing on the hot path). */
  v4Key(i: number): number {
    const k = this.keys[i];
    return k >= 0 ? k : -1;
  }

  withdrawn(i: number): boolean {
    return this.hops[i] === null;
  }

  /** True when the best route is one we originate (the kernel installs a blackhole). */
  local(i: number): boolean {
    return this.hops[i] === LOCAL;
  }

  /**
   * The ECMP next hops, best first, de-duplicated; empty for a withdrawal or an originated
   * block. Shared between prefixes (one list per attribute set): never mutate it.
   */
  nexthops(i: number): readonly string[] {
    return this.hops[i] ?? NO_NEXTHOPS;
  }

  at(i: number): BestPathChange {
    const family = this.family(i);
    const key = this.key(i);
    if (this.withdrawn(i)) return { withdrawn: true, family, key };
    return { withdrawn: false, family, key, nexthops: this.nexthops(i), local: this.local(i) };
  }

  *[Symbol.iterator](): Iterator<BestPathChange> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}
