// The one error type of the wire codec: what NOTIFICATION to send and which RFC 7606 action
// applies. Codecs throw BgpError; the session decides what to do with it. No I/O here.
// RFC 4271 §6, RFC 7606 §2 and §3.

/**
 * RFC 7606 §2: the error-handling approaches, strongest first.
 * - session-reset: send the NOTIFICATION and close the session (RFC 4271 §6).
 * - treat-as-withdraw: every prefix in the UPDATE is withdrawn; the session stays up.
 * - attribute-discard: the faulty attribute is dropped; the rest of the UPDATE is used.
 */
export type ErrorHandling = 'session-reset' | 'treat-as-withdraw' | 'attribute-discard';

export interface NotificationInfo {
  code: number;
  subcode: number;
  /** The NOTIFICATION data field (often the offending attribute or field). */
  data: Buffer;
}

/** Stable string codes for callers that branch on the kind of failure. */
export type BgpErrorCode =
  | 'ERR_BGP_FRAMING'
  | 'ERR_BGP_OPEN'
  | 'ERR_BGP_UPDATE'
  | 'ERR_BGP_NOTIFICATION'
  | 'ERR_BGP_ROUTE_REFRESH'
  | 'ERR_BGP_KEEPALIVE'
  | 'ERR_BGP_FSM';

const EMPTY = Buffer.alloc(0);

export class BgpError extends Error {
  readonly code: BgpErrorCode;
  readonly notification: NotificationInfo;
  readonly handling: ErrorHandling;

  constructor(
    code: BgpErrorCode,
    message: string,
    notification: { code: number; subcode: number; data?: Buffer },
    handling: ErrorHandling = 'session-reset',
  ) {
    super(message);
    this.name = 'BgpError';
    this.code = code;
    this.notification = {
      code: notification.code,
      subcode: notification.subcode,
      data: notification.data ?? EMPTY,
    };
    this.handling = handling;
  }
}

/** RFC 7606 §3: when several errors are found in one UPDATE, the strongest action wins. */
export function strongerHandling(a: ErrorHandling, b: ErrorHandling): ErrorHandling {
  const rank = { 'attribute-discard': 0, 'treat-as-withdraw': 1, 'session-reset': 2 } as const;
  return rank[a] >= rank[b] ? a : b;
}
