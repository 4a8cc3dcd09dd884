// Parsers for the small textual values of the config file: communities, large communities,
// host:port pairs and object names. Pure; no schema, no file access.
// RFC 1997 (communities and their well-known values), RFC 8092 (large communities).

/** Well-known communities by the names operators write (RFC 1997 §3, RFC 3765, RFC 7999, RFC 8326). */
export const WELL_KNOWN_COMMUNITIES: Readonly<Record<string, number>> = {
  'graceful-shutdown': 0xffff0000, // RFC 8326 §5
  blackhole: 0xffff029a, // RFC 7999 §5
  'no-export': 0xffffff01, // RFC 1997 §3
  'no-advertise': 0xffffff02, // RFC 1997 §3
  'no-export-subconfed': 0xffffff03, // RFC 1997 §3
  'no-peer': 0xffffff04, // RFC 3765 §4
};

/** `ASN:VALUE` with two 16-bit halves (RFC 1997 §2), or a well-known name. Returns the 32-bit value. */
export function parseCommunity(text: string): number | null {
  const named = WELL_KNOWN_COMMUNITIES[text.toLowerCase()];
  if (named !== undefined) return named;
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const hi = Number(m[1]);
  const lo = Number(m[2]);
  if (hi > 0xffff || lo > 0xffff) return null;
  return hi * 0x10000 + lo;
}

export interface LargeCommunity {
  globalAdmin: number;
  localData1: number;
  localData2: number;
}

/** `GLOBAL:LOCAL1:LOCAL2`, three unsigned 32-bit integers (RFC 8092 §3). */
export function parseLargeCommunity(text: string): LargeCommunity | null {
  const m = /^(\d{1,10}):(\d{1,10}):(\d{1,10})$/.exec(text);
  if (!m) return null;
  const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (a > 0xffffffff || b > 0xffffffff || c > 0xffffffff) return null;
  return { globalAdmin: a, localData1: b, localData2: c };
}

export interface HostPort {
  host: string;
  port: number;
}

/** `HOST:PORT` or `[IPV6]:PORT`. */
export function parseHostPort(text: string): HostPort | null {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]*):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1], port };
}

/** Names of policies and prefix lists: a DNS label-like token, as Kubernetes object names. */
export const NAME_RE = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;

/** Kubernetes node names are DNS subdomains (RFC 1123), lower case. */
export const NODE_NAME_RE =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
