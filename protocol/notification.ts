// The NOTIFICATION message body, the names of every error code and subcode, and the shutdown
// communication of Cease/Administrative Shutdown and Reset. Does not decide when to send one.
// RFC 4271 §4.5 and §6, RFC 4486 §4, RFC 6608 §4, RFC 7313 §5, RFC 8203, RFC 9003 §2,
// RFC 8538 §5, RFC 9234, RFC 9384, RFC 9687.

import { CeaseSubcode, ErrorCode, HEADER_LENGTH, HeaderSubcode } from './constants.js';
import { BgpError } from './errors.js';
import type { CodecContext, NotificationMessage } from './types.js';

/** RFC 4271 §4.5 and the IANA "BGP Error (Notification) Codes" registry. */
const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
  8: 'Send Hold Timer Expired',
};

/** The IANA subcode registries, one per code; subcode 0 is "Unspecific" everywhere. */
const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    1: 'Unsupported Version Number',
    2: 'Bad Peer AS',
    3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter',
    5: 'Authentication Failure (deprecated)',
    6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability',
    8: 'Deprecated',
    9: 'Deprecated',
    10: 'Deprecated',
    11: 'Role Mismatch',
  },
  3: {
    1: 'Malformed Attribute List',
    2: 'Unrecognized Well-known Attribute',
    3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error',
    5: 'Attribute Length Error',
    6: 'Invalid ORIGIN Attribute',
    7: 'AS Routing Loop (deprecated)',
    8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error',
    10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  4: {},
  5: {
    1: 'Receive Unexpected Message in OpenSent State',
    2: 'Receive Unexpected Message in OpenConfirm State',
    3: 'Receive Unexpected Message in Established State',
  },
  6: {
    1: 'Maximum Number of Prefixes Reached',
    2: 'Administrative Shutdown',
    3: 'Peer De-configured',
    4: 'Administrative Reset',
    5: 'Connection Rejected',
    6: 'Other Configuration Change',
    7: 'Connection Collision Resolution',
    8: 'Out of Resources',
    9: 'Hard Reset',
    10: 'BFD Down',
  },
  7: { 1: 'Invalid Message Length' },
  8: {},
};

export function notificationCodeName(code: number): string {
  return CODE_NAMES[code] ?? `Unknown error code ${code}`;
}

export function notificationSubcodeName(code: number, subcode: number): string {
  const named = SUBCODE_NAMES[code]?.[subcode];
  if (named !== undefined) return named;
  return subcode === 0 ? 'Unspecific' : `Unknown subcode ${subcode}`;
}

/** "Cease / Administrative Shutdown"; codes without subcodes give just the code name. */
export function notificationName(code: number, subcode: number): string {
  if ((code === 4 || code === 8) && subcode === 0) return notificationCodeName(code);
  return `${notificationCodeName(code)} / ${notificationSubcodeName(code, subcode)}`;
}

/** RFC 9003 §2: the shutdown communication is at most 255 octets of UTF-8. */
export const MAX_SHUTDOWN_COMMUNICATION = 255;

function carriesShutdownCommunication(code: number, subcode: number): boolean {
  // RFC 9003 §2: Cease with Administrative Shutdown or Administrative Reset.
  return (
    code === ErrorCode.CEASE &&
    (subcode === CeaseSubcode.ADMINISTRATIVE_SHUTDOWN ||
      subcode === CeaseSubcode.ADMINISTRATIVE_RESET)
  );
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * RFC 9003 §2: reads the shutdown communication (length octet + UTF-8). A length that runs
 * past the data, or bytes that are not UTF-8, give undefined: RFC 9003 (Error Handling) has a bad
 * communication logged, never treated as a session error; here it is just not shown as text.
 */
export function decodeShutdownCommunication(data: Buffer): string | undefined {
  if (data.length === 0) return undefined;
  const len = data[0];
  if (len === 0 || 1 + len > data.length) return undefined;
  try {
    return strictUtf8.decode(data.subarray(1, 1 + len));
  } catch {
    return undefined;
  }
}

/**
 * RFC 9003 §2: builds the data of a Cease 2/4 from a message, cut to 255 octets at a
 * character boundary. An empty message gives an empty data field.
 */
export function encodeShutdownCommunication(message: string): Buffer {
  let bytes = Buffer.from(message, 'utf8');
  if (bytes.length > MAX_SHUTDOWN_COMMUNICATION) {
    let end = MAX_SHUTDOWN_COMMUNICATION;
    // Step back over UTF-8 continuation octets (10xxxxxx) so no character is cut in half.
    while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
    bytes = bytes.subarray(0, end);
  }
  if (bytes.length === 0) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

/** Decodes a NOTIFICATION body (no header): code, subcode, data (a view of the input). */
export function decodeNotification(body: Buffer, _ctx?: CodecContext): NotificationMessage {
  if (body.length < 2) {
    // RFC 4271 §6.1: a NOTIFICATION shorter than 21 octets -> Bad Message Length.
    const length = Buffer.alloc(2);
    length.writeUInt16BE(HEADER_LENGTH + body.length);
    throw new BgpError('ERR_BGP_NOTIFICATION', `NOTIFICATION body of ${body.length} octets`, {
      code: ErrorCode.MESSAGE_HEADER,
      subcode: HeaderSubcode.BAD_MESSAGE_LENGTH,
      data: length,
    });
  }
  const code = body[0];
  const subcode = body[1];
  const data = body.subarray(2);
  const msg: NotificationMessage = { type: 'notification', code, subcode, data };
  if (carriesShutdownCommunication(code, subcode)) {
    const text = decodeShutdownCommunication(data);
    if (text !== undefined) msg.message = text;
  } else if (code === ErrorCode.CEASE && subcode === CeaseSubcode.HARD_RESET && data.length >= 2) {
    // RFC 8538 §3: a Hard Reset encapsulates the NOTIFICATION it stands for: its error code,
    // its subcode, then its data.
    msg.hardReset = { code: data[0], subcode: data[1] };
    if (carriesShutdownCommunication(data[0], data[1])) {
      const text = decodeShutdownCommunication(data.subarray(2));
      if (text !== undefined) msg.message = text;
    }
  }
  return msg;
}

/**
 * The data octets an encoder sends: `data` as given when non-empty; otherwise, for Cease 2/4
 * with a `message`, the RFC 9003 shutdown communication.
 */
function dataToSend(msg: NotificationMessage): Buffer {
  if (msg.data.length > 0) return msg.data;
  if (msg.message !== undefined && carriesShutdownCommunication(msg.code, msg.subcode)) {
    return encodeShutdownCommunication(msg.message);
  }
  return msg.data;
}

export function encodedLengthNotification(msg: NotificationMessage, _ctx?: CodecContext): number {
  return 2 + dataToSend(msg).length;
}

export function writeNotification(msg: NotificationMessage, buf: Buffer, offset: number): number {
  const data = dataToSend(msg);
  buf[offset] = msg.code;
  buf[offset + 1] = msg.subcode;
  data.copy(buf, offset + 2);
  return offset + 2 + data.length;
}

/** Encodes a NOTIFICATION body (no header). */
export function encodeNotification(msg: NotificationMessage, _ctx?: CodecContext): Buffer {
  const buf = Buffer.allocUnsafe(encodedLengthNotification(msg));
  writeNotification(msg, buf, 0);
  return buf;
}

/** The NOTIFICATION a BgpError asks the session to send. */
export function notificationFromError(err: BgpError): NotificationMessage {
  return {
    type: 'notification',
    code: err.notification.code,
    subcode: err.notification.subcode,
    data: err.notification.data,
  };
}
