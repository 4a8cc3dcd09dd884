// Environment overrides with the variable names Calico operators already use (calico/node):
// NODENAME, IP, IP_AUTODETECTION_METHOD, IP6, IP6_AUTODETECTION_METHOD, AS,
// CALICO_IPV4POOL_CIDR, CALICO_IPV4POOL_IPIP, CALICO_IPV4POOL_BLOCK_SIZE, LOG_LEVEL.
// The environment is an injected object: this module never reads process.env.
import { parseCidr } from '../node/addr.js';
import type { ConfigError, ConfigPath } from './errors.js';
import { pathToString } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** The variables understood, with the config path each one overrides (for docs and `--help`). */
export const ENV_OVERRIDES: readonly { name: string; path: string; meaning: string }[] = [
  { name: 'NODENAME', path: 'node.name', meaning: 'the node name (default: the host name)' },
  { name: 'IP', path: 'node.ipv4.address', meaning: 'IPv4 address[/len], `autodetect` or `none`' },
  {
    name: 'IP_AUTODETECTION_METHOD',
    path: 'node.ipv4.autodetectionMethod',
    meaning: 'IPv4 detection method',
  },
  { name: 'IP6', path: 'node.ipv6.address', meaning: 'IPv6 address[/len], `autodetect` or `none`' },
  {
    name: 'IP6_AUTODETECTION_METHOD',
    path: 'node.ipv6.autodetectionMethod',
    meaning: 'IPv6 detection method',
  },
  { name: 'AS', path: 'node.asn', meaning: 'the node AS number' },
  {
    name: 'CALICO_IPV4POOL_CIDR',
    path: 'pools[i].cidr',
    meaning: 'CIDR of the first IPv4 pool (added if none)',
  },
  { name: 'CALICO_IPV4POOL_IPIP', path: 'pools[i].ipipMode', meaning: 'IPIP mode of that pool' },
  {
    name: 'CALICO_IPV4POOL_BLOCK_SIZE',
    path: 'pools[i].blockSize',
    meaning: 'block size of that pool',
  },
  { name: 'LOG_LEVEL', path: 'logLevel', meaning: 'log level' },
];

export interface EnvApplied {
  /** The raw config with overrides written in (a copy; the input is not modified). */
  raw: Record<string, unknown>;
  /** Path (as printed) -> the variable that set it, so errors can name their source. */
  sources: Map<string, string>;
  errors: ConfigError[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Steps into parent[key], replacing a missing or scalar value with an empty mapping. */
function ensureObj(parent: Obj, key: string | number): Obj {
  const v = parent[key];
  if (typeof v === 'object' && v !== null) return v as Obj;
  const fresh: Obj = {};
  parent[key] = fresh;
  return fresh;
}

const IPIP_BY_LOWER: Readonly<Record<string, string>> = {
  always: 'Always',
  crosssubnet: 'CrossSubnet',
  never: 'Never',
  off: 'Never', // older calico/node manifests write "off"
};

/** Applies the overrides. Empty variables count as unset, as in calico/node. */
export function applyEnv(input: Obj, env: Env): EnvApplied {
  const raw = structuredClone(input);
  const sources = new Map<string, string>();
  const errors: ConfigError[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const set = (path: ConfigPath, value: unknown, name: string): void => {
    let obj = raw;
    for (const key of path.slice(0, -1)) obj = ensureObj(obj, key);
    obj[path[path.length - 1]] = value;
    sources.set(pathToString(path), name);
  };

  const nodename = get('NODENAME');
  if (nodename !== undefined) set(['node', 'name'], nodename, 'NODENAME');
  for (const [fam, ipVar, methodVar] of [
    ['ipv4', 'IP', 'IP_AUTODETECTION_METHOD'],
    ['ipv6', 'IP6', 'IP6_AUTODETECTION_METHOD'],
  ] as const) {
    const ip = get(ipVar);
    if (ip !== undefined)
      set(
        ['node', fam, 'address'],
        ip.toLowerCase() === 'autodetect' || ip.toLowerCase() === 'none' ? ip.toLowerCase() : ip,
        ipVar,
      );
    const method = get(methodVar);
    if (method !== undefined) set(['node', fam, 'autodetectionMethod'], method, methodVar);
  }
  const as = get('AS');
  // A non-numeric AS stays a string so that validation reports it with its value.
  if (as !== undefined) set(['node', 'asn'], /^\d+$/.test(as) ? Number(as) : as, 'AS');
  const level = get('LOG_LEVEL');
  if (level !== undefined) set(['logLevel'], level.toLowerCase(), 'LOG_LEVEL');

  const poolCidr = get('CALICO_IPV4POOL_CIDR');
  const poolIpip = get('CALICO_IPV4POOL_IPIP');
  const poolBlock = get('CALICO_IPV4POOL_BLOCK_SIZE');
  if (poolCidr !== undefined || poolIpip !== undefined || poolBlock !== undefined) {
    if (raw.pools === undefined || raw.pools === null) raw.pools = [];
    if (Array.isArray(raw.pools)) {
      const pools = raw.pools as unknown[];
      // The first IPv4 pool of the file is the one Calico's variables describe.
      let index = pools.findIndex(
        (p) => isObj(p) && typeof p.cidr === 'string' && parseCidr(p.cidr)?.family === 4,
      );
      if (index < 0 && poolCidr === undefined) {
        errors.push({
          path: 'pools',
          message: `${poolIpip !== undefined ? 'CALICO_IPV4POOL_IPIP' : 'CALICO_IPV4POOL_BLOCK_SIZE'} is set but there is no IPv4 pool; set CALICO_IPV4POOL_CIDR or add a pool`,
          source: 'environment',
        });
      } else {
        if (index < 0) {
          index = pools.length;
          pools.push({});
        }
        if (poolCidr !== undefined) set(['pools', index, 'cidr'], poolCidr, 'CALICO_IPV4POOL_CIDR');
        if (poolIpip !== undefined) {
          set(
            ['pools', index, 'ipipMode'],
            IPIP_BY_LOWER[poolIpip.toLowerCase()] ?? poolIpip,
            'CALICO_IPV4POOL_IPIP',
          );
        }
        if (poolBlock !== undefined) {
          set(
            ['pools', index, 'blockSize'],
            /^\d+$/.test(poolBlock) ? Number(poolBlock) : poolBlock,
            'CALICO_IPV4POOL_BLOCK_SIZE',
          );
        }
      }
    }
  }
  return { raw, sources, errors };
}
