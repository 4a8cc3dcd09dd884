// The lab's topology as data: namespace and interface names, addresses, AS numbers and blocks
// of the two-segment datacenter `podbgp lab` builds. Pure: no I/O, no processes.
// Addressing only (RFC 1918 underlay, RFC 3927 link-local pod gateway); no BGP rules here.

/** The pod pool the lab's blocks come from, as in a default Calico install. */
export const LAB_POOL = '10.244.0.0/16';
export const LAB_BLOCK_SIZE = 26;
/** Every node shares one AS (the iBGP mesh); the ToR has its own. */
export const LAB_NODE_ASN = 64512;
export const LAB_TOR_ASN = 65001;
/** Calico's fixed pod gateway: a link-local address answered by proxy ARP on the node side. */
export const POD_GATEWAY = '169.254.1.1';
export const DEFAULT_PREFIX = 'pbl-';
export const DEFAULT_STATE_DIR = '/run/podbgp-lab';

export interface LabSegment {
  /** `a` or `b`. */
  name: string;
  /** The segment's subnet, e.g. 192.168.101.0/24. */
  subnet: string;
  prefixLength: number;
  /** The bridge in the switch namespace. */
  bridge: string;
  /** The ToR's interface and address on this segment. */
  torIf: string;
  torAddress: string;
  /** The switch-side end of the ToR's veth. */
  torSwitchIf: string;
}

export interface LabPod {
  name: string;
  ns: string;
  address: string;
  /** The veth end in the node namespace (Calico's `caliXXXX`). */
  hostIf: string;
}

export interface LabNode {
  name: string;
  ns: string;
  segment: LabSegment;
  address: string;
  /** The node's own /26 from the pool, announced over BGP. */
  block: string;
  /** The switch-side end of the node's veth. */
  switchIf: string;
  pods: LabPod[];
  configPath: string;
  socketPath: string;
  logPath: string;
}

export interface LabPlan {
  prefix: string;
  stateDir: string;
  switchNs: string;
  torNs: string;
  torRouterId: string;
  segments: LabSegment[];
  nodes: LabNode[];
  /** Every namespace the lab creates, switch and ToR first, pods last. */
  namespaces: string[];
}

export interface PlanOptions {
  prefix?: string;
  stateDir?: string;
  /** Nodes per segment (default 2). */
  nodesPerSegment?: number;
  /** Pods per node (default 2). */
  podsPerNode?: number;
}

/**
 * The lab plan. Segment `a` is 192.168.101.0/24 and `b` is 192.168.102.0/24; the ToR is `.1`
 * on both. Node k (1-based, numbered across segments) is `.10+k` on its segment and owns
 * 10.244.k.0/26, with pods at 10.244.k.10, 10.244.k.11, ...
 */
export function buildPlan(opts: PlanOptions = {}): LabPlan {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
  const perSegment = opts.nodesPerSegment ?? 2;
  const podsPerNode = opts.podsPerNode ?? 2;
  if (perSegment < 1 || perSegment * 2 > 200 || podsPerNode < 1 || podsPerNode > 50) {
    throw new Error('lab size out of range: 1..100 nodes per segment, 1..50 pods per node');
  }
  const segments: LabSegment[] = ['a', 'b'].map((name, i) => ({
    name,
    subnet: `192.168.${101 + i}.0/24`,
    prefixLength: 24,
    bridge: `br-${name}`,
    torIf: `eth-${name}`,
    torAddress: `192.168.${101 + i}.1`,
    torSwitchIf: `tor-${name}`,
  }));
  const nodes: LabNode[] = [];
  let k = 0;
  for (const segment of segments) {
    for (let j = 0; j < perSegment; j++) {
      k++;
      const name = `n${k}`;
      const ns = `${prefix}${name}`;
      const hostOctets = segment.torAddress.split('.').slice(0, 3).join('.');
      const pods: LabPod[] = [];
      for (let p = 1; p <= podsPerNode; p++) {
        pods.push({
          name: `${name}-p${p}`,
          ns: `${ns}-p${p}`,
          address: `10.244.${k}.${9 + p}`,
          hostIf: `cali-p${p}`,
        });
      }
      nodes.push({
        name,
        ns,
        segment,
        address: `${hostOctets}.${10 + k}`,
        block: `10.244.${k}.0/${LAB_BLOCK_SIZE}`,
        switchIf: `sw-${name}`,
        pods,
        configPath: `${stateDir}/${name}.yaml`,
        socketPath: `${stateDir}/${name}.sock`,
        logPath: `${stateDir}/${name}.log`,
      });
    }
  }
  const switchNs = `${prefix}sw`;
  const torNs = `${prefix}tor`;
  return {
    prefix,
    stateDir,
    switchNs,
    torNs,
    torRouterId: segments[0].torAddress,
    segments,
    nodes,
    namespaces: [
      switchNs,
      torNs,
      ...nodes.map((n) => n.ns),
      ...nodes.flatMap((n) => n.pods.map((p) => p.ns)),
    ],
  };
}

/** Every pod of the plan, in node order. */
export function allPods(plan: LabPlan): (LabPod & { node: LabNode })[] {
  return plan.nodes.flatMap((node) => node.pods.map((p) => ({ ...p, node })));
}
