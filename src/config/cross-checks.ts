// Rules that relate several fields: overlapping pools, static blocks outside every pool,
// duplicate peers, references to policies and prefix lists that do not exist, a router id
// for IPv6-only nodes. Works on the raw (env-merged) input so it can run beside the schema and
// report everything at once; it skips values the schema will already reject.
import { cidrCovers, cidrsOverlap, parseCidr, parseIp, type ParsedCidr } from '../node/addr.js';
import { parseAutodetectMethod } from '../node/methods.js';
import { nearestName, type ConfigPath } from './errors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});

export interface CrossIssue {
  path: ConfigPath;
  value?: unknown;
  message: string;
}

function validCidr(v: unknown): ParsedCidr | null {
  if (typeof v !== 'string') return null;
  const c = parseCidr(v);
  return c; // host bits are reported by the schema; the network still counts for overlaps
}

export function crossCheck(raw: Obj): CrossIssue[] {
  const issues: CrossIssue[] = [];

  // Pools must not overlap: an address block would belong to two pools with different modes.
  const pools = arr(raw.pools).map((p, i) => ({ i, c: validCidr(obj(p).cidr) }));
  for (const a of pools) {
    for (const b of pools) {
      if (b.i <= a.i || !a.c || !b.c || !cidrsOverlap(a.c, b.c)) continue;
      issues.push({
        path: ['pools', b.i, 'cidr'],
        value: obj(arr(raw.pools)[b.i]).cidr,
        message: `overlaps pools[${a.i}] (${a.c.text}); pools must be disjoint`,
      });
    }
  }

  // Static blocks are announced to peers whose import filter accepts only pool prefixes.
  const blocks = arr(raw.staticBlocks).map((b, i) => ({ i, c: validCidr(b) }));
  for (const b of blocks) {
    if (!b.c) continue;
    const holder = pools.find((p) => p.c && cidrCovers(p.c, b.c!));
    if (pools.some((p) => p.c) && !holder) {
      issues.push({
        path: ['staticBlocks', b.i],
        value: arr(raw.staticBlocks)[b.i],
        message: `is inside no pool (${pools.flatMap((p) => (p.c ? [p.c.text] : [])).join(', ')}); peers would reject it`,
      });
    }
    const dup = blocks.find((o) => o.i < b.i && o.c && cidrsOverlap(o.c, b.c!));
    if (dup) {
      issues.push({
        path: ['staticBlocks', b.i],
        value: arr(raw.staticBlocks)[b.i],
        message: `overlaps staticBlocks[${dup.i}] (${dup.c!.text})`,
      });
    }
  }

  // Two peers with one address would collide on one TCP session (RFC 4271 §6.8).
  const seen = new Map<string, number>();
  arr(raw.peers).forEach((p, i) => {
    const addr = obj(p).address;
    const ip = typeof addr === 'string' ? parseIp(addr) : null;
    if (!ip) return;
    const first = seen.get(ip.text);
    if (first !== undefined) {
      issues.push({
        path: ['peers', i, 'address'],
        value: addr,
        message: `duplicate peer: ${ip.text} is already peers[${first}]; each address may appear once`,
      });
    } else {
      seen.set(ip.text, i);
    }
  });

  // References by name must resolve.
  const policyNames = Object.keys(obj(raw.policies));
  arr(raw.peers).forEach((p, i) => {
    const ref = obj(p).policy;
    if (typeof ref === 'string' && ref !== '' && !policyNames.includes(ref)) {
      const near = nearestName(ref, policyNames);
      issues.push({
        path: ['peers', i, 'policy'],
        value: ref,
        message:
          `no such policy` +
          (near
            ? `; did you mean "${near}"?`
            : policyNames.length
              ? `; defined: ${policyNames.join(', ')}`
              : '; none is defined under policies'),
      });
    }
  });
  const listNames = Object.keys(obj(raw.prefixLists));
  for (const [name, pol] of Object.entries(obj(raw.policies))) {
    for (const dir of ['import', 'export'] as const) {
      arr(obj(pol)[dir]).forEach((rule, r) => {
        const ref = obj(obj(rule).match).prefixList;
        if (typeof ref === 'string' && !listNames.includes(ref)) {
          const near = nearestName(ref, listNames);
          issues.push({
            path: ['policies', name, dir, r, 'match', 'prefixList'],
            value: ref,
            message: `no such prefix list${near ? `; did you mean "${near}"?` : listNames.length ? `; defined: ${listNames.join(', ')}` : '; none is defined under prefixLists'}`,
          });
        }
      });
    }
  }

  // The BGP Identifier is 4 octets (RFC 6286 §2.1); without IPv4 it cannot be derived.
  const node = obj(raw.node);
  const v4 = obj(node.ipv4);
  if (v4.address === 'none' && (node.routerId === undefined || node.routerId === null)) {
    issues.push({
      path: ['node', 'routerId'],
      message:
        'is required when node.ipv4.address is "none" (the router id is otherwise the IPv4 address)',
    });
  }
  if (v4.address === 'none' && (obj(node.ipv6).address ?? 'none') === 'none') {
    issues.push({
      path: ['node', 'ipv6', 'address'],
      value: 'none',
      message: 'node.ipv4.address and node.ipv6.address are both "none"; the node needs an address',
    });
  }

  // kubernetes-internal-ip reads the Node object, so it needs the Kubernetes API.
  const k8sEnabled = obj(raw.kubernetes).enabled !== false;
  for (const fam of ['ipv4', 'ipv6'] as const) {
    const m = obj(node[fam]).autodetectionMethod;
    const addr = obj(node[fam]).address ?? (fam === 'ipv4' ? 'autodetect' : 'none');
    if (typeof m !== 'string' || addr !== 'autodetect') continue;
    const parsed = parseAutodetectMethod(m);
    if (parsed.ok && parsed.method.kind === 'kubernetes-internal-ip' && !k8sEnabled) {
      issues.push({
        path: ['node', fam, 'autodetectionMethod'],
        value: m,
        message: 'kubernetes-internal-ip needs kubernetes.enabled: true',
      });
    }
  }
  return issues;
}
