// IPv4/IPv6 address and prefix parsing for the kernel layer: canonical text as iproute2 prints it
// (RFC 5952 for IPv6, as inet_ntop), containment and longest-prefix lookups.
// Must not do I/O. Implements RFC 4291 §2.2 (text forms) and RFC 5952 §4 (canonical output).

export type Family = 4 | 6;

export interface Addr {
  family: Family;
  value: bigint;
}

export interface Prefix {
  family: Family;
  /** Network address (host bits zero). */
  value: bigint;
  len: number;
}

const V4_BITS = 32;
const V6_BITS = 128;

export function familyBits(family: Family): number {
  return family === 4 ? V4_BITS : V6_BITS;
}

/** Dotted quad to a 32-bit number; a char-code loop (this runs once per route). */
function parseV4Number(text: string): number | null {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return null;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 3) return null;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return null;
      digits++;
    } else return null;
  }
  if (digits === 0 || dots !== 3) return null;
  return value * 256 + octet;
}

function parseV4(text: string): bigint | null {
  const n = parseV4Number(text);
  return n === null ? null : BigInt(n);
}

function parseV6(text: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return null;
  const dbl = text.indexOf('::');
  if (dbl !== -1 && text.indexOf('::', dbl + 1) !== -1) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const groups = s.split(':');
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = parseV4(g);
        if (v4 === null) return null;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let words: number[];
  if (dbl === -1) {
    const all = parseGroups(text);
    if (all === null || all.length !== 8) return null;
    words = all;
  } else {
    const head = parseGroups(text.slice(0, dbl));
    const tail = parseGroups(text.slice(dbl + 2));
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  let v = 0n;
  for (const w of words) v = (v << 16n) | BigInt(w);
  return v;
}

export function parseAddr(text: string): Addr | null {
  if (text.includes(':')) {
    const value = parseV6(text);
    return value === null ? null : { family: 6, value };
  }
  const value = parseV4(text);
  return value === null ? null : { family: 4, value };
}

function formatV4(v: bigint): string {
  const n = Number(v);
  return `${Math.floor(n / 16777216)}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** RFC 5952 §4.2: compress the longest run (≥ 2) of zero groups, the first one on a tie. */
function formatV6(v: bigint): string {
  const words: number[] = [];
  for (let i = 7; i >= 0; i--) words.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  // inet_ntop prints IPv4-compatible and IPv4-mapped addresses with a dotted tail.
  if (bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
    const head = bestLen === 6 ? '::' : '::ffff:';
    return head + formatV4(v & 0xffffffffn);
  }
  const hex = words.map((w) => w.toString(16));
  if (bestBase === -1) return hex.join(':');
  const head = hex.slice(0, bestBase).join(':');
  const tail = hex.slice(bestBase + bestLen).join(':');
  return `${head}::${tail}`;
}

export function formatAddr(a: Addr): string {
  return a.family === 4 ? formatV4(a.value) : formatV6(a.value);
}

export function canonicalAddr(text: string): string | null {
  const a = parseAddr(text);
  return a === null ? null : formatAddr(a);
}

function mask(family: Family, len: number): bigint {
  const bits = BigInt(familyBits(family));
  const all = (1n << bits) - 1n;
  return len === 0
    ? 0n
    : (all >> BigInt(familyBits(family) - len)) << BigInt(familyBits(family) - len);
}

export type PrefixParse = { ok: true; prefix: Prefix } | { ok: false; error: string };

/**
 * Parses `ADDR/LEN` (or a bare address, meaning a host route). Rejects host bits set, as the
 * kernel does ("Invalid prefix for given prefix length").
 */
export function parsePrefix(text: string, defaultFamily: Family = 4): PrefixParse {
  if (text === 'default') {
    return { ok: true, prefix: { family: defaultFamily, value: 0n, len: 0 } };
  }
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const addr = parseAddr(addrText);
  if (addr === null) return { ok: false, error: `invalid address "${addrText}"` };
  const max = familyBits(addr.family);
  let len = max;
  if (slash !== -1) {
    const lenText = text.slice(slash + 1);
    len = lenText.length >= 1 && lenText.length <= 3 ? Number(lenText) : NaN;
    if (!Number.isInteger(len) || len < 0 || len > max || !/^\d+$/.test(lenText)) {
      return { ok: false, error: `invalid prefix length "${lenText}"` };
    }
  }
  if ((addr.value & mask(addr.family, len)) !== addr.value) {
    return { ok: false, error: `host bits set in ${text}` };
  }
  return { ok: true, prefix: { family: addr.family, value: addr.value, len } };
}

/** Network prefix of an interface address (`192.168.30.71/24` → 192.168.30.0/24). */
export function networkOf(addr: Addr, len: number): Prefix {
  return { family: addr.family, value: addr.value & mask(addr.family, len), len };
}

/** The canonical key iproute2 prints: host routes without `/32` or `/128`. */
export function formatPrefix(p: Prefix): string {
  const a = formatAddr({ family: p.family, value: p.value });
  return p.len === familyBits(p.family) ? a : `${a}/${p.len}`;
}

export function canonicalPrefix(text: string, defaultFamily: Family = 4): string | null {
  const r = parsePrefix(text, defaultFamily);
  return r.ok ? formatPrefix(r.prefix) : null;
}

export function prefixContainsAddr(p: Prefix, a: Addr): boolean {
  return p.family === a.family && (a.value & mask(p.family, p.len)) === p.value;
}

export function prefixContainsPrefix(outer: Prefix, inner: Prefix): boolean {
  return (
    outer.family === inner.family &&
    outer.len <= inner.len &&
    (inner.value & mask(outer.family, outer.len)) === outer.value
  );
}

export function isLinkLocal(a: Addr): boolean {
  return a.family === 6 && a.value >> 118n === 0x3fan;
}

/**
 * Fast path for the common case, an IPv4 prefix already in canonical form ("10.244.5.192/26"):
 * returns the text itself when it is canonical with host bits zero, else null (use parsePrefix).
 * No allocation: this runs once per route of a 100,000-route table.
 */
export function canonicalV4Fast(text: string): string | null {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return null;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      // A leading zero is not canonical ("010"); leave such text to the slow path.
      if (digits === 3 || (digits === 1 && octet === 0)) return null;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return null;
      digits++;
    } else if (c === 47) break;
    else return null;
  }
  if (digits === 0 || dots !== 3 || i === text.length) return null;
  value = value * 256 + octet;
  let len = 0;
  let lenDigits = 0;
  for (i++; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57 || lenDigits === 2 || (lenDigits === 1 && len === 0)) return null;
    len = len * 10 + (c - 48);
    lenDigits++;
  }
  // /32 is printed without its length by iproute2: not canonical here.
  if (lenDigits === 0 || len >= 32) return null;
  const hostBits = 2 ** (32 - len);
  return value % hostBits === 0 ? text : null;
}
