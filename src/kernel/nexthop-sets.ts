// Interns next-hop lists: every distinct list (by content) gets a small id, so a prefix holds
// 4 bytes instead of a reference to its own array. Callers' arrays are kept, never mutated.
// Must not plan or parse next hops (plan.ts does). No RFC.

export class NexthopSets {
  /** id -> the list (id 0 is "no next hops": the prefix is not wanted). */
  private lists: (readonly string[] | null)[] = [null];
  private texts: string[] = [''];
  private refs: number[] = [0];
  private free: number[] = [];
  /** Content -> id. */
  private byText = new Map<string, number>();
  /** The array a caller passed last, and its id: callers reuse one array for many prefixes. */
  private lastList: readonly string[] | null = null;
  private lastId = 0;

  /** The id of a list with this content, created (with no references) when new. */
  intern(list: readonly string[]): number {
    if (list === this.lastList) return this.lastId;
    const text = list.length === 1 ? list[0] : list.join(' ');
    let id = this.byText.get(text);
    if (id === undefined) {
      id = this.free.pop() ?? this.lists.length;
      this.lists[id] = list;
      this.texts[id] = text;
      this.refs[id] = 0;
      this.byText.set(text, id);
    }
    // Remember the caller's array only when it is the one we keep (a fresh array per call
    // must not be retained by this cache).
    if (this.lists[id] === list) {
      this.lastList = list;
      this.lastId = id;
    }
    return id;
  }

  list(id: number): readonly string[] | null {
    return this.lists[id];
  }

  ref(id: number): void {
    if (id !== 0) this.refs[id]++;
  }

  /** Drops one reference; returns true when the id was freed (and may be reused). */
  unref(id: number): boolean {
    if (id === 0 || --this.refs[id] > 0) return false;
    this.byText.delete(this.texts[id]);
    if (this.lastId === id) {
      this.lastList = null;
      this.lastId = 0;
    }
    this.lists[id] = null;
    this.texts[id] = '';
    this.free.push(id);
    return true;
  }

  /** Distinct lists held. */
  get size(): number {
    return this.byText.size;
  }
}
