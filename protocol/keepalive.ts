// The KEEPALIVE message: the 19-octet header and no body. The header check (header.ts) enforces
// its length; the session decides when to send one.
// RFC 4271 §4.4 and §6.1.

import { ErrorCode, HEADER_LENGTH, HeaderSubcode } from './constants.js';
import { BgpError } from './errors.js';
import type { CodecContext, KeepaliveMessage } from './types.js';

/** RFC 4271 §4.4: a KEEPALIVE is the header alone. */
export function decodeKeepalive(body: Buffer, _ctx?: CodecContext): KeepaliveMessage {
  if (body.length !== 0) {
    // RFC 4271 §6.1: a KEEPALIVE whose length is not 19 -> Bad Message Length.
    const length = Buffer.alloc(2);
    length.writeUInt16BE(Math.min(0xffff, HEADER_LENGTH + body.length));
    throw new BgpError('ERR_BGP_KEEPALIVE', `KEEPALIVE with a ${body.length}-octet body`, {
      code: ErrorCode.MESSAGE_HEADER,
      subcode: HeaderSubcode.BAD_MESSAGE_LENGTH,
      data: length,
    });
  }
  return { type: 'keepalive' };
}

export function encodeKeepalive(_msg?: KeepaliveMessage, _ctx?: CodecContext): Buffer {
  return Buffer.alloc(0);
}

export function encodedLengthKeepalive(_msg?: KeepaliveMessage, _ctx?: CodecContext): number {
  return 0;
}
