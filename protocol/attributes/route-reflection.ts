// ORIGINATOR_ID (type 9) and CLUSTER_LIST (type 10): decode, encode, RFC 7606 checks.
// Loop detection with them belongs to the RIB, not here.
// RFC 4456 §8; RFC 7606 §7.9, §7.10.

import { AttrFlag, AttrType, UpdateSubcode } from '../constants.js';
import { fail, quadAt, writeQuad } from './common.js';
import type { AttributeDescriptor } from './common.js';

export const originatorIdDescriptor: AttributeDescriptor = {
  code: AttrType.ORIGINATOR_ID,
  name: 'ORIGINATOR_ID',
  flags: AttrFlag.OPTIONAL,
  decode(buf, start, end, st) {
    // RFC 7606 §7.9: from an external peer the attribute is discarded.
    if (st.ctx.ebgp) {
      fail(
        st,
        'attribute-discard',
        UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
        'ORIGINATOR_ID from an external peer is discarded',
      );
      return;
    }
    // RFC 7606 §7.9: a length other than 4: treat-as-withdraw.
    if (end - start !== 4) {
      fail(
        st,
        'treat-as-withdraw',
        UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
        'ORIGINATOR_ID length is not 4',
      );
      return;
    }
    st.attrs.originatorId = quadAt(buf, start);
  },
  valueLength: (a) => (a.originatorId === undefined ? -1 : 4),
  writeValue: (a, buf, off) => writeQuad(buf, off, a.originatorId as string),
};

export const clusterListDescriptor: AttributeDescriptor = {
  code: AttrType.CLUSTER_LIST,
  name: 'CLUSTER_LIST',
  flags: AttrFlag.OPTIONAL,
  decode(buf, start, end, st) {
    // RFC 7606 §7.10: from an external peer the attribute is discarded.
    if (st.ctx.ebgp) {
      fail(
        st,
        'attribute-discard',
        UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
        'CLUSTER_LIST from an external peer is discarded',
      );
      return;
    }
    const len = end - start;
    // RFC 7606 §7.10: a length that is not a non-zero multiple of 4: treat-as-withdraw.
    if (len === 0 || len % 4 !== 0) {
      fail(
        st,
        'treat-as-withdraw',
        UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
        'CLUSTER_LIST length is not a non-zero multiple of 4',
      );
      return;
    }
    const out = new Array<string>(len / 4);
    for (let i = 0; i < out.length; i++) out[i] = quadAt(buf, start + 4 * i);
    st.attrs.clusterList = out;
  },
  valueLength: (a) =>
    a.clusterList === undefined || a.clusterList.length === 0 ? -1 : 4 * a.clusterList.length,
  writeValue(a, buf, off) {
    for (const id of a.clusterList as string[]) off = writeQuad(buf, off, id);
    return off;
  },
};
