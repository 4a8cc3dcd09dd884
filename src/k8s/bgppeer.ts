// The BGPPeer custom resource (podbgp.io/v1, cluster-scoped): its shape and validation.
// Turns an untyped object from the API into a checked spec or a list of errors; does no I/O.
// RFC 4271 §4.2 (hold time 0 or >= 3), RFC 6793 (4-octet ASN range).
import { isIP } from 'node:net';
import { z } from 'zod';
import { validateSelector, type LabelSelector } from './label-selector.js';
import type { AddressFamily } from './types.js';

const ipAddress = z.string().refine((s) => isIP(s) !== 0, { message: 'must be an IP address' });

const requirement = z.object({
  key: z.string().min(1),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(z.string()).optional(),
});

const selector = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(requirement).optional(),
});

/** The spec as the CRD in examples/crd-bgppeer.yaml defines it. */
const specSchema = z.object({
  peerAddress: ipAddress,
  // RFC 6793: 4-octet ASNs; AS 0 is reserved (RFC 7607).
  peerASN: z.number().int().min(1).max(4294967295),
  nodeSelector: selector.optional(),
  // RFC 4271 §4.2: Hold Time MUST be either zero or at least three seconds.
  holdTime: z
    .number()
    .int()
    .min(0)
    .max(65535)
    .refine((h) => h === 0 || h >= 3, { message: 'must be 0 or at least 3 (RFC 4271 §4.2)' })
    .optional(),
  passive: z.boolean().optional(),
  maxPrefixes: z.number().int().min(1).max(4294967295).optional(),
  routeReflectorClient: z.boolean().optional(),
  policy: z.string().min(1).optional(),
  localAddress: ipAddress.optional(),
});

export type BgpPeerSpec = z.infer<typeof specSchema> & { nodeSelector?: LabelSelector };

/** A validated BGPPeer. */
export interface BgpPeer {
  name: string;
  family: AddressFamily;
  spec: BgpPeerSpec;
}

export type ParseResult = { ok: true; peer: BgpPeer } | { ok: false; errors: string[] };

/** The object as it arrives from the API (only what we read). */
export interface BgpPeerObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; resourceVersion?: string };
  spec?: unknown;
}

/** Validate one BGPPeer object; every error names its field path. */
export function parseBgpPeer(obj: BgpPeerObject): ParseResult {
  const name = obj.metadata?.name;
  if (!name) return { ok: false, errors: ['metadata.name is missing'] };
  const res = specSchema.safeParse(obj.spec);
  if (!res.success) {
    return {
      ok: false,
      errors: res.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`),
    };
  }
  const spec = res.data;
  const errors: string[] = [];
  if (spec.nodeSelector) {
    for (const e of validateSelector(spec.nodeSelector)) errors.push(`spec.nodeSelector.${e}`);
  }
  const family: AddressFamily = isIP(spec.peerAddress) === 6 ? 'ipv6' : 'ipv4';
  if (spec.localAddress && isIP(spec.localAddress) !== isIP(spec.peerAddress)) {
    errors.push('spec.localAddress: must be of the same address family as spec.peerAddress');
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, peer: { name, family, spec } };
}
