// The ROUTE-REFRESH message body (AFI, subtype, SAFI). Does not decide when to send one or
// what to do with one received; the session does.
// RFC 2918 §3, RFC 7313 §3 and §5.

import { ErrorCode, HEADER_LENGTH, MessageType, RouteRefreshErrorSubcode } from './constants.js';
import { BgpError } from './errors.js';
import { writeHeader } from './header.js';
import type { CodecContext, RouteRefreshMessage } from './types.js';

/** AFI (2), Message Subtype (1, the Reserved octet of RFC 2918), SAFI (1). */
export const ROUTE_REFRESH_BODY_LENGTH = 4;

const SUBTYPE_NAMES: Record<number, string> = { 0: 'request', 1: 'borr', 2: 'eorr' };

/** RFC 7313 §3: 0 normal request, 1 Beginning of RIB Route Refresh, 2 End of it. */
export function routeRefreshSubtypeName(subtype: number): string {
  return SUBTYPE_NAMES[subtype] ?? `reserved-${subtype}`;
}

/**
 * Decodes a ROUTE-REFRESH body (no header).
 * RFC 7313 §5: a body that is not 4 octets -> ROUTE-REFRESH Message Error / Invalid Message
 * Length, with the complete message as data. RFC 7313 states it for subtypes 1 and 2; we apply
 * it to subtype 0 too, because the only longer form (ORF, RFC 5291) is never negotiated by us.
 * Subtypes 3-255 are decoded as they are: RFC 7313 §5 says the session ignores them.
 */
export function decodeRouteRefresh(body: Buffer, _ctx?: CodecContext): RouteRefreshMessage {
  const subtype = body.length >= 3 ? body[2] : 0;
  if (body.length !== ROUTE_REFRESH_BODY_LENGTH && (subtype <= 2 || body.length < 4)) {
    const whole = Buffer.allocUnsafe(HEADER_LENGTH + body.length);
    writeHeader(whole, 0, whole.length, MessageType.ROUTE_REFRESH);
    body.copy(whole, HEADER_LENGTH);
    throw new BgpError(
      'ERR_BGP_ROUTE_REFRESH',
      `ROUTE-REFRESH body of ${body.length} octets, expected ${ROUTE_REFRESH_BODY_LENGTH}`,
      {
        code: ErrorCode.ROUTE_REFRESH_MESSAGE,
        subcode: RouteRefreshErrorSubcode.INVALID_MESSAGE_LENGTH,
        data: whole,
      },
    );
  }
  return { type: 'route-refresh', afi: body.readUInt16BE(0), subtype, safi: body[3] };
}

export function encodedLengthRouteRefresh(_msg?: RouteRefreshMessage, _ctx?: CodecContext): number {
  return ROUTE_REFRESH_BODY_LENGTH;
}

export function writeRouteRefresh(msg: RouteRefreshMessage, buf: Buffer, offset: number): number {
  buf.writeUInt16BE(msg.afi, offset);
  buf[offset + 2] = msg.subtype;
  buf[offset + 3] = msg.safi;
  return offset + ROUTE_REFRESH_BODY_LENGTH;
}

/** Encodes a ROUTE-REFRESH body (no header). */
export function encodeRouteRefresh(msg: RouteRefreshMessage, _ctx?: CodecContext): Buffer {
  const buf = Buffer.allocUnsafe(ROUTE_REFRESH_BODY_LENGTH);
  writeRouteRefresh(msg, buf, 0);
  return buf;
}
