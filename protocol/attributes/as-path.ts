// AS_PATH (type 2) and AS4_PATH (type 17): decode, encode, RFC 7606 checks, and the RFC 6793
// merge of the two on a 2-octet session. No aggregator or other attribute logic here.
// RFC 4271 §4.3, §5.1.2, §9.1.2.2(a); RFC 5065 §3, §5; RFC 6793 §4.2.2, §4.2.3, §6; RFC 7606 §7.2.

import { AsPathSegmentType, AttrFlag, AttrType, UpdateSubcode } from '../constants.js';
import { AsPath, isConfed } from '../as-path.js';
import { fail } from './common.js';
import type { AttrDecodeState, AttributeDescriptor } from './common.js';
import type { AsPathSegment, CodecContext } from '../types.js';

/**
 * RFC 7606 §7.2: why the segments of `width`-octet ASNs in buf[start, end) are malformed (an
 * unknown segment type, a zero segment length, a segment overrunning the attribute, or a single
 * octet left over), or null when they are well formed.
 */
export function checkSegments(
  buf: Uint8Array,
  start: number,
  end: number,
  width: 2 | 4,
): string | null {
  for (let pos = start; pos < end;) {
    if (end - pos < 2) return 'a single octet is left after the last segment';
    const type = buf[pos];
    const n = buf[pos + 1];
    if (type < 1 || type > 4) return `unknown segment type ${type}`;
    if (n === 0) return 'segment length is zero';
    pos += 2 + n * width;
    if (pos > end) return 'segment overruns the attribute';
  }
  return null;
}

/**
 * RFC 6793 §4.2.3: rebuilds the real path from AS_PATH (2-octet) and AS4_PATH. When AS_PATH
 * holds fewer ASes than AS4_PATH, AS4_PATH is ignored; otherwise the leading ASes of AS_PATH
 * that AS4_PATH lacks are kept, followed by AS4_PATH.
 */
export function mergeAs4Path(asPath2: AsPath, asPath4: AsPath): AsPath {
  const n2 = asPath2.pathLength;
  const n4 = asPath4.pathLength;
  if (n2 < n4) return asPath2;
  const asPath = asPath2.segments;
  const as4Path = asPath4.segments;
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
  return AsPath.of(out);
}

export const asPathDescriptor: AttributeDescriptor = {
  code: AttrType.AS_PATH,
  name: 'AS_PATH',
  flags: AttrFlag.TRANSITIVE,
  decode(buf, start, end, st) {
    // RFC 6793 §4: the ASN width follows the 4-octet AS capability of the session.
    const width = st.ctx.as4 ? 4 : 2;
    const why = checkSegments(buf, start, end, width);
    // RFC 7606 §7.2: a malformed AS_PATH: treat-as-withdraw (Malformed AS_PATH, no data).
    if (why !== null) {
      fail(st, 'treat-as-withdraw', UpdateSubcode.MALFORMED_AS_PATH, `AS_PATH: ${why}`, null);
      return;
    }
    const path = AsPath.decode(buf, start, end, width);
    // RFC 5065 §5 with RFC 7606 §7.2: confederation segments from an external peer (we run no
    // confederation, so every external peer is outside ours): treat-as-withdraw.
    if (st.ctx.ebgp && path.hasConfed) {
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
  valueLength: (a, ctx) => (a.asPath === undefined ? -1 : a.asPath.encodedLength(ctx.as4 ? 4 : 2)),
  writeValue: (a, buf, off, ctx) => (a.asPath as AsPath).write(buf, off, ctx.as4 ? 4 : 2),
};

/** RFC 6793 §4.2.2: the AS4_PATH to send to a 2-octet speaker, or null when none is needed. */
export function as4PathToSend(
  asPath: AsPath | undefined,
  explicit: AsPath | undefined,
  ctx: CodecContext,
): AsPath | null {
  // RFC 6793 §4.1: AS4_PATH is never sent between two 4-octet speakers.
  if (ctx.as4) return null;
  if (explicit !== undefined) return explicit;
  if (asPath === undefined) return null;
  // Sent only when some ASN does not fit in two octets; confed segments are left out.
  if (!asPath.hasFourOctetAsn) return null;
  return asPath.withoutConfed();
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
    const why = checkSegments(buf, start, end, 4);
    // RFC 6793 §6: a malformed AS4_PATH (including confederation segments) is discarded.
    if (why !== null) {
      discardAs4(st, `AS4_PATH: ${why}`);
      return;
    }
    const path = AsPath.decode(buf, start, end, 4);
    if (path.hasConfed) {
      discardAs4(st, 'AS4_PATH: confederation segment');
      return;
    }
    st.attrs.as4Path = path;
  },
  valueLength(a, ctx) {
    const p = as4PathToSend(a.asPath, a.as4Path, ctx);
    return p === null ? -1 : p.encodedLength(4);
  },
  writeValue(a, buf, off, ctx) {
    const p = as4PathToSend(a.asPath, a.as4Path, ctx);
    return p === null ? off : p.write(buf, off, 4);
  },
};
