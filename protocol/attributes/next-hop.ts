// NEXT_HOP (type 3): decode, encode and its syntactic checks. Whether the next hop is on a
// shared subnet or is the receiver's own address is for the session/RIB, not the codec.
// RFC 4271 §5.1.3 and §6.3, RFC 7606 §7.3.

import { AttrFlag, AttrType, UpdateSubcode } from '../constants.js';
import { fail, quadAt, readU32, writeQuad } from './common.js';
import type { AttributeDescriptor } from './common.js';

/**
 * RFC 4271 §6.3: the NEXT_HOP must be a valid IP host address. Addresses that can never be a
 * unicast host are refused: 0.0.0.0/8 (this network), 127.0.0.0/8 (loopback) and 224.0.0.0/3
 * (multicast, reserved class E, limited broadcast).
 */
export function isInvalidNextHop(v: number): boolean {
  const first = v >>> 24;
  return first === 0 || first === 127 || first >= 224;
}

export const nextHopDescriptor: AttributeDescriptor = {
  code: AttrType.NEXT_HOP,
  name: 'NEXT_HOP',
  flags: AttrFlag.TRANSITIVE,
  decode(buf, start, end, st) {
    // RFC 4760 §3: without IPv4 NLRI the NEXT_HOP is ignored, so a bad one is only dropped;
    // with IPv4 NLRI, RFC 7606 §7.3 applies: treat-as-withdraw.
    const handling = st.ipv4Nlri ? 'treat-as-withdraw' : 'attribute-discard';
    // RFC 7606 §7.3: a length other than four is malformed.
    if (end - start !== 4) {
      fail(st, handling, UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, 'NEXT_HOP length is not 4');
      return;
    }
    // RFC 7606 §7.3 with RFC 4271 §6.3: a next hop that is not a host address is malformed.
    if (isInvalidNextHop(readU32(buf, start))) {
      fail(
        st,
        handling,
        UpdateSubcode.INVALID_NEXT_HOP_ATTRIBUTE,
        `NEXT_HOP ${buf[start]}.${buf[start + 1]}.${buf[start + 2]}.${buf[start + 3]} is not a host address`,
      );
      return;
    }
    st.attrs.nextHop = quadAt(buf, start);
  },
  valueLength: (a) => (a.nextHop === undefined ? -1 : 4),
  writeValue: (a, buf, off) => writeQuad(buf, off, a.nextHop as string),
};
