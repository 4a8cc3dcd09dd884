// The iproute2 and sysctl steps that build the lab's namespaces, links and addresses, as
// data (batch lines per namespace). Pure: the caller runs them. Must not touch BGP or routes
// that podbgp owns. Pod wiring as Calico does it: /32 in the pod, host route per pod, proxy ARP
// answering for the RFC 3927 link-local gateway 169.254.1.1.

import { POD_GATEWAY, type LabPlan } from './plan.js';

export interface TopologySteps {
  /** `ip netns add` for each, in order. */
  namespaces: string[];
  /** `ip -batch -` lines run in the caller's namespace: the veth pairs between namespaces. */
  links: string[];
  /** `ip -n NS -batch -` lines per namespace, run after `links`. */
  perNamespace: Map<string, string[]>;
  /** `sysctl -w` assignments per namespace, run last (per-interface keys need the links). */
  sysctls: Map<string, string[]>;
}

export function topologySteps(plan: LabPlan): TopologySteps {
  const links: string[] = [];
  const perNamespace = new Map<string, string[]>();
  const sysctls = new Map<string, string[]>();
  const add = (ns: string, ...lines: string[]) => {
    const list = perNamespace.get(ns) ?? [];
    list.push(...lines);
    perNamespace.set(ns, list);
  };
  const routerSysctls = [
    'net.ipv4.ip_forward=1',
    'net.ipv4.conf.all.rp_filter=0',
    'net.ipv4.conf.default.rp_filter=0',
  ];

  // The switch namespace: one bridge per segment (an L2 segment each).
  add(plan.switchNs, 'link set lo up');
  for (const s of plan.segments) {
    add(plan.switchNs, `link add ${s.bridge} type bridge`, `link set ${s.bridge} up`);
  }

  // The ToR: one leg on each segment, routing between them.
  add(plan.torNs, 'link set lo up');
  for (const s of plan.segments) {
    links.push(
      `link add ${s.torSwitchIf} netns ${plan.switchNs} type veth peer name ${s.torIf} netns ${plan.torNs}`,
    );
    add(
      plan.switchNs,
      `link set ${s.torSwitchIf} master ${s.bridge}`,
      `link set ${s.torSwitchIf} up`,
    );
    add(
      plan.torNs,
      `addr add ${s.torAddress}/${s.prefixLength} dev ${s.torIf}`,
      `link set ${s.torIf} up`,
    );
  }
  sysctls.set(plan.torNs, [...routerSysctls]);

  for (const n of plan.nodes) {
    links.push(
      `link add ${n.switchIf} netns ${plan.switchNs} type veth peer name eth0 netns ${n.ns}`,
    );
    add(
      plan.switchNs,
      `link set ${n.switchIf} master ${n.segment.bridge}`,
      `link set ${n.switchIf} up`,
    );
    // The node's uplink; the default route to the ToR is static (not podbgp's), so the iBGP
    // sessions to the other segment have a path.
    add(
      n.ns,
      'link set lo up',
      `addr add ${n.address}/${n.segment.prefixLength} dev eth0`,
      'link set eth0 up',
      `route add default via ${n.segment.torAddress} dev eth0`,
    );
    const nodeSysctls = [...routerSysctls];
    for (const p of n.pods) {
      links.push(`link add ${p.hostIf} netns ${n.ns} type veth peer name eth0 netns ${p.ns}`);
      // Calico: the host side has no address; a /32 host route points at the veth.
      add(n.ns, `link set ${p.hostIf} up`, `route add ${p.address}/32 dev ${p.hostIf} scope link`);
      // Calico: the pod has a /32 and reaches everything through 169.254.1.1, which the host
      // side answers by proxy ARP.
      add(
        p.ns,
        'link set lo up',
        `addr add ${p.address}/32 dev eth0`,
        'link set eth0 up',
        `route add ${POD_GATEWAY} dev eth0 scope link`,
        `route add default via ${POD_GATEWAY} dev eth0`,
      );
      nodeSysctls.push(
        `net.ipv4.conf.${p.hostIf}.proxy_arp=1`,
        `net.ipv4.neigh.${p.hostIf}.proxy_delay=0`,
      );
    }
    sysctls.set(n.ns, nodeSysctls);
  }
  return { namespaces: plan.namespaces, links, perNamespace, sysctls };
}
