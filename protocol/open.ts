// The OPEN message body: fixed fields, optional parameters (classic and RFC 9072 extended
// length), and the checks RFC 4271 §6.2 puts on a received OPEN. The peer-AS match, the hold
// time negotiation and collision handling belong to session/, not here.
// RFC 4271 §4.2 and §6.2, RFC 5492 §4, RFC 9072 §2, RFC 7607 §2, RFC 6286 §2.1, RFC 8654 §4.

import { decodeCapabilities, encodedLengthCapability, writeCapability } from './capabilities.js';
import {
  BGP_VERSION,
  ErrorCode,
  HEADER_LENGTH,
  HeaderSubcode,
  MAX_MESSAGE_LENGTH,
  OptParamType,
  OpenSubcode,
} from './constants.js';
import { BgpError } from './errors.js';
import { formatIpv4, parseIpv4 } from './prefix.js';
import type { Capability, CodecContext, OpenMessage } from './types.js';

/** Version (1), My AS (2), Hold Time (2), BGP Identifier (4), Opt Parm Len (1). */
const FIXED_LENGTH = 10;

function openError(subcode: number, reason: string, data?: Buffer): BgpError {
  return new BgpError('ERR_BGP_OPEN', reason, { code: ErrorCode.OPEN_MESSAGE, subcode, data });
}

/** RFC 4271 §6.2: a recognized optional parameter that is malformed -> subcode 0. */
function malformedParams(reason: string): BgpError {
  return openError(OpenSubcode.UNSPECIFIC, reason);
}

interface RawParam {
  type: number;
  value: Buffer;
}

/**
 * RFC 4271 §4.2 and RFC 9072 §2: splits the Optional Parameters into (type, value) pairs.
 * The extended form is recognised by a non-zero Non-Ext OP Len followed by a Non-Ext OP Type
 * of 255 (RFC 9072 §2: the receiver then ignores the Non-Ext OP Len value).
 */
function splitParams(body: Buffer): { params: RawParam[]; extended: boolean } {
  const optLen = body[9];
  const params: RawParam[] = [];
  if (optLen === 0) {
    if (body.length !== FIXED_LENGTH) {
      throw malformedParams(`${body.length - FIXED_LENGTH} octets follow an empty parameter list`);
    }
    return { params, extended: false };
  }
  const extended =
    body.length > FIXED_LENGTH && body[FIXED_LENGTH] === OptParamType.EXTENDED_LENGTH;
  let pos: number;
  let lengthSize: 1 | 2;
  if (extended) {
    if (body.length < FIXED_LENGTH + 3) {
      throw malformedParams('extended optional parameters length truncated');
    }
    const extLen = body.readUInt16BE(FIXED_LENGTH + 1);
    pos = FIXED_LENGTH + 3;
    if (pos + extLen !== body.length) {
      throw malformedParams(
        `extended optional parameters length ${extLen} but ${body.length - pos} octets follow`,
      );
    }
    lengthSize = 2;
  } else {
    pos = FIXED_LENGTH;
    if (pos + optLen !== body.length) {
      throw malformedParams(
        `optional parameters length ${optLen} but ${body.length - pos} octets follow`,
      );
    }
    lengthSize = 1;
  }
  while (pos < body.length) {
    if (body.length - pos < 1 + lengthSize) {
      throw malformedParams(`optional parameter header truncated at octet ${pos}`);
    }
    const type = body[pos];
    const len = lengthSize === 2 ? body.readUInt16BE(pos + 1) : body[pos + 1];
    const start = pos + 1 + lengthSize;
    if (start + len > body.length) {
      throw malformedParams(`optional parameter ${type} length ${len} overruns the message`);
    }
    params.push({ type, value: body.subarray(start, start + len) });
    pos = start + len;
  }
  return { params, extended };
}

/**
 * Structural decode of an OPEN body (no header): fixed fields and optional parameters. Throws
 * only for what cannot be parsed; `checkOpen` applies the value checks. Most callers want
 * `decodeOpen`, which does both in the RFC 4271 §6.2 order.
 */
export function parseOpen(body: Buffer): OpenMessage {
  if (body.length < FIXED_LENGTH) {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(Math.min(0xffff, HEADER_LENGTH + body.length));
    throw new BgpError('ERR_BGP_FRAMING', `OPEN body of ${body.length} octets is too short`, {
      code: ErrorCode.MESSAGE_HEADER,
      subcode: HeaderSubcode.BAD_MESSAGE_LENGTH,
      data: length,
    });
  }
  const { params, extended } = splitParams(body);
  const capabilities: Capability[] = [];
  const groups: number[] = [];
  for (const param of params) {
    if (param.type !== OptParamType.CAPABILITIES) {
      // RFC 4271 §6.2: an unrecognized optional parameter -> Unsupported Optional Parameter.
      throw openError(
        OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER,
        `unsupported optional parameter type ${param.type}`,
      );
    }
    const caps = decodeCapabilities(param.value);
    groups.push(caps.length);
    for (const c of caps) capabilities.push(c);
  }
  const msg: OpenMessage = {
    type: 'open',
    version: body[0],
    myAs: body.readUInt16BE(1),
    holdTime: body.readUInt16BE(3),
    routerId: formatIpv4(body.readUInt32BE(5)),
    capabilities,
  };
  if (!isDefaultGrouping(groups, capabilities.length)) msg.capabilityParams = groups;
  if (extended) msg.extendedOptParams = true;
  return msg;
}

function isDefaultGrouping(groups: readonly number[], count: number): boolean {
  return count === 0 ? groups.length === 0 : groups.length === 1 && groups[0] === count;
}

/** RFC 4271 §6.2 version check; the data is the highest version we support (4). */
function checkVersion(version: number): void {
  if (version !== BGP_VERSION) {
    const data = Buffer.alloc(2);
    data.writeUInt16BE(BGP_VERSION);
    throw openError(
      OpenSubcode.UNSUPPORTED_VERSION_NUMBER,
      `unsupported BGP version ${version}`,
      data,
    );
  }
}

/** The value checks of RFC 4271 §6.2 that do not depend on configuration. */
export function checkOpen(msg: OpenMessage): void {
  checkVersion(msg.version);
  // RFC 7607 §2: AS 0 in My Autonomous System -> Bad Peer AS.
  if (msg.myAs === 0) throw openError(OpenSubcode.BAD_PEER_AS, 'My Autonomous System is 0');
  for (const c of msg.capabilities) {
    // RFC 7607 §2: the same for AS 0 in the 4-octet AS capability.
    if (c.name === 'four-octet-as' && c.asn === 0) {
      throw openError(OpenSubcode.BAD_PEER_AS, '4-octet AS capability carries AS 0');
    }
  }
  // RFC 4271 §4.2 and §6.2: Hold Time MUST be 0 or at least 3 seconds.
  if (msg.holdTime === 1 || msg.holdTime === 2) {
    throw openError(OpenSubcode.UNACCEPTABLE_HOLD_TIME, `hold time ${msg.holdTime} is 1 or 2`);
  }
  // RFC 4271 §6.2 (relaxed by RFC 6286 §2.1 to "non-zero"): an identifier of 0, a multicast
  // address or the limited broadcast address is not a valid unicast identifier.
  const id = parseIpv4(msg.routerId) ?? 0;
  if (id === 0 || id >>> 28 === 0xe || id === 0xffffffff) {
    throw openError(
      OpenSubcode.BAD_BGP_IDENTIFIER,
      `BGP identifier ${msg.routerId} is not unicast`,
    );
  }
}

/** Decodes and checks an OPEN body (the message without its 19-octet header). */
export function decodeOpen(body: Buffer, _ctx?: CodecContext): OpenMessage {
  // RFC 4271 §6.2: the version is checked first; a different version may not parse.
  if (body.length > 0) checkVersion(body[0]);
  const msg = parseOpen(body);
  checkOpen(msg);
  return msg;
}

interface ParamPlan {
  /** Capabilities per Capabilities parameter, in order. */
  groups: Capability[][];
  groupLengths: number[];
  others: { type: number; value: Buffer }[];
  extended: boolean;
  paramsLength: number;
}

function plan(msg: OpenMessage): ParamPlan {
  const counts =
    msg.capabilityParams &&
    msg.capabilityParams.reduce((a, b) => a + b, 0) === msg.capabilities.length
      ? msg.capabilityParams
      : msg.capabilities.length > 0
        ? [msg.capabilities.length]
        : [];
  const groups: Capability[][] = [];
  let i = 0;
  for (const n of counts) {
    groups.push(msg.capabilities.slice(i, i + n));
    i += n;
  }
  const groupLengths = groups.map((g) => g.reduce((s, c) => s + encodedLengthCapability(c), 0));
  const others = msg.otherParams ?? [];
  const valueLengths = [...groupLengths, ...others.map((p) => p.value.length)];
  const classic = valueLengths.reduce((s, l) => s + 2 + l, 0);
  // RFC 9072 §2: the extended encoding is used only when the classic one cannot carry the
  // parameters (or when the message says it was received that way, to re-encode it as sent).
  const extended =
    msg.extendedOptParams === true || classic > 255 || valueLengths.some((l) => l > 255);
  const paramsLength = extended ? valueLengths.reduce((s, l) => s + 3 + l, 0) : classic;
  return { groups, groupLengths, others, extended, paramsLength };
}

export function encodedLengthOpen(msg: OpenMessage, _ctx?: CodecContext): number {
  const p = plan(msg);
  return FIXED_LENGTH + (p.extended ? 3 : 0) + p.paramsLength;
}

/** Writes the OPEN body at `offset`; returns the offset after it. */
export function writeOpen(msg: OpenMessage, buf: Buffer, offset: number): number {
  const p = plan(msg);
  const id = parseIpv4(msg.routerId);
  if (id === null) throw new TypeError(`BGP identifier is not a dotted quad: ${msg.routerId}`);
  buf[offset] = msg.version;
  buf.writeUInt16BE(msg.myAs, offset + 1);
  buf.writeUInt16BE(msg.holdTime, offset + 3);
  buf.writeUInt32BE(id, offset + 5);
  let pos = offset + FIXED_LENGTH;
  const lengthSize = p.extended ? 2 : 1;
  if (p.extended) {
    // RFC 9072 §2: Non-Ext OP Len 255 (non-zero), Non-Ext OP Type 255, then the 2-octet length.
    buf[offset + 9] = 255;
    buf[pos] = OptParamType.EXTENDED_LENGTH;
    buf.writeUInt16BE(p.paramsLength, pos + 1);
    pos += 3;
  } else {
    buf[offset + 9] = p.paramsLength;
  }
  const writeLen = (len: number): void => {
    if (lengthSize === 2) buf.writeUInt16BE(len, pos + 1);
    else buf[pos + 1] = len;
  };
  p.groups.forEach((group, g) => {
    buf[pos] = OptParamType.CAPABILITIES;
    writeLen(p.groupLengths[g]);
    pos += 1 + lengthSize;
    for (const c of group) pos = writeCapability(c, buf, pos);
  });
  for (const other of p.others) {
    buf[pos] = other.type;
    writeLen(other.value.length);
    pos += 1 + lengthSize;
    other.value.copy(buf, pos);
    pos += other.value.length;
  }
  return pos;
}

/** Encodes an OPEN body (no header). RFC 8654 §4: an OPEN never exceeds 4096 octets. */
export function encodeOpen(msg: OpenMessage, ctx?: CodecContext): Buffer {
  const len = encodedLengthOpen(msg, ctx);
  if (HEADER_LENGTH + len > MAX_MESSAGE_LENGTH) {
    throw new RangeError(`OPEN of ${HEADER_LENGTH + len} octets exceeds ${MAX_MESSAGE_LENGTH}`);
  }
  const buf = Buffer.allocUnsafe(len);
  writeOpen(msg, buf, 0);
  return buf;
}
