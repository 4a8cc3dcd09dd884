// Test-only topologies: N namespaces joined point-to-point by veth pairs with documentation-range
// addresses (RFC 5737 203.0.113.0/24, RFC 3849 2001:db8::/32). Must not use addresses a real
// network could route. No BGP RFC: test plumbing.
import { Cleanup, createNetns, createVeth, disableDad, linkLocalOf, uniqueName } from './netns.js';

export interface LinkEnd {
  ns: string;
  dev: string;
  /** IPv4 address without prefix length. */
  v4: string;
  /** Global IPv6 address without prefix length. */
  v6: string;
  /** IPv6 link-local address of `dev`. */
  linkLocal: string;
}

export interface Link {
  a: LinkEnd;
  b: LinkEnd;
}

/** Addresses of point-to-point link number `index` (0-31): a is .1 / ::1, b is .2 / ::2. */
export function linkAddresses(index: number): {
  a: { v4: string; v6: string };
  b: { v4: string; v6: string };
} {
  if (index < 0 || index > 31) throw new Error('link index must be 0..31');
  const base = index * 8;
  return {
    a: { v4: `203.0.113.${base + 1}`, v6: `2001:db8:${(index + 1).toString(16)}::1` },
    b: { v4: `203.0.113.${base + 2}`, v6: `2001:db8:${(index + 1).toString(16)}::2` },
  };
}

/** Creates a namespace named PREFIX + random suffix, with DAD off so IPv6 is usable at once. */
export async function makeNode(cleanup: Cleanup, prefix: string): Promise<string> {
  const ns = await createNetns(cleanup, uniqueName(prefix));
  await disableDad(ns);
  return ns;
}

/** Joins two namespaces with a veth pair carrying link `index`'s IPv4 /29 and IPv6 /64. */
export async function connect(
  cleanup: Cleanup,
  nsA: string,
  nsB: string,
  index: number,
  devPrefix = 'veth',
): Promise<Link> {
  const addrs = linkAddresses(index);
  const devA = uniqueName(`${devPrefix.slice(0, 6)}a`);
  const devB = uniqueName(`${devPrefix.slice(0, 6)}b`);
  await createVeth(
    cleanup,
    { ns: nsA, name: devA, addresses: [`${addrs.a.v4}/29`, `${addrs.a.v6}/64`] },
    { ns: nsB, name: devB, addresses: [`${addrs.b.v4}/29`, `${addrs.b.v6}/64`] },
  );
  return {
    a: { ns: nsA, dev: devA, ...addrs.a, linkLocal: await linkLocalOf(nsA, devA) },
    b: { ns: nsB, dev: devB, ...addrs.b, linkLocal: await linkLocalOf(nsB, devB) },
  };
}

/** Two fresh namespaces joined by link 0. */
export async function pair(cleanup: Cleanup, prefix: string): Promise<Link> {
  const a = await makeNode(cleanup, `${prefix}a`);
  const b = await makeNode(cleanup, `${prefix}b`);
  return connect(cleanup, a, b, 0, prefix);
}
