// The UPDATE message body (without the 19-octet header): decode with the RFC 7606 verdicts,
// encode, and its encoded length. Attribute rules live in attributes/, prefixes in nlri.ts.
// RFC 4271 §4.3, §6.3; RFC 4724 §2 (End-of-RIB); RFC 6793 §4.2.3; RFC 7606 §3, §5.

import {
  AS_TRANS,
  AttrType,
  ErrorCode,
  HeaderSubcode,
  HEADER_LENGTH,
  UpdateSubcode,
} from './constants.js';
import { BgpError, strongerHandling } from './errors.js';
import {
  decodeAttributeList,
  encodedLengthAttributes,
  writeAttributes,
} from './attributes/index.js';
import type { AttrDecodeState } from './attributes/index.js';
import { mergeAs4Path } from './attributes/as-path.js';
import { fail, writeU16 } from './attributes/common.js';
import { decodeNlri, EMPTY_V4_LIST, encodedLengthNlri, writeNlri } from './nlri.js';
import type {
  CodecContext,
  FamilyName,
  PathAttributes,
  PrefixList,
  UpdateMessage,
} from './types.js';

function sessionReset(
  subcode: number,
  reason: string,
  code: number = ErrorCode.UPDATE_MESSAGE,
  data?: Buffer,
): BgpError {
  return new BgpError('ERR_BGP_UPDATE', reason, { code, subcode, data }, 'session-reset');
}

const WITHDRAWN_FIELD = { subcode: UpdateSubcode.INVALID_NETWORK_FIELD, field: 'Withdrawn Routes' };
const NLRI_FIELD = { subcode: UpdateSubcode.INVALID_NETWORK_FIELD, field: 'NLRI' };

/**
 * Decodes an UPDATE body. Throws BgpError when the session must be reset; for the RFC 7606
 * treat-as-withdraw and attribute-discard cases returns the message with `errors` and
 * `treatAsWithdraw` set, still carrying every prefix found so the RIB can withdraw them.
 */
export function decodeUpdate(body: Buffer, ctx: CodecContext): UpdateMessage {
  return decodeUpdateAt(body, 0, body.length, ctx);
}

/**
 * decodeUpdate() of the body at buf[start, end), read in place: the receive path decodes each
 * UPDATE where it lies in the socket's chunk, without a view object per message.
 */
export function decodeUpdateAt(
  buf: Buffer,
  start: number,
  end: number,
  ctx: CodecContext,
): UpdateMessage {
  const len = end - start;
  // RFC 4271 §6.1: an UPDATE is at least 23 octets (header included).
  if (len < 4) {
    const data = Buffer.alloc(2);
    data.writeUInt16BE(len + HEADER_LENGTH);
    throw sessionReset(
      HeaderSubcode.BAD_MESSAGE_LENGTH,
      `UPDATE of ${len + HEADER_LENGTH} octets is too short`,
      ErrorCode.MESSAGE_HEADER,
      data,
    );
  }
  const wLen = (buf[start] << 8) | buf[start + 1];
  // RFC 4271 §6.3: Withdrawn Routes Length + Total Attribute Length + 23 beyond the message.
  if (4 + wLen > len)
    throw sessionReset(
      UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
      'Withdrawn Routes Length overruns the message',
    );
  // Offsets into buf from here on.
  const aStart = start + 4 + wLen;
  const aLen = (buf[aStart - 2] << 8) | buf[aStart - 1];
  const aEnd = aStart + aLen;
  if (aEnd > end)
    throw sessionReset(
      UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
      'Total Path Attribute Length overruns the message',
    );

  // RFC 4724 §2: the empty UPDATE is the IPv4 unicast End-of-RIB marker.
  if (len === 4) {
    return {
      type: 'update',
      withdrawn: EMPTY_V4_LIST,
      attributes: {},
      nlri: EMPTY_V4_LIST,
      endOfRib: 'ipv4-unicast',
    };
  }

  // RFC 7606 §3 (h), §5.3: Withdrawn Routes and NLRI are checked alike; malformed resets.
  const addPath = ctx.addPath.ipv4;
  const withdrawn = decodeNlri(buf, start + 2, start + 2 + wLen, 1, addPath, WITHDRAWN_FIELD);
  const nlri = decodeNlri(buf, aEnd, end, 1, addPath, NLRI_FIELD);

  const attrs: PathAttributes = {};
  const st: AttrDecodeState = {
    ctx,
    attrs,
    errors: null,
    buf,
    attrStart: 0,
    attrEnd: 0,
    flags: 0,
    ipv4Nlri: nlri.length > 0,
  };
  const seen = aLen === 0 ? 0 : decodeAttributeList(buf, aStart, aEnd, st);

  if (!ctx.as4 && (attrs.as4Path !== undefined || attrs.as4Aggregator !== undefined))
    mergeAs4(attrs);

  // RFC 4271 §6.3 with RFC 7606 §3 (d): a missing well-known mandatory attribute is checked
  // only when there are routes to announce; NEXT_HOP only for the IPv4 NLRI field (RFC 4760 §3).
  const mp = attrs.mpReach;
  const announces =
    nlri.length > 0 || (mp !== undefined && (mp.nlri === null || mp.nlri.length > 0));
  if (announces) {
    st.attrStart = st.attrEnd = 0;
    if ((seen & (1 << AttrType.ORIGIN)) === 0) missing(st, AttrType.ORIGIN, 'ORIGIN');
    if ((seen & (1 << AttrType.AS_PATH)) === 0) missing(st, AttrType.AS_PATH, 'AS_PATH');
    if (nlri.length > 0 && (seen & (1 << AttrType.NEXT_HOP)) === 0)
      missing(st, AttrType.NEXT_HOP, 'NEXT_HOP');
  }

  const msg: UpdateMessage = { type: 'update', withdrawn, attributes: attrs, nlri };
  if (st.errors !== null) {
    msg.errors = st.errors;
    msg.treatAsWithdraw = st.errors.some((e) => e.handling === 'treat-as-withdraw');
  } else if (
    withdrawn.length === 0 &&
    nlri.length === 0 &&
    seen === 1 << AttrType.MP_UNREACH_NLRI
  ) {
    const eor = mpEndOfRib(attrs);
    if (eor !== null) msg.endOfRib = eor;
  }
  return msg;
}

function missing(st: AttrDecodeState, code: number, name: string): void {
  // RFC 4271 §6.3: the Data field holds the type code of the missing attribute.
  fail(
    st,
    'treat-as-withdraw',
    UpdateSubcode.MISSING_WELL_KNOWN_ATTRIBUTE,
    `missing well-known attribute ${name}`,
    Buffer.from([code]),
  );
}

/** RFC 4724 §2: an UPDATE with only an empty MP_UNREACH_NLRI is that family's End-of-RIB. */
function mpEndOfRib(attrs: PathAttributes): FamilyName | null {
  const mu = attrs.mpUnreach;
  if (mu === undefined || mu.withdrawn === null || mu.withdrawn.length !== 0) return null;
  if (Object.keys(attrs).length !== 1 || mu.safi !== 1) return null;
  return mu.afi === 1 ? 'ipv4-unicast' : mu.afi === 2 ? 'ipv6-unicast' : null;
}

/** RFC 6793 §4.2.3: on a 2-octet session, rebuild the 4-octet path and aggregator. */
function mergeAs4(attrs: PathAttributes): void {
  const agg = attrs.aggregator;
  // An AGGREGATOR that is not AS_TRANS means a 2-octet speaker aggregated after the AS4_*
  // attributes were made: both AS4_AGGREGATOR and AS4_PATH are then ignored.
  if (agg !== undefined && agg.asn !== AS_TRANS) return;
  if (agg !== undefined && attrs.as4Aggregator !== undefined)
    attrs.aggregator = attrs.as4Aggregator;
  if (attrs.asPath !== undefined && attrs.as4Path !== undefined)
    attrs.asPath = mergeAs4Path(attrs.asPath, attrs.as4Path);
}

function v4Only(list: PrefixList, field: string): PrefixList {
  if (list.afi !== 1) throw new TypeError(`the ${field} field carries IPv4 prefixes only`);
  return list;
}

/** Length of the UPDATE body encodeUpdate() produces. */
export function encodedLengthUpdate(msg: UpdateMessage, ctx: CodecContext): number {
  const addPath = ctx.addPath.ipv4;
  return (
    4 +
    encodedLengthNlri(v4Only(msg.withdrawn, 'Withdrawn Routes'), addPath) +
    encodedLengthAttributes(msg.attributes, ctx) +
    encodedLengthNlri(v4Only(msg.nlri, 'NLRI'), addPath)
  );
}

/** Encodes an UPDATE body (no header): the other way round from decodeUpdate(). */
export function encodeUpdate(msg: UpdateMessage, ctx: CodecContext): Buffer {
  const buf = Buffer.allocUnsafe(encodedLengthUpdate(msg, ctx));
  const end = writeUpdateBody(msg, buf, 0, ctx);
  if (end !== buf.length)
    throw new Error(`UPDATE encoder wrote ${end} octets, expected ${buf.length}`);
  return buf;
}

/** Writes the UPDATE body at `off`; returns the offset after it. */
export function writeUpdateBody(
  msg: UpdateMessage,
  buf: Buffer,
  off: number,
  ctx: CodecContext,
): number {
  const addPath = ctx.addPath.ipv4;
  const wStart = off + 2;
  let p = writeNlri(buf, wStart, msg.withdrawn, addPath);
  writeU16(buf, off, p - wStart);
  const aStart = p + 2;
  p = writeAttributes(msg.attributes, buf, aStart, ctx);
  writeU16(buf, aStart - 2, p - aStart);
  return writeNlri(buf, p, msg.nlri, addPath);
}

/** The strongest RFC 7606 error of a decoded UPDATE (first among equals), or null. */
export function strongestError(msg: UpdateMessage): BgpError | null {
  let best: BgpError | null = null;
  for (const e of msg.errors ?? []) {
    if (
      best === null ||
      (strongerHandling(best.handling, e.handling) === e.handling && best.handling !== e.handling)
    )
      best = e;
  }
  return best;
}
