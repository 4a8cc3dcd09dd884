// Chooses the node's IPv4 or IPv6 address with Calico's autodetection methods and records why
// (method, interface, and the reason every other candidate was skipped). Must not read the
// environment or the host directly: interfaces, routes, DNS and the Node lookup are injected.
import { cidrContains, parseCidr, parseIp, unusableReason, type IpFamily } from './addr.js';
import type {
  HostResolver,
  InterfaceAddress,
  InterfaceSource,
  NetInterface,
  ReachSource,
} from './interfaces.js';
import { formatAutodetectMethod, type AutodetectMethod } from './methods.js';

/**
 * Calico's default exclusions for first-found and skip-interface (Go regexps, unanchored
 * unless written with ^), plus our own devices. tunl0, our IPIP device, is covered by ^tunl.*.
 */
export const DEFAULT_INTERFACE_EXCLUSIONS: readonly string[] = [
  '^docker.*',
  '^cbr.*',
  '^dummy.*',
  '^virbr.*',
  '^lxcbr.*',
  '^veth.*',
  '^lo',
  '^cali.*',
  '^tunl.*',
  '^flannel.*',
  '^kube-ipvs.*',
  '^cni.*',
  '^vxlan\\.calico.*',
  '^vxlan-v6\\.calico.*',
  '^wireguard\\.cali.*',
  '^wg-v6\\.cali.*',
  '^nodelocaldns.*',
  '^podbgp.*',
];

export interface DetectedAddress {
  family: IpFamily;
  address: string;
  prefixLength: number;
  /** `address/prefixLength`, host bits kept (e.g. 192.168.30.71/24). */
  cidr: string;
  /** The interface holding the address, or null when none does (e.g. an InternalIP not on the host). */
  interface: string | null;
}

export interface Candidate {
  interface: string;
  /** `address/len`, absent when the entry is about the interface as a whole. */
  address?: string;
  verdict: 'chosen' | 'skipped';
  reason: string;
}

export interface AutodetectDecision {
  family: IpFamily;
  /** The method as written (or `static` for an explicit address). */
  method: string;
  result: DetectedAddress | null;
  candidates: Candidate[];
  /** One line for logs and `show node`. */
  summary: string;
}

export type AutodetectOutcome =
  | { ok: true; address: DetectedAddress; decision: AutodetectDecision }
  | { ok: false; error: string; decision: AutodetectDecision };

export interface AutodetectDeps {
  interfaces: InterfaceSource;
  /** For can-reach. */
  reach?: ReachSource;
  /** For can-reach with a host name. */
  resolve?: HostResolver;
  /** For kubernetes-internal-ip: the Node's status.addresses of type InternalIP. */
  kubernetesInternalIps?: () => Promise<string[]>;
}

const isHostPrefix = (a: InterfaceAddress): boolean =>
  a.prefixLength === (a.family === 4 ? 32 : 128);
const cidrOf = (a: InterfaceAddress): string => `${a.address}/${a.prefixLength}`;
const fam = (f: IpFamily): string => `IPv${f}`;

function toDetected(iface: string | null, a: InterfaceAddress): DetectedAddress {
  return {
    family: a.family,
    address: a.address,
    prefixLength: a.prefixLength,
    cidr: cidrOf(a),
    interface: iface,
  };
}

/**
 * Picks one address of `family` on an interface. Unusable addresses are skipped. Among the
 * usable ones, the kernel's order decides, except that a primary address with a real subnet
 * beats a secondary address, and both beat a host prefix (/32, /128): a keepalived VIP is
 * added as a /32 beside the node's own address and must never become the node address
 * (Calico #5094). The kernel lists it first whenever the primary was re-added later (DHCP).
 */
function pickOnInterface(
  iface: NetInterface,
  family: IpFamily,
  accept: (a: InterfaceAddress) => string | null,
): { chosen: InterfaceAddress | null; entries: Candidate[] } {
  const entries: Candidate[] = [];
  const usable: InterfaceAddress[] = [];
  const ofFamily = iface.addresses.filter((a) => a.family === family);
  if (!iface.up) {
    return {
      chosen: null,
      entries: [{ interface: iface.name, verdict: 'skipped', reason: 'interface is down' }],
    };
  }
  if (ofFamily.length === 0) {
    return {
      chosen: null,
      entries: [{ interface: iface.name, verdict: 'skipped', reason: `no ${fam(family)} address` }],
    };
  }
  for (const a of ofFamily) {
    const ip = parseIp(a.address);
    const why =
      (ip && unusableReason(ip)) ??
      (a.scope === 'host' || a.scope === 'link' ? `scope ${a.scope}` : null) ??
      (a.tentative ? 'tentative (duplicate address detection not finished)' : null) ??
      (a.dadfailed ? 'duplicate address detection failed' : null) ??
      (a.deprecated ? 'deprecated (preferred lifetime expired)' : null) ??
      accept(a);
    if (why !== null)
      entries.push({ interface: iface.name, address: cidrOf(a), verdict: 'skipped', reason: why });
    else usable.push(a);
  }
  const rank = (a: InterfaceAddress): number => (isHostPrefix(a) ? 2 : a.secondary ? 1 : 0);
  let chosen: InterfaceAddress | null = null;
  for (const a of usable) if (chosen === null || rank(a) < rank(chosen)) chosen = a;
  for (const a of usable) {
    if (a === chosen || chosen === null) continue;
    const reason =
      isHostPrefix(a) && !isHostPrefix(chosen)
        ? `host prefix /${a.prefixLength}, likely a VIP (e.g. keepalived); preferring ${cidrOf(chosen)} on the same interface`
        : a.secondary && !chosen.secondary
          ? `secondary address; preferring primary ${cidrOf(chosen)}`
          : `${cidrOf(chosen)} comes first on this interface`;
    entries.push({ interface: iface.name, address: cidrOf(a), verdict: 'skipped', reason });
  }
  if (chosen !== null) {
    entries.unshift({
      interface: iface.name,
      address: cidrOf(chosen),
      verdict: 'chosen',
      reason: 'first usable address',
    });
  }
  return { chosen, entries };
}

function compile(patterns: readonly string[]): { source: string; re: RegExp }[] {
  return patterns.map((source) => ({ source, re: new RegExp(source) }));
}

/** Walks interfaces in order; the first with a usable address wins. */
function firstUsable(
  ifaces: NetInterface[],
  family: IpFamily,
  exclude: { source: string; re: RegExp }[],
  accept: (a: InterfaceAddress) => string | null,
  candidates: Candidate[],
): { iface: NetInterface; addr: InterfaceAddress } | null {
  let found: { iface: NetInterface; addr: InterfaceAddress } | null = null;
  for (const iface of ifaces) {
    if (found !== null) {
      candidates.push({
        interface: iface.name,
        verdict: 'skipped',
        reason: `comes after ${found.iface.name} in interface order`,
      });
      continue;
    }
    const hit = exclude.find((e) => e.re.test(iface.name));
    if (hit) {
      candidates.push({
        interface: iface.name,
        verdict: 'skipped',
        reason: `excluded by ${hit.source}`,
      });
      continue;
    }
    const r = pickOnInterface(iface, family, accept);
    candidates.push(...r.entries);
    if (r.chosen) found = { iface, addr: r.chosen };
  }
  return found;
}

/** Finds the interface holding exactly `address` (any interface, as Calico's GetLocalCIDR). */
export function findLocalAddress(
  ifaces: NetInterface[],
  address: string,
): { iface: NetInterface; addr: InterfaceAddress } | null {
  const ip = parseIp(address);
  if (ip === null) return null;
  for (const iface of ifaces) {
    for (const addr of iface.addresses) if (addr.address === ip.text) return { iface, addr };
  }
  return null;
}

function done(
  family: IpFamily,
  method: string,
  candidates: Candidate[],
  found: { iface: string | null; addr: InterfaceAddress } | null,
  failure: string,
  how: string,
): AutodetectOutcome {
  if (found === null) {
    const summary = `no ${fam(family)} address found by ${method}: ${failure}`;
    return {
      ok: false,
      error: summary,
      decision: { family, method, result: null, candidates, summary },
    };
  }
  const address = toDetected(found.iface, found.addr);
  const where = found.iface ? ` on ${found.iface}` : '';
  const summary = `${fam(family)} ${address.cidr}${where} by ${method}${how ? ` (${how})` : ''}`;
  return { ok: true, address, decision: { family, method, result: address, candidates, summary } };
}

/** Runs one autodetection method for one family. Never throws for a lookup failure: it reports. */
export async function autodetectAddress(
  method: AutodetectMethod,
  family: IpFamily,
  deps: AutodetectDeps,
): Promise<AutodetectOutcome> {
  const text = formatAutodetectMethod(method);
  const candidates: Candidate[] = [];
  const fail = (error: string): AutodetectOutcome =>
    done(family, text, candidates, null, error, '');
  let ifaces: NetInterface[];
  try {
    ifaces = await deps.interfaces();
  } catch (err) {
    return fail(`cannot list interfaces: ${(err as Error).message}`);
  }
  const acceptAll = (): null => null;

  switch (method.kind) {
    case 'first-found': {
      const found = firstUsable(
        ifaces,
        family,
        compile(DEFAULT_INTERFACE_EXCLUSIONS),
        acceptAll,
        candidates,
      );
      return done(
        family,
        text,
        candidates,
        found && { iface: found.iface.name, addr: found.addr },
        'every interface is excluded, down, or has no usable address',
        '',
      );
    }
    case 'skip-interface': {
      const exclude = [...compile(method.patterns), ...compile(DEFAULT_INTERFACE_EXCLUSIONS)];
      const found = firstUsable(ifaces, family, exclude, acceptAll, candidates);
      return done(
        family,
        text,
        candidates,
        found && { iface: found.iface.name, addr: found.addr },
        'every interface is skipped, excluded, down, or has no usable address',
        '',
      );
    }
    case 'interface': {
      // The patterns are tried in the order written; within one pattern, interface order.
      const patterns = compile(method.patterns);
      const examined = new Set<string>();
      let found: { iface: NetInterface; addr: InterfaceAddress; pattern: string } | null = null;
      for (const p of patterns) {
        for (const iface of ifaces) {
          if (examined.has(iface.name) || !p.re.test(iface.name)) continue;
          examined.add(iface.name);
          if (found !== null) {
            candidates.push({
              interface: iface.name,
              verdict: 'skipped',
              reason: `matches ${p.source}, but ${found.iface.name} (matching ${found.pattern}) was found first`,
            });
            continue;
          }
          const r = pickOnInterface(iface, family, acceptAll);
          candidates.push(...r.entries);
          if (r.chosen) found = { iface, addr: r.chosen, pattern: p.source };
        }
      }
      for (const iface of ifaces) {
        if (!examined.has(iface.name)) {
          candidates.push({
            interface: iface.name,
            verdict: 'skipped',
            reason: `name matches none of ${method.patterns.join(', ')}`,
          });
        }
      }
      return done(
        family,
        text,
        candidates,
        found && { iface: found.iface.name, addr: found.addr },
        'no matching interface has a usable address',
        found ? `matched ${found.pattern}` : '',
      );
    }
    case 'cidr': {
      // Calico applies no name exclusions to cidr=: the address decides.
      const list = method.cidrs.map((c) => `${c.address.text}/${c.prefixLength}`).join(', ');
      const accept = (a: InterfaceAddress): string | null => {
        const ip = parseIp(a.address);
        return ip && method.cidrs.some((c) => cidrContains(c, ip)) ? null : `not inside ${list}`;
      };
      const found = firstUsable(ifaces, family, [], accept, candidates);
      return done(
        family,
        text,
        candidates,
        found && { iface: found.iface.name, addr: found.addr },
        `no interface has a usable address inside ${list}`,
        '',
      );
    }
    case 'can-reach': {
      if (!deps.reach) return fail('no route lookup was provided (can-reach needs one)');
      let destination = method.target;
      if (!method.targetIsIp) {
        if (!deps.resolve) return fail(`cannot resolve ${method.target}: no resolver was provided`);
        try {
          const addrs = await deps.resolve(method.target, family);
          if (addrs.length === 0) return fail(`${method.target} has no ${fam(family)} address`);
          destination = addrs[0];
        } catch (err) {
          return fail(`cannot resolve ${method.target}: ${(err as Error).message}`);
        }
      }
      let source: string;
      try {
        source = await deps.reach(destination, family);
      } catch (err) {
        return fail(`no route toward ${destination}: ${(err as Error).message}`);
      }
      const local = findLocalAddress(ifaces, source);
      for (const iface of ifaces) {
        if (local && iface.name === local.iface.name) continue;
        candidates.push({
          interface: iface.name,
          verdict: 'skipped',
          reason: `the kernel's route toward ${destination} does not use it`,
        });
      }
      if (local === null) {
        return fail(
          `the kernel chose source ${source} toward ${destination}, but no interface holds that address`,
        );
      }
      candidates.unshift({
        interface: local.iface.name,
        address: cidrOf(local.addr),
        verdict: 'chosen',
        reason: `source address of the route toward ${destination}`,
      });
      const via =
        destination === method.target
          ? `toward ${destination}`
          : `toward ${method.target} = ${destination}`;
      return done(
        family,
        text,
        candidates,
        { iface: local.iface.name, addr: local.addr },
        '',
        `route source ${via}`,
      );
    }
    case 'kubernetes-internal-ip': {
      if (!deps.kubernetesInternalIps)
        return fail('the Kubernetes Node lookup is not available (is kubernetes.enabled false?)');
      let ips: string[];
      try {
        ips = await deps.kubernetesInternalIps();
      } catch (err) {
        return fail(`cannot read the Node's InternalIP: ${(err as Error).message}`);
      }
      const ip = ips.map((s) => parseIp(s)).find((p) => p !== null && p.family === family);
      if (!ip)
        return fail(
          `the Node has no ${fam(family)} InternalIP (it has: ${ips.join(', ') || 'none'})`,
        );
      return resolveWithInterfaces(
        ifaces,
        ip.text,
        null,
        family,
        text,
        candidates,
        'the Node InternalIP',
      );
    }
  }
}

function resolveWithInterfaces(
  ifaces: NetInterface[],
  address: string,
  prefixLength: number | null,
  family: IpFamily,
  method: string,
  candidates: Candidate[],
  what: string,
): AutodetectOutcome {
  const local = findLocalAddress(ifaces, address);
  const len = prefixLength ?? local?.addr.prefixLength ?? (family === 4 ? 32 : 128);
  const addr: InterfaceAddress = {
    family,
    address,
    prefixLength: len,
    scope: 'global',
    secondary: false,
    tentative: false,
    dadfailed: false,
    deprecated: false,
  };
  let how: string;
  if (local) {
    candidates.push({
      interface: local.iface.name,
      address: `${address}/${len}`,
      verdict: 'chosen',
      reason: `holds ${what}`,
    });
    how = prefixLength === null ? `prefix length taken from ${local.iface.name}` : '';
  } else {
    how =
      prefixLength === null
        ? `not on any local interface; using host prefix /${len}`
        : 'not on any local interface';
  }
  return done(
    family,
    method,
    candidates,
    { iface: local ? local.iface.name : null, addr },
    '',
    how,
  );
}

/**
 * An address given explicitly (IP=, node.ipv4.address). Without a prefix length, the length is
 * taken from the interface that holds the address, else the host prefix, as Calico does.
 */
export async function resolveStaticAddress(
  text: string,
  family: IpFamily,
  interfaces: InterfaceSource,
): Promise<AutodetectOutcome> {
  const cidr = parseCidr(text);
  const ip = cidr ? cidr.address : parseIp(text);
  const candidates: Candidate[] = [];
  if (ip === null || ip.family !== family) {
    const summary = `${text} is not an ${fam(family)} address`;
    return {
      ok: false,
      error: summary,
      decision: { family, method: 'static', result: null, candidates, summary },
    };
  }
  let ifaces: NetInterface[] = [];
  try {
    ifaces = await interfaces();
  } catch {
    // Without an interface list, an explicit prefix still works; a bare address gets /32 or /128.
  }
  return resolveWithInterfaces(
    ifaces,
    ip.text,
    cidr ? cidr.prefixLength : null,
    family,
    'static',
    candidates,
    'the configured address',
  );
}
