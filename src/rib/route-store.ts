// The routes of Loc-RIB (which are also the Adj-RIBs-In) as columns of typed arrays: a route is
// an integer id, its fields live at that index, and a prefix's candidates are a linked list of
// ids. No object per route, so a full table costs a few dozen bytes a route and nothing for the
// garbage collector to trace. Storage only: no decision, no policy. RFC 4271 §3.2.

import type { RouteAttrs } from './attrs.js';

/** The end of a candidate list, and "no route". */
export const NONE = -1;
const MIN_CAPACITY = 1024;

export class RouteStore {
  /** The source peer's index (see `RouteStore.sources`). */
  src = new Uint16Array(MIN_CAPACITY);
  /** RFC 7911 path identifier (0 without ADD-PATH). */
  pathId = new Uint32Array(MIN_CAPACITY);
  /** The next candidate for the same prefix, or NONE. Also links the free list. */
  next = new Int32Array(MIN_CAPACITY);
  /** BEST | MULTIPATH | STALE (decision.ts). */
  flags = new Uint8Array(MIN_CAPACITY);
  /** Learned or last changed, whole seconds of the RIB clock. */
  since = new Uint32Array(MIN_CAPACITY);
  /** The interned attribute set (held: its reference count includes this route). */
  attrs: (RouteAttrs | null)[] = new Array<RouteAttrs | null>(MIN_CAPACITY).fill(null);

  private capacity = MIN_CAPACITY;
  /** Ids never used yet start here. */
  private fresh = 0;
  private freeHead = NONE;
  private live = 0;

  get size(): number {
    return this.live;
  }

  alloc(src: number, pathId: number, attrs: RouteAttrs, since: number): number {
    let id = this.freeHead;
    if (id !== NONE) this.freeHead = this.next[id];
    else {
      if (this.fresh === this.capacity) this.grow();
      id = this.fresh++;
    }
    this.src[id] = src;
    this.pathId[id] = pathId;
    this.next[id] = NONE;
    this.flags[id] = 0;
    this.since[id] = since;
    this.attrs[id] = attrs;
    this.live++;
    return id;
  }

  /** Returns the id to the free list; the caller has unlinked it and released its attributes. */
  free(id: number): void {
    this.attrs[id] = null;
    this.next[id] = this.freeHead;
    this.freeHead = id;
    this.live--;
    if (this.live === 0) this.reset();
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const widen = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(
      old: T,
      make: (n: number) => T,
    ): T => {
      const a = make(cap);
      a.set(old);
      return a;
    };
    this.src = widen(this.src, (n) => new Uint16Array(n));
    this.pathId = widen(this.pathId, (n) => new Uint32Array(n));
    this.next = widen(this.next, (n) => new Int32Array(n));
    this.flags = widen(this.flags, (n) => new Uint8Array(n));
    this.since = widen(this.since, (n) => new Uint32Array(n));
    this.attrs.length = cap;
    this.attrs.fill(null, this.capacity);
    this.capacity = cap;
  }

  /** Empty again: give the memory of a withdrawn full table back. */
  private reset(): void {
    if (this.capacity === MIN_CAPACITY) {
      this.fresh = 0;
      this.freeHead = NONE;
      return;
    }
    this.capacity = MIN_CAPACITY;
    this.src = new Uint16Array(MIN_CAPACITY);
    this.pathId = new Uint32Array(MIN_CAPACITY);
    this.next = new Int32Array(MIN_CAPACITY);
    this.flags = new Uint8Array(MIN_CAPACITY);
    this.since = new Uint32Array(MIN_CAPACITY);
    this.attrs = new Array<RouteAttrs | null>(MIN_CAPACITY).fill(null);
    this.fresh = 0;
    this.freeHead = NONE;
  }
}
