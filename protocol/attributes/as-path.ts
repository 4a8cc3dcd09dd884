// AS_PATH (type 2) and AS4_PATH (type 17): decode, encode, RFC 7606 checks, and the RFC 6793
// merge of the two on a 2-octet session. No aggregator or other attribute logic here.
// RFC 4271 §4.3, §5.1.2, §9.1.2.2(a); RFC 5065 §3, §5; RFC 6793 §4.2.2, §4.2.3, §6; RFC 7606 §7.2.

import { AS_TRANS, AsPathSegmentType, AttrFlag, AttrType, UpdateSubcode } from '../constants.js';
import { fail, readU16, readU32, writeU16, writeU32 } from './common.js';
import type { AttrDecodeState, AttributeDescriptor } from './common.js';
import type { AsPathSegment, CodecContext } from '../types.js';

/**
 * Parses segments of `width`-octet ASNs from buf[start, end). Returns the segments, or a string
 * saying why the path is malformed (RFC 7606 §7.2: unknown segment type, zero segment length,
 * a segment overrunning the attribute, or a single octet left over).
 */
export function parseSegments(
  buf: Uint8Array,
  start: number,
  end: number,
  width: 2 | 4,
): AsPathSegment[] | string {
  // First pass: check the structure and count segments, so arrays are allocated at their
  // exact size (a grown array keeps slack capacity for as long as the route is kept).
  let count = 0;
  for (let pos = start; pos < end; count++) {
    if (end - pos < 2) return 'a single octet is left after the last segment';
    const type = buf[pos];
    const n = buf[pos + 1];
    if (type < 1 || type > 4) return `unknown segment type ${type}`;
    if (n === 0) return 'segment length is zero';
    pos += 2 + n * width;
    if (pos > end) return 'segment overruns the attribute';
  }
  const out = new Array<AsPathSegment>(count);
  let pos = start;
  for (let k = 0; k < count; k++) {
    const type = buf[pos];
    const n = buf[pos + 1];
    pos += 2;
    const asns = new Array<number>(n);
    if (width === 4) {
      for (let i = 0; i < n; i++, pos += 4) asns[i] = readU32(buf, pos);
    } else {
      for (let i = 0; i < n; i++, pos += 2) asns[i] = readU16(buf, pos);
    }
    out[k] = { type: type as 1 | 2 | 3 | 4, asns };
  }
  return out;
}

function isConfed(type: number): boolean {
  return type === AsPathSegmentType.AS_CONFED_SEQUENCE || type === AsPathSegmentType.AS_CONFED_SET;
}

/** Octets the segments take with `width`-octet ASNs (segments over 255 ASNs are split). */
function segmentsLength(path: readonly AsPathSegment[], width: number): number {
  let total = 0;
  for (const seg of path) {
    const n = seg.asns.length;
    if (n === 0) continue; // RFC 7606 §7.2: never send an empty segment.
    total += 2 * Math.ceil(n / 255) + n * width;
  }
  return total;
}

function writeSegments(
  buf: Uint8Array,
  off: number,
  path: readonly AsPathSegment[],
  width: number,
): number {
  for (const seg of path) {
    const asns = seg.asns;
    for (let from = 0; from < asns.length; from += 255) {
      const to = Math.min(asns.length, from + 255);
      buf[off++] = seg.type;
      buf[off++] = to - from;
      for (let i = from; i < to; i++) {
        const asn = asns[i];
        // RFC 6793 §4.2.2: to a 2-octet speaker, an ASN above 65535 is sent as AS_TRANS.
        off =
          width === 4 ? writeU32(buf, off, asn) : writeU16(buf, off, asn > 0xffff ? AS_TRANS : asn);
      }
    }
  }
  return off;
}

/** RFC 4271 §9.1.2.2(a): an AS_SET counts as one AS; RFC 5065 §5.3: confed segments count zero. */
export function asPathLength(path: readonly AsPathSegment[]): number {
  let n = 0;
  for (const seg of path) {
    if (seg.type === AsPathSegmentType.AS_SEQUENCE) n += seg.asns.length;
    else if (seg.type === AsPathSegmentType.AS_SET) n += 1;
  }
  return n;
}

/**
 * RFC 6793 §4.2.3: rebuilds the real path from AS_PATH (2-octet) and AS4_PATH. When AS_PATH
 * holds fewer ASes than AS4_PATH, AS4_PATH is ignored; otherwise the leading ASes of AS_PATH
 * that AS4_PATH lacks are kept, followed by AS4_PATH.
 */
export function mergeAs4Path(
  asPath: readonly AsPathSegment[],
  as4Path: readonly AsPathSegment[],
): AsPathSegment[] {
  const n2 = asPathLength(asPath);
  const n4 = asPathLength(as4Path);
  if (n2 < n4) return asPath.slice();
  let need = n2 - n4;
  const out: AsPathSegment[] = [];
  for (const seg of asPath) {
    if (isConfed(seg.type)) {
      out.push(seg);
      continue;
    }
    if (need === 0) break;
    if (seg.type === AsPathSegmentType.AS_SET) {
      out.push(seg);
      need -= 1;
    } else if (seg.asns.length <= need) {
      out.push(seg);
      need -= seg.asns.length;
    } else {
      out.push({ type: seg.type, asns: seg.asns.slice(0, need) });
      need = 0;
    }
  }
  for (const seg of as4Path) {
    const last = out[out.length - 1];
    // Join the kept head and AS4_PATH into one AS_SEQUENCE where they meet, as it was sent.
    if (
      last !== undefined &&
      last.type === AsPathSegmentType.AS_SEQUENCE &&
      seg.type === AsPathSegmentType.AS_SEQUENCE &&
      last.asns.length + seg.asns.length <= 255 &&
      out.length > 0 &&
      seg === as4Path[0]
    ) {
      out[out.length - 1] = { type: last.type, asns: last.asns.concat(seg.asns) };
    } else {
      out.push(seg);
    }
  }
  return out;
}

export const asPathDescriptor: AttributeDescriptor = {
  code: AttrType.AS_PATH,
  name: 'AS_PATH',
  flags: AttrFlag.TRANSITIVE,
  decode(buf, start, end, st) {
    // RFC 6793 §4: the ASN width follows the 4-octet AS capability of the session.
    const path = parseSegments(buf, start, end, st.ctx.as4 ? 4 : 2);
    // RFC 7606 §7.2: a malformed AS_PATH: treat-as-withdraw (Malformed AS_PATH, no data).
    if (typeof path === 'string') {
      fail(st, 'treat-as-withdraw', UpdateSubcode.MALFORMED_AS_PATH, `AS_PATH: ${path}`, null);
      return;
    }
    // RFC 5065 §5 with RFC 7606 §7.2: confederation segments from an external peer (we run no
    // confederation, so every external peer is outside ours): treat-as-withdraw.
    if (st.ctx.ebgp && path.some((s) => isConfed(s.type))) {
      fail(
        st,
        'treat-as-withdraw',
        UpdateSubcode.MALFORMED_AS_PATH,
        'AS_PATH: confederation segment from an external peer',
        null,
      );
      return;
    }
    st.attrs.asPath = path;
  },
  valueLength: (a, ctx) =>
    a.asPath === undefined ? -1 : segmentsLength(a.asPath, ctx.as4 ? 4 : 2),
  writeValue: (a, buf, off, ctx) =>
    writeSegments(buf, off, a.asPath as AsPathSegment[], ctx.as4 ? 4 : 2),
};

/** RFC 6793 §4.2.2: the AS4_PATH to send to a 2-octet speaker, or null when none is needed. */
export function as4PathToSend(
  asPath: readonly AsPathSegment[] | undefined,
  explicit: readonly AsPathSegment[] | undefined,
  ctx: CodecContext,
): readonly AsPathSegment[] | null {
  // RFC 6793 §4.1: AS4_PATH is never sent between two 4-octet speakers.
  if (ctx.as4) return null;
  if (explicit !== undefined) return explicit;
  if (asPath === undefined) return null;
  // Sent only when some ASN does not fit in two octets; confed segments are left out.
  if (!asPath.some((s) => s.asns.some((asn) => asn > 0xffff))) return null;
  return asPath.filter((s) => !isConfed(s.type));
}

function discardAs4(st: AttrDecodeState, what: string): void {
  fail(st, 'attribute-discard', UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, what);
}

export const as4PathDescriptor: AttributeDescriptor = {
  code: AttrType.AS4_PATH,
  name: 'AS4_PATH',
  flags: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  decode(buf, start, end, st) {
    // RFC 6793 §4.1: between two 4-octet speakers AS4_PATH has no business: discard it.
    if (st.ctx.as4) {
      discardAs4(st, 'AS4_PATH from a 4-octet-AS speaker is discarded');
      return;
    }
    const path = parseSegments(buf, start, end, 4);
    // RFC 6793 §6: a malformed AS4_PATH (including confederation segments) is discarded.
    if (typeof path === 'string') {
      discardAs4(st, `AS4_PATH: ${path}`);
      return;
    }
    if (path.some((s) => isConfed(s.type))) {
      discardAs4(st, 'AS4_PATH: confederation segment');
      return;
    }
    st.attrs.as4Path = path;
  },
  valueLength(a, ctx) {
    const p = as4PathToSend(a.asPath, a.as4Path, ctx);
    return p === null ? -1 : segmentsLength(p, 4);
  },
  writeValue(a, buf, off, ctx) {
    const p = as4PathToSend(a.asPath, a.as4Path, ctx);
    return p === null ? off : writeSegments(buf, off, p, 4);
  },
};
