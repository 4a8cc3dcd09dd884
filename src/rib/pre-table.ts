// The pre-policy rows of one peer and family (rib.ts keeps those import policy changed or
// rejected): IPv4 keys in a V4Table, so a peer whose whole table a policy rejects costs no map
// entry or boxed key per prefix; "key#pathId" (ADD-PATH) and IPv6 keys in a Map. Storage only.

import type { RouteAttrs } from './attrs.js';
import type { PrefixKey } from './types.js';
import { V4Table } from './v4-table.js';

export class PreTable {
  private v4 = new V4Table<RouteAttrs>();
  private other = new Map<string, RouteAttrs>();

  get size(): number {
    return this.v4.size + this.other.size;
  }

  get(key: PrefixKey): RouteAttrs | undefined {
    return typeof key === 'number' ? this.v4.get(key) : this.other.get(key);
  }

  set(key: PrefixKey, value: RouteAttrs): void {
    if (typeof key === 'number') this.v4.set(key, value);
    else this.other.set(key, value);
  }

  delete(key: PrefixKey): boolean {
    return typeof key === 'number' ? this.v4.delete(key) : this.other.delete(key);
  }

  clear(): void {
    this.v4 = new V4Table<RouteAttrs>();
    this.other.clear();
  }

  *values(): Generator<RouteAttrs> {
    yield* this.v4.values();
    yield* this.other.values();
  }

  *[Symbol.iterator](): Generator<[PrefixKey, RouteAttrs]> {
    yield* this.v4.entries();
    yield* this.other.entries();
  }
}
