// Fake hosts for autodetection table tests: the nodes vms71 and vms72, built from the
// interface lists an operator would see, and a route-source fake that follows the kernel's
// rule (longest matching connected prefix, else the default route's interface).
import { cidrContains, parseCidr, parseIp, type IpFamily } from '../../src/node/addr.js';
import type { InterfaceAddress, NetInterface, ReachSource } from '../../src/node/interfaces.js';

export function addr(cidr: string, extra: Partial<InterfaceAddress> = {}): InterfaceAddress {
  const c = parseCidr(cidr);
  if (!c) throw new Error(`bad fixture ${cidr}`);
  const loopback = c.family === 4 ? cidr.startsWith('127.') : c.address.text === '::1';
  const linkLocal = c.family === 6 && c.address.text.startsWith('fe80:');
  return {
    family: c.family,
    address: c.address.text,
    prefixLength: c.prefixLength,
    scope: loopback ? 'host' : linkLocal ? 'link' : 'global',
    secondary: false,
    tentative: false,
    dadfailed: false,
    deprecated: false,
    ...extra,
  };
}

export function iface(
  index: number,
  name: string,
  addresses: InterfaceAddress[],
  up = true,
): NetInterface {
  return { name, index, up, addresses };
}

const lo = (): NetInterface => iface(1, 'lo', [addr('127.0.0.1/8'), addr('::1/128')]);

/** vms71: ens32 192.168.26.71/24, ens33 192.168.30.71/24, plus the usual clutter. */
export function vms71(): NetInterface[] {
  return [
    lo(),
    iface(2, 'ens32', [
      addr('192.168.26.71/24'),
      addr('2001:db8:26::71/64'),
      addr('fe80::71:1/64'),
    ]),
    iface(3, 'ens33', [
      addr('192.168.30.71/24'),
      addr('2001:db8:30::71/64'),
      addr('fe80::71:2/64'),
    ]),
    iface(4, 'docker0', [addr('172.17.0.1/16')]),
    iface(5, 'tunl0', [addr('10.244.118.192/32')]),
    iface(6, 'cali1234567890a', [addr('fe80::ecee:eeff:feee:eeee/64')]),
  ];
}

/** vms72: eth0 192.168.30.72/24, eth1 192.168.26.72/24. */
export function vms72(): NetInterface[] {
  return [
    lo(),
    iface(2, 'eth0', [addr('192.168.30.72/24'), addr('2001:db8:30::72/64'), addr('fe80::72:1/64')]),
    iface(3, 'eth1', [addr('192.168.26.72/24'), addr('2001:db8:26::72/64'), addr('fe80::72:2/64')]),
    iface(4, 'vethabc', [addr('169.254.1.1/32')]),
  ];
}

/**
 * The kernel's source selection for a destination: the interface with the longest connected
 * prefix containing it supplies its first primary address; otherwise the default route's.
 */
export function kernelLikeReach(ifaces: NetInterface[], defaultIface: string | null): ReachSource {
  return async (destination: string, family: IpFamily) => {
    const ip = parseIp(destination);
    if (!ip || ip.family !== family) throw new Error(`EAFNOSUPPORT ${destination}`);
    let best: { len: number; address: string } | null = null;
    for (const i of ifaces) {
      for (const a of i.addresses) {
        if (a.family !== family || a.scope !== 'global') continue;
        const net = parseCidr(`${a.address}/${a.prefixLength}`);
        if (net && cidrContains(net, ip) && (!best || a.prefixLength > best.len))
          best = { len: a.prefixLength, address: a.address };
      }
    }
    if (best) return best.address;
    const d = ifaces.find((i) => i.name === defaultIface);
    const src = d?.addresses.find((a) => a.family === family && a.scope === 'global');
    if (!src) throw new Error('ENETUNREACH');
    return src.address;
  };
}
