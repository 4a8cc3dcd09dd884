// The host's interfaces and addresses as autodetection sees them, and the real sources:
// `ip [-n NS] -json addr show` parsed, route-source lookups, DNS. Must not decide anything:
// choosing an address is autodetect.ts's job. Commands run through an injected runner.
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { parseIp, type IpFamily } from './addr.js';

export interface InterfaceAddress {
  family: IpFamily;
  /** Canonical text of the local address. */
  address: string;
  prefixLength: number;
  /** Kernel scope: global, site, link, host. */
  scope: string;
  /** Kernel flags of the address that matter here. */
  secondary: boolean;
  tentative: boolean;
  dadfailed: boolean;
  deprecated: boolean;
}

export interface NetInterface {
  name: string;
  index: number;
  /** Administratively up (IFF_UP). */
  up: boolean;
  addresses: InterfaceAddress[];
}

/** Lists interfaces in kernel (ifindex) order, addresses in the kernel's order. */
export type InterfaceSource = () => Promise<NetInterface[]>;
/** The local address the kernel would use as source toward `destination`. */
export type ReachSource = (destination: string, family: IpFamily) => Promise<string>;
/** Resolves a host name to addresses of one family. */
export type HostResolver = (host: string, family: IpFamily) => Promise<string[]>;
/** Runs a command without a shell and returns its stdout; rejects on a non-zero exit. */
export type CommandRunner = (file: string, args: string[]) => Promise<string>;

export const execFileRunner: CommandRunner = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });

interface IpJsonAddr {
  family?: string;
  local?: string;
  prefixlen?: number;
  scope?: string;
  secondary?: boolean;
  tentative?: boolean;
  dadfailed?: boolean;
  deprecated?: boolean;
}
interface IpJsonLink {
  ifindex?: number;
  ifname?: string;
  flags?: string[];
  addr_info?: IpJsonAddr[];
}

/** Parses the output of `ip -json addr show`. Unknown or partial entries are skipped. */
export function parseIpAddrJson(text: string): NetInterface[] {
  const raw = JSON.parse(text) as unknown;
  if (!Array.isArray(raw)) throw new Error('ip -json addr show: expected a JSON array');
  const out: NetInterface[] = [];
  for (const link of raw as IpJsonLink[]) {
    if (typeof link !== 'object' || link === null || typeof link.ifname !== 'string') continue;
    const addresses: InterfaceAddress[] = [];
    for (const a of link.addr_info ?? []) {
      if (typeof a.local !== 'string' || typeof a.prefixlen !== 'number') continue;
      const ip = parseIp(a.local);
      if (ip === null) continue;
      addresses.push({
        family: ip.family,
        address: ip.text,
        prefixLength: a.prefixlen,
        scope: a.scope ?? 'global',
        secondary: a.secondary === true,
        tentative: a.tentative === true,
        dadfailed: a.dadfailed === true,
        deprecated: a.deprecated === true,
      });
    }
    out.push({
      name: link.ifname,
      index: link.ifindex ?? out.length + 1,
      up: (link.flags ?? []).includes('UP'),
      addresses,
    });
  }
  return out.sort((a, b) => a.index - b.index);
}

const nsArgs = (netns?: string): string[] => (netns ? ['-n', netns] : []);

/** The real interface source: `ip [-n NETNS] -json addr show`. */
export function ipAddrSource(run: CommandRunner, opts: { netns?: string } = {}): InterfaceSource {
  return async () =>
    parseIpAddrJson(await run('ip', [...nsArgs(opts.netns), '-json', 'addr', 'show']));
}

/**
 * The real can-reach probe, as Calico does it: connect a UDP socket to the destination and read
 * the local address the kernel bound. connect(2) on a datagram socket only selects a route and
 * a source address; no packet is sent. Works in the caller's own network namespace.
 */
export const udpReachSource: ReachSource = (destination, family) =>
  new Promise((resolve, reject) => {
    const sock = createSocket(family === 4 ? 'udp4' : 'udp6');
    sock.once('error', (err) => {
      sock.close();
      reject(err);
    });
    sock.connect(80, destination, () => {
      try {
        resolve(sock.address().address);
      } catch (err) {
        reject(err as Error);
      } finally {
        sock.close();
      }
    });
  });

/** The same question asked with `ip [-n NETNS] -json route get DEST` (reads `prefsrc`). */
export function ipRouteGetReachSource(
  run: CommandRunner,
  opts: { netns?: string } = {},
): ReachSource {
  return async (destination, family) => {
    const out = await run('ip', [
      ...nsArgs(opts.netns),
      family === 4 ? '-4' : '-6',
      '-json',
      'route',
      'get',
      destination,
    ]);
    const routes = JSON.parse(out) as { prefsrc?: string }[];
    const src = routes[0]?.prefsrc;
    if (typeof src !== 'string')
      throw new Error(`no source address for a route toward ${destination}`);
    return src;
  };
}

/** The real resolver: getaddrinfo(3) through dns.lookup, so /etc/hosts is honoured. */
export const dnsResolver: HostResolver = async (host, family) =>
  (await lookup(host, { family, all: true })).map((r) => r.address);
