// ORIGIN (type 1): decode, encode and the RFC 7606 checks for it. Nothing else.
// RFC 4271 §4.3 and §6.3, RFC 7606 §7.1.

import { AttrFlag, AttrType, UpdateSubcode } from '../constants.js';
import { fail } from './common.js';
import type { AttributeDescriptor } from './common.js';

export const originDescriptor: AttributeDescriptor = {
  code: AttrType.ORIGIN,
  name: 'ORIGIN',
  flags: AttrFlag.TRANSITIVE,
  decode(buf, start, end, st) {
    // RFC 7606 §7.1: a length other than one is malformed: treat-as-withdraw.
    if (end - start !== 1) {
      fail(st, 'treat-as-withdraw', UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, 'ORIGIN length is not 1');
      return;
    }
    const v = buf[start];
    // RFC 7606 §7.1: an undefined ORIGIN value is malformed: treat-as-withdraw.
    if (v > 2) {
      fail(
        st,
        'treat-as-withdraw',
        UpdateSubcode.INVALID_ORIGIN_ATTRIBUTE,
        `ORIGIN value ${v} is undefined`,
      );
      return;
    }
    st.attrs.origin = v as 0 | 1 | 2;
  },
  valueLength: (a) => (a.origin === undefined ? -1 : 1),
  writeValue(a, buf, off) {
    buf[off] = a.origin as number;
    return off + 1;
  },
};
