// Adj-RIB-Out of one peer and family as STATE (what was sent) plus a bounded to-do (dirty keys
// and a cursor over Loc-RIB), and the chunk builder that turns the difference between wanted and
// sent into withdrawals and per-attribute-set announcements. No I/O: the caller hands the
// result to the session's sink. RFC 4271 §9.2 (Update-Send), §9.2.1.1 (MRAI batching).

import type { AttrTable, RouteAttrs } from './attrs.js';
import type { PrefixKey } from './types.js';
import { V4Table, type PrefixTable } from './v4-table.js';

function keyTable<V>(afi: 1 | 2): PrefixTable<PrefixKey, V> {
  return afi === 1
    ? (new V4Table<V>() as unknown as PrefixTable<PrefixKey, V>)
    : new Map<PrefixKey, V>();
}

/**
 * A set of prefixes taken in insertion order: a membership table plus a queue (IPv4 keys stay
 * unboxed doubles in the array). Each prefix is queued at most once while it is a member, so
 * the queue is bounded by the table size.
 */
export class DirtyKeys {
  private readonly member: PrefixTable<PrefixKey, true>;
  private queue: PrefixKey[] = [];
  private head = 0;

  constructor(afi: 1 | 2) {
    this.member = keyTable<true>(afi);
  }

  get size(): number {
    return this.member.size;
  }

  add(key: PrefixKey): void {
    if (this.member.get(key) !== undefined) return;
    this.member.set(key, true);
    this.queue.push(key);
  }

  delete(key: PrefixKey): void {
    // The queue entry stays; take() skips keys that are no longer members.
    this.member.delete(key);
  }

  take(): PrefixKey | undefined {
    const q = this.queue;
    while (this.head < q.length) {
      const key = q[this.head++];
      if (this.member.delete(key)) {
        if (this.head > 4096 && this.head * 2 > q.length) {
          this.queue = q.slice(this.head);
          this.head = 0;
        }
        return key;
      }
    }
    this.queue = [];
    this.head = 0;
    return undefined;
  }

  clear(): void {
    for (let k = this.take(); k !== undefined; k = this.take());
  }
}

export interface Chunk {
  withdrawals: PrefixKey[];
  /** Prefixes grouped by the exact attribute set sent, in first-seen order. */
  groups: Map<RouteAttrs, PrefixKey[]>;
}

export class AdjRibOut {
  /** What the peer holds from us: prefix -> interned exported attributes. */
  readonly sent: PrefixTable<PrefixKey, RouteAttrs>;
  /** Prefixes whose wanted state may differ from `sent`. */
  readonly dirty: DirtyKeys;
  /** A walk over every Loc-RIB prefix (initial table, refresh, soft reset out), or null. */
  cursor: Iterator<PrefixKey> | null = null;
  /** The cursor re-sends prefixes even when unchanged (ROUTE-REFRESH). */
  cursorForce = false;

  constructor(
    readonly afi: 1 | 2,
    readonly addPathSend: boolean,
  ) {
    this.sent = keyTable<RouteAttrs>(afi);
    this.dirty = new DirtyKeys(afi);
  }

  get idle(): boolean {
    return this.dirty.size === 0 && this.cursor === null;
  }

  /**
   * Takes up to `limit` prefixes from the to-do, asks `wanted` for each, updates `sent` and
   * returns what must go out. Because state is compared, an announce followed by a withdraw of
   * the same prefix before the flush becomes one withdrawal (if the peer had it) or nothing.
   */
  takeChunk(limit: number, wanted: (key: PrefixKey) => RouteAttrs | null, table: AttrTable): Chunk {
    const withdrawals: PrefixKey[] = [];
    const groups = new Map<RouteAttrs, PrefixKey[]>();
    let n = 0;
    const one = (key: PrefixKey, force: boolean): void => {
      const sent = this.sent.get(key);
      const want = wanted(key);
      if (want === null) {
        if (sent !== undefined) {
          withdrawals.push(key);
          this.sent.delete(key);
          table.release(sent);
        }
        return;
      }
      if (want === sent && !force) return;
      let held = want;
      if (want !== sent) {
        // acquire() may hand back the canonical equal of `want`, possibly `sent` itself.
        held = table.acquire(want);
        if (sent !== undefined) table.release(sent);
        if (held === sent && !force) return;
      }
      this.sent.set(key, held);
      const list = groups.get(held);
      if (list) list.push(key);
      else groups.set(held, [key]);
    };
    for (let key = this.dirty.take(); key !== undefined; key = this.dirty.take()) {
      one(key, false);
      if (++n >= limit) return { withdrawals, groups };
    }
    while (this.cursor !== null && n < limit) {
      const step = this.cursor.next();
      if (step.done) {
        this.cursor = null;
        this.cursorForce = false;
        break;
      }
      this.dirty.delete(step.value);
      one(step.value, this.cursorForce);
      n++;
    }
    return { withdrawals, groups };
  }

  /** Forgets everything (session down); returns the held sets to the table. */
  clear(table: AttrTable): void {
    for (const a of this.sent.values()) table.release(a);
    this.dirty.clear();
    this.cursor = null;
  }
}
