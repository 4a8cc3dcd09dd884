// The routes of Loc-RIB (which are also the Adj-RIBs-In) as fixed-size records in one Int32Array:
// a route is an integer id, its fields sit side by side at id * STRIDE (read together, not through
// pointers), and a prefix's candidates are a linked list of ids. No object per route, so a full table
// costs 24 bytes a route here and nothing for the garbage collector to trace. A route also records
// its prefix (IPv4 in the record, IPv6 as a reference to the table's key text), so one source's
// routes can be walked in id (arrival) order. Storage only: no decision, no policy. RFC 4271 §3.2.

import { v4Key, v4KeyAddress, v4KeyLength } from '../../protocol/prefix.js';
import type { AttrTable, RouteAttrs } from './attrs.js';
import type { PrefixKey } from './types.js';

/** The end of a candidate list, and "no route". */
export const NONE = -1;
const MIN_CAPACITY = 1024;

// The record: meta, path id, next id, learned time, attribute set id (AttrTable.byId), and for
// an IPv4 route its prefix's address.
const META = 0;
const PATH_ID = 1;
const NEXT = 2;
const SINCE = 3;
const ATTRS = 4;
const ADDR = 5;
const STRIDE = 6;

// META: source index (bits 0-15), flags (16-23), IPv4 prefix length (24-29), IPv4 (30). A free
// record's META is FREE (negative), so a walk over ids skips it.
const SRC_MASK = 0xffff;
const FLAGS_SHIFT = 16;
const FLAGS_MASK = 0xff << FLAGS_SHIFT;
const LEN_SHIFT = 24;
const V4 = 1 << 30;
const FREE = -1;

export class RouteStore {
  private rec = new Int32Array(MIN_CAPACITY * STRIDE);
  private capacity = MIN_CAPACITY;
  /** Ids never used yet start here. */
  private fresh = 0;
  private freeHead = NONE;
  private live = 0;
  /** The prefix of each IPv6 route by id (the same string the prefix table is keyed by). */
  private v6Keys: (string | null)[] = [];

  /** The attribute sets are stored by id; `attrs` must be acquired from this table. */
  constructor(private readonly table: AttrTable) {}

  get size(): number {
    return this.live;
  }

  /** A new route of prefix `key`: an IPv4 key (address * 64 + length) or IPv6 prefix text. */
  alloc(src: number, pathId: number, attrs: RouteAttrs, since: number, key: PrefixKey): number {
    let id = this.freeHead;
    if (id !== NONE) this.freeHead = this.rec[id * STRIDE + NEXT];
    else {
      if (this.fresh === this.capacity) this.grow();
      id = this.fresh++;
    }
    const at = id * STRIDE;
    const r = this.rec;
    if (typeof key === 'number') {
      r[at + META] = src | (v4KeyLength(key) << LEN_SHIFT) | V4;
      r[at + ADDR] = v4KeyAddress(key) | 0;
    } else {
      r[at + META] = src;
      r[at + ADDR] = 0;
      this.v6Keys[id] = key;
    }
    r[at + PATH_ID] = pathId;
    r[at + NEXT] = NONE;
    r[at + SINCE] = since;
    r[at + ATTRS] = attrs.id;
    this.live++;
    return id;
  }

  /** Returns the id to the free list; the caller has unlinked it and released its attributes. */
  free(id: number): void {
    if ((this.rec[id * STRIDE + META] & V4) === 0) this.v6Keys[id] = null;
    this.rec[id * STRIDE + META] = FREE;
    this.rec[id * STRIDE + NEXT] = this.freeHead;
    this.freeHead = id;
    this.live--;
    if (this.live === 0) this.reset();
  }

  /** The source peer's index (see LocRib.addSource). */
  src(id: number): number {
    return this.rec[id * STRIDE + META] & SRC_MASK;
  }

  /** BEST | MULTIPATH | STALE (decision.ts). */
  flags(id: number): number {
    return (this.rec[id * STRIDE + META] & FLAGS_MASK) >>> FLAGS_SHIFT;
  }

  setFlags(id: number, flags: number): void {
    const at = id * STRIDE + META;
    this.rec[at] = (this.rec[at] & ~FLAGS_MASK) | ((flags & 0xff) << FLAGS_SHIFT);
  }

  /** One past the highest id in use: walks go over [0, end). */
  get end(): number {
    return this.fresh;
  }

  /** Whether `id` is a live route of source `src` in family `fi` (0 IPv4, 1 IPv6). */
  isOf(id: number, src: number, fi: number): boolean {
    const m = this.rec[id * STRIDE + META];
    return m >= 0 && (m & SRC_MASK) === src && ((m & V4) !== 0) === (fi === 0);
  }

  /** The prefix of route `id`: its IPv4 key (address * 64 + length) or IPv6 prefix text. */
  key(id: number): PrefixKey {
    const at = id * STRIDE;
    const m = this.rec[at + META];
    if ((m & V4) === 0) return this.v6Keys[id]!;
    return v4Key(this.rec[at + ADDR], (m >>> LEN_SHIFT) & 63);
  }

  /** RFC 7911 path identifier (0 without ADD-PATH). */
  pathId(id: number): number {
    return this.rec[id * STRIDE + PATH_ID] >>> 0;
  }

  /** The next candidate for the same prefix, or NONE. */
  next(id: number): number {
    return this.rec[id * STRIDE + NEXT];
  }

  setNext(id: number, next: number): void {
    this.rec[id * STRIDE + NEXT] = next;
  }

  /** Learned or last changed, whole seconds of the RIB clock. */
  since(id: number): number {
    return this.rec[id * STRIDE + SINCE] >>> 0;
  }

  /** The interned attribute set (held: its reference count includes this route). */
  attrs(id: number): RouteAttrs {
    return this.table.byId[this.rec[id * STRIDE + ATTRS]]!;
  }

  /** Replaces the attribute set (already acquired by the caller) and stamps the time. */
  setAttrs(id: number, attrs: RouteAttrs, since: number): void {
    this.rec[id * STRIDE + ATTRS] = attrs.id;
    this.rec[id * STRIDE + SINCE] = since;
  }

  private grow(): void {
    const bigger = new Int32Array(this.capacity * 2 * STRIDE);
    bigger.set(this.rec);
    this.rec = bigger;
    this.capacity *= 2;
  }

  /** Empty again: give the memory of a withdrawn full table back. */
  private reset(): void {
    if (this.capacity !== MIN_CAPACITY) {
      this.capacity = MIN_CAPACITY;
      this.rec = new Int32Array(MIN_CAPACITY * STRIDE);
    }
    this.fresh = 0;
    this.freeHead = NONE;
    this.v6Keys = [];
  }
}
