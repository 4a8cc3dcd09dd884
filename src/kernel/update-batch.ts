// Packs KernelSync.update() calls into compact batches for the trip to the kernel worker, and
// unpacks them there: IPv4 keys in a Float64Array, next-hop lists interned to small ids (each
// list's contents sent once), other prefixes in a side list. Must not do I/O or plan routes.

import type { UpdateBatch } from './worker-protocol.js';

export interface UpdateEncoderOptions {
  /** Entries per batch; a full batch is sealed at once. Default 65 536. */
  capacity?: number;
  /** Distinct next-hop lists per generation; past it a new generation starts. Default 65 536. */
  maxLists?: number;
}

/**
 * The main-thread side. `push` is cheap: a number and an id into typed arrays. A next-hop list
 * is looked up by its array first (the caller hands the same array for every prefix sharing
 * an attribute set), then by its text; a new list's addresses go into the next batch once.
 */
export class UpdateEncoder {
  private readonly capacity: number;
  private readonly maxLists: number;
  private keys: Float64Array;
  private lists: Int32Array;
  private n = 0;
  private side: (string | number)[] = [];
  private defs: [number, string[]][] = [];
  private reset = false;
  private byArray = new WeakMap<readonly string[], number>();
  /** The list of the last update and its id (valid within the current generation). */
  private lastList: readonly string[] | null = null;
  private lastId = 0;
  private readonly byText = new Map<string, number>();
  private nextId = 1;
  private readonly sealed: UpdateBatch[] = [];

  constructor(opts: UpdateEncoderOptions = {}) {
    this.capacity = Math.max(1, opts.capacity ?? 65_536);
    this.maxLists = Math.max(1, opts.maxLists ?? 65_536);
    this.keys = new Float64Array(this.capacity);
    this.lists = new Int32Array(this.capacity);
  }

  /** Records one update (`nexthops` null: withdraw). The arrays are read, never kept or changed. */
  push(prefix: string | number, nexthops: readonly string[] | null): void {
    const id = nexthops === null ? 0 : this.listId(nexthops);
    let key: number;
    // Negative keys name side entries: only non-negative numbers travel as keys (a malformed
    // one is rejected in the worker exactly as KernelSync rejects it).
    if (typeof prefix === 'number' && prefix >= 0) key = prefix;
    else {
      this.side.push(prefix);
      key = -this.side.length;
    }
    this.keys[this.n] = key;
    this.lists[this.n] = id;
    if (++this.n === this.capacity) this.seal();
  }

  /** Whether a batch is full and should be posted now. */
  get hasSealed(): boolean {
    return this.sealed.length > 0;
  }

  /** Whether anything is waiting to be taken. */
  get pending(): boolean {
    return this.n > 0 || this.sealed.length > 0;
  }

  /** Every batch recorded so far, in order (the buffers are the caller's to transfer). */
  take(): UpdateBatch[] {
    this.seal();
    return this.sealed.splice(0);
  }

  private listId(list: readonly string[]): number {
    // Consecutive updates mostly share one list (the prefixes of one UPDATE).
    if (list === this.lastList) return this.lastId;
    const id = this.lookupList(list);
    this.lastList = list;
    this.lastId = id;
    return id;
  }

  private lookupList(list: readonly string[]): number {
    const known = this.byArray.get(list);
    if (known !== undefined) return known;
    // The same text KernelSync interns by: addresses never hold a space.
    const text = list.length === 1 ? list[0] : list.join(' ');
    let id = this.byText.get(text);
    if (id === undefined) {
      if (this.nextId > this.maxLists) {
        // Lists of entries already recorded are defined under the old ids: send them first.
        this.seal();
        this.byArray = new WeakMap();
        this.byText.clear();
        this.lastList = null;
        this.nextId = 1;
        this.reset = true;
      }
      id = this.nextId++;
      this.byText.set(text, id);
      this.defs.push([id, [...list]]);
    }
    this.byArray.set(list, id);
    return id;
  }

  private seal(): void {
    const n = this.n;
    if (n === 0 && this.defs.length === 0 && !this.reset) return;
    let keys: Float64Array;
    let lists: Int32Array;
    if (n === this.capacity) {
      keys = this.keys;
      lists = this.lists;
      this.keys = new Float64Array(this.capacity);
      this.lists = new Int32Array(this.capacity);
    } else {
      keys = this.keys.slice(0, n);
      lists = this.lists.slice(0, n);
    }
    this.sealed.push({ reset: this.reset, defs: this.defs, keys, lists, side: this.side });
    this.n = 0;
    this.side = [];
    this.defs = [];
    this.reset = false;
  }
}

/** The worker side: the next-hop lists of the current generation, one array per id. */
export class UpdateDecoder {
  private lists: (readonly string[] | undefined)[] = [];

  /** Calls `sink` once per recorded update, in order, with one shared array per list id. */
  apply(
    batch: UpdateBatch,
    sink: (prefix: string | number, nexthops: readonly string[] | null) => void,
  ): void {
    if (batch.reset) this.lists = [];
    for (const [id, list] of batch.defs) this.lists[id] = list;
    const { keys, lists, side } = batch;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      const id = lists[k];
      let nexthops: readonly string[] | null = null;
      if (id !== 0) {
        const list = this.lists[id];
        if (list === undefined)
          throw new Error(`update batch names an undefined next-hop list ${id}`);
        nexthops = list;
      }
      sink(key >= 0 ? key : side[-key - 1], nexthops);
    }
  }
}
