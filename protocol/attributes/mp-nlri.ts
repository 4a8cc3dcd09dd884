// MP_REACH_NLRI (14) and MP_UNREACH_NLRI (15): IPv4/IPv6 unicast decoded, every other family
// kept raw as unsupported. Errors here always reset the session (no AFI/SAFI disable).
// RFC 4760 §3, §4, §7; RFC 8950 §3 (IPv6 next hop for IPv4 NLRI); RFC 2545 §3 (link-local);
// RFC 7606 §5.3, §7.11, §7.12; RFC 7911 §3.

import { Afi, AttrFlag, AttrType, ErrorCode, Safi, UpdateSubcode } from '../constants.js';
import { BgpError } from '../errors.js';
import { decodeNlri, encodedLengthNlri, writeNlri } from '../nlri.js';
import { formatIpv6, parseIpv6 } from '../prefix.js';
import { fail, quadAt, readU16, writeQuad, writeU16 } from './common.js';
import type { AttrDecodeState, AttributeDescriptor } from './common.js';
import type { CodecContext, MpReach, MpUnreach, PrefixList } from '../types.js';

function isUnicast(afi: number, safi: number): afi is 1 | 2 {
  return (afi === Afi.IPV4 || afi === Afi.IPV6) && safi === Safi.UNICAST;
}

function addPathFor(ctx: CodecContext, afi: 1 | 2): boolean {
  return afi === 1 ? ctx.addPath.ipv4 : ctx.addPath.ipv6;
}

/** RFC 4760 §7, RFC 7606 §7.11: an MP attribute that cannot be parsed resets the session. */
function mpFail(st: AttrDecodeState, reason: string): void {
  fail(st, 'session-reset', UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, reason);
}

function decodePrefixes(
  buf: Buffer,
  start: number,
  end: number,
  afi: 1 | 2,
  st: AttrDecodeState,
  name: string,
): PrefixList {
  try {
    return decodeNlri(buf, start, end, afi, addPathFor(st.ctx, afi), {
      subcode: UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
      field: name,
    });
  } catch (err) {
    // RFC 4760 §7: the NOTIFICATION data is the offending attribute.
    const e = err as BgpError;
    throw new BgpError(
      e.code,
      e.message,
      {
        code: ErrorCode.UPDATE_MESSAGE,
        subcode: UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
        data: Buffer.from(st.buf.subarray(st.attrStart, st.attrEnd)),
      },
      'session-reset',
    );
  }
}

export const mpReachDescriptor: AttributeDescriptor = {
  code: AttrType.MP_REACH_NLRI,
  name: 'MP_REACH_NLRI',
  flags: AttrFlag.OPTIONAL,
  decode(buf, start, end, st) {
    // RFC 4760 §3: AFI (2), SAFI (1), next hop length (1), next hop, reserved (1), NLRI.
    if (end - start < 5) return mpFail(st, 'MP_REACH_NLRI is shorter than 5 octets');
    const afi = readU16(buf, start);
    const safi = buf[start + 2];
    const nhLen = buf[start + 3];
    const nhStart = start + 4;
    if (nhStart + nhLen + 1 > end)
      return mpFail(st, 'MP_REACH_NLRI next hop overruns the attribute');
    if (!isUnicast(afi, safi)) {
      // Another family: kept raw (copied) so it can be shown, never interpreted.
      st.attrs.mpReach = {
        afi,
        safi,
        nextHops: [],
        nlri: null,
        raw: Buffer.from(buf.subarray(start, end)),
      };
      return;
    }
    const nextHops: string[] = [];
    // RFC 7606 §7.11: a next hop length that does not fit the family resets the session.
    // IPv6: 16, or 32 with a link-local (RFC 2545 §3). IPv4: 4, or 16/32 (RFC 8950 §3).
    if (nhLen === 4 && afi === Afi.IPV4) {
      nextHops.push(quadAt(buf, nhStart));
    } else if (nhLen === 16 || nhLen === 32) {
      nextHops.push(formatIpv6(buf, nhStart));
      if (nhLen === 32) nextHops.push(formatIpv6(buf, nhStart + 16));
    } else {
      return mpFail(st, `MP_REACH_NLRI next hop length ${nhLen} does not fit AFI ${afi}`);
    }
    // RFC 4760 §3: the reserved octet is ignored on receipt.
    const nlri = decodePrefixes(buf, nhStart + nhLen + 1, end, afi, st, 'MP_REACH_NLRI');
    st.attrs.mpReach = { afi, safi, nextHops, nlri };
  },
  valueLength(a, ctx) {
    const mp = a.mpReach;
    if (mp === undefined) return -1;
    if (mp.nlri === null) return mp.raw === undefined ? -1 : mp.raw.length;
    return (
      5 + nextHopsLength(mp.nextHops) + encodedLengthNlri(mp.nlri, addPathFor(ctx, mp.nlri.afi))
    );
  },
  writeValue(a, buf, off, ctx) {
    const mp = a.mpReach as MpReach;
    if (mp.nlri === null) {
      (mp.raw as Buffer).copy(buf, off);
      return off + (mp.raw as Buffer).length;
    }
    off = writeMpReachHead(buf, off, mp.afi, mp.safi, mp.nextHops);
    return writeNlri(buf, off, mp.nlri, addPathFor(ctx, mp.nlri.afi));
  },
};

/** Octets of the next hop field for these addresses (4 per IPv4, 16 per IPv6). */
export function nextHopsLength(nextHops: readonly string[]): number {
  let n = 0;
  for (const nh of nextHops) n += nh.includes(':') ? 16 : 4;
  return n;
}

/** Writes AFI, SAFI, next hop length, next hops and the reserved octet; returns the offset. */
export function writeMpReachHead(
  buf: Buffer,
  off: number,
  afi: number,
  safi: number,
  nextHops: readonly string[],
): number {
  off = writeU16(buf, off, afi);
  buf[off++] = safi;
  buf[off++] = nextHopsLength(nextHops);
  for (const nh of nextHops) {
    if (nh.includes(':')) {
      const bytes = parseIpv6(nh);
      if (bytes === null) throw new TypeError(`not an IPv6 address: ${nh}`);
      buf.set(bytes, off);
      off += 16;
    } else {
      off = writeQuad(buf, off, nh);
    }
  }
  buf[off++] = 0; // RFC 4760 §3: reserved, sent as zero.
  return off;
}

export const mpUnreachDescriptor: AttributeDescriptor = {
  code: AttrType.MP_UNREACH_NLRI,
  name: 'MP_UNREACH_NLRI',
  flags: AttrFlag.OPTIONAL,
  decode(buf, start, end, st) {
    // RFC 4760 §4: AFI (2), SAFI (1), withdrawn routes.
    if (end - start < 3) return mpFail(st, 'MP_UNREACH_NLRI is shorter than 3 octets');
    const afi = readU16(buf, start);
    const safi = buf[start + 2];
    if (!isUnicast(afi, safi)) {
      st.attrs.mpUnreach = {
        afi,
        safi,
        withdrawn: null,
        raw: Buffer.from(buf.subarray(start, end)),
      };
      return;
    }
    const withdrawn = decodePrefixes(buf, start + 3, end, afi, st, 'MP_UNREACH_NLRI');
    st.attrs.mpUnreach = { afi, safi, withdrawn };
  },
  valueLength(a, ctx) {
    const mp = a.mpUnreach;
    if (mp === undefined) return -1;
    if (mp.withdrawn === null) return mp.raw === undefined ? -1 : mp.raw.length;
    return 3 + encodedLengthNlri(mp.withdrawn, addPathFor(ctx, mp.withdrawn.afi));
  },
  writeValue(a, buf, off, ctx) {
    const mp = a.mpUnreach as MpUnreach;
    if (mp.withdrawn === null) {
      (mp.raw as Buffer).copy(buf, off);
      return off + (mp.raw as Buffer).length;
    }
    off = writeU16(buf, off, mp.afi);
    buf[off++] = mp.safi;
    return writeNlri(buf, off, mp.withdrawn, addPathFor(ctx, mp.withdrawn.afi));
  },
};
