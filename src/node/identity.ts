// The node's identity: name, ASN, router id and its IPv4/IPv6 addresses (explicit or
// autodetected), with every autodetection decision kept for logs and `show node`.
// Must not read the environment or the host itself: hostname and lookups are injected.
// RFC 6286 §2.1: the BGP Identifier is a 4-octet unsigned, non-zero value.
import { parseIp, type IpFamily } from './addr.js';
import {
  autodetectAddress,
  resolveStaticAddress,
  type AutodetectDecision,
  type AutodetectDeps,
  type DetectedAddress,
} from './autodetect.js';
import { parseAutodetectMethod } from './methods.js';

/** The node part of the config (structurally PodbgpConfig['node']). */
export interface NodeSettings {
  name: string | null;
  asn: number;
  routerId: string | null;
  ipv4: { address: string; autodetectionMethod: string };
  ipv6: { address: string; autodetectionMethod: string };
}

export interface NodeIdentity {
  name: string;
  /** Where the name came from. */
  nameSource: 'config' | 'hostname';
  asn: number;
  routerId: string;
  routerIdSource: 'config' | 'ipv4-address';
  ipv4: DetectedAddress | null;
  ipv6: DetectedAddress | null;
  /** One decision per family that is not `none`. */
  decisions: AutodetectDecision[];
}

export interface IdentityDeps extends AutodetectDeps {
  /** The host name (the daemon passes os.hostname). */
  hostname: () => string;
}

export type IdentityResult =
  | { ok: true; identity: NodeIdentity }
  | { ok: false; errors: string[]; decisions: AutodetectDecision[] };

/**
 * Resolves the identity. The name falls back to the host name in lower case with any domain
 * kept, as calico/node does. The router id falls back to the IPv4 address.
 */
export async function resolveNodeIdentity(
  node: NodeSettings,
  deps: IdentityDeps,
): Promise<IdentityResult> {
  const errors: string[] = [];
  const decisions: AutodetectDecision[] = [];
  const name = node.name ?? deps.hostname().trim().toLowerCase();
  if (name === '')
    errors.push('node name: NODENAME and node.name are unset and the host name is empty');

  const addresses: Record<'ipv4' | 'ipv6', DetectedAddress | null> = { ipv4: null, ipv6: null };
  for (const [key, family] of [
    ['ipv4', 4],
    ['ipv6', 6],
  ] as const) {
    const setting = node[key];
    if (setting.address === 'none') continue;
    let outcome;
    if (setting.address === 'autodetect') {
      const m = parseAutodetectMethod(setting.autodetectionMethod, family as IpFamily);
      if (!m.ok) {
        errors.push(`node.${key}.autodetectionMethod: ${m.error}`);
        continue;
      }
      outcome = await autodetectAddress(m.method, family, deps);
    } else {
      outcome = await resolveStaticAddress(setting.address, family, deps.interfaces);
    }
    decisions.push(outcome.decision);
    if (outcome.ok) addresses[key] = outcome.address;
    else errors.push(`node.${key}: ${outcome.error}`);
  }

  let routerId = node.routerId;
  let routerIdSource: NodeIdentity['routerIdSource'] = 'config';
  if (routerId === null && addresses.ipv4 !== null) {
    routerId = addresses.ipv4.address;
    routerIdSource = 'ipv4-address';
  }
  if (routerId === null) {
    if (node.ipv4.address === 'none')
      errors.push('node.routerId: required when the node has no IPv4 address');
  } else if (parseIp(routerId)?.value === 0n) {
    errors.push('node.routerId: 0.0.0.0 is not a valid BGP Identifier (RFC 6286 §2.1)');
  }

  if (errors.length > 0 || routerId === null) return { ok: false, errors, decisions };
  return {
    ok: true,
    identity: {
      name,
      nameSource: node.name === null ? 'hostname' : 'config',
      asn: node.asn,
      routerId,
      routerIdSource,
      ipv4: addresses.ipv4,
      ipv6: addresses.ipv6,
      decisions,
    },
  };
}

/** The part of a pino logger this module uses. */
export interface DecisionLogger {
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/**
 * Logs each autodetection decision: one info line with the outcome, then one debug line per
 * candidate saying why it was chosen or skipped.
 */
export function logDecisions(log: DecisionLogger, decisions: readonly AutodetectDecision[]): void {
  for (const d of decisions) {
    log.info(
      {
        family: `ipv${d.family}`,
        method: d.method,
        address: d.result?.cidr ?? null,
        interface: d.result?.interface ?? null,
      },
      d.summary,
    );
    for (const c of d.candidates) {
      log.debug(
        {
          family: `ipv${d.family}`,
          interface: c.interface,
          address: c.address ?? null,
          verdict: c.verdict,
        },
        c.reason,
      );
    }
  }
}
