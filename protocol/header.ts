// The 19-octet BGP message header: encode it, read it, and apply the header checks.
// Knows nothing about message bodies (see open.ts, notification.ts, ...) and does no I/O.
// RFC 4271 §4.1 and §6.1, RFC 2918 §3, RFC 8654 §4.

import {
  ErrorCode,
  HEADER_LENGTH,
  HeaderSubcode,
  MARKER_LENGTH,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
} from './constants.js';
import { BgpError } from './errors.js';
import type { CodecContext, Decoded } from './types.js';

export interface MessageHeader {
  /** Total message length, header included. */
  length: number;
  type: number;
}

export type MessageTypeName = 'open' | 'update' | 'notification' | 'keepalive' | 'route-refresh';

const TYPE_NAMES: Record<number, MessageTypeName> = {
  [MessageType.OPEN]: 'open',
  [MessageType.UPDATE]: 'update',
  [MessageType.NOTIFICATION]: 'notification',
  [MessageType.KEEPALIVE]: 'keepalive',
  [MessageType.ROUTE_REFRESH]: 'route-refresh',
};

/** The JSON name of a message type, or undefined for a type we do not know. */
export function messageTypeName(type: number): MessageTypeName | undefined {
  return TYPE_NAMES[type];
}

/**
 * Per-type length bounds, header included.
 * RFC 4271 §6.1: OPEN >= 29, UPDATE >= 23, KEEPALIVE = 19, NOTIFICATION >= 21.
 * RFC 8654 §4: OPEN and KEEPALIVE stay within 4096 octets even with Extended Message.
 * ROUTE-REFRESH (RFC 2918 §3) needs 23 octets to hold AFI, subtype and SAFI; a longer one is
 * rejected by route-refresh.ts with the RFC 7313 §5 error, not here.
 */
const LENGTH_BOUNDS: Record<number, readonly [number, number]> = {
  [MessageType.OPEN]: [29, MAX_MESSAGE_LENGTH],
  [MessageType.UPDATE]: [23, MAX_EXTENDED_MESSAGE_LENGTH],
  [MessageType.NOTIFICATION]: [21, MAX_EXTENDED_MESSAGE_LENGTH],
  [MessageType.KEEPALIVE]: [HEADER_LENGTH, HEADER_LENGTH],
  [MessageType.ROUTE_REFRESH]: [23, MAX_EXTENDED_MESSAGE_LENGTH],
};

/** The largest message the session accepts: 4096, or 65535 with RFC 8654. */
export function maxMessageLength(ctx: Pick<CodecContext, 'extendedMessage'>): number {
  return ctx.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}

/** RFC 4271 §4.1: the marker is 16 octets of all ones. */
export function markerIsValid(buf: Buffer, offset: number): boolean {
  for (let i = 0; i < MARKER_LENGTH; i++) if (buf[offset + i] !== 0xff) return false;
  return true;
}

function lengthField(buf: Buffer, offset: number): Buffer {
  // RFC 4271 §6.1: the Data field of Bad Message Length carries the erroneous Length field.
  return Buffer.from(buf.subarray(offset + MARKER_LENGTH, offset + MARKER_LENGTH + 2));
}

export function badMessageLength(buf: Buffer, offset: number, reason: string): BgpError {
  return new BgpError('ERR_BGP_FRAMING', reason, {
    code: ErrorCode.MESSAGE_HEADER,
    subcode: HeaderSubcode.BAD_MESSAGE_LENGTH,
    data: lengthField(buf, offset),
  });
}

/**
 * The checks that keep a byte stream in step: marker and overall length. Failing either means
 * framing is lost. Needs the 19 header octets at `offset`; returns the message length.
 */
export function checkFrame(buf: Buffer, offset: number, maxLength: number): number {
  if (!markerIsValid(buf, offset)) {
    // RFC 4271 §6.1: a marker that is not all ones -> Connection Not Synchronized.
    throw new BgpError('ERR_BGP_FRAMING', 'message header marker is not all ones', {
      code: ErrorCode.MESSAGE_HEADER,
      subcode: HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED,
    });
  }
  const length = buf.readUInt16BE(offset + MARKER_LENGTH);
  // RFC 4271 §6.1: Length below 19 or above the maximum -> Bad Message Length.
  if (length < HEADER_LENGTH || length > maxLength) {
    throw badMessageLength(
      buf,
      offset,
      `message length ${length} is outside ${HEADER_LENGTH}..${maxLength}`,
    );
  }
  return length;
}

/**
 * Reads and checks a whole header: marker, length, type, and the per-type length bounds
 * (RFC 4271 §6.1). `buf` must hold at least the 19 header octets after `offset`.
 */
export function decodeHeader(
  buf: Buffer,
  offset: number,
  maxLength: number = MAX_MESSAGE_LENGTH,
): Decoded<MessageHeader> {
  if (buf.length - offset < HEADER_LENGTH) {
    throw new BgpError(
      'ERR_BGP_FRAMING',
      `only ${buf.length - offset} octets, a header needs ${HEADER_LENGTH}`,
      {
        code: ErrorCode.MESSAGE_HEADER,
        subcode: HeaderSubcode.BAD_MESSAGE_LENGTH,
        data: buf.length - offset >= MARKER_LENGTH + 2 ? lengthField(buf, offset) : undefined,
      },
    );
  }
  const length = checkFrame(buf, offset, maxLength);
  const type = buf[offset + MARKER_LENGTH + 2];
  const bounds = LENGTH_BOUNDS[type];
  if (bounds === undefined) {
    // RFC 4271 §6.1: an unknown Type -> Bad Message Type, data is the Type field.
    throw new BgpError('ERR_BGP_FRAMING', `unknown message type ${type}`, {
      code: ErrorCode.MESSAGE_HEADER,
      subcode: HeaderSubcode.BAD_MESSAGE_TYPE,
      data: Buffer.from([type]),
    });
  }
  if (length < bounds[0] || length > bounds[1]) {
    throw badMessageLength(
      buf,
      offset,
      `${TYPE_NAMES[type]} message length ${length} is outside ${bounds[0]}..${bounds[1]}`,
    );
  }
  return { value: { length, type }, bytesRead: HEADER_LENGTH };
}

/** Writes marker, length and type at `offset`. */
export function writeHeader(buf: Buffer, offset: number, length: number, type: number): void {
  buf.fill(0xff, offset, offset + MARKER_LENGTH);
  buf.writeUInt16BE(length, offset + MARKER_LENGTH);
  buf[offset + MARKER_LENGTH + 2] = type;
}

export function encodeHeader(header: MessageHeader): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_LENGTH);
  writeHeader(buf, 0, header.length, header.type);
  return buf;
}

export function encodedLengthHeader(): number {
  return HEADER_LENGTH;
}
