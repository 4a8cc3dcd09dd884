// The config file's schema (zod 4): every key, its type, its default and what is allowed.
// Field-level rules only; rules that relate several fields live in cross-checks.ts, and
// neither reads files or the environment. Hold time per RFC 4271 §4.2, restart time RFC 4724 §3.
import { z } from 'zod';
import { familyBits, ipFamily, isDottedQuad, parseCidr, parseIp } from '../node/addr.js';
import { METHOD_SYNTAX, parseAutodetectMethod } from '../node/methods.js';
import {
  NAME_RE,
  NODE_NAME_RE,
  parseCommunity,
  parseHostPort,
  parseLargeCommunity,
} from './values.js';

export const MAX_ASN = 4294967295;
export const DEFAULT_ASN = 64512;
export const KERNEL_TABLE_MAIN = 254;
export const KERNEL_PROTO_BGP = 186;
export const DEFAULT_SOCKET = '/run/podbgp/podbgp.sock';
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9179';
export const FAMILIES = ['ipv4-unicast', 'ipv6-unicast'] as const;
export type AddressFamily = (typeof FAMILIES)[number];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const IPIP_MODES = ['Always', 'CrossSubnet', 'Never'] as const;
export type IpipMode = (typeof IPIP_MODES)[number];

// Every message says what is allowed; the formatter prefixes the path and the bad value.
const int = (lo: number, hi: number, allowed: string) =>
  z
    .number({ error: allowed })
    .refine((v) => Number.isInteger(v) && v >= lo && v <= hi, { error: allowed });

const bool = (what: string) => z.boolean({ error: `${what} must be true or false` });

const ASN_ALLOWED = `must be an AS number, an integer 1..${MAX_ASN} (0 is reserved, RFC 7607)`;
const asn = int(1, MAX_ASN, ASN_ALLOWED);

// RFC 4271 §4.2: the Hold Time MUST be either zero or at least three seconds.
const holdTime = int(
  0,
  65535,
  'hold time must be 0 (no keepalives) or 3..65535 seconds (RFC 4271 §4.2)',
).refine((v) => v === 0 || v >= 3, {
  error:
    'hold time must be 0 (no keepalives) or 3..65535 seconds; 1 and 2 are forbidden (RFC 4271 §4.2)',
});

const port = int(1, 65535, 'must be a TCP port 1..65535');

const ipAddress = (allowed = 'must be an IPv4 or IPv6 address') =>
  z.string({ error: allowed }).refine((s) => ipFamily(s) !== null, { error: allowed });

const dottedQuad = (what: string) =>
  z
    .string({ error: `${what} must be a dotted quad such as 192.168.30.71` })
    .refine(isDottedQuad, { error: `${what} must be a dotted quad such as 192.168.30.71` });

/** A network prefix: ADDRESS/LENGTH with no host bits set. */
const cidr = z.string({ error: 'must be a CIDR such as 10.244.0.0/16' }).superRefine((s, ctx) => {
  const p = parseCidr(s);
  if (p === null) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a CIDR such as 10.244.0.0/16 (ADDRESS/LENGTH)',
    });
  } else if (p.hostBitsSet) {
    ctx.addIssue({ code: 'custom', message: `has host bits set; the network is ${p.text}` });
  }
});

const name = (what: string) =>
  z.string({ error: `${what} must be a name of letters, digits, '-', '_' or '.'` }).regex(NAME_RE, {
    error: `${what} must be a name of letters, digits, '-', '_' or '.' (at most 63)`,
  });

const nodeAddress = (family: 4 | 6) => {
  const allowed = `must be "autodetect", "none", or an IPv${family} address with optional /LENGTH`;
  return z.string({ error: allowed }).refine(
    (s) => {
      if (s === 'autodetect' || s === 'none') return true;
      const c = parseCidr(s);
      const ip = c ? c.address : parseIp(s);
      return ip !== null && ip.family === family;
    },
    { error: allowed },
  );
};

const method = (family: 4 | 6) =>
  z.string({ error: `must be one of ${METHOD_SYNTAX}` }).superRefine((s, ctx) => {
    const r = parseAutodetectMethod(s, family);
    if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
  });

const nodeFamily = (family: 4 | 6) =>
  z.strictObject({
    address: nodeAddress(family).default(family === 4 ? 'autodetect' : 'none'),
    autodetectionMethod: method(family).default('first-found'),
  });

const node = z.strictObject({
  name: z
    .string({ error: 'must be a Kubernetes node name (lower-case RFC 1123 subdomain)' })
    .regex(NODE_NAME_RE, {
      error: 'must be a Kubernetes node name (lower-case RFC 1123 subdomain)',
    })
    .nullable()
    .default(null),
  asn: asn.default(DEFAULT_ASN),
  routerId: dottedQuad('router id').nullable().default(null),
  ipv4: nodeFamily(4).prefault({}),
  ipv6: nodeFamily(6).prefault({}),
});

const listen = z.strictObject({
  address: ipAddress().nullable().default(null),
  port: port.default(179),
});

// Calico's limits: IPv4 blocks /20../32, IPv6 blocks /116../128; defaults /26 and /122.
const pool = z
  .strictObject({
    cidr,
    blockSize: int(
      0,
      128,
      'must be a prefix length: 20..32 for IPv4 pools, 116..128 for IPv6',
    ).optional(),
    ipipMode: z.enum(IPIP_MODES, { error: 'must be Always, CrossSubnet or Never' }).optional(),
  })
  .superRefine((p, ctx) => {
    const c = parseCidr(p.cidr);
    if (c === null) return;
    const [lo, hi] = c.family === 4 ? [20, 32] : [116, 128];
    if (
      p.blockSize !== undefined &&
      (p.blockSize < Math.max(lo, c.prefixLength) || p.blockSize > hi)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['blockSize'],
        input: p.blockSize,
        message: `must be ${Math.max(lo, c.prefixLength)}..${hi} for the IPv${c.family} pool ${p.cidr} (not shorter than the pool)`,
      });
    }
    if (c.family === 6 && p.ipipMode !== undefined && p.ipipMode !== 'Never') {
      ctx.addIssue({
        code: 'custom',
        path: ['ipipMode'],
        input: p.ipipMode,
        message: 'must be Never for an IPv6 pool (IPIP carries IPv4 only)',
      });
    }
  })
  .transform((p) => {
    const family = (parseCidr(p.cidr)?.family ?? 4) as 4 | 6;
    return {
      cidr: p.cidr,
      family,
      blockSize: p.blockSize ?? (family === 4 ? 26 : 122),
      ipipMode: p.ipipMode ?? ((family === 4 ? 'Always' : 'Never') as IpipMode),
    };
  });

const perFamilyLimit = int(1, MAX_ASN, `must be a prefix count 1..${MAX_ASN}`);
const maxPrefixes = z.preprocess(
  // A single number applies to every family.
  (v) => (typeof v === 'number' ? { 'ipv4-unicast': v, 'ipv6-unicast': v } : v),
  z.strictObject(
    { 'ipv4-unicast': perFamilyLimit.optional(), 'ipv6-unicast': perFamilyLimit.optional() },
    { error: 'must be a number, or a map of family (ipv4-unicast, ipv6-unicast) to number' },
  ),
);

const gracefulRestart = z.strictObject({
  enabled: bool('gracefulRestart.enabled').default(true),
  // RFC 4724 §3: the Restart Time field is 12 bits.
  restartTime: int(1, 4095, 'must be 1..4095 seconds (a 12-bit field, RFC 4724 §3)').default(120),
});

const peer = z
  .strictObject({
    address: ipAddress(),
    asn,
    description: z.string({ error: 'must be a string' }).optional(),
    port: port.default(179),
    passive: bool('passive').default(false),
    holdTime: holdTime.default(90),
    connectRetryTime: int(1, 65535, 'must be 1..65535 seconds').default(120),
    localAddress: ipAddress().optional(),
    families: z
      .array(z.enum(FAMILIES, { error: `must be one of ${FAMILIES.join(', ')}` }), {
        error: `must be a list of ${FAMILIES.join(', ')}`,
      })
      .min(1, { error: `must list at least one of ${FAMILIES.join(', ')}` })
      .optional(),
    maxPrefixes: maxPrefixes.optional(),
    maxPrefixRestart: int(0, 65535, 'must be 0 (stay down) or 1..65535 seconds').default(60),
    routeReflectorClient: bool('routeReflectorClient').default(false),
    // Toward an eBGP peer: also send routes learned from other peers (be a transit AS).
    transit: bool('transit').default(false),
    policy: name('policy').optional(),
    gracefulRestart: gracefulRestart.prefault({}),
  })
  .superRefine((p, ctx) => {
    const a = ipFamily(p.address);
    if (p.localAddress !== undefined && a !== null) {
      const l = ipFamily(p.localAddress);
      if (l !== null && l !== a) {
        ctx.addIssue({
          code: 'custom',
          path: ['localAddress'],
          input: p.localAddress,
          message: `must be an IPv${a} address like the peer address ${p.address}`,
        });
      }
    }
  })
  .transform((p) => {
    const fam = ipFamily(p.address) === 6 ? 6 : 4;
    return {
      address: parseIp(p.address)?.text ?? p.address,
      asn: p.asn,
      description: p.description ?? null,
      port: p.port,
      passive: p.passive,
      holdTime: p.holdTime,
      // RFC 4271 §10: KeepaliveTime is one third of the Hold Time; 0 disables keepalives.
      keepaliveTime: Math.floor(p.holdTime / 3),
      connectRetryTime: p.connectRetryTime,
      localAddress: p.localAddress === undefined ? null : (parseIp(p.localAddress)?.text ?? null),
      families: p.families ?? [fam === 4 ? 'ipv4-unicast' : ('ipv6-unicast' as AddressFamily)],
      maxPrefixes: p.maxPrefixes ?? {},
      maxPrefixRestart: p.maxPrefixRestart,
      routeReflectorClient: p.routeReflectorClient,
      transit: p.transit,
      policy: p.policy ?? null,
      gracefulRestart: p.gracefulRestart,
    };
  });

/** A prefix entry: `10.0.0.0/8` (exact) or `{ prefix, ge, le }` (RFC 4632 lengths). */
const prefixEntry = z.preprocess(
  (v) => (typeof v === 'string' ? { prefix: v } : v),
  z
    .strictObject(
      {
        prefix: cidr,
        ge: int(0, 128, 'ge must be a prefix length 0..128').optional(),
        le: int(0, 128, 'le must be a prefix length 0..128').optional(),
        action: z.enum(['permit', 'deny'], { error: 'must be permit or deny' }).default('permit'),
      },
      { error: 'must be a CIDR, or { prefix, ge, le, action }' },
    )
    .superRefine((e, ctx) => {
      const c = parseCidr(e.prefix);
      if (c === null) return;
      const max = familyBits(c.family);
      const ge = e.ge ?? c.prefixLength;
      const le = e.le ?? (e.ge !== undefined ? max : c.prefixLength);
      if (!(c.prefixLength <= ge && ge <= le && le <= max)) {
        ctx.addIssue({
          code: 'custom',
          input: { ge: e.ge, le: e.le },
          message: `need ${c.prefixLength} <= ge <= le <= ${max} for ${e.prefix}`,
        });
      }
    })
    .transform((e) => {
      const c = parseCidr(e.prefix);
      const len = c?.prefixLength ?? 0;
      const max = c ? familyBits(c.family) : 32;
      // As in FRR/IOS prefix lists: ge alone means ge..max; neither means an exact match.
      const ge = e.ge ?? len;
      const le = e.le ?? (e.ge !== undefined ? max : len);
      return {
        prefix: e.prefix,
        family: (c?.family ?? 4) as 4 | 6,
        length: len,
        ge,
        le,
        action: e.action,
      };
    }),
);
export type PrefixEntry = z.output<typeof prefixEntry>;

const community = z
  .string({ error: 'must be a community ASN:VALUE (16 bits each) or a well-known name' })
  .refine((s) => parseCommunity(s) !== null, {
    error:
      'must be a community ASN:VALUE (16 bits each) or no-export, no-advertise, no-export-subconfed, no-peer, blackhole, graceful-shutdown',
  });
const largeCommunity = z
  .string({ error: 'must be a large community GLOBAL:LOCAL1:LOCAL2 (32 bits each, RFC 8092)' })
  .refine((s) => parseLargeCommunity(s) !== null, {
    error: 'must be a large community GLOBAL:LOCAL1:LOCAL2 (32 bits each, RFC 8092)',
  });
const list = <T extends z.ZodType>(item: T, what: string) =>
  z.array(item, { error: `must be a list of ${what}` }).default([]);

const asPathPrepend = z.preprocess(
  (v) => (typeof v === 'number' ? { count: v } : v),
  z.strictObject(
    {
      count: int(1, 32, 'prepend count must be 1..32'),
      asn: asn.optional(),
    },
    { error: 'must be a count, or { count, asn }' },
  ),
);

const rule = z
  .strictObject({
    match: z
      .strictObject({
        prefixes: list(prefixEntry, 'prefixes'),
        prefixList: name('prefixList').optional(),
        communities: list(community, 'communities'),
        largeCommunities: list(largeCommunity, 'large communities'),
        family: z.enum(FAMILIES, { error: `must be one of ${FAMILIES.join(', ')}` }).optional(),
        asPathContains: asn.optional(),
      })
      .superRefine((m, ctx) => {
        if (m.prefixList !== undefined && m.prefixes.length > 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['prefixList'],
            input: m.prefixList,
            message: 'give either prefixes (inline) or prefixList (by name), not both',
          });
        }
      })
      .prefault({}),
    // The first rule that matches decides (as BIRD filters and FRR route-maps without
    // `continue`); its set-actions apply when it accepts.
    action: z.enum(['accept', 'reject'], { error: 'must be accept or reject' }).default('accept'),
    set: z
      .strictObject({
        localPref: int(0, MAX_ASN, `must be 0..${MAX_ASN}`).optional(),
        med: int(0, MAX_ASN, `must be 0..${MAX_ASN}`).optional(),
        asPathPrepend: asPathPrepend.optional(),
        addCommunities: list(community, 'communities'),
        removeCommunities: list(community, 'communities'),
        addLargeCommunities: list(largeCommunity, 'large communities'),
        removeLargeCommunities: list(largeCommunity, 'large communities'),
      })
      .prefault({}),
  })
  .transform((r) => ({
    match: {
      prefixes: r.match.prefixes,
      prefixList: r.match.prefixList ?? null,
      communities: r.match.communities.map((c) => parseCommunity(c) as number),
      largeCommunities: r.match.largeCommunities.map((c) => parseLargeCommunity(c)!),
      family: r.match.family ?? null,
      asPathContains: r.match.asPathContains ?? null,
    },
    action: r.action,
    set: {
      localPref: r.set.localPref ?? null,
      med: r.set.med ?? null,
      asPathPrepend: r.set.asPathPrepend
        ? { count: r.set.asPathPrepend.count, asn: r.set.asPathPrepend.asn ?? null }
        : null,
      addCommunities: r.set.addCommunities.map((c) => parseCommunity(c) as number),
      removeCommunities: r.set.removeCommunities.map((c) => parseCommunity(c) as number),
      addLargeCommunities: r.set.addLargeCommunities.map((c) => parseLargeCommunity(c)!),
      removeLargeCommunities: r.set.removeLargeCommunities.map((c) => parseLargeCommunity(c)!),
    },
  }));

const policy = z.strictObject({
  import: list(rule, 'rules'),
  export: list(rule, 'rules'),
});

const rib = z.strictObject({
  multipathMax: int(1, 256, 'must be 1 (no ECMP)..256').default(8),
  alwaysCompareMed: bool('alwaysCompareMed').default(false),
  // RFC 4456 §7: CLUSTER_ID is 4 octets, written like a router id.
  clusterId: dottedQuad('cluster id').nullable().default(null),
});

const kernel = z.strictObject({
  table: z
    .preprocess(
      (v) => (v === 'main' ? KERNEL_TABLE_MAIN : v),
      int(1, MAX_ASN, 'must be "main" or a routing table number 1..4294967295'),
    )
    .default(KERNEL_TABLE_MAIN),
  // rtnetlink protocols 0..4 (unspec, redirect, kernel, boot, static) belong to others.
  protocol: z
    .preprocess(
      (v) => (v === 'bgp' ? KERNEL_PROTO_BGP : v),
      int(
        5,
        255,
        'must be "bgp" or a route protocol number 5..255 (0-4 belong to the kernel and ip route)',
      ),
    )
    .default(KERNEL_PROTO_BGP),
  flushOnExit: bool('flushOnExit').default(false),
  tunnelMtu: int(68, 65515, 'must be an MTU 68..65515 (default: the underlay MTU minus 20)')
    .nullable()
    .default(null),
});

const kubernetes = z.strictObject({
  enabled: bool('enabled').default(true),
  kubeconfig: z
    .string({ error: 'must be a file path' })
    .min(1, { error: 'must be a file path' })
    .nullable()
    .default(null),
  mesh: bool('mesh').default(true),
});

const control = z.strictObject({
  socket: z
    .string({ error: 'must be an absolute path' })
    .refine((s) => s.startsWith('/'), { error: 'must be an absolute path' })
    .default(DEFAULT_SOCKET),
});

const hostPort = z.string({ error: 'must be HOST:PORT, e.g. 127.0.0.1:9179 or [::1]:9179' }).refine(
  (s) => {
    const hp = parseHostPort(s);
    return (
      hp !== null &&
      (hp.host === '' || ipFamily(hp.host) !== null || /^[A-Za-z0-9.-]+$/.test(hp.host))
    );
  },
  { error: 'must be HOST:PORT, e.g. 127.0.0.1:9179 or [::1]:9179' },
);

const metrics = z
  .strictObject({
    listen: hostPort.default(DEFAULT_METRICS_LISTEN),
    readyGraceTime: int(0, 86400, 'must be 0..86400 seconds').default(120),
  })
  .transform((m) => {
    const hp = parseHostPort(m.listen) ?? { host: '127.0.0.1', port: 9179 };
    return { listen: m.listen, host: hp.host, port: hp.port, readyGraceTime: m.readyGraceTime };
  });

export const configSchema = z.strictObject({
  node: node.prefault({}),
  listen: listen.prefault({}),
  pools: list(pool, 'pools'),
  staticBlocks: list(cidr, 'CIDRs'),
  peers: list(peer, 'peers'),
  prefixLists: z
    .record(name('prefix list name'), z.array(prefixEntry, { error: 'must be a list of prefixes' }))
    .default({}),
  policies: z.record(name('policy name'), policy).default({}),
  rib: rib.prefault({}),
  kernel: kernel.prefault({}),
  kubernetes: kubernetes.prefault({}),
  control: control.prefault({}),
  metrics: metrics.prefault({}),
  logLevel: z
    .enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })
    .default('info'),
});

/** The effective, fully defaulted configuration. */
export type PodbgpConfig = z.output<typeof configSchema>;
export type NodeConfig = PodbgpConfig['node'];
export type PoolConfig = PodbgpConfig['pools'][number];
export type PeerConfig = PodbgpConfig['peers'][number];
export type PolicyConfig = PodbgpConfig['policies'][string];
export type PolicyRule = PolicyConfig['import'][number];
export type KernelConfig = PodbgpConfig['kernel'];
export type RibConfig = PodbgpConfig['rib'];
export type KubernetesConfig = PodbgpConfig['kubernetes'];
export type MetricsConfig = PodbgpConfig['metrics'];
