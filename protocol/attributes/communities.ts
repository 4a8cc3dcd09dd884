// COMMUNITIES (type 8): decode, encode, RFC 7606 checks, and the text form with the
// well-known names. Nothing else.
// RFC 1997, RFC 3765, RFC 7999, RFC 8326, RFC 9494 (well-known values); RFC 7606 §7.8.

import { AttrFlag, AttrType, UpdateSubcode, WellKnownCommunity } from '../constants.js';
import { fail, readU32, writeU32 } from './common.js';
import type { AttributeDescriptor } from './common.js';

const NAMES = new Map<number, string>([
  [WellKnownCommunity.GRACEFUL_SHUTDOWN, 'graceful-shutdown'],
  [WellKnownCommunity.ACCEPT_OWN, 'accept-own'],
  [WellKnownCommunity.LLGR_STALE, 'llgr-stale'],
  [WellKnownCommunity.NO_LLGR, 'no-llgr'],
  [WellKnownCommunity.BLACKHOLE, 'blackhole'],
  [WellKnownCommunity.NO_EXPORT, 'no-export'],
  [WellKnownCommunity.NO_ADVERTISE, 'no-advertise'],
  [WellKnownCommunity.NO_EXPORT_SUBCONFED, 'no-export-subconfed'],
  [WellKnownCommunity.NO_PEER, 'no-peer'],
]);
const VALUES = new Map<string, number>([...NAMES].map(([v, n]) => [n, v]));

/** "65000:1", or the well-known name ("no-export") for the reserved values that have one. */
export function formatCommunity(value: number): string {
  return NAMES.get(value) ?? `${Math.floor(value / 65536)}:${value % 65536}`;
}

/** Parses "a:b" or a well-known name; null when it is neither. */
export function parseCommunity(text: string): number | null {
  const known = VALUES.get(text);
  if (known !== undefined) return known;
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text);
  if (m === null) return null;
  const hi = Number(m[1]);
  const lo = Number(m[2]);
  return hi > 0xffff || lo > 0xffff ? null : hi * 65536 + lo;
}

export const communitiesDescriptor: AttributeDescriptor = {
  code: AttrType.COMMUNITIES,
  name: 'COMMUNITIES',
  flags: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  decode(buf, start, end, st) {
    const len = end - start;
    // RFC 7606 §7.8: a length that is not a non-zero multiple of 4: treat-as-withdraw.
    if (len === 0 || len % 4 !== 0) {
      fail(
        st,
        'treat-as-withdraw',
        UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
        'COMMUNITIES length is not a non-zero multiple of 4',
      );
      return;
    }
    const n = len / 4;
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = readU32(buf, start + 4 * i);
    st.attrs.communities = out;
  },
  valueLength: (a) =>
    a.communities === undefined || a.communities.length === 0 ? -1 : 4 * a.communities.length,
  writeValue(a, buf, off) {
    for (const c of a.communities as number[]) off = writeU32(buf, off, c);
    return off;
  },
};
