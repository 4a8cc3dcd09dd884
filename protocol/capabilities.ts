// BGP capabilities carried in the OPEN Capabilities optional parameter: decode each known one
// into its typed shape, keep unknown ones raw, and encode them back. No negotiation here (that
// is session/). RFC 5492 §4, RFC 4760 §8, RFC 2918, RFC 8950 §3, RFC 8654, RFC 4724 §3,
// RFC 8538 §2, RFC 6793 §3, RFC 7911 §4, RFC 7313 §4, RFC 9494, draft-walton-bgp-hostname.

import { CapabilityCode, ErrorCode, OpenSubcode } from './constants.js';
import { BgpError } from './errors.js';
import type { Capability } from './types.js';

/**
 * A capability whose length does not fit its code is a malformed, recognized optional
 * parameter: RFC 4271 §6.2 says OPEN Message Error with subcode 0 (Unspecific). RFC 5492 adds
 * no subcode of its own for this (Unsupported Capability, 7, means "not supported", not
 * "malformed"), and BIRD and FRR answer the same way. The data is the capability TLV.
 */
function malformed(reason: string, tlv?: Buffer): BgpError {
  return new BgpError('ERR_BGP_OPEN', reason, {
    code: ErrorCode.OPEN_MESSAGE,
    subcode: OpenSubcode.UNSPECIFIC,
    data: tlv ? Buffer.from(tlv) : undefined,
  });
}

const NAMES: Record<number, Capability['name']> = {
  [CapabilityCode.MULTIPROTOCOL]: 'multiprotocol',
  [CapabilityCode.ROUTE_REFRESH]: 'route-refresh',
  [CapabilityCode.ROUTE_REFRESH_CISCO]: 'route-refresh',
  [CapabilityCode.EXTENDED_NEXT_HOP]: 'extended-next-hop',
  [CapabilityCode.EXTENDED_MESSAGE]: 'extended-message',
  [CapabilityCode.GRACEFUL_RESTART]: 'graceful-restart',
  [CapabilityCode.FOUR_OCTET_AS]: 'four-octet-as',
  [CapabilityCode.ADD_PATH]: 'add-path',
  [CapabilityCode.ENHANCED_ROUTE_REFRESH]: 'enhanced-route-refresh',
  [CapabilityCode.LONG_LIVED_GRACEFUL_RESTART]: 'long-lived-graceful-restart',
  [CapabilityCode.FQDN]: 'fqdn',
};

/** The name of a capability code ('unknown' when we do not decode it). */
export function capabilityName(code: number): Capability['name'] {
  return NAMES[code] ?? 'unknown';
}

const ADD_PATH_MODES = { 1: 'receive', 2: 'send', 3: 'both' } as const;
const ADD_PATH_CODES = { receive: 1, send: 2, both: 3 } as const;

/** RFC 4724 §3: the Restart Flags (high 4 bits) and the 12-bit Restart Time. */
const GR_RESTART_BIT = 0x8000;
const GR_NOTIFICATION_BIT = 0x4000; // RFC 8538 §2
const GR_TIME_MASK = 0x0fff;
/** RFC 4724 §3 and RFC 9494 §2: the Forwarding State bit of the per-family flags. */
const FORWARDING_BIT = 0x80;

/**
 * Decodes one capability value. `tlv` is the whole capability (code, length, value) for
 * error data. Returns views into the input for raw values.
 */
export function decodeCapabilityValue(code: number, value: Buffer, tlv: Buffer): Capability {
  const len = value.length;
  const expect = (ok: boolean, what: string): void => {
    if (!ok) throw malformed(`capability ${code} (${capabilityName(code)}): ${what}`, tlv);
  };
  switch (code) {
    case CapabilityCode.MULTIPROTOCOL:
      // RFC 4760 §8: AFI (2), Reserved (1), SAFI (1).
      expect(len === 4, `length ${len}, expected 4`);
      return { name: 'multiprotocol', code: 1, afi: value.readUInt16BE(0), safi: value[3] };
    case CapabilityCode.ROUTE_REFRESH:
    case CapabilityCode.ROUTE_REFRESH_CISCO:
      // RFC 2918 §2: Capability Length 0.
      expect(len === 0, `length ${len}, expected 0`);
      return { name: 'route-refresh', code };
    case CapabilityCode.EXTENDED_NEXT_HOP: {
      // RFC 8950 §3: one or more (NLRI AFI (2), NLRI SAFI (2), Next Hop AFI (2)) tuples.
      expect(len > 0 && len % 6 === 0, `length ${len}, expected a non-zero multiple of 6`);
      const entries = [];
      for (let i = 0; i < len; i += 6) {
        entries.push({
          afi: value.readUInt16BE(i),
          safi: value.readUInt16BE(i + 2),
          nextHopAfi: value.readUInt16BE(i + 4),
        });
      }
      return { name: 'extended-next-hop', code: 5, entries };
    }
    case CapabilityCode.EXTENDED_MESSAGE:
      // RFC 8654 §3: Capability Length 0.
      expect(len === 0, `length ${len}, expected 0`);
      return { name: 'extended-message', code: 6 };
    case CapabilityCode.GRACEFUL_RESTART: {
      // RFC 4724 §3: flags+time (2), then (AFI (2), SAFI (1), Flags (1)) per family.
      expect(len >= 2 && (len - 2) % 4 === 0, `length ${len}, expected 2 + 4n`);
      const word = value.readUInt16BE(0);
      const families = [];
      for (let i = 2; i < len; i += 4) {
        families.push({
          afi: value.readUInt16BE(i),
          safi: value[i + 2],
          forwarding: (value[i + 3] & FORWARDING_BIT) !== 0,
        });
      }
      return {
        name: 'graceful-restart',
        code: 64,
        restarting: (word & GR_RESTART_BIT) !== 0,
        notification: (word & GR_NOTIFICATION_BIT) !== 0,
        restartTime: word & GR_TIME_MASK,
        families,
      };
    }
    case CapabilityCode.FOUR_OCTET_AS:
      // RFC 6793 §3: the 4-octet AS number.
      expect(len === 4, `length ${len}, expected 4`);
      return { name: 'four-octet-as', code: 65, asn: value.readUInt32BE(0) };
    case CapabilityCode.ADD_PATH: {
      // RFC 7911 §4: one or more (AFI (2), SAFI (1), Send/Receive (1)).
      expect(len > 0 && len % 4 === 0, `length ${len}, expected a non-zero multiple of 4`);
      const families = [];
      for (let i = 0; i < len; i += 4) {
        const mode = ADD_PATH_MODES[value[i + 3] as 1 | 2 | 3];
        // RFC 7911 §4 defines only 1, 2 and 3; a tuple with another value says nothing we
        // can act on, so it is skipped rather than failing the session.
        if (mode === undefined) continue;
        families.push({ afi: value.readUInt16BE(i), safi: value[i + 2], mode });
      }
      return { name: 'add-path', code: 69, families };
    }
    case CapabilityCode.ENHANCED_ROUTE_REFRESH:
      // RFC 7313 §4: Capability Length 0.
      expect(len === 0, `length ${len}, expected 0`);
      return { name: 'enhanced-route-refresh', code: 70 };
    case CapabilityCode.LONG_LIVED_GRACEFUL_RESTART: {
      // RFC 9494 §2: zero or more (AFI (2), SAFI (1), Flags (1), Long-lived Stale Time (3)).
      expect(len % 7 === 0, `length ${len}, expected a multiple of 7`);
      const families = [];
      for (let i = 0; i < len; i += 7) {
        families.push({
          afi: value.readUInt16BE(i),
          safi: value[i + 2],
          forwarding: (value[i + 3] & FORWARDING_BIT) !== 0,
          staleTime: value.readUIntBE(i + 4, 3),
        });
      }
      return { name: 'long-lived-graceful-restart', code: 71, families };
    }
    case CapabilityCode.FQDN: {
      // draft-walton-bgp-hostname-capability §3: hostname length (1), hostname,
      // domain length (1), domain name; the lengths must fill the capability exactly.
      expect(len >= 2, `length ${len}, expected at least 2`);
      const hostLen = value[0];
      expect(1 + hostLen + 1 <= len, `hostname length ${hostLen} overruns the capability`);
      const domainLen = value[1 + hostLen];
      expect(2 + hostLen + domainLen === len, `domain length ${domainLen} does not fill it`);
      return {
        name: 'fqdn',
        code: 73,
        hostname: value.toString('utf8', 1, 1 + hostLen),
        domain: value.toString('utf8', 2 + hostLen, 2 + hostLen + domainLen),
      };
    }
    default:
      // RFC 5492 §3: an unrecognized capability is ignored (kept raw so it can be shown).
      return { name: 'unknown', code, value };
  }
}

/**
 * Decodes the value of one Capabilities optional parameter (RFC 5492 §4): a run of
 * (code (1), length (1), value) triples that must end exactly at the parameter's end.
 */
export function decodeCapabilities(param: Buffer): Capability[] {
  const caps: Capability[] = [];
  let pos = 0;
  while (pos < param.length) {
    if (param.length - pos < 2) {
      throw malformed(`capability header truncated at octet ${pos} of ${param.length}`);
    }
    const code = param[pos];
    const len = param[pos + 1];
    if (pos + 2 + len > param.length) {
      throw malformed(
        `capability ${code} length ${len} overruns the parameter (${param.length - pos - 2} left)`,
      );
    }
    const tlv = param.subarray(pos, pos + 2 + len);
    caps.push(decodeCapabilityValue(code, tlv.subarray(2), tlv));
    pos += 2 + len;
  }
  return caps;
}

/** Length of the value (not counting code and length octets) of one capability. */
export function encodedLengthCapabilityValue(cap: Capability): number {
  switch (cap.name) {
    case 'multiprotocol':
      return 4;
    case 'route-refresh':
    case 'extended-message':
    case 'enhanced-route-refresh':
      return 0;
    case 'extended-next-hop':
      return 6 * cap.entries.length;
    case 'graceful-restart':
      return 2 + 4 * cap.families.length;
    case 'four-octet-as':
      return 4;
    case 'add-path':
      return 4 * cap.families.length;
    case 'long-lived-graceful-restart':
      return 7 * cap.families.length;
    case 'fqdn':
      return 2 + Buffer.byteLength(cap.hostname, 'utf8') + Buffer.byteLength(cap.domain, 'utf8');
    case 'unknown':
      return cap.value.length;
  }
}

/** Length of one capability as encoded: code, length and value. */
export function encodedLengthCapability(cap: Capability): number {
  return 2 + encodedLengthCapabilityValue(cap);
}

/** Writes one capability (code, length, value) at `offset`; returns the new offset. */
export function writeCapability(cap: Capability, buf: Buffer, offset: number): number {
  const len = encodedLengthCapabilityValue(cap);
  if (len > 255) throw new RangeError(`capability ${cap.code} value is ${len} octets, max 255`);
  buf[offset] = cap.code;
  buf[offset + 1] = len;
  let p = offset + 2;
  switch (cap.name) {
    case 'multiprotocol':
      buf.writeUInt16BE(cap.afi, p);
      buf[p + 2] = 0; // RFC 4760 §8: Reserved, sent as 0.
      buf[p + 3] = cap.safi;
      break;
    case 'route-refresh':
    case 'extended-message':
    case 'enhanced-route-refresh':
      break;
    case 'extended-next-hop':
      for (const e of cap.entries) {
        buf.writeUInt16BE(e.afi, p);
        buf.writeUInt16BE(e.safi, p + 2);
        buf.writeUInt16BE(e.nextHopAfi, p + 4);
        p += 6;
      }
      break;
    case 'graceful-restart': {
      const word =
        (cap.restarting ? GR_RESTART_BIT : 0) |
        (cap.notification ? GR_NOTIFICATION_BIT : 0) |
        (cap.restartTime & GR_TIME_MASK);
      buf.writeUInt16BE(word, p);
      p += 2;
      for (const f of cap.families) {
        buf.writeUInt16BE(f.afi, p);
        buf[p + 2] = f.safi;
        buf[p + 3] = f.forwarding ? FORWARDING_BIT : 0;
        p += 4;
      }
      break;
    }
    case 'four-octet-as':
      buf.writeUInt32BE(cap.asn >>> 0, p);
      break;
    case 'add-path':
      for (const f of cap.families) {
        buf.writeUInt16BE(f.afi, p);
        buf[p + 2] = f.safi;
        buf[p + 3] = ADD_PATH_CODES[f.mode];
        p += 4;
      }
      break;
    case 'long-lived-graceful-restart':
      for (const f of cap.families) {
        buf.writeUInt16BE(f.afi, p);
        buf[p + 2] = f.safi;
        buf[p + 3] = f.forwarding ? FORWARDING_BIT : 0;
        buf.writeUIntBE(f.staleTime, p + 4, 3);
        p += 7;
      }
      break;
    case 'fqdn': {
      const host = Buffer.from(cap.hostname, 'utf8');
      const domain = Buffer.from(cap.domain, 'utf8');
      buf[p] = host.length;
      host.copy(buf, p + 1);
      buf[p + 1 + host.length] = domain.length;
      domain.copy(buf, p + 2 + host.length);
      break;
    }
    case 'unknown':
      cap.value.copy(buf, p);
      break;
  }
  return offset + 2 + len;
}

/** Encodes a list of capabilities as the value of one Capabilities optional parameter. */
export function encodeCapabilities(caps: readonly Capability[]): Buffer {
  let total = 0;
  for (const c of caps) total += encodedLengthCapability(c);
  const buf = Buffer.alloc(total);
  let p = 0;
  for (const c of caps) p = writeCapability(c, buf, p);
  return buf;
}
