// Shared plumbing for the path attribute codecs: the decode state each attribute writes into,
// RFC 7606 error reporting, and small big-endian readers/writers. No attribute rules here.
// RFC 4271 §4.3 (attribute header), §6.3 (data field contents); RFC 7606 §2, §3.

import { ErrorCode } from '../constants.js';
import { BgpError } from '../errors.js';
import type { ErrorHandling } from '../errors.js';
import type { CodecContext, PathAttributes } from '../types.js';

/** What an attribute decoder reads and writes while one UPDATE is decoded. */
export interface AttrDecodeState {
  readonly ctx: CodecContext;
  /** The attributes decoded so far; each decoder stores its own field. */
  attrs: PathAttributes;
  /** RFC 7606 errors that did not reset the session, in the order found. */
  errors: BgpError[] | null;
  /** The buffer being decoded and the bounds of the attribute in hand (header included). */
  buf: Buffer;
  attrStart: number;
  attrEnd: number;
  flags: number;
  /** The IPv4 NLRI field announces routes (NEXT_HOP matters only then, RFC 4760 §3). */
  ipv4Nlri: boolean;
}

/** An attribute codec: one row of the descriptor table (protocol/attributes/index.ts). */
export interface AttributeDescriptor {
  code: number;
  name: string;
  /** RFC 4271 §5: the Optional and Transitive bits the attribute must carry. */
  flags: number;
  /** Decodes the value buf[start, end) into st.attrs, reporting errors through fail(). */
  decode(buf: Buffer, start: number, end: number, st: AttrDecodeState): void;
  /** Length of the value to send, or -1 when the attribute is absent. */
  valueLength(attrs: PathAttributes, ctx: CodecContext): number;
  /** Writes the value at `off` (its length is valueLength()); returns the next offset. */
  writeValue(attrs: PathAttributes, buf: Buffer, off: number, ctx: CodecContext): number;
}

/**
 * Reports an UPDATE error. 'session-reset' throws; the other RFC 7606 actions are recorded
 * and decoding goes on. `data` defaults to the attribute in hand (RFC 4271 §6.3: "the Data
 * field contains the erroneous attribute"); pass null for no data. Data is copied so an
 * error never pins the received chunk.
 */
export function fail(
  st: AttrDecodeState,
  handling: ErrorHandling,
  subcode: number,
  reason: string,
  data: Buffer | null | undefined = undefined,
): void {
  const bytes =
    data === undefined
      ? Buffer.from(st.buf.subarray(st.attrStart, st.attrEnd))
      : data === null
        ? undefined
        : data;
  const err = new BgpError(
    'ERR_BGP_UPDATE',
    reason,
    { code: ErrorCode.UPDATE_MESSAGE, subcode, data: bytes },
    handling,
  );
  if (handling === 'session-reset') throw err;
  if (st.errors === null) st.errors = [err];
  else st.errors.push(err);
}

export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

export function readU16(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

export function writeU32(buf: Uint8Array, off: number, v: number): number {
  buf[off] = v >>> 24;
  buf[off + 1] = (v >>> 16) & 255;
  buf[off + 2] = (v >>> 8) & 255;
  buf[off + 3] = v & 255;
  return off + 4;
}

export function writeU16(buf: Uint8Array, off: number, v: number): number {
  buf[off] = (v >>> 8) & 255;
  buf[off + 1] = v & 255;
  return off + 2;
}

// Next hops and router ids repeat across UPDATEs: their dotted-quad strings are interned so a
// kept attribute set does not carry its own copy (a small bounded cache, cleared when full).
const quadCache = new Map<number, string>();

export function quadAt(buf: Uint8Array, off: number): string {
  const v = readU32(buf, off);
  let s = quadCache.get(v);
  if (s === undefined) {
    s = `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
    if (quadCache.size >= 4096) quadCache.clear();
    quadCache.set(v, s);
  }
  return s;
}

/** Parses a dotted quad for encoding; throws TypeError (a caller bug) when it is not one. */
export function quadValue(text: string): number {
  const parts = text.split('.');
  if (parts.length === 4) {
    let v = 0;
    let ok = true;
    for (const p of parts) {
      const n = Number(p);
      if (p === '' || !Number.isInteger(n) || n < 0 || n > 255) ok = false;
      v = v * 256 + n;
    }
    if (ok) return v;
  }
  throw new TypeError(`not an IPv4 address: ${text}`);
}

export function writeQuad(buf: Uint8Array, off: number, text: string): number {
  return writeU32(buf, off, quadValue(text));
}
