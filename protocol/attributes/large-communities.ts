// LARGE_COMMUNITY (type 32): decode, encode, RFC 8092 length checks, text form "a:b:c".
// Nothing else.
// RFC 8092 §3, §6 (error handling per RFC 7606).

import { AttrFlag, AttrType, UpdateSubcode } from '../constants.js';
import { fail, readU32, writeU32 } from './common.js';
import type { AttributeDescriptor } from './common.js';
import type { LargeCommunity } from '../types.js';

export function formatLargeCommunity(c: LargeCommunity): string {
  return `${c[0]}:${c[1]}:${c[2]}`;
}

export const largeCommunitiesDescriptor: AttributeDescriptor = {
  code: AttrType.LARGE_COMMUNITY,
  name: 'LARGE_COMMUNITY',
  flags: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  decode(buf, start, end, st) {
    const len = end - start;
    // RFC 8092 §6: a length that is not a non-zero multiple of 12: treat-as-withdraw.
    if (len === 0 || len % 12 !== 0) {
      fail(
        st,
        'treat-as-withdraw',
        UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
        'LARGE_COMMUNITY length is not a non-zero multiple of 12',
      );
      return;
    }
    const out: LargeCommunity[] = new Array<LargeCommunity>(len / 12);
    for (let i = 0, p = start; p < end; i++, p += 12) {
      out[i] = [readU32(buf, p), readU32(buf, p + 4), readU32(buf, p + 8)];
    }
    st.attrs.largeCommunities = out;
  },
  valueLength: (a) =>
    a.largeCommunities === undefined || a.largeCommunities.length === 0
      ? -1
      : 12 * a.largeCommunities.length,
  writeValue(a, buf, off) {
    for (const c of a.largeCommunities as LargeCommunity[]) {
      off = writeU32(buf, off, c[0]);
      off = writeU32(buf, off, c[1]);
      off = writeU32(buf, off, c[2]);
    }
    return off;
  },
};
