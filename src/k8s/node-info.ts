// Reads what podbgp needs from a Kubernetes Node object: BGP addresses, ASN, reflector role, blocks.
// Pure: takes the V1Node-shaped object, returns plain data plus warnings; never calls the API.
// RFC 4456 §7 (CLUSTER_ID is a 4-octet value, written here as a dotted quad).
import { isIP } from 'node:net';
import {
  ANNOTATION_ASN,
  ANNOTATION_IPV4,
  ANNOTATION_IPV6,
  ANNOTATION_RR_CLUSTER_ID,
  LABEL_ROUTE_REFLECTOR,
  type AddressFamily,
} from './types.js';

/** The subset of V1Node that podbgp reads. Structurally compatible with client-node's V1Node. */
export interface NodeObject {
  metadata?: {
    name?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: { podCIDR?: string; podCIDRs?: string[] };
  status?: { addresses?: Array<{ type: string; address: string }> };
}

export interface NodeAddress {
  /** Bare IP address. */
  ip: string;
  /** Prefix length from the annotation; absent when it came from InternalIP. */
  prefixLength?: number;
  /** Where the address came from. */
  from: 'annotation' | 'internal-ip';
}

export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  addresses: Partial<Record<AddressFamily, NodeAddress>>;
  /** podbgp.io/asn, else the global ASN. */
  asn: number;
  routeReflector: boolean;
  clusterId?: string;
  /** spec.podCIDRs (or spec.podCIDR) that parsed as CIDRs. */
  blocks: string[];
  /** Problems found in annotations or labels; the caller logs them. */
  warnings: string[];
}

const FAMILY_BY_VERSION: Record<number, AddressFamily> = { 4: 'ipv4', 6: 'ipv6' };

/** Parse "addr/len" (or a bare address) and check it belongs to `family`. */
export function parseAddressWithPrefix(
  text: string,
  family: AddressFamily,
): { ip: string; prefixLength?: number } | undefined {
  const slash = text.indexOf('/');
  const ip = (slash < 0 ? text : text.slice(0, slash)).trim();
  if (FAMILY_BY_VERSION[isIP(ip)] !== family) return undefined;
  if (slash < 0) return { ip };
  const lenText = text.slice(slash + 1).trim();
  if (!/^\d{1,3}$/.test(lenText)) return undefined;
  const prefixLength = Number(lenText);
  if (prefixLength > (family === 'ipv4' ? 32 : 128)) return undefined;
  return { ip, prefixLength };
}

/** A CIDR string with a valid address and prefix length (host bits are not checked here). */
export function isCidr(text: string): boolean {
  const slash = text.indexOf('/');
  if (slash < 0) return false;
  const v = isIP(text.slice(0, slash));
  if (v === 0) return false;
  const lenText = text.slice(slash + 1);
  return /^\d{1,3}$/.test(lenText) && Number(lenText) <= (v === 4 ? 32 : 128);
}

/** Parse a cluster id: dotted quad or a 32-bit integer; returned as a dotted quad. */
export function parseClusterId(text: string): string | undefined {
  const t = text.trim();
  if (isIP(t) === 4) return t;
  if (/^\d{1,10}$/.test(t)) {
    const n = Number(t);
    if (n > 0xffffffff) return undefined;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  return undefined;
}

/** Parse an ASN annotation: a decimal integer 1..4294967295 (RFC 6793). */
export function parseAsn(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d{1,10}$/.test(t)) return undefined;
  const n = Number(t);
  return n >= 1 && n <= 4294967295 ? n : undefined;
}

/** Extract podbgp's view of one Node. Returns undefined when the object has no name. */
export function readNode(node: NodeObject, globalAsn: number): NodeInfo | undefined {
  const name = node.metadata?.name;
  if (!name) return undefined;
  const labels = { ...(node.metadata?.labels ?? {}) };
  const ann = node.metadata?.annotations ?? {};
  const warnings: string[] = [];

  const addresses: NodeInfo['addresses'] = {};
  const internal = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP');
  for (const [family, key] of [
    ['ipv4', ANNOTATION_IPV4],
    ['ipv6', ANNOTATION_IPV6],
  ] as const) {
    const text = ann[key];
    if (text !== undefined) {
      const parsed = parseAddressWithPrefix(text, family);
      if (parsed) {
        addresses[family] = { ...parsed, from: 'annotation' };
        continue;
      }
      warnings.push(`annotation ${key}=${JSON.stringify(text)} is not an ${family} address`);
    }
    // Fallback: the first InternalIP of this family.
    const ip = internal.find((a) => FAMILY_BY_VERSION[isIP(a.address)] === family)?.address;
    if (ip) addresses[family] = { ip, from: 'internal-ip' };
  }

  let asn = globalAsn;
  if (ann[ANNOTATION_ASN] !== undefined) {
    const parsed = parseAsn(ann[ANNOTATION_ASN]);
    if (parsed === undefined) {
      warnings.push(
        `annotation ${ANNOTATION_ASN}=${JSON.stringify(ann[ANNOTATION_ASN])} is not an ASN (1..4294967295); using ${globalAsn}`,
      );
    } else {
      asn = parsed;
    }
  }

  let routeReflector = false;
  let clusterId: string | undefined;
  if (labels[LABEL_ROUTE_REFLECTOR] === 'true') {
    const raw = ann[ANNOTATION_RR_CLUSTER_ID];
    clusterId = raw === undefined ? undefined : parseClusterId(raw);
    if (clusterId) {
      routeReflector = true;
    } else {
      warnings.push(
        raw === undefined
          ? `labelled ${LABEL_ROUTE_REFLECTOR}=true but has no ${ANNOTATION_RR_CLUSTER_ID} annotation; treated as an ordinary node`
          : `annotation ${ANNOTATION_RR_CLUSTER_ID}=${JSON.stringify(raw)} is neither a dotted quad nor a 32-bit integer; treated as an ordinary node`,
      );
    }
  }

  const rawBlocks = node.spec?.podCIDRs?.length
    ? node.spec.podCIDRs
    : node.spec?.podCIDR
      ? [node.spec.podCIDR]
      : [];
  const blocks: string[] = [];
  for (const b of rawBlocks) {
    if (isCidr(b)) blocks.push(b);
    else warnings.push(`spec.podCIDRs entry ${JSON.stringify(b)} is not a CIDR`);
  }

  return { name, labels, addresses, asn, routeReflector, clusterId, blocks, warnings };
}
