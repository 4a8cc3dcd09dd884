// IPv4/IPv6 unicast NLRI: the prefix lists of the Withdrawn Routes and NLRI fields and of
// MP_REACH_NLRI / MP_UNREACH_NLRI. No attribute logic and no message framing here.
// RFC 4271 §4.3 (prefix encoding), RFC 4760 §5, RFC 7911 §3 (ADD-PATH), RFC 7606 §5.3.

import { ErrorCode } from './constants.js';
import { BgpError } from './errors.js';
import { formatIpv6, parseIpv6 } from './prefix.js';
import type { PrefixList } from './types.js';

const EMPTY_V4 = new Float64Array(0);
const EMPTY_V6: readonly string[] = Object.freeze([]);

/** A shared, frozen empty list per family (decoders return it for empty fields). */
export const EMPTY_V4_LIST: PrefixList = Object.freeze({
  afi: 1,
  length: 0,
  v4: EMPTY_V4,
  v6: EMPTY_V6,
  pathIds: null,
});
export const EMPTY_V6_LIST: PrefixList = Object.freeze({
  afi: 2,
  length: 0,
  v4: EMPTY_V4,
  v6: EMPTY_V6,
  pathIds: null,
});

// Keys of decoded IPv4 lists are carved out of shared slabs, like Node's Buffer pool: one
// ArrayBuffer serves many messages, so a kept list costs a view, not a view plus a buffer.
// A slab is only ever handed out in fresh, disjoint regions, so sharing it is safe.
const SLAB_ENTRIES = 8192;
let slab = new Float64Array(SLAB_ENTRIES);
let slabUsed = 0;

function allocKeys(count: number): Float64Array {
  if (count > SLAB_ENTRIES / 4) return new Float64Array(count);
  if (slabUsed + count > SLAB_ENTRIES) {
    slab = new Float64Array(SLAB_ENTRIES);
    slabUsed = 0;
  }
  const view = slab.subarray(slabUsed, slabUsed + count);
  slabUsed += count;
  return view;
}

/** How the caller wants a malformed prefix field reported (the subcode differs by field). */
export interface NlriErrorKind {
  /** RFC 4271 §6.3 subcode: Invalid Network Field for the NLRI fields, Optional Attribute Error in MP attributes. */
  subcode: number;
  /** The field name for the error message. */
  field: string;
  /** NOTIFICATION data (e.g. the MP attribute); empty for the NLRI fields. */
  data?: Buffer;
}

function malformed(kind: NlriErrorKind, why: string): BgpError {
  // RFC 7606 §5.3: a prefix field that cannot be parsed leaves no way to withdraw its routes,
  // so the session is reset (we do not implement AFI/SAFI disable).
  return new BgpError(
    'ERR_BGP_UPDATE',
    `${kind.field}: ${why}`,
    { code: ErrorCode.UPDATE_MESSAGE, subcode: kind.subcode, data: kind.data },
    'session-reset',
  );
}

/**
 * Counts and checks the prefixes in buf[start, end): every length within the family maximum and
 * every prefix (and path id) inside the field. Throws BgpError (session reset) otherwise.
 */
export function countPrefixes(
  buf: Uint8Array,
  start: number,
  end: number,
  afi: 1 | 2,
  addPath: boolean,
  kind: NlriErrorKind,
): number {
  const maxLen = afi === 1 ? 32 : 128;
  let pos = start;
  let count = 0;
  while (pos < end) {
    if (addPath) {
      // RFC 7911 §3: a 4-octet Path Identifier precedes each prefix.
      if (pos + 5 > end)
        throw malformed(kind, 'path identifier or prefix length overruns the field');
      pos += 4;
    }
    const len = buf[pos];
    // RFC 7606 §5.3: a length larger than the address is malformed.
    if (len > maxLen) throw malformed(kind, `prefix length ${len} exceeds ${maxLen}`);
    pos += 1 + ((len + 7) >> 3);
    // RFC 7606 §5.3: a prefix that runs past the end of its field is malformed.
    if (pos > end) throw malformed(kind, 'prefix overruns the field');
    count++;
  }
  return count;
}

/**
 * Decodes a prefix field into a PrefixList. IPv4 keys (address * 64 + length, host bits cleared
 * as RFC 4271 §4.3 makes trailing bits irrelevant) go straight into a Float64Array view without
 * copying the input or creating an object per prefix.
 */
export function decodeNlri(
  buf: Uint8Array,
  start: number,
  end: number,
  afi: 1 | 2,
  addPath: boolean,
  kind: NlriErrorKind,
): PrefixList {
  const count = countPrefixes(buf, start, end, afi, addPath, kind);
  if (count === 0) return afi === 1 ? EMPTY_V4_LIST : EMPTY_V6_LIST;
  const pathIds = addPath ? new Uint32Array(count) : null;
  let pos = start;
  if (afi === 1) {
    const keys = allocKeys(count);
    for (let i = 0; i < count; i++) {
      if (pathIds !== null) {
        pathIds[i] =
          ((buf[pos] << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]) >>> 0;
        pos += 4;
      }
      const len = buf[pos++];
      let addr = 0;
      if (len > 24) {
        addr = (buf[pos] << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3];
        pos += 4;
      } else if (len > 16) {
        addr = (buf[pos] << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8);
        pos += 3;
      } else if (len > 8) {
        addr = (buf[pos] << 24) | (buf[pos + 1] << 16);
        pos += 2;
      } else if (len > 0) {
        addr = buf[pos] << 24;
        pos += 1;
      }
      if (len < 32) addr &= len === 0 ? 0 : ~(0xffffffff >>> len);
      keys[i] = (addr >>> 0) * 64 + len;
    }
    return { afi: 1, length: count, v4: keys, v6: EMPTY_V6, pathIds };
  }
  const v6: string[] = new Array<string>(count);
  const scratch = new Uint8Array(16);
  for (let i = 0; i < count; i++) {
    if (pathIds !== null) {
      pathIds[i] =
        ((buf[pos] << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]) >>> 0;
      pos += 4;
    }
    const len = buf[pos++];
    const bytes = (len + 7) >> 3;
    scratch.fill(0);
    for (let j = 0; j < bytes; j++) scratch[j] = buf[pos + j];
    // Clear the bits past the prefix length in its last octet.
    if (len & 7) scratch[bytes - 1] &= 0xff << (8 - (len & 7));
    pos += bytes;
    v6[i] = `${formatIpv6(scratch)}/${len}`;
  }
  return { afi: 2, length: count, v4: EMPTY_V4, v6, pathIds };
}

/** Octets one IPv4 prefix of this length takes on the wire (without a path id). */
export function v4PrefixSize(key: number): number {
  return 1 + (((key % 64) + 7) >> 3);
}

/** Encoded size of a whole list; `addPath` adds 4 octets per prefix (RFC 7911 §3). */
export function encodedLengthNlri(list: PrefixList, addPath: boolean): number {
  let total = addPath ? 4 * list.length : 0;
  if (list.afi === 1) {
    const v4 = list.v4;
    for (let i = 0; i < list.length; i++) total += 1 + (((v4[i] % 64) + 7) >> 3);
  } else {
    for (let i = 0; i < list.length; i++) total += 1 + ((v6Length(list.v6[i]) + 7) >> 3);
  }
  return total;
}

function v6Length(prefix: string): number {
  return Number(prefix.slice(prefix.lastIndexOf('/') + 1));
}

/** Writes one IPv4 prefix at `off`; returns the offset after it. */
export function writeV4Prefix(buf: Uint8Array, off: number, key: number): number {
  const len = key % 64;
  const addr = (key - len) / 64;
  buf[off++] = len;
  if (len > 0) buf[off++] = addr >>> 24;
  if (len > 8) buf[off++] = (addr >>> 16) & 255;
  if (len > 16) buf[off++] = (addr >>> 8) & 255;
  if (len > 24) buf[off++] = addr & 255;
  return off;
}

/** Writes one IPv6 prefix ("addr/len", canonical or not) at `off`; returns the next offset. */
export function writeV6Prefix(buf: Uint8Array, off: number, prefix: string): number {
  const slash = prefix.lastIndexOf('/');
  const len = Number(prefix.slice(slash + 1));
  const bytes = parseIpv6(prefix.slice(0, slash));
  if (bytes === null || !(len >= 0 && len <= 128)) {
    throw new TypeError(`not an IPv6 prefix: ${prefix}`);
  }
  buf[off++] = len;
  const n = (len + 7) >> 3;
  for (let j = 0; j < n; j++) buf[off++] = bytes[j];
  return off;
}

function writePathId(buf: Uint8Array, off: number, id: number): number {
  buf[off] = id >>> 24;
  buf[off + 1] = (id >>> 16) & 255;
  buf[off + 2] = (id >>> 8) & 255;
  buf[off + 3] = id & 255;
  return off + 4;
}

/**
 * Writes prefixes [from, to) of a list at `off`; with `addPath` each is preceded by its path
 * id (0 when the list has none). Returns the offset after the last prefix.
 */
export function writeNlri(
  buf: Uint8Array,
  off: number,
  list: PrefixList,
  addPath: boolean,
  from = 0,
  to = list.length,
): number {
  const ids = list.pathIds;
  if (list.afi === 1) {
    const v4 = list.v4;
    for (let i = from; i < to; i++) {
      if (addPath) off = writePathId(buf, off, ids === null ? 0 : ids[i]);
      off = writeV4Prefix(buf, off, v4[i]);
    }
  } else {
    for (let i = from; i < to; i++) {
      if (addPath) off = writePathId(buf, off, ids === null ? 0 : ids[i]);
      off = writeV6Prefix(buf, off, list.v6[i]);
    }
  }
  return off;
}

/** The prefix length of an IPv6 list entry (used by the packer to size prefixes). */
export function v6PrefixSize(prefix: string): number {
  return 1 + ((v6Length(prefix) + 7) >> 3);
}
