// Names iproute2 uses for routing tables and route protocols, so a configured `bgp`/`186` and
// `main`/`254` compare equal to what `ip route` and `ip monitor` print.
// Must not read files or run commands: the well-known values are rtnetlink constants.

// include/uapi/linux/rtnetlink.h: RT_TABLE_* and RTPROT_*, and iproute2's etc/iproute2/rt_protos.
const TABLES: Record<string, number> = { default: 253, main: 254, local: 255 };
const PROTOCOLS: Record<string, number> = {
  unspec: 0,
  redirect: 1,
  kernel: 2,
  boot: 3,
  static: 4,
  gated: 8,
  ra: 9,
  mrt: 10,
  zebra: 11,
  bird: 12,
  dnrouted: 13,
  xorp: 14,
  ntk: 15,
  dhcp: 16,
  keepalived: 18,
  babel: 42,
  openr: 99,
  bgp: 186,
  isis: 187,
  ospf: 188,
  rip: 189,
  eigrp: 192,
};

const memo = new Map<string, string>();

function normalize(value: string | number, names: Record<string, number>): string {
  const memoKey = `${names === TABLES ? 't' : 'p'}:${value}`;
  const hit = memo.get(memoKey);
  if (hit !== undefined) return hit;
  const out = normalizeUncached(value, names);
  if (memo.size < 1024) memo.set(memoKey, out);
  return out;
}

function normalizeUncached(value: string | number, names: Record<string, number>): string {
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return String(Number(text));
  const n = names[text];
  return n === undefined ? text : String(n);
}

/** `main` and `254` both normalize to `254`; unknown names stay as they are. */
export function normalizeTable(value: string | number): string {
  return normalize(value, TABLES);
}

export function normalizeProtocol(value: string | number): string {
  return normalize(value, PROTOCOLS);
}

/** The spelling we put on `ip` command lines: the well-known name when there is one. */
export function spellTable(value: string | number): string {
  const n = normalizeTable(value);
  const name = Object.keys(TABLES).find((k) => String(TABLES[k]) === n);
  return name ?? n;
}

export function spellProtocol(value: string | number): string {
  const n = normalizeProtocol(value);
  const name = Object.keys(PROTOCOLS).find((k) => String(PROTOCOLS[k]) === n);
  return name ?? n;
}

export function isMainTable(value: string | number): boolean {
  return normalizeTable(value) === String(TABLES.main);
}
