// Prefix containment and prefix lists with ge/le over the RIB's compact keys (IPv4 numbers,
// IPv6 canonical strings). Pure; no knowledge of routes or attributes.
// RFC 4632 §3.1 (prefix notation); ge/le semantics as in common router prefix lists.

import {
  canonicalV6Prefix,
  parseIpv6,
  parseV4Prefix,
  v4KeyAddress,
  v4KeyLength,
} from '../../protocol/prefix.js';
import type { PrefixListEntry } from './types.js';

/** A prefix as a number-line interval (IPv4 in a number, IPv6 in a bigint). */
export interface ParsedPrefix {
  afi: 1 | 2;
  length: number;
  /** IPv4 address (when afi 1). */
  v4: number;
  /** IPv6 address (when afi 2). */
  v6: bigint;
}

function v6ToBigint(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = 0; i < 16; i++) value = (value << 8n) | BigInt(bytes[i]);
  return value;
}

/** Parses "a.b.c.d/n" or "x::/n"; throws a TypeError naming the text when it is not a prefix. */
export function parsePrefix(text: string): ParsedPrefix {
  if (text.includes(':')) {
    const canonical = canonicalV6Prefix(text);
    if (canonical === null) throw new TypeError(`not an IPv6 prefix: ${text}`);
    return fromV6Key(canonical);
  }
  const key = parseV4Prefix(text);
  if (key === null) throw new TypeError(`not an IPv4 prefix: ${text}`);
  return { afi: 1, length: v4KeyLength(key), v4: v4KeyAddress(key), v6: 0n };
}

/** The parsed form of an IPv6 canonical prefix key. */
export function fromV6Key(key: string): ParsedPrefix {
  const slash = key.indexOf('/');
  const bytes = parseIpv6(key.slice(0, slash));
  if (bytes === null) throw new TypeError(`not an IPv6 prefix: ${key}`);
  return { afi: 2, length: Number(key.slice(slash + 1)), v4: 0, v6: v6ToBigint(bytes) };
}

/** True when `outer` covers the prefix (address, length) of the same family. */
export function containsV4(outer: ParsedPrefix, address: number, length: number): boolean {
  if (outer.afi !== 1 || length < outer.length) return false;
  const div = 2 ** (32 - outer.length);
  return Math.floor(address / div) === Math.floor(outer.v4 / div);
}

export function containsV6(outer: ParsedPrefix, address: bigint, length: number): boolean {
  if (outer.afi !== 2 || length < outer.length) return false;
  const shift = BigInt(128 - outer.length);
  return address >> shift === outer.v6 >> shift;
}

/** Whether `outer` covers `inner` (same family, inner at least as long). */
export function contains(outer: ParsedPrefix, inner: ParsedPrefix): boolean {
  return inner.afi === 1
    ? containsV4(outer, inner.v4, inner.length)
    : containsV6(outer, inner.v6, inner.length);
}

/** Whether two prefixes share any address (one covers the other). */
export function overlaps(a: ParsedPrefix, b: ParsedPrefix): boolean {
  return a.afi === b.afi && (contains(a, b) || contains(b, a));
}

/** Turns a RIB key (IPv4 number or IPv6 string) into a ParsedPrefix. */
export function fromKey(afi: 1 | 2, key: number | string): ParsedPrefix {
  if (afi === 1) {
    const k = key as number;
    return { afi: 1, length: v4KeyLength(k), v4: v4KeyAddress(k), v6: 0n };
  }
  return fromV6Key(key as string);
}

interface CompiledEntry {
  prefix: ParsedPrefix;
  ge: number;
  le: number;
  permit: boolean;
}

/** A compiled prefix list: the first line that covers the prefix within ge..le decides. */
export class PrefixList {
  private readonly entries: CompiledEntry[];

  constructor(entries: readonly PrefixListEntry[]) {
    this.entries = entries.map((e) => {
      const prefix = parsePrefix(e.prefix);
      const max = prefix.afi === 1 ? 32 : 128;
      const ge = e.ge ?? prefix.length;
      const le = e.le ?? (e.ge !== undefined ? max : prefix.length);
      if (!(prefix.length <= ge && ge <= le && le <= max)) {
        throw new TypeError(
          `prefix list entry ${e.prefix} ge ${ge} le ${le}: need len <= ge <= le <= ${max}`,
        );
      }
      return { prefix, ge, le, permit: (e.action ?? 'permit') === 'permit' };
    });
  }

  /** True when a permit line matches; a deny line or no line gives false. */
  matches(afi: 1 | 2, key: number | string): boolean {
    if (afi === 1) {
      const k = key as number;
      const address = v4KeyAddress(k);
      const length = v4KeyLength(k);
      for (const e of this.entries) {
        if (length < e.ge || length > e.le) continue;
        if (containsV4(e.prefix, address, length)) return e.permit;
      }
      return false;
    }
    const p = fromV6Key(key as string);
    for (const e of this.entries) {
      if (p.length < e.ge || p.length > e.le) continue;
      if (containsV6(e.prefix, p.v6, p.length)) return e.permit;
    }
    return false;
  }
}
