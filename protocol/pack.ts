// Update packing: whole UPDATE messages (header included) announcing or withdrawing many
// prefixes that share one attribute set, in as few messages as the negotiated size allows.
// RFC 4271 §4.1, §4.3, §9.2; RFC 4724 §2 (End-of-RIB); RFC 4760 §3, §4; RFC 8654; RFC 8950.

import {
  AttrFlag,
  AttrType,
  HEADER_LENGTH,
  MARKER_LENGTH,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
} from './constants.js';
import {
  encodeAttributes,
  OMIT_MP_REACH,
  OMIT_MP_UNREACH,
  OMIT_NEXT_HOP,
} from './attributes/index.js';
import { nextHopsLength, writeMpReachHead } from './attributes/mp-nlri.js';
import { encodedLengthNlri, v6PrefixSize, writeV4Prefix, writeV6Prefix } from './nlri.js';
import { encodedLengthUpdate, writeUpdateBody } from './update.js';
import type {
  CodecContext,
  FamilyName,
  PathAttributes,
  PrefixList,
  UpdateMessage,
} from './types.js';

/** RFC 4271 §4.1 / RFC 8654 §4: the largest message the session allows. */
export function maxMessageLength(ctx: CodecContext): number {
  return ctx.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}

/** Writes the 19-octet header (marker of ones, length, type) at `off`. */
export function writeMessageHeader(buf: Buffer, off: number, length: number, type: number): number {
  buf.fill(0xff, off, off + MARKER_LENGTH);
  buf[off + 16] = length >>> 8;
  buf[off + 17] = length & 255;
  buf[off + 18] = type;
  return off + HEADER_LENGTH;
}

/** A whole UPDATE message (header included). Throws RangeError when it exceeds the maximum. */
export function encodeUpdateMessage(msg: UpdateMessage, ctx: CodecContext): Buffer {
  const length = HEADER_LENGTH + encodedLengthUpdate(msg, ctx);
  if (length > maxMessageLength(ctx)) {
    throw new RangeError(
      `UPDATE of ${length} octets exceeds the ${maxMessageLength(ctx)}-octet maximum`,
    );
  }
  const buf = Buffer.allocUnsafe(length);
  writeMessageHeader(buf, 0, length, MessageType.UPDATE);
  const end = writeUpdateBody(msg, buf, HEADER_LENGTH, ctx);
  if (end !== length) throw new Error(`UPDATE encoder wrote ${end} octets, expected ${length}`);
  return buf;
}

/** RFC 4724 §2: the End-of-RIB marker of a family, as a whole message. */
export function endOfRib(family: FamilyName, _ctx: CodecContext): Buffer {
  if (family === 'ipv4-unicast') {
    const buf = Buffer.alloc(HEADER_LENGTH + 4);
    writeMessageHeader(buf, 0, buf.length, MessageType.UPDATE);
    return buf;
  }
  // An UPDATE holding only an MP_UNREACH_NLRI for IPv6 unicast with no withdrawn routes.
  const buf = Buffer.alloc(HEADER_LENGTH + 4 + 6);
  writeMessageHeader(buf, 0, buf.length, MessageType.UPDATE);
  buf.set([0, 0, 0, 6, AttrFlag.OPTIONAL, AttrType.MP_UNREACH_NLRI, 3, 0, 2, 1], HEADER_LENGTH);
  return buf;
}

/** One message's share of the prefixes: runs of `count` indices starting at `from` in `order`. */
interface Plan {
  /** Octets of prefixes in this message. */
  bytes: number;
  /** [from, count] pairs into the size-sorted index order. */
  runs: number[];
}

/**
 * Splits the prefixes into messages of at most `capacity` prefix octets, fewest messages first:
 * prefixes are grouped by encoded size and each message is filled largest-first, then topped
 * up with smaller ones, so a message ends only when no remaining prefix fits. Returns the plans
 * and the index order they refer to.
 */
function plan(
  list: PrefixList,
  addPath: boolean,
  capacity: number,
): { plans: Plan[]; order: Int32Array | null } {
  const n = list.length;
  const extra = addPath ? 4 : 0;
  // Common case first: everything fits in one message, in the order given.
  const total = encodedLengthNlri(list, addPath);
  if (total <= capacity) return { plans: [{ bytes: total, runs: [0, n] }], order: null };
  const maxSize = (list.afi === 1 ? 5 : 17) + extra;
  const sizes = new Uint8Array(n);
  const counts = new Int32Array(maxSize + 1);
  if (list.afi === 1) {
    const v4 = list.v4;
    for (let i = 0; i < n; i++) {
      const s = 1 + (((v4[i] % 64) + 7) >> 3) + extra;
      sizes[i] = s;
      counts[s]++;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const s = v6PrefixSize(list.v6[i]) + extra;
      sizes[i] = s;
      counts[s]++;
    }
  }
  // Counting sort of indices by size; starts[s] is where size s begins in `order`.
  const starts = new Int32Array(maxSize + 2);
  for (let s = 1; s <= maxSize; s++) starts[s + 1] = starts[s] + counts[s];
  const fill = starts.slice();
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[fill[sizes[i]]++] = i;
  const next = starts.slice(); // next unused position per size
  let left = n;
  const plans: Plan[] = [];
  while (left > 0) {
    let room = capacity;
    const runs: number[] = [];
    for (let s = maxSize; s >= 1 && room > 0; s--) {
      const available = starts[s + 1] - next[s];
      if (available === 0 || s > room) continue;
      const take = Math.min(available, Math.floor(room / s));
      runs.push(next[s], take);
      next[s] += take;
      room -= take * s;
      left -= take;
    }
    if (runs.length === 0) throw new RangeError('a prefix does not fit in an empty UPDATE');
    plans.push({ bytes: capacity - room, runs });
  }
  return { plans, order };
}

function writePrefixes(
  buf: Buffer,
  off: number,
  list: PrefixList,
  addPath: boolean,
  order: Int32Array | null,
  runs: number[],
): number {
  const ids = list.pathIds;
  for (let r = 0; r < runs.length; r += 2) {
    const end = runs[r] + runs[r + 1];
    for (let k = runs[r]; k < end; k++) {
      const i = order === null ? k : order[k];
      if (addPath) {
        const id = ids === null ? 0 : ids[i];
        buf[off] = id >>> 24;
        buf[off + 1] = (id >>> 16) & 255;
        buf[off + 2] = (id >>> 8) & 255;
        buf[off + 3] = id & 255;
        off += 4;
      }
      off =
        list.afi === 1 ? writeV4Prefix(buf, off, list.v4[i]) : writeV6Prefix(buf, off, list.v6[i]);
    }
  }
  return off;
}

function addPathOf(ctx: CodecContext, afi: 1 | 2): boolean {
  return afi === 1 ? ctx.addPath.ipv4 : ctx.addPath.ipv6;
}

/** Writes an MP attribute header with a 1- or 2-octet length as the length requires. */
function writeMpHeader(buf: Buffer, off: number, code: number, len: number): number {
  if (len > 255) {
    buf[off] = AttrFlag.OPTIONAL | AttrFlag.EXTENDED_LENGTH;
    buf[off + 1] = code;
    buf[off + 2] = len >>> 8;
    buf[off + 3] = len & 255;
    return off + 4;
  }
  buf[off] = AttrFlag.OPTIONAL;
  buf[off + 1] = code;
  buf[off + 2] = len;
  return off + 3;
}

/**
 * The fewest whole UPDATE messages announcing `prefixes` with `attrs`. IPv4 prefixes go in the
 * NLRI field with a NEXT_HOP attribute; IPv6 prefixes (and IPv4 prefixes with an IPv6 next hop,
 * RFC 8950) go in an MP_REACH_NLRI placed first (RFC 7606 §5.1), without NEXT_HOP (RFC 4760
 * §3). The next hop comes from `nextHops` when given, else from attrs.nextHop (IPv4) or
 * attrs.mpReach.nextHops. attrs.mpReach / attrs.mpUnreach themselves are never copied in.
 */
export function packUpdates(
  attrs: PathAttributes,
  prefixes: PrefixList,
  ctx: CodecContext,
  nextHops?: readonly string[],
): Buffer[] {
  if (prefixes.length === 0) return [];
  const afi = prefixes.afi;
  const addPath = addPathOf(ctx, afi);
  const hops =
    nextHops ??
    (afi === 1 && attrs.nextHop !== undefined ? [attrs.nextHop] : attrs.mpReach?.nextHops);
  if (hops === undefined || hops.length === 0)
    throw new TypeError('packUpdates: no next hop for these prefixes');
  const max = maxMessageLength(ctx);
  const classic = afi === 1 && hops.length === 1 && !hops[0].includes(':');
  const out: Buffer[] = [];

  if (classic) {
    const own = attrs.nextHop === hops[0] ? attrs : { ...attrs, nextHop: hops[0] };
    const block = encodeAttributes(own, ctx, OMIT_MP_REACH | OMIT_MP_UNREACH);
    const fixed = HEADER_LENGTH + 4 + block.length;
    const { plans, order } = plan(prefixes, addPath, max - fixed);
    for (const p of plans) {
      const length = fixed + p.bytes;
      const buf = Buffer.allocUnsafe(length);
      writeMessageHeader(buf, 0, length, MessageType.UPDATE);
      buf[19] = 0;
      buf[20] = 0;
      buf[21] = block.length >>> 8;
      buf[22] = block.length & 255;
      block.copy(buf, 23);
      writePrefixes(buf, fixed, prefixes, addPath, order, p.runs);
      out.push(buf);
    }
    return out;
  }

  const block = encodeAttributes(attrs, ctx, OMIT_MP_REACH | OMIT_MP_UNREACH | OMIT_NEXT_HOP);
  const mpHead = 5 + nextHopsLength(hops);
  // Room is reserved for a 2-octet MP attribute length; short messages use one octet.
  const fixed = HEADER_LENGTH + 4 + 4 + mpHead + block.length;
  const { plans, order } = plan(prefixes, addPath, max - fixed);
  for (const p of plans) {
    const mpLen = mpHead + p.bytes;
    const attrLen = (mpLen > 255 ? 4 : 3) + mpLen + block.length;
    const length = HEADER_LENGTH + 4 + attrLen;
    const buf = Buffer.allocUnsafe(length);
    writeMessageHeader(buf, 0, length, MessageType.UPDATE);
    buf[19] = 0;
    buf[20] = 0;
    buf[21] = attrLen >>> 8;
    buf[22] = attrLen & 255;
    let off = writeMpHeader(buf, 23, AttrType.MP_REACH_NLRI, mpLen);
    off = writeMpReachHead(buf, off, afi, 1, hops);
    off = writePrefixes(buf, off, prefixes, addPath, order, p.runs);
    block.copy(buf, off);
    out.push(buf);
  }
  return out;
}

/**
 * The fewest whole UPDATE messages withdrawing `prefixes`: IPv4 in the Withdrawn Routes field,
 * IPv6 in an MP_UNREACH_NLRI (RFC 4760 §4).
 */
export function packWithdrawals(prefixes: PrefixList, ctx: CodecContext): Buffer[] {
  if (prefixes.length === 0) return [];
  const afi = prefixes.afi;
  const addPath = addPathOf(ctx, afi);
  const max = maxMessageLength(ctx);
  const out: Buffer[] = [];
  if (afi === 1) {
    const fixed = HEADER_LENGTH + 4;
    const { plans, order } = plan(prefixes, addPath, max - fixed);
    for (const p of plans) {
      const length = fixed + p.bytes;
      const buf = Buffer.allocUnsafe(length);
      writeMessageHeader(buf, 0, length, MessageType.UPDATE);
      buf[19] = p.bytes >>> 8;
      buf[20] = p.bytes & 255;
      const off = writePrefixes(buf, 21, prefixes, addPath, order, p.runs);
      buf[off] = 0;
      buf[off + 1] = 0;
      out.push(buf);
    }
    return out;
  }
  const fixed = HEADER_LENGTH + 4 + 4 + 3;
  const { plans, order } = plan(prefixes, addPath, max - fixed);
  for (const p of plans) {
    const mpLen = 3 + p.bytes;
    const attrLen = (mpLen > 255 ? 4 : 3) + mpLen;
    const length = HEADER_LENGTH + 4 + attrLen;
    const buf = Buffer.allocUnsafe(length);
    writeMessageHeader(buf, 0, length, MessageType.UPDATE);
    buf[19] = 0;
    buf[20] = 0;
    buf[21] = attrLen >>> 8;
    buf[22] = attrLen & 255;
    let off = writeMpHeader(buf, 23, AttrType.MP_UNREACH_NLRI, mpLen);
    buf[off++] = 0;
    buf[off++] = afi;
    buf[off++] = 1;
    writePrefixes(buf, off, prefixes, addPath, order, p.runs);
    out.push(buf);
  }
  return out;
}
