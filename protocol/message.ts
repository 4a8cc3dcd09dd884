// The message layer: one whole BGP message (header + body) to a decoded BgpMessage and back,
// dispatching on the header type to each message's body codec. No framing of streams (see
// framer.ts) and no session decisions. RFC 4271 §4 and §6.1, RFC 2918, RFC 8654 §4.

import { HEADER_LENGTH, MAX_MESSAGE_LENGTH, MessageType } from './constants.js';
import { badMessageLength, decodeHeader, maxMessageLength, writeHeader } from './header.js';
import { decodeKeepalive } from './keepalive.js';
import {
  decodeNotification,
  encodedLengthNotification,
  writeNotification,
} from './notification.js';
import { decodeOpen, encodedLengthOpen, writeOpen } from './open.js';
import {
  decodeRouteRefresh,
  encodedLengthRouteRefresh,
  writeRouteRefresh,
} from './route-refresh.js';
import { DEFAULT_CONTEXT } from './types.js';
import type { BgpMessage, CodecContext, Decoded } from './types.js';
import { decodeUpdateAt, encodedLengthUpdate, writeUpdateBody } from './update.js';

/**
 * Decodes the message that starts at `offset`. Throws BgpError for every malformation: the
 * header checks of RFC 4271 §6.1 first, then the body's own checks. An UPDATE with RFC 7606
 * errors that do not reset the session comes back decoded, with `errors` set.
 */
export function decodeMessage(
  buf: Buffer,
  offset: number,
  ctx: CodecContext = DEFAULT_CONTEXT,
): Decoded<BgpMessage> {
  const { value: header } = decodeHeader(buf, offset, maxMessageLength(ctx));
  if (buf.length - offset < header.length) {
    throw badMessageLength(
      buf,
      offset,
      `message length ${header.length} but only ${buf.length - offset} octets are there`,
    );
  }
  // UPDATEs (nearly every message) are read in place; the others get a view of their body.
  if (header.type === MessageType.UPDATE) {
    const value = decodeUpdateAt(buf, offset + HEADER_LENGTH, offset + header.length, ctx);
    return { value, bytesRead: header.length };
  }
  const body = buf.subarray(offset + HEADER_LENGTH, offset + header.length);
  let value: BgpMessage;
  switch (header.type) {
    case MessageType.OPEN:
      value = decodeOpen(body, ctx);
      break;
    case MessageType.NOTIFICATION:
      value = decodeNotification(body, ctx);
      break;
    case MessageType.KEEPALIVE:
      value = decodeKeepalive(body, ctx);
      break;
    default:
      // decodeHeader has rejected every other type, so this is ROUTE-REFRESH.
      value = decodeRouteRefresh(body, ctx);
      break;
  }
  return { value, bytesRead: header.length };
}

const TYPE_CODES = {
  open: MessageType.OPEN,
  update: MessageType.UPDATE,
  notification: MessageType.NOTIFICATION,
  keepalive: MessageType.KEEPALIVE,
  'route-refresh': MessageType.ROUTE_REFRESH,
} as const;

function bodyLength(msg: BgpMessage, ctx: CodecContext): number {
  switch (msg.type) {
    case 'open':
      return encodedLengthOpen(msg, ctx);
    case 'update':
      return encodedLengthUpdate(msg, ctx);
    case 'notification':
      return encodedLengthNotification(msg, ctx);
    case 'keepalive':
      return 0;
    case 'route-refresh':
      return encodedLengthRouteRefresh(msg, ctx);
  }
}

/** Total encoded length, header included. */
export function encodedLengthMessage(msg: BgpMessage, ctx: CodecContext = DEFAULT_CONTEXT): number {
  return HEADER_LENGTH + bodyLength(msg, ctx);
}

/**
 * Encodes a whole message, header included. A message longer than the session allows (4096,
 * or 65535 with RFC 8654; an OPEN never more than 4096) is a caller bug: RangeError.
 */
export function encodeMessage(msg: BgpMessage, ctx: CodecContext = DEFAULT_CONTEXT): Buffer {
  const max = msg.type === 'open' ? MAX_MESSAGE_LENGTH : maxMessageLength(ctx);
  const type = TYPE_CODES[msg.type];
  const length = HEADER_LENGTH + bodyLength(msg, ctx);
  if (length > max) throw new RangeError(`${msg.type} of ${length} octets exceeds ${max}`);
  const out = Buffer.allocUnsafe(length);
  writeHeader(out, 0, length, type);
  switch (msg.type) {
    case 'open':
      writeOpen(msg, out, HEADER_LENGTH);
      break;
    case 'update':
      // One allocation for header and body: the body is written in place.
      if (writeUpdateBody(msg, out, HEADER_LENGTH, ctx) !== length) {
        throw new Error('UPDATE body length differs from encodedLengthUpdate');
      }
      break;
    case 'notification':
      writeNotification(msg, out, HEADER_LENGTH);
      break;
    case 'route-refresh':
      writeRouteRefresh(msg, out, HEADER_LENGTH);
      break;
    case 'keepalive':
      break;
  }
  return out;
}
