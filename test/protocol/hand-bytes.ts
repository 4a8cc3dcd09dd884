// Test helpers that build BGP bytes by hand from the RFC layouts (never through the encoders
// under test): hex text to bytes, and a message = marker + length + type + body.
// RFC 4271 §4.1.

import { BgpError } from '../../protocol/errors.js';

/** Hex text to bytes; spaces, newlines and '|' separators are ignored. */
export function hex(text: string): Buffer {
  const clean = text.replace(/[\s|]/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`bad hex in test: ${text}`);
  return Buffer.from(clean, 'hex');
}

export const MARKER_HEX = 'ff'.repeat(16);

/** RFC 4271 §4.1: 16 x 0xff, 2-octet total length, 1-octet type, then the body. */
export function message(type: number, body: Buffer | string = Buffer.alloc(0)): Buffer {
  const b = typeof body === 'string' ? hex(body) : body;
  const length = 19 + b.length;
  return Buffer.concat([hex(MARKER_HEX), Buffer.from([length >> 8, length & 0xff, type]), b]);
}

/** A 2-octet big-endian field as hex, for building lengths by hand. */
export function u16(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/** The text of a string as hex (UTF-8). */
export function textHex(s: string): string {
  return Buffer.from(s, 'utf8').toString('hex');
}

/** Runs fn and returns the BgpError it threw; anything else (or nothing) is a test failure. */
export function catchBgpError(fn: () => unknown): BgpError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BgpError) return err;
    throw new Error(`expected a BgpError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a BgpError, nothing was thrown');
}
