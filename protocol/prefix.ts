// Compact prefix representations shared by the codec, the RIB and the CLI: IPv4 prefixes as
// one number (address * 64 + length), IPv6 prefixes as canonical strings. Pure functions.
// RFC 4271 §4.3 (prefix encoding), RFC 5952 (IPv6 text form).

import type { PrefixList } from './types.js';

/** A whole IPv4 prefix in one number: the 32-bit address times 64, plus the length. */
export type Prefix4Key = number;

export function v4Key(address: number, length: number): Prefix4Key {
  return (address >>> 0) * 64 + length;
}

export function v4KeyAddress(key: Prefix4Key): number {
  return Math.floor(key / 64);
}

export function v4KeyLength(key: Prefix4Key): number {
  // Not `key % 64`: keys exceed 32 bits, and a floating-point remainder is a slow library call.
  return key - Math.floor(key / 64) * 64;
}

export function formatIpv4(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
}

export function formatV4Key(key: Prefix4Key): string {
  return `${formatIpv4(v4KeyAddress(key))}/${v4KeyLength(key)}`;
}

/** Parses a dotted quad; returns null when it is not one. */
export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

/** Parses "a.b.c.d/len" into a key; host bits beyond the length are an error (null). */
export function parseV4Prefix(text: string): Prefix4Key | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const address = parseIpv4(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (address === null || !/^\d{1,2}$/.test(lenText)) return null;
  const length = Number(lenText);
  if (length > 32) return null;
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  if ((address & ~mask) >>> 0 !== 0) return null;
  return v4Key(address, length);
}

/** RFC 5952 §4: lower case, longest run of two or more zero groups compressed, first on a tie. */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1]);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // RFC 5952 §5: an IPv4-mapped address keeps its dotted tail.
  if (bestStart === 0 && bestLen === 5 && groups[5] === 0xffff) {
    return `::ffff:${bytes[offset + 12]}.${bytes[offset + 13]}.${bytes[offset + 14]}.${bytes[offset + 15]}`;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}

/** Parses IPv6 text (with an optional dotted IPv4 tail) into 16 bytes; null when invalid. */
export function parseIpv6(text: string): Buffer | null {
  if (text.length === 0 || text.length > 45) return null;
  let head = text;
  const out = Buffer.alloc(16);
  let tailV4: number | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) >= 0) {
    tailV4 = parseIpv4(text.slice(lastColon + 1));
    if (tailV4 === null) return null;
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string): number[] | null => {
    if (s === '') return [];
    const groups: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      groups.push(parseInt(g, 16));
    }
    return groups;
  };
  const left = parse(halves[0]);
  const right = halves.length === 2 ? parse(halves[1]) : [];
  if (left === null || right === null) return null;
  const total = left.length + right.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const groups = [...left, ...new Array<number>(8 - total).fill(0), ...right];
  groups.forEach((g, i) => out.writeUInt16BE(g, 2 * i));
  if (tailV4 !== null) out.writeUInt32BE(tailV4, 12);
  return out;
}

/** Parses "addr/len" IPv6 into its canonical text; host bits set or bad syntax give null. */
export function canonicalV6Prefix(text: string): string | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const bytes = parseIpv6(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (bytes === null || !/^\d{1,3}$/.test(lenText)) return null;
  const length = Number(lenText);
  if (length > 128) return null;
  for (let bit = length; bit < 128; bit++) {
    if (bytes[bit >> 3] & (0x80 >> (bit & 7))) return null;
  }
  return `${formatIpv6(bytes)}/${length}`;
}

const EMPTY_V4 = new Float64Array(0);

/** Builds a PrefixList from text prefixes (for tests, config and the CLI; not a hot path). */
export function prefixListFromStrings(
  afi: 1 | 2,
  prefixes: readonly string[],
  pathIds: readonly number[] | null = null,
): PrefixList {
  if (afi === 1) {
    const v4 = new Float64Array(prefixes.length);
    prefixes.forEach((p, i) => {
      const key = parseV4Prefix(p);
      if (key === null) throw new TypeError(`not an IPv4 prefix: ${p}`);
      v4[i] = key;
    });
    return {
      afi,
      length: v4.length,
      v4,
      v6: [],
      pathIds: pathIds ? Uint32Array.from(pathIds) : null,
    };
  }
  const v6 = prefixes.map((p) => {
    const c = canonicalV6Prefix(p);
    if (c === null) throw new TypeError(`not an IPv6 prefix: ${p}`);
    return c;
  });
  return {
    afi,
    length: v6.length,
    v4: EMPTY_V4,
    v6,
    pathIds: pathIds ? Uint32Array.from(pathIds) : null,
  };
}

/** The prefixes of a list as text, in order. */
export function prefixListToStrings(list: PrefixList): string[] {
  if (list.afi === 1) return Array.from(list.v4, formatV4Key);
  return [...list.v6];
}

export function emptyPrefixList(afi: 1 | 2): PrefixList {
  return { afi, length: 0, v4: EMPTY_V4, v6: [], pathIds: null };
}
