// The path attribute descriptor table (code -> name, flags, decode, encode) and the walk over
// an UPDATE's Path Attributes field in both directions. Message layout lives in update.ts.
// RFC 4271 §4.3, §5, §6.3; RFC 7606 §3, §4, §5.1.

import { AttrFlag, AttrType, UpdateSubcode } from '../constants.js';
import type { CodecContext, PathAttributes, UnknownAttribute } from '../types.js';
import {
  as4AggregatorDescriptor,
  aggregatorDescriptor,
  atomicAggregateDescriptor,
} from './aggregator.js';
import { as4PathDescriptor, asPathDescriptor } from './as-path.js';
import { fail } from './common.js';
import type { AttrDecodeState, AttributeDescriptor } from './common.js';
import { communitiesDescriptor } from './communities.js';
import { extendedCommunitiesDescriptor } from './extended-communities.js';
import { largeCommunitiesDescriptor } from './large-communities.js';
import { mpReachDescriptor, mpUnreachDescriptor } from './mp-nlri.js';
import { nextHopDescriptor } from './next-hop.js';
import { originDescriptor } from './origin.js';
import { clusterListDescriptor, originatorIdDescriptor } from './route-reflection.js';
import { localPrefDescriptor, medDescriptor } from './scalars.js';

export type { AttrDecodeState, AttributeDescriptor } from './common.js';

/**
 * The attributes we recognise, in the order we send them: MP_REACH_NLRI and MP_UNREACH_NLRI
 * first (RFC 7606 §5.1), then ascending type code (RFC 4271 §5).
 */
export const ATTRIBUTES: readonly AttributeDescriptor[] = [
  mpReachDescriptor,
  mpUnreachDescriptor,
  originDescriptor,
  asPathDescriptor,
  nextHopDescriptor,
  medDescriptor,
  localPrefDescriptor,
  atomicAggregateDescriptor,
  aggregatorDescriptor,
  communitiesDescriptor,
  originatorIdDescriptor,
  clusterListDescriptor,
  extendedCommunitiesDescriptor,
  as4PathDescriptor,
  as4AggregatorDescriptor,
  largeCommunitiesDescriptor,
];

/** Descriptor by type code (undefined for codes we do not recognise). */
export const ATTRIBUTE_BY_CODE: readonly (AttributeDescriptor | undefined)[] = (() => {
  const table = new Array<AttributeDescriptor | undefined>(256).fill(undefined);
  for (const d of ATTRIBUTES) table[d.code] = d;
  return table;
})();

export function attributeName(code: number): string {
  return ATTRIBUTE_BY_CODE[code]?.name ?? `ATTR_${code}`;
}

function isMp(code: number): boolean {
  return code === AttrType.MP_REACH_NLRI || code === AttrType.MP_UNREACH_NLRI;
}

/**
 * Decodes the Path Attributes field buf[start, end) into st.attrs. Session-reset errors throw;
 * RFC 7606 errors that do not are collected in st.errors. Returns the codes seen as a bitmask
 * of the codes below 32 (for the missing well-known attribute checks).
 */
export function decodeAttributeList(
  buf: Buffer,
  start: number,
  end: number,
  st: AttrDecodeState,
): number {
  let seenLo = 0; // codes 0-31
  let seenHi = 0; // codes 32-63
  let seenOther: number[] | null = null;
  let pos = start;
  while (pos < end) {
    st.attrStart = pos;
    st.attrEnd = end;
    // RFC 7606 §4: fewer octets left than an attribute header: treat-as-withdraw, and the
    // Total Attribute Length still locates the NLRI.
    if (end - pos < 3 || (buf[pos] & AttrFlag.EXTENDED_LENGTH && end - pos < 4)) {
      fail(
        st,
        'treat-as-withdraw',
        UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
        'trailing octets too short for an attribute header',
        null,
      );
      break;
    }
    const flags = buf[pos];
    const code = buf[pos + 1];
    let vStart: number;
    let len: number;
    if (flags & AttrFlag.EXTENDED_LENGTH) {
      len = (buf[pos + 2] << 8) | buf[pos + 3];
      vStart = pos + 4;
    } else {
      len = buf[pos + 2];
      vStart = pos + 3;
    }
    const vEnd = vStart + len;
    if (vEnd > end) {
      // RFC 7606 §4: an attribute overrunning the field: treat-as-withdraw. But an MP attribute
      // cut short cannot be parsed, so its routes cannot be withdrawn (RFC 7606 §3 (i)): reset.
      fail(
        st,
        isMp(code) ? 'session-reset' : 'treat-as-withdraw',
        UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
        `${attributeName(code)} length ${len} overruns the path attributes`,
      );
      break;
    }
    st.attrEnd = vEnd;
    st.flags = flags;
    pos = vEnd;

    // RFC 7606 §3 (g): a repeated MP_REACH_NLRI/MP_UNREACH_NLRI resets the session; any other
    // repeated attribute is discarded, the first one kept.
    let dup: boolean;
    if (code < 32) {
      dup = (seenLo & (1 << code)) !== 0;
      seenLo |= 1 << code;
    } else if (code < 64) {
      dup = (seenHi & (1 << (code - 32))) !== 0;
      seenHi |= 1 << (code - 32);
    } else {
      dup = seenOther !== null && seenOther.includes(code);
      if (seenOther === null) seenOther = [code];
      else seenOther.push(code);
    }
    if (dup) {
      fail(
        st,
        isMp(code) ? 'session-reset' : 'attribute-discard',
        UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
        `${attributeName(code)} appears more than once`,
        null,
      );
      continue;
    }

    const desc = ATTRIBUTE_BY_CODE[code];
    if (desc === undefined) {
      // RFC 4271 §6.3: an unrecognised well-known attribute resets the session.
      if ((flags & AttrFlag.OPTIONAL) === 0) {
        fail(
          st,
          'session-reset',
          UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
          `unrecognised well-known attribute ${code}`,
        );
      }
      // RFC 4271 §5: unrecognised optional attributes are kept (copied, so they never pin the
      // received chunk); the encoder passes on only the transitive ones, Partial bit set.
      const u: UnknownAttribute = { code, flags, value: Buffer.from(buf.subarray(vStart, vEnd)) };
      if (st.attrs.unknown === undefined) st.attrs.unknown = [u];
      else st.attrs.unknown.push(u);
      continue;
    }
    if ((flags & (AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)) !== desc.flags) {
      // RFC 7606 §3 (c): Optional/Transitive bits in conflict with the type: treat-as-withdraw.
      fail(
        st,
        'treat-as-withdraw',
        UpdateSubcode.ATTRIBUTE_FLAGS_ERROR,
        `${desc.name} has wrong flags 0x${flags.toString(16)}`,
      );
      // RFC 7606 §3 (i): the MP attributes are still parsed so their routes can be withdrawn.
      if (!isMp(code)) continue;
    }
    desc.decode(buf, vStart, vEnd, st);
  }
  return seenLo;
}

/** Leave these out when encoding (the packer places NLRI and next hop itself). */
export const OMIT_MP_REACH = 1;
export const OMIT_MP_UNREACH = 2;
export const OMIT_NEXT_HOP = 4;

function omitted(code: number, omit: number): boolean {
  return (
    (code === AttrType.MP_REACH_NLRI && (omit & OMIT_MP_REACH) !== 0) ||
    (code === AttrType.MP_UNREACH_NLRI && (omit & OMIT_MP_UNREACH) !== 0) ||
    (code === AttrType.NEXT_HOP && (omit & OMIT_NEXT_HOP) !== 0)
  );
}

/** RFC 4271 §5: only optional transitive unknown attributes travel on. */
function sendsUnknown(u: UnknownAttribute): boolean {
  return (
    (u.flags & (AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)) ===
      (AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE) && ATTRIBUTE_BY_CODE[u.code] === undefined
  );
}

function headerLength(valueLength: number): number {
  return valueLength > 255 ? 4 : 3;
}

/** Encoded length of the Path Attributes field. */
export function encodedLengthAttributes(
  attrs: PathAttributes,
  ctx: CodecContext,
  omit = 0,
): number {
  let total = 0;
  for (const d of ATTRIBUTES) {
    if (omit !== 0 && omitted(d.code, omit)) continue;
    const n = d.valueLength(attrs, ctx);
    if (n >= 0) total += headerLength(n) + n;
  }
  if (attrs.unknown !== undefined) {
    for (const u of attrs.unknown)
      if (sendsUnknown(u)) total += headerLength(u.value.length) + u.value.length;
  }
  return total;
}

function writeHeader(buf: Buffer, off: number, flags: number, code: number, len: number): number {
  if (len > 255) {
    buf[off] = flags | AttrFlag.EXTENDED_LENGTH;
    buf[off + 1] = code;
    buf[off + 2] = len >>> 8;
    buf[off + 3] = len & 255;
    return off + 4;
  }
  buf[off] = flags & ~AttrFlag.EXTENDED_LENGTH;
  buf[off + 1] = code;
  buf[off + 2] = len;
  return off + 3;
}

/** Writes the Path Attributes field at `off`; returns the offset after it. */
export function writeAttributes(
  attrs: PathAttributes,
  buf: Buffer,
  off: number,
  ctx: CodecContext,
  omit = 0,
): number {
  const unknown =
    attrs.unknown === undefined
      ? null
      : attrs.unknown.filter(sendsUnknown).sort((a, b) => a.code - b.code);
  let u = 0;
  for (const d of ATTRIBUTES) {
    // Unknown attributes go in ascending code order among the known ones (after the MP pair).
    if (unknown !== null && !isMp(d.code)) {
      while (u < unknown.length && unknown[u].code < d.code)
        off = writeUnknown(buf, off, unknown[u++]);
    }
    if (omit !== 0 && omitted(d.code, omit)) continue;
    const n = d.valueLength(attrs, ctx);
    if (n < 0) continue;
    off = writeHeader(buf, off, d.flags, d.code, n);
    const end = d.writeValue(attrs, buf, off, ctx);
    if (end - off !== n) throw new Error(`${d.name}: wrote ${end - off} octets, expected ${n}`);
    off = end;
  }
  if (unknown !== null) while (u < unknown.length) off = writeUnknown(buf, off, unknown[u++]);
  return off;
}

function writeUnknown(buf: Buffer, off: number, u: UnknownAttribute): number {
  // RFC 4271 §5: an unrecognised optional transitive attribute is passed on with Partial set.
  off = writeHeader(buf, off, u.flags | AttrFlag.PARTIAL, u.code, u.value.length);
  u.value.copy(buf, off);
  return off + u.value.length;
}

/** Encodes the Path Attributes field on its own (for the packer's shared attribute block). */
export function encodeAttributes(attrs: PathAttributes, ctx: CodecContext, omit = 0): Buffer {
  const buf = Buffer.allocUnsafe(encodedLengthAttributes(attrs, ctx, omit));
  const end = writeAttributes(attrs, buf, 0, ctx, omit);
  return end === buf.length ? buf : buf.subarray(0, end);
}
