// The IPIP tunnel device (tunl0, as Calico): create if missing, up, MTU = underlay - 20,
// PMTU discovery on (Calico #7146, kube-router #1033), an address from the node's first block.
// Must not touch routes. RFC 2003 §3 (IP-in-IP: a 20-octet outer IPv4 header).

import type { CommandRunner, KernelLogger } from './types.js';

export interface TunnelConfig {
  name: string;
  /** Explicit tunnel MTU; else underlay MTU minus overhead. */
  mtu: number | null;
  underlayMtu: number | null;
  /** RFC 2003 §3: the outer IPv4 header is 20 octets. */
  overhead: number;
  /** Address to give the device (host address, installed as /32), or null for none. */
  address: string | null;
  /** An address we set earlier and should take away if it changed. */
  previousAddress: string | null;
}

export interface TunnelState {
  available: boolean;
  unavailableReason: string | null;
  up: boolean;
  mtu: number | null;
  address: string | null;
  pmtudisc: boolean | null;
  error: string | null;
}

interface JsonTunnel {
  ifname?: string;
  mtu?: number;
  flags?: string[];
  linkinfo?: { info_kind?: string; info_data?: { pmtudisc?: boolean } };
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

async function show(runner: CommandRunner, name: string): Promise<JsonTunnel | null> {
  const r = await runner.run(['-d', '-json', 'addr', 'show', 'dev', name]);
  if (r.code !== 0) return null;
  try {
    const list = JSON.parse(r.stdout) as JsonTunnel[];
    return list.find((l) => l.ifname === name) ?? null;
  } catch {
    return null;
  }
}

/** MTU of the IPv4 default route's interface, else 1500 (Ethernet). */
export async function detectUnderlayMtu(
  runner: CommandRunner,
  mtus: ReadonlyMap<string, number>,
): Promise<number> {
  const r = await runner.run(['-json', 'route', 'show', 'table', 'main', 'default']);
  if (r.code === 0) {
    try {
      const list = JSON.parse(r.stdout) as { dev?: string; nexthops?: { dev?: string }[] }[];
      const dev = list[0]?.dev ?? list[0]?.nexthops?.[0]?.dev;
      if (dev !== undefined) {
        const m = mtus.get(dev);
        if (m !== undefined) return m;
      }
    } catch {
      // fall through to the Ethernet default
    }
  }
  return 1500;
}

export async function ensureTunnel(
  runner: CommandRunner,
  cfg: TunnelConfig,
  log: KernelLogger,
  mtus: ReadonlyMap<string, number>,
): Promise<TunnelState> {
  const state: TunnelState = {
    available: false,
    unavailableReason: null,
    up: false,
    mtu: null,
    address: null,
    pmtudisc: null,
    error: null,
  };
  let dev = await show(runner, cfg.name);
  if (dev === null) {
    const add = await runner.run(['link', 'add', 'name', cfg.name, 'type', 'ipip']);
    // Loading the module creates the fallback tunl0 itself, so look again either way.
    dev = await show(runner, cfg.name);
    if (dev === null) {
      const why = add.stderr.trim().replace(/^Error: /, '') || `exit status ${add.code}`;
      state.unavailableReason = `the kernel has no IPIP support (module ipip is not loaded and could not be loaded: ${why})`;
      return state;
    }
    log.info({ device: cfg.name }, 'created IPIP tunnel device');
  }
  const kind = dev.linkinfo?.info_kind;
  if (kind !== undefined && kind !== 'ipip') {
    state.unavailableReason = `device ${cfg.name} exists but is a ${kind} device, not ipip`;
    return state;
  }
  state.available = true;
  const mtu =
    cfg.mtu ?? (cfg.underlayMtu ?? (await detectUnderlayMtu(runner, mtus))) - cfg.overhead;
  const isUp = (dev.flags ?? []).includes('UP');
  const errors: string[] = [];
  if (dev.mtu !== mtu || !isUp) {
    const r = await runner.run(['link', 'set', 'dev', cfg.name, 'mtu', String(mtu), 'up']);
    if (r.code !== 0) errors.push(`link set mtu ${mtu} up: ${r.stderr.trim()}`);
  }
  if (dev.linkinfo?.info_data?.pmtudisc !== true) {
    // The fallback device rejects changelink; the ioctl path (`ip tunnel change`) works on it.
    const r = await runner.run(['tunnel', 'change', cfg.name, 'mode', 'ipip', 'pmtudisc']);
    if (r.code !== 0) errors.push(`tunnel change pmtudisc: ${r.stderr.trim()}`);
  }
  const have = new Set(
    (dev.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => a.local),
  );
  if (
    cfg.previousAddress !== null &&
    cfg.previousAddress !== cfg.address &&
    have.has(cfg.previousAddress)
  ) {
    await runner.run(['addr', 'del', `${cfg.previousAddress}/32`, 'dev', cfg.name]);
  }
  if (cfg.address !== null && !have.has(cfg.address)) {
    const r = await runner.run(['addr', 'replace', `${cfg.address}/32`, 'dev', cfg.name]);
    if (r.code !== 0) errors.push(`addr ${cfg.address}: ${r.stderr.trim()}`);
  }
  const after = (await show(runner, cfg.name)) ?? dev;
  state.up = (after.flags ?? []).includes('UP');
  state.mtu = after.mtu ?? null;
  state.pmtudisc = after.linkinfo?.info_data?.pmtudisc ?? null;
  const addrs = (after.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => a.local);
  state.address =
    cfg.address !== null && addrs.includes(cfg.address) ? cfg.address : (addrs[0] ?? null);
  if (errors.length > 0) {
    state.error = errors.join('; ');
    log.warn({ device: cfg.name, error: state.error }, 'tunnel device setup incomplete');
  }
  return state;
}
