// The four-octet scalar attributes MULTI_EXIT_DISC (4) and LOCAL_PREF (5). Nothing else.
// RFC 4271 §4.3, §5.1.4, §5.1.5; RFC 7606 §7.4, §7.5.

import { AttrFlag, AttrType, UpdateSubcode } from '../constants.js';
import { fail, readU32, writeU32 } from './common.js';
import type { AttributeDescriptor } from './common.js';

export const medDescriptor: AttributeDescriptor = {
  code: AttrType.MULTI_EXIT_DISC,
  name: 'MULTI_EXIT_DISC',
  flags: AttrFlag.OPTIONAL,
  decode(buf, start, end, st) {
    // RFC 7606 §7.4: a length other than four is malformed: treat-as-withdraw.
    if (end - start !== 4) {
      fail(
        st,
        'treat-as-withdraw',
        UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
        'MULTI_EXIT_DISC length is not 4',
      );
      return;
    }
    st.attrs.med = readU32(buf, start);
  },
  valueLength: (a) => (a.med === undefined ? -1 : 4),
  writeValue: (a, buf, off) => writeU32(buf, off, a.med as number),
};

export const localPrefDescriptor: AttributeDescriptor = {
  code: AttrType.LOCAL_PREF,
  name: 'LOCAL_PREF',
  flags: AttrFlag.TRANSITIVE,
  decode(buf, start, end, st) {
    // RFC 7606 §7.5: from an external peer the attribute is discarded whatever it holds.
    if (st.ctx.ebgp) {
      fail(
        st,
        'attribute-discard',
        UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
        'LOCAL_PREF from an external peer is discarded',
      );
      return;
    }
    // RFC 7606 §7.5: from an internal peer, a length other than four: treat-as-withdraw.
    if (end - start !== 4) {
      fail(
        st,
        'treat-as-withdraw',
        UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
        'LOCAL_PREF length is not 4',
      );
      return;
    }
    st.attrs.localPref = readU32(buf, start);
  },
  valueLength: (a) => (a.localPref === undefined ? -1 : 4),
  writeValue: (a, buf, off) => writeU32(buf, off, a.localPref as number),
};
