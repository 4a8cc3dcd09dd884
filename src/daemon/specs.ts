// Desired peers from the two sources, in one shape: static peers from the config file and
// peers from Kubernetes (mesh, reflectors, BGPPeer resources). Pure: no I/O.

import type { PodbgpConfig } from '../config/index.js';
import type { DesiredPeer } from '../k8s/index.js';
import type { FamilyName } from '../../protocol/types.js';
import type { PeerSpec } from './peer.js';

const familyOf = (address: string): FamilyName =>
  address.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';

/** Static peers of the config file. They are `global` peers in Calico's terms. */
export function specsFromConfig(config: PodbgpConfig): PeerSpec[] {
  return config.peers.map((p) => ({
    address: p.address,
    asn: p.asn,
    type: 'global',
    source: 'config',
    port: p.port,
    passive: p.passive,
    holdTime: p.holdTime,
    connectRetryTime: p.connectRetryTime,
    localAddress: p.localAddress,
    families: [...p.families],
    maxPrefixes: { ...p.maxPrefixes },
    maxPrefixRestart: p.maxPrefixRestart,
    routeReflectorClient: p.routeReflectorClient,
    transit: p.transit,
    policy: p.policy,
    gracefulRestart: { ...p.gracefulRestart },
  }));
}

/** A peer Kubernetes asks for, with the defaults a static peer would get. */
export function specFromK8s(p: DesiredPeer): PeerSpec {
  const max = p.maxPrefixes;
  return {
    address: p.address,
    asn: p.asn,
    type: p.type,
    source: p.source,
    port: 179,
    passive: p.passive ?? false,
    holdTime: p.holdTime ?? 90,
    connectRetryTime: 120,
    localAddress: p.localAddress ?? null,
    families: [familyOf(p.address)],
    maxPrefixes: max === undefined ? {} : { 'ipv4-unicast': max, 'ipv6-unicast': max },
    maxPrefixRestart: 60,
    routeReflectorClient: p.routeReflectorClient ?? p.type === 'rr-client',
    transit: false,
    policy: p.policy ?? null,
    gracefulRestart: { enabled: true, restartTime: 120 },
  };
}

/** Config peers win over Kubernetes peers with the same address (the operator said so). */
export function mergeSpecs(fromConfig: PeerSpec[], fromK8s: PeerSpec[]): Map<string, PeerSpec> {
  const out = new Map<string, PeerSpec>();
  for (const s of fromK8s) out.set(s.address, s);
  for (const s of fromConfig) out.set(s.address, s);
  return out;
}
