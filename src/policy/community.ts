// Text forms of communities and large communities used by policy config ("65000:100",
// "no-export", "65000:1:2"), parsed into the numbers the codec uses. Pure.
// RFC 1997 §3 (communities and well-known values), RFC 8092 §3 (large communities).

import { WellKnownCommunity } from '../../protocol/constants.js';
import type { LargeCommunity } from '../../protocol/types.js';

const NAMES: Record<string, number> = {
  'no-export': WellKnownCommunity.NO_EXPORT,
  'no-advertise': WellKnownCommunity.NO_ADVERTISE,
  'no-export-subconfed': WellKnownCommunity.NO_EXPORT_SUBCONFED,
  'no-peer': WellKnownCommunity.NO_PEER,
  'graceful-shutdown': WellKnownCommunity.GRACEFUL_SHUTDOWN,
  blackhole: WellKnownCommunity.BLACKHOLE,
};

/** "ASN:VALUE" (each 0..65535), a well-known name, or a 32-bit number. */
export function parseCommunity(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new TypeError(`community out of range: ${value}`);
    }
    return value;
  }
  const named = NAMES[value.toLowerCase()];
  if (named !== undefined) return named;
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(value);
  if (!m || Number(m[1]) > 0xffff || Number(m[2]) > 0xffff) {
    throw new TypeError(`not a community: ${value}`);
  }
  return Number(m[1]) * 0x10000 + Number(m[2]);
}

/** "GLOBAL:LOCAL1:LOCAL2", each a 32-bit number. */
export function parseLargeCommunity(value: string): LargeCommunity {
  const m = /^(\d{1,10}):(\d{1,10}):(\d{1,10})$/.exec(value);
  const parts = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
  if (parts.length !== 3 || parts.some((p) => p > 0xffffffff)) {
    throw new TypeError(`not a large community: ${value}`);
  }
  return [parts[0], parts[1], parts[2]];
}

export function formatCommunity(value: number): string {
  return `${Math.floor(value / 0x10000)}:${value % 0x10000}`;
}
