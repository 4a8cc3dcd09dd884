// IP address and CIDR arithmetic shared by config validation and autodetection.
// Pure functions over strings and bigints; no I/O, no knowledge of interfaces or BGP.
// Textual forms follow RFC 4632 §3.1 (prefix/length) and RFC 5952 (IPv6 text).
import { isIPv4, isIPv6 } from 'node:net';

export type IpFamily = 4 | 6;

export interface ParsedIp {
  family: IpFamily;
  /** The address as an unsigned integer (32 or 128 bits). */
  value: bigint;
  /** Canonical text (dotted quad, or RFC 5952 compressed lower-case IPv6). */
  text: string;
}

export interface ParsedCidr {
  family: IpFamily;
  /** The address exactly as written (host bits possibly set). */
  address: ParsedIp;
  prefixLength: number;
  /** The network address (host bits cleared). */
  network: bigint;
  /** True when bits below the prefix length are non-zero (e.g. 10.0.0.1/8). */
  hostBitsSet: boolean;
  /** Canonical `network/len` text. */
  text: string;
}

export const familyBits = (family: IpFamily): number => (family === 4 ? 32 : 128);

export function ipFamily(text: string): IpFamily | null {
  if (isIPv4(text)) return 4;
  if (isIPv6(text) && !text.includes('%')) return 6;
  return null;
}

function v4ToBig(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function v6ToBig(text: string): bigint {
  let s = text.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v = v4ToBig(tail);
    s = `${s.slice(0, lastColon + 1)}${(v >> 16n).toString(16)}:${(v & 0xffffn).toString(16)}`;
  }
  const [head, rest] = s.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const restParts = rest === undefined || rest === '' ? [] : rest.split(':');
  const fill = rest === undefined ? 0 : 8 - headParts.length - restParts.length;
  const parts = [...headParts, ...Array<string>(fill).fill('0'), ...restParts];
  return parts.reduce((acc, p) => (acc << 16n) | BigInt(parseInt(p, 16)), 0n);
}

export function formatIp(family: IpFamily, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 0xffn).toString()).join('.');
  }
  const hextets: number[] = [];
  for (let i = 7; i >= 0; i--) hextets.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952 §4.2: compress the longest run (length >= 2) of zero hextets, the first one on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (hextets[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && hextets[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = hextets.map((h) => h.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

export function parseIp(text: string): ParsedIp | null {
  const family = ipFamily(text);
  if (family === null) return null;
  const value = family === 4 ? v4ToBig(text) : v6ToBig(text);
  return { family, value, text: formatIp(family, value) };
}

export function maskOf(family: IpFamily, prefixLength: number): bigint {
  const bits = BigInt(familyBits(family));
  const all = (1n << bits) - 1n;
  return all ^ ((1n << (bits - BigInt(prefixLength))) - 1n);
}

/** Parses `ADDR/LEN`. Returns null when either part is malformed or LEN is out of range. */
export function parseCidr(text: string): ParsedCidr | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const address = parseIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (address === null || !/^\d{1,3}$/.test(lenText)) return null;
  const prefixLength = Number(lenText);
  if (prefixLength > familyBits(address.family)) return null;
  const network = address.value & maskOf(address.family, prefixLength);
  return {
    family: address.family,
    address,
    prefixLength,
    network,
    hostBitsSet: network !== address.value,
    text: `${formatIp(address.family, network)}/${prefixLength}`,
  };
}

/** True when `ip` lies inside `cidr` (same family, same network bits). */
export function cidrContains(cidr: ParsedCidr, ip: ParsedIp): boolean {
  return (
    cidr.family === ip.family && (ip.value & maskOf(ip.family, cidr.prefixLength)) === cidr.network
  );
}

/** True when `inner` is equal to or more specific than `outer`. */
export function cidrCovers(outer: ParsedCidr, inner: ParsedCidr): boolean {
  return (
    outer.family === inner.family &&
    inner.prefixLength >= outer.prefixLength &&
    (inner.network & maskOf(outer.family, outer.prefixLength)) === outer.network
  );
}

export function cidrsOverlap(a: ParsedCidr, b: ParsedCidr): boolean {
  return cidrCovers(a, b) || cidrCovers(b, a);
}

/**
 * Addresses usable as a node address: what Go calls "global unicast", i.e. not unspecified,
 * loopback, link-local, multicast or the IPv4 limited broadcast. Private (RFC 1918) and
 * unique-local (RFC 4193) addresses are global unicast in this sense.
 */
export function unusableReason(ip: ParsedIp): string | null {
  const inRange = (cidr: string): boolean => cidrContains(parseCidr(cidr) as ParsedCidr, ip);
  if (ip.family === 4) {
    if (ip.value === 0n) return 'unspecified address';
    if (inRange('127.0.0.0/8')) return 'loopback address';
    if (inRange('169.254.0.0/16')) return 'link-local address (RFC 3927)';
    if (inRange('224.0.0.0/4')) return 'multicast address';
    if (ip.value === 0xffffffffn) return 'limited broadcast address';
    return null;
  }
  if (ip.value === 0n) return 'unspecified address';
  if (ip.value === 1n) return 'loopback address';
  if (inRange('fe80::/10')) return 'link-local address (RFC 4291 §2.5.6)';
  if (inRange('ff00::/8')) return 'multicast address';
  return null;
}

/** A 4-octet value (router id, cluster id) written as a dotted quad. */
export function isDottedQuad(text: string): boolean {
  return isIPv4(text);
}
