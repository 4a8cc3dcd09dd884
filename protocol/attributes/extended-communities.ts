// EXTENDED_COMMUNITIES (type 16): decode into a typed view of the common kinds plus the raw
// octets, encode from the raw octets, RFC 7606 checks. Policy on them lives elsewhere.
// RFC 4360 §2-§5, RFC 5668 §2, RFC 7153 (registries), RFC 9012 §4 (encapsulation, color),
// draft-ietf-idr-link-bandwidth §3; RFC 7606 §7.14.

import { AttrFlag, AttrType, UpdateSubcode } from '../constants.js';
import { fail, quadAt, readU16, readU32, writeQuad, writeU16, writeU32 } from './common.js';
import type { AttributeDescriptor } from './common.js';
import type { ExtendedCommunity } from '../types.js';

/** RFC 7153 §5.2: the low six bits of the type select the family (high bits: IANA, transitive). */
const TWO_OCTET_AS = 0x00;
const IPV4_ADDRESS = 0x01;
const FOUR_OCTET_AS = 0x02;
const OPAQUE = 0x03;

const SUB_ROUTE_TARGET = 0x02;
const SUB_ROUTE_ORIGIN = 0x03;
const SUB_LINK_BANDWIDTH = 0x04;
const SUB_COLOR = 0x0b;
const SUB_ENCAPSULATION = 0x0c;

/** The typed view of one 8-octet extended community. `raw` is kept as given. */
export function decodeExtendedCommunity(raw: Buffer): ExtendedCommunity {
  const type = raw[0];
  const subtype = raw[1];
  const family = type & 0x3f;
  const c: ExtendedCommunity = { type, subtype, raw };
  if (family === TWO_OCTET_AS) {
    c.global = readU16(raw, 2);
    if (subtype === SUB_LINK_BANDWIDTH) {
      // draft-ietf-idr-link-bandwidth §3: bandwidth in octets per second, IEEE float.
      c.kind = 'link-bandwidth';
      c.local = raw.readFloatBE(4);
    } else {
      c.local = readU32(raw, 4);
    }
  } else if (family === IPV4_ADDRESS) {
    c.global = quadAt(raw, 2);
    c.local = readU16(raw, 6);
  } else if (family === FOUR_OCTET_AS) {
    c.global = readU32(raw, 2);
    c.local = readU16(raw, 6);
  } else if (family === OPAQUE && subtype === SUB_ENCAPSULATION) {
    // RFC 9012 §4.1: the tunnel type is in the last two octets.
    c.kind = 'encapsulation';
    c.local = readU16(raw, 6);
  } else if (family === OPAQUE && subtype === SUB_COLOR) {
    // RFC 9012 §4.3: two octets of flags, four of color.
    c.kind = 'color';
    c.local = readU32(raw, 4);
  }
  if (family <= FOUR_OCTET_AS) {
    if (subtype === SUB_ROUTE_TARGET) c.kind = 'route-target';
    else if (subtype === SUB_ROUTE_ORIGIN) c.kind = 'route-origin';
  }
  return c;
}

/**
 * Builds an extended community of the AS- or IPv4-specific families: `global` a number fitting
 * two octets (type 0x00), a larger number (four-octet AS, type 0x02) or a dotted quad (0x01).
 */
export function makeExtendedCommunity(
  kind: 'route-target' | 'route-origin',
  global: number | string,
  local: number,
  transitive = true,
): ExtendedCommunity {
  const raw = Buffer.alloc(8);
  const subtype = kind === 'route-target' ? SUB_ROUTE_TARGET : SUB_ROUTE_ORIGIN;
  const nonTransitive = transitive ? 0 : 0x40;
  if (typeof global === 'string') {
    raw[0] = IPV4_ADDRESS | nonTransitive;
    writeQuad(raw, 2, global);
    writeU16(raw, 6, local);
  } else if (global <= 0xffff) {
    raw[0] = TWO_OCTET_AS | nonTransitive;
    writeU16(raw, 2, global);
    writeU32(raw, 4, local);
  } else {
    raw[0] = FOUR_OCTET_AS | nonTransitive;
    writeU32(raw, 2, global);
    writeU16(raw, 6, local);
  }
  raw[1] = subtype;
  return decodeExtendedCommunity(raw);
}

export const extendedCommunitiesDescriptor: AttributeDescriptor = {
  code: AttrType.EXTENDED_COMMUNITIES,
  name: 'EXTENDED_COMMUNITIES',
  flags: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  decode(buf, start, end, st) {
    const len = end - start;
    // RFC 7606 §7.14: a length that is not a non-zero multiple of 8: treat-as-withdraw.
    if (len === 0 || len % 8 !== 0) {
      fail(
        st,
        'treat-as-withdraw',
        UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
        'EXTENDED_COMMUNITIES length is not a non-zero multiple of 8',
      );
      return;
    }
    // One copy for the whole attribute, so kept communities never pin the received chunk.
    const copy = Buffer.from(buf.subarray(start, end));
    const out = new Array<ExtendedCommunity>(len / 8);
    for (let i = 0; i < out.length; i++)
      out[i] = decodeExtendedCommunity(copy.subarray(8 * i, 8 * i + 8));
    st.attrs.extendedCommunities = out;
  },
  valueLength: (a) =>
    a.extendedCommunities === undefined || a.extendedCommunities.length === 0
      ? -1
      : 8 * a.extendedCommunities.length,
  writeValue(a, buf, off) {
    for (const c of a.extendedCommunities as ExtendedCommunity[]) {
      if (c.raw.length !== 8) throw new TypeError('an extended community is 8 octets');
      buf.set(c.raw, off);
      off += 8;
    }
    return off;
  },
};
