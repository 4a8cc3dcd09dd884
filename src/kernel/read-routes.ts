// Reads `ip -json route show` output without building an object per route: a scanner walks the
// array, takes each route's `dst` straight from the text and recognises the rest of the route
// (its shape) by a hash of its text, so only a route of a shape not seen before is JSON-parsed.
// Must not run commands or decide drift. No RFC: the format is iproute2's JSON output.

import { canonicalPrefix, type Family } from './addr.js';
import { parseJsonRoute, type JsonRoute } from './routes.js';
import type { ShapeTable } from './shapes.js';
import { parseV4Key } from './v4-key.js';

/** Routes read from one table: IPv4 keys with their shapes, IPv6 prefix texts with theirs. */
export class RouteRead {
  v4Keys = new Float64Array(1024);
  v4Shapes = new Uint32Array(1024);
  v4Count = 0;
  v6Texts: string[] = [];
  v6Shapes: number[] = [];

  get size(): number {
    return this.v4Count + this.v6Texts.length;
  }

  addV4(key: number, shape: number): void {
    if (this.v4Count === this.v4Keys.length) {
      const k = new Float64Array(this.v4Count * 2);
      k.set(this.v4Keys);
      const s = new Uint32Array(this.v4Count * 2);
      s.set(this.v4Shapes);
      this.v4Keys = k;
      this.v4Shapes = s;
    }
    this.v4Keys[this.v4Count] = key;
    this.v4Shapes[this.v4Count++] = shape;
  }
}

interface Known {
  head: string;
  tail: string;
  shape: number;
}

/**
 * Remembers the text of route shapes already seen (the route's JSON without its `dst` value),
 * so the next route with the same text costs a hash and a compare. Kept across reads.
 */
export class ShapeTextCache {
  private byHash = new Map<number, Known[]>();
  private count = 0;
  /** The shapes matched last, most recent first (a table usually has a handful). */
  private recent: Known[] = [];

  /** A recent shape whose text before `dst` matches the object starting at `start`. */
  recentMatch(text: string, start: number): Known | null {
    for (const k of this.recent) if (text.startsWith(k.head, start)) return k;
    return null;
  }

  private touch(k: Known): void {
    const r = this.recent;
    if (r[0] === k) return;
    const at = r.indexOf(k);
    if (at !== -1) r.splice(at, 1);
    r.unshift(k);
    if (r.length > 4) r.pop();
  }

  find(
    text: string,
    start: number,
    dstStart: number,
    dstEnd: number,
    end: number,
    h: number,
  ): number {
    const list = this.byHash.get(h);
    if (list === undefined) return -1;
    for (const k of list) {
      if (
        k.head.length === dstStart - start &&
        k.tail.length === end - dstEnd &&
        text.startsWith(k.head, start) &&
        text.startsWith(k.tail, dstEnd)
      ) {
        this.touch(k);
        return k.shape;
      }
    }
    return -1;
  }

  add(h: number, head: string, tail: string, shape: number): void {
    // Distinct shapes are few (one per next-hop set); a flood of odd ones must not grow this.
    if (this.count > 65536) {
      this.byHash.clear();
      this.recent = [];
      this.count = 0;
    }
    const list = this.byHash.get(h);
    const k = { head, tail, shape };
    if (list === undefined) this.byHash.set(h, [k]);
    else list.push(k);
    this.count++;
    this.touch(k);
  }
}

const QUOTE = 34;
const BACKSLASH = 92;

/** What `RouteScanner` expects next. */
const START = 0; // "["
const FIRST = 1; // an object or "]"
const ITEM = 2; // an object
const SEP = 3; // "," or "]"
const DONE = 4;
/** `scanObject` results besides an end offset. */
const TRUNCATED = -1;
const FAILED = -2;

/**
 * Scans `ip -json route show` output into a RouteRead as it arrives, chunk by chunk, so a table
 * of a million routes is never one string of ~90 MB: each push scans the complete route objects
 * and keeps only the unfinished one. `error` is set (and nothing more is read) when the output
 * is not a JSON array of objects; routes without `dst` or with an unparsable one are skipped, as
 * are shapes we never install (they get the FOREIGN shape).
 */
export class RouteScanner {
  error: string | null = null;
  private rest = '';
  private state = START;
  /** Offset of `rest` in the whole output, for error messages. */
  private base = 0;

  constructor(
    private readonly family: Family,
    private readonly shapes: ShapeTable,
    private readonly cache: ShapeTextCache,
    private readonly out: RouteRead,
  ) {}

  push(chunk: string): void {
    if (this.error !== null) return;
    const text = this.rest + chunk;
    const n = text.length;
    let i = 0;
    for (;;) {
      i = skipWs(text, i);
      if (i >= n) break;
      const c = text.charCodeAt(i);
      if (this.state === START) {
        if (c !== 91) {
          this.fail('not a JSON array');
          return;
        }
        this.state = FIRST;
        i++;
      } else if (this.state === SEP || (this.state === FIRST && c === 93)) {
        if (c === 93) this.state = DONE;
        else if (c === 44) this.state = ITEM;
        else {
          this.fail(`expected , or ] at offset ${this.base + i}`);
          return;
        }
        i++;
      } else if (this.state === DONE) {
        this.fail(`data after the array at offset ${this.base + i}`);
        return;
      } else {
        if (c !== 123) {
          this.fail(`expected an object at offset ${this.base + i}`);
          return;
        }
        const end = this.scanObject(text, i);
        if (end === FAILED) return;
        if (end === TRUNCATED) break;
        this.state = SEP;
        i = end;
      }
    }
    // Keep the unfinished object (a copy: a slice would keep the whole chunk alive).
    this.rest = i < n ? copyOf(text, i, n) : '';
    this.base += i;
  }

  /** The output is complete: its error, or null when it was a whole array (or empty). */
  end(): string | null {
    if (this.error !== null) return this.error;
    if (this.state === START && this.rest === '') return null;
    if (this.state !== DONE) return this.fail('truncated JSON');
    return null;
  }

  private fail(why: string): string {
    this.error = why;
    this.rest = '';
    return why;
  }

  /** One route object at `start`: its end offset, TRUNCATED (wait for more) or FAILED. */
  private scanObject(text: string, start: number): number {
    const n = text.length;
    // Fast path: the route has the same text as a recent one but for its dst value, checked
    // with two native compares and no loop over its characters.
    const known = this.cache.recentMatch(text, start);
    if (known !== null) {
      const dstStart = start + known.head.length;
      const dstEnd = text.indexOf('"', dstStart);
      if (dstEnd !== -1 && text.startsWith(known.tail, dstEnd)) {
        addRoute(text, this.family, dstStart, dstEnd, known.shape, this.out);
        return dstEnd + known.tail.length;
      }
    }
    // One pass over the object: find its end and the span of its top-level "dst" string, and
    // hash every character outside that span (FNV-1a).
    let i = start;
    let h = 0x811c9dc5;
    let depth = 0;
    let expectKey = false;
    let dstKey = false;
    let dstStart = -1;
    let dstEnd = -1;
    for (;;) {
      if (i >= n) return TRUNCATED;
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        const s = i + 1;
        let j = s;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === QUOTE) break;
          j += d === BACKSLASH ? 2 : 1;
        }
        if (j >= n) return TRUNCATED;
        const isDstValue = depth === 1 && dstKey && !expectKey;
        if (isDstValue) {
          dstStart = s;
          dstEnd = j;
          dstKey = false;
          h = Math.imul(h ^ QUOTE, 0x01000193);
        } else {
          if (depth === 1 && expectKey) {
            dstKey = j - s === 3 && text.startsWith('dst', s);
            expectKey = false;
          }
          for (let k = i; k < j; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
        }
        h = Math.imul(h ^ QUOTE, 0x01000193);
        i = j + 1;
        continue;
      }
      h = Math.imul(h ^ c, 0x01000193);
      i++;
      if (c === 123 || c === 91) {
        depth++;
        if (depth === 1) expectKey = true;
      } else if (c === 125 || c === 93) {
        depth--;
        if (depth === 0) break;
      } else if (c === 44 && depth === 1) {
        expectKey = true;
        dstKey = false;
      }
    }
    const end = i;
    if (dstStart >= 0) {
      let shape = this.cache.find(text, start, dstStart, dstEnd, end, h);
      if (shape < 0) {
        let j: JsonRoute;
        try {
          j = JSON.parse(text.slice(start, end)) as JsonRoute;
        } catch {
          this.fail(`invalid JSON at offset ${this.base + start}`);
          return FAILED;
        }
        shape = this.shapes.intern(parseJsonRoute(j, this.family));
        this.cache.add(h, copyOf(text, start, dstStart), copyOf(text, dstEnd, end), shape);
      }
      addRoute(text, this.family, dstStart, dstEnd, shape, this.out);
    }
    return end;
  }
}

/**
 * Scans one whole `ip -json route show` output into `out` (see RouteScanner). Returns an error
 * text when the output is not a JSON array of objects (nothing is trusted then), else null.
 */
export function scanRoutes(
  text: string,
  family: Family,
  shapes: ShapeTable,
  cache: ShapeTextCache,
  out: RouteRead,
): string | null {
  const scanner = new RouteScanner(family, shapes, cache, out);
  scanner.push(text);
  return scanner.end();
}

function addRoute(
  text: string,
  family: Family,
  dstStart: number,
  dstEnd: number,
  shape: number,
  out: RouteRead,
): void {
  if (family === 4) {
    let key = parseV4Key(text, dstStart, dstEnd);
    if (key < 0 && dstEnd - dstStart === 7 && text.startsWith('default', dstStart)) key = 0;
    if (key >= 0) out.addV4(key, shape);
  } else {
    const p = canonicalPrefix(text.slice(dstStart, dstEnd), 6);
    if (p !== null) {
      out.v6Texts.push(p);
      out.v6Shapes.push(shape);
    }
  }
}

/**
 * A copy of `text[from, to)` that does not keep `text` alive: a plain slice may be a view into
 * the whole (megabytes of) `ip route` output.
 */
function copyOf(text: string, from: number, to: number): string {
  return Buffer.from(text.slice(from, to), 'utf8').toString('utf8');
}

function skipWs(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
    i++;
  }
  return i;
}
