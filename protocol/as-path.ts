// The AS_PATH value: an immutable path kept as one compact string, because a full table holds
// one per attribute set and the segment arrays it replaces took about 180 bytes a path (four
// objects) against about 70 here. No wire checks (attributes/as-path.ts does those).
// RFC 4271 §4.3, §5.1.2, §9.1.2.2(a); RFC 5065 §3, §5.3; RFC 6793 §4.2.2.

import { AS_TRANS, AsPathSegmentType } from './constants.js';
import type { AsPathSegment } from './types.js';

const SEQUENCE = AsPathSegmentType.AS_SEQUENCE;
/** RFC 4271 §4.3: a segment's length is one octet, so a segment holds at most 255 ASNs. */
const MAX_SEGMENT = 255;

const latin1Slice = Buffer.prototype.latin1Slice;

/** RFC 5065 §3: AS_CONFED_SEQUENCE and AS_CONFED_SET. */
export function isConfed(type: number): boolean {
  return type === AsPathSegmentType.AS_CONFED_SEQUENCE || type === AsPathSegmentType.AS_CONFED_SET;
}

// The last ASN searched for and its four octets as text: loop detection asks for the same one
// or two ASNs for every UPDATE.
let lastAsn = -1;
let lastAsnText = '';

function asnText(asn: number): string {
  if (asn !== lastAsn) {
    lastAsnText = String.fromCharCode(asn >>> 24, (asn >>> 16) & 255, (asn >>> 8) & 255, asn & 255);
    lastAsn = asn;
  }
  return lastAsnText;
}

function pushAsn(octets: number[], asn: number): void {
  octets.push(asn >>> 24, (asn >>> 16) & 255, (asn >>> 8) & 255, asn & 255);
}

/**
 * An AS_PATH. `wire` is the path in wire form with 4-octet ASNs, one character per octet:
 * segments of (type, count, count ASNs), none empty, none over 255 ASNs. Two paths are the same
 * path exactly when their `wire` strings are equal.
 */
export class AsPath {
  /** The empty path (locally originated, or iBGP from the originator). */
  static readonly EMPTY = new AsPath('');

  private constructor(readonly wire: string) {}

  /** A path of these segments; empty segments are dropped, and long ones split at 255 ASNs. */
  static of(segments: readonly AsPathSegment[]): AsPath {
    const octets: number[] = [];
    for (const seg of segments) {
      for (let from = 0; from < seg.asns.length; from += MAX_SEGMENT) {
        const to = Math.min(seg.asns.length, from + MAX_SEGMENT);
        octets.push(seg.type, to - from);
        for (let i = from; i < to; i++) pushAsn(octets, seg.asns[i]);
      }
    }
    return AsPath.fromOctets(octets);
  }

  /** One flat string of these octets (a string built by `+=` would be a tree of pieces). */
  private static fromOctets(octets: number[]): AsPath {
    // A path fits one message (at most 65,535 octets), within the argument limit of apply.
    return octets.length === 0 ? AsPath.EMPTY : new AsPath(String.fromCharCode.apply(null, octets));
  }

  /** One AS_SEQUENCE of `asns` (the empty path for none). */
  static sequence(asns: readonly number[]): AsPath {
    return AsPath.of([{ type: SEQUENCE, asns: asns.slice() }]);
  }

  /**
   * The path in buf[start, end) with `width`-octet ASNs. The caller has checked its structure
   * (segment types, no empty segment, no overrun).
   */
  static decode(buf: Uint8Array, start: number, end: number, width: 2 | 4): AsPath {
    if (start === end) return AsPath.EMPTY;
    // A 4-octet path is stored as it came: one native copy, no parsing.
    if (width === 4) return new AsPath(latin1Slice.call(buf, start, end));
    const octets: number[] = [];
    for (let pos = start; pos < end;) {
      const n = buf[pos + 1];
      octets.push(buf[pos], n);
      pos += 2;
      for (let i = 0; i < n; i++, pos += 2) octets.push(0, 0, buf[pos], buf[pos + 1]);
    }
    return AsPath.fromOctets(octets);
  }

  /** Whether the path has no segment. */
  get isEmpty(): boolean {
    return this.wire.length === 0;
  }

  /** The segments, as a new array each call. */
  get segments(): AsPathSegment[] {
    const out: AsPathSegment[] = [];
    const w = this.wire;
    for (let pos = 0; pos < w.length;) {
      const type = w.charCodeAt(pos) as AsPathSegment['type'];
      const n = w.charCodeAt(pos + 1);
      pos += 2;
      const asns = new Array<number>(n);
      for (let i = 0; i < n; i++, pos += 4) asns[i] = this.asnAt(pos);
      out.push({ type, asns });
    }
    return out;
  }

  /** Every ASN of the path in order, whatever its segment. */
  get asns(): number[] {
    return this.segments.flatMap((s) => s.asns);
  }

  /**
   * RFC 4271 §9.1.2.2(a): each ASN of an AS_SEQUENCE counts 1 and an AS_SET counts 1 in all;
   * RFC 5065 §5.3: confederation segments count 0.
   */
  get pathLength(): number {
    const w = this.wire;
    let len = 0;
    for (let pos = 0; pos < w.length;) {
      const type = w.charCodeAt(pos);
      const n = w.charCodeAt(pos + 1);
      if (type === SEQUENCE) len += n;
      else if (type === AsPathSegmentType.AS_SET) len += 1;
      pos += 2 + 4 * n;
    }
    return len;
  }

  /**
   * RFC 4271 §9.1.2.2(c): the neighbouring AS, the first ASN of a leading AS_SEQUENCE; -1 when
   * the path does not start with one.
   */
  get neighborAs(): number {
    return this.wire.length > 0 && this.wire.charCodeAt(0) === SEQUENCE ? this.asnAt(2) : -1;
  }

  /** Whether `asn` appears anywhere in the path (loop detection, policy match). */
  includes(asn: number): boolean {
    // A native search for the ASN's four octets, then a check that the hit is an ASN and not
    // four octets that straddle a segment header.
    const needle = asnText(asn);
    for (let i = this.wire.indexOf(needle); i >= 0; i = this.wire.indexOf(needle, i + 1))
      if (this.isAsnOffset(i)) return true;
    return false;
  }

  /** Whether some segment is AS_CONFED_SEQUENCE or AS_CONFED_SET. */
  get hasConfed(): boolean {
    const w = this.wire;
    for (let pos = 0; pos < w.length; pos += 2 + 4 * w.charCodeAt(pos + 1))
      if (isConfed(w.charCodeAt(pos))) return true;
    return false;
  }

  /** Whether some ASN needs four octets (RFC 6793 §4.2.2: AS4_PATH is then sent). */
  get hasFourOctetAsn(): boolean {
    return this.asns.some((asn) => asn > 0xffff);
  }

  /** The path without its confederation segments. */
  withoutConfed(): AsPath {
    return this.hasConfed ? AsPath.of(this.segments.filter((s) => !isConfed(s.type))) : this;
  }

  /**
   * `asns` put in front (RFC 4271 §5.1.2): joined to a leading AS_SEQUENCE when they fit in it,
   * otherwise as a new AS_SEQUENCE of their own.
   */
  prepend(asns: readonly number[]): AsPath {
    if (asns.length === 0) return this;
    const segs = this.segments;
    if (segs.length > 0 && segs[0].type === SEQUENCE && segs[0].asns.length + asns.length <= 255)
      segs[0].asns.unshift(...asns);
    else segs.unshift({ type: SEQUENCE, asns: asns.slice() });
    return AsPath.of(segs);
  }

  // The wire form is the 4-octet encoding itself; the 2-octet one (RFC 6793 §4.2.2: an ASN
  // above 65535 sent as AS_TRANS) is only for the rare peer without the capability.

  /** Octets the path takes on the wire with `width`-octet ASNs. */
  encodedLength(width: 2 | 4): number {
    if (width === 4) return this.wire.length;
    return this.segments.reduce((n, s) => n + 2 + 2 * s.asns.length, 0);
  }

  /** Writes the path at buf[off] with `width`-octet ASNs; returns the offset after it. */
  write(buf: Uint8Array, off: number, width: 2 | 4): number {
    const w = this.wire;
    if (width === 4) {
      for (let i = 0; i < w.length; i++) buf[off++] = w.charCodeAt(i);
      return off;
    }
    for (const s of this.segments) {
      buf[off++] = s.type;
      buf[off++] = s.asns.length;
      for (const asn of s.asns) {
        const v = asn > 0xffff ? AS_TRANS : asn;
        buf[off++] = v >>> 8;
        buf[off++] = v & 255;
      }
    }
    return off;
  }

  /**
   * As routers print it: sequences space-separated, sets in braces, confederation sequences in
   * parentheses, confederation sets in square brackets.
   */
  toString(): string {
    const parts: string[] = [];
    for (const s of this.segments) {
      const text = s.asns.join(' ');
      if (s.type === AsPathSegmentType.AS_SET) parts.push(`{${text}}`);
      else if (s.type === AsPathSegmentType.AS_CONFED_SEQUENCE) parts.push(`(${text})`);
      else if (s.type === AsPathSegmentType.AS_CONFED_SET) parts.push(`[${text}]`);
      else parts.push(text);
    }
    return parts.join(' ');
  }

  /** In logs and JSON, the printed form. */
  toJSON(): string {
    return this.toString();
  }

  /** Whether an ASN starts at wire offset `i`. */
  private isAsnOffset(i: number): boolean {
    const w = this.wire;
    for (let pos = 0; pos < w.length;) {
      const first = pos + 2;
      pos = first + 4 * w.charCodeAt(pos + 1);
      if (i < pos) return i >= first && (i - first) % 4 === 0;
    }
    return false;
  }

  private asnAt(pos: number): number {
    const w = this.wire;
    return (
      ((w.charCodeAt(pos) << 24) |
        (w.charCodeAt(pos + 1) << 16) |
        (w.charCodeAt(pos + 2) << 8) |
        w.charCodeAt(pos + 3)) >>>
      0
    );
  }
}
