// IPv4 prefixes as numbers: key = address * 64 + length (address unsigned 32-bit, host bits
// zero, length 0..32). Parse and print them without allocating on the hot path.
// Must not do I/O. Text forms as RFC 4632 §3.1 (dotted quad / length) and iproute2 prints them.

/** The largest key plus one: 2^32 * 64. */
const KEY_LIMIT = 4294967296 * 64;

/** The key of an IPv4 prefix (`address` is the network address, host bits zero). */
export function v4PrefixKey(address: number, length: number): number {
  if (!Number.isInteger(address) || address < 0 || address > 0xffffffff) {
    throw new RangeError(`not an unsigned 32-bit IPv4 address: ${address}`);
  }
  if (!Number.isInteger(length) || length < 0 || length > 32) {
    throw new RangeError(`not an IPv4 prefix length: ${length}`);
  }
  return address * 64 + length;
}

/** Addresses in a prefix of each length. */
const SIZES = Float64Array.from({ length: 33 }, (_, len) => 2 ** (32 - len));

/** Whether a number is a well-formed key (integer, length <= 32, host bits zero). */
export function isV4PrefixKey(key: number): boolean {
  if (!(key >= 0 && key < KEY_LIMIT)) return false;
  // Divisions and floors, not `%`: a floating-point remainder is a slow library call, and this
  // runs for every route the RIB hands over. A fractional key leaves a fractional length.
  const addr = Math.floor(key / 64);
  const len = key - addr * 64;
  if (len > 32 || !Number.isInteger(len)) return false;
  const size = SIZES[len];
  return Math.floor(addr / size) * size === addr;
}

export function v4KeyAddress(key: number): number {
  return Math.floor(key / 64);
}

export function v4KeyLength(key: number): number {
  return key - Math.floor(key / 64) * 64;
}

function dotted(a: number): string {
  return `${Math.floor(a / 16777216)}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** `10.244.5.192/26`; a host route keeps its `/32`. */
export function formatV4PrefixKey(key: number): string {
  return `${dotted(Math.floor(key / 64))}/${v4KeyLength(key)}`;
}

/** The text iproute2 prints (and the key of status and drift reports): `/32` left out. */
export function canonicalV4Text(key: number): string {
  const len = v4KeyLength(key);
  const a = dotted(Math.floor(key / 64));
  return len === 32 ? a : `${a}/${len}`;
}

/**
 * Parses an IPv4 prefix (`A.B.C.D/LEN`, or a bare address meaning /32) from `text[from, to)`
 * into a key, without allocating. Returns -1 for anything else (including host bits set), so
 * the caller can fall back to the slow parser for an error message. Accepts what the slow
 * parser accepts: up to three digits per octet, a length of one to three digits.
 */
export function parseV4Key(text: string, from = 0, to = text.length): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  let i = from;
  for (; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 3) return -1;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
      digits++;
    } else if (c === 47) break;
    else return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  value = value * 256 + octet;
  let len = 32;
  if (i < to) {
    len = 0;
    let lenDigits = 0;
    for (i++; i < to; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57 || lenDigits === 3) return -1;
      len = len * 10 + (c - 48);
      lenDigits++;
    }
    if (lenDigits === 0 || len > 32) return -1;
  }
  if (len < 32 && value % 2 ** (32 - len) !== 0) return -1;
  return value * 64 + len;
}

/** Whether a v4 prefix (`net` / `len`, as numbers) contains the address `addr`. */
export function v4Contains(net: number, len: number, addr: number): boolean {
  if (len === 0) return true;
  const shift = 32 - len;
  return Math.floor(addr / 2 ** shift) === Math.floor(net / 2 ** shift);
}

/** Writes the canonical text of a key (no `/32`) as ASCII into `buf` at `at`; returns the end. */
export function writeV4Text(buf: Uint8Array, at: number, key: number): number {
  const len = key % 64;
  const a = Math.floor(key / 64);
  at = writeOctet(buf, at, Math.floor(a / 16777216));
  buf[at++] = 46;
  at = writeOctet(buf, at, (a >>> 16) & 255);
  buf[at++] = 46;
  at = writeOctet(buf, at, (a >>> 8) & 255);
  buf[at++] = 46;
  at = writeOctet(buf, at, a & 255);
  if (len !== 32) {
    buf[at++] = 47;
    at = writeOctet(buf, at, len);
  }
  return at;
}

function writeOctet(buf: Uint8Array, at: number, n: number): number {
  if (n >= 100) {
    buf[at++] = 48 + Math.floor(n / 100);
    buf[at++] = 48 + (Math.floor(n / 10) % 10);
  } else if (n >= 10) buf[at++] = 48 + Math.floor(n / 10);
  buf[at++] = 48 + (n % 10);
  return at;
}
