// Human output for `podbgp show ...`, in the shapes operators know from birdc, vtysh,
// `gobgp neighbor` and `calicoctl node status`. Pure functions from control results to text.
// Must not talk to the daemon or print: commands/show.ts does both.

import { stringify } from 'yaml';
import type { PeerDetail, PeerSummary, RouteRow } from '../control/protocol.js';
import type { ApiStatus } from '../k8s/types.js';
import type { KernelStatus, RouteStatus, TunnelStatus } from '../kernel/types.js';
import type { NodeIdentity } from '../node/identity.js';

/**
 * Left-aligned columns separated by two spaces; the last column is not padded. Widths are
 * found in a loop (no spread of every row into Math.max, which overflows the argument limit
 * on a full table) and the lines are joined once.
 */
export function table(header: string[], rows: string[][], indent = ''): string {
  const widths = header.map((h) => h.length);
  for (const r of rows) {
    for (let i = 0; i < widths.length; i++) {
      const n = (r[i] ?? '').length;
      if (n > widths[i]) widths[i] = n;
    }
  }
  const line = (cells: string[]) => {
    let s = indent;
    for (let i = 0; i < cells.length; i++) {
      s += i === cells.length - 1 ? cells[i] : cells[i].padEnd(widths[i]) + '  ';
    }
    return s.trimEnd();
  };
  const lines = new Array<string>(rows.length + 1);
  lines[0] = line(header);
  for (let i = 0; i < rows.length; i++) lines[i + 1] = line(rows[i]);
  return lines.join('\n');
}

/** Durations as BIRD and FRR print them: 00:12:31, or 3d04h12m past a day. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d${two(h)}h${two(m)}m`;
  return `${two(h)}:${two(m)}:${two(s % 60)}`;
}

export function formatPeers(peers: PeerSummary[], now = Date.now()): string {
  if (peers.length === 0) return 'No peers configured.';
  return table(
    ['Peer', 'AS', 'Type', 'State', 'Up/Down', 'Rcvd/Acc/Adv', 'Last error'],
    peers.map((p) => [
      p.address,
      String(p.asn),
      p.type,
      p.enabled ? p.state : `${p.state} (disabled)`,
      duration(now - p.since),
      `${p.prefixes.received}/${p.prefixes.accepted}/${p.prefixes.advertised}`,
      p.lastError ?? '',
    ]),
  );
}

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

export function formatPeer(p: PeerDetail, now = Date.now()): string {
  const out: string[] = [];
  out.push(`Peer ${p.address}, AS ${p.asn} (${p.type}), local AS ${p.localAsn}`);
  out.push(
    `  State:            ${p.state}${p.enabled ? '' : ' (disabled)'} for ${duration(now - p.since)}`,
  );
  out.push(`  Router id:        ${p.routerId ?? '-'}`);
  out.push(`  Local address:    ${p.localAddress ?? '-'}${p.passive ? ' (passive)' : ''}`);
  const h = p.holdTime;
  out.push(
    `  Hold time:        configured ${h.configured}s, negotiated ${h.negotiated ?? '-'}s, keepalive ${h.keepalive ?? '-'}s`,
  );
  out.push(
    `  Prefixes:         ${p.prefixes.received} received, ${p.prefixes.accepted} accepted, ${p.prefixes.advertised} advertised`,
  );
  const c = p.capabilities;
  if (c) {
    out.push('  Capabilities:');
    out.push(`    Families:             ${c.families.join(', ') || '-'}`);
    out.push(`    4-octet AS:           ${yesNo(c.fourOctetAs)}`);
    out.push(
      `    Route refresh:        ${yesNo(c.routeRefresh)} (enhanced: ${yesNo(c.enhancedRouteRefresh)})`,
    );
    out.push(`    Extended message:     ${yesNo(c.extendedMessage)}`);
    const ap = Object.entries(c.addPath)
      .filter(([, v]) => v.send || v.receive)
      .map(
        ([f, v]) => `${f} ${v.send && v.receive ? 'send/receive' : v.send ? 'send' : 'receive'}`,
      );
    out.push(`    ADD-PATH:             ${ap.join(', ') || 'no'}`);
    const gr = c.gracefulRestart;
    out.push(
      `    Graceful restart:     ${gr ? `restart time ${gr.restartTime}s, ${gr.families.map((f) => `${f.family}${f.forwarding ? ' (F)' : ''}`).join(', ')}` : 'no'}`,
    );
    if (c.peerHostname) out.push(`    Hostname:             ${c.peerHostname}`);
  }
  if (p.disabledCapabilities.length > 0) {
    out.push(`  Capabilities the peer rejected: ${p.disabledCapabilities.join(', ')}`);
  }
  out.push(`  End-of-RIB received: ${p.endOfRib.received.join(', ') || '-'}`);
  out.push(
    `  Graceful restart helper: ${p.gracefulRestart.helperActive ? `active, ${p.gracefulRestart.stale} stale routes` : 'idle'}`,
  );
  out.push(
    '  Messages:         ' +
      ['open', 'update', 'keepalive', 'notification', 'route-refresh']
        .map((t) => `${t} ${p.messages.in[t] ?? 0}/${p.messages.out[t] ?? 0}`)
        .join(', ') +
      ' (in/out)',
  );
  const de = Object.entries(p.decodeErrors).filter(([, n]) => n > 0);
  out.push(`  Decode errors:    ${de.map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
  out.push(`  Flaps:            ${p.flaps}`);
  const n = p.lastNotification;
  out.push(
    `  Last NOTIFICATION: ${n ? `${n.direction} ${duration(now - n.at)} ago: ${n.name} (${n.code}/${n.subcode})${n.message ? ` "${n.message}"` : ''}` : '-'}`,
  );
  out.push(`  Last error:       ${p.lastError ?? '-'}`);
  return out.join('\n');
}

function kernelColumn(r: RouteRow): string {
  const k = r.kernel;
  if (k.status === 'not-installed') return `not installed: ${k.reason ?? 'unknown'}`;
  if (k.status === 'pending') return 'pending';
  switch (k.shape) {
    case 'direct':
      return `direct ${k.device ?? ''}`.trim();
    case 'ipip':
      return `ipip ${k.device ?? 'tunl0'}`;
    case 'blackhole':
      return 'blackhole';
    case 'ecmp':
      return `ecmp ${k.device ?? ''}`.trim();
    default:
      return '-';
  }
}

/**
 * `show routes`: `*>` best, `*=` multipath, `*` other paths; a leading `!` marks a selected
 * route that is not in the kernel (as BIRD marks unexported routes).
 */
export function formatRoutes(routes: RouteRow[], now = Date.now()): string {
  if (routes.length === 0) return 'No routes.';
  return table(
    [
      '',
      'Network',
      'Next Hop',
      'Peer',
      'AS Path',
      'Origin',
      'LocPrf',
      'MED',
      'Age',
      'Kernel',
      'Communities',
    ],
    routes.map((r) => {
      const selected = r.best || r.multipath;
      const marker =
        (selected && r.kernel.status !== 'installed' ? '!' : '') +
        (r.best ? '*>' : r.multipath ? '*=' : '*');
      return [
        marker,
        r.pathId !== null ? `${r.prefix} [${r.pathId}]` : r.prefix,
        r.nextHop ?? '-',
        r.peer,
        r.asPath || '-',
        r.origin ?? '-',
        r.localPref === null ? '-' : String(r.localPref),
        r.med === null ? '-' : String(r.med),
        r.learnedAt > 0 ? duration(now - r.learnedAt) : '-',
        selected ? kernelColumn(r) : '',
        [...r.communities, ...r.largeCommunities].join(' '),
      ];
    }),
  );
}

const dash = (v: string | number | null | undefined) =>
  v === null || v === undefined || v === '' ? '-' : String(v);
const yesNoDash = (b: boolean | null | undefined) =>
  b === null || b === undefined ? '-' : yesNo(b);

function tunnelLine(t: TunnelStatus): string {
  return (
    `${t.name}: wanted ${yesNo(t.wanted)}, available ${yesNoDash(t.available)}, ` +
    `up ${yesNo(t.up)}, MTU ${dash(t.mtu)}, address ${dash(t.address)}, ` +
    `pmtudisc ${yesNoDash(t.pmtudisc)}`
  );
}

/** `192.168.30.72 eth0, 10.0.0.9 tunl0`; the interfaces alone when no next hop is listed. */
function viaColumn(r: RouteStatus): string {
  if (r.nexthops.length > 0) return r.nexthops.map((n) => `${n.via} ${n.dev}`).join(', ');
  return r.interfaces.length > 0 ? r.interfaces.join(', ') : '-';
}

/** Why the route is not installed, a later error if it differs, and next hops left out. */
function reasonColumn(r: RouteStatus, now: number): string {
  const parts: string[] = [];
  if (!r.installed && r.reason !== null) parts.push(r.reason);
  if (r.lastError !== null && r.lastError !== r.reason) {
    const age = r.lastErrorAt !== null ? ` ${duration(now - r.lastErrorAt)} ago` : '';
    parts.push(`last error${age}: ${r.lastError}`);
  }
  for (const s of r.skipped) parts.push(`skipped ${s.via}: ${s.reason}`);
  return parts.length > 0 ? parts.join('; ') : '-';
}

/**
 * `show kernel`: the sync's header facts, then one line per route it owns or wants. Every
 * route is printed (a full table is long; pipe it to grep), built as rows and joined once.
 */
export function formatKernel(k: KernelStatus, now = Date.now()): string {
  const c = k.counts;
  const shapes = Object.entries(c.byShape)
    .map(([shape, n]) => `${shape} ${n}`)
    .join(', ');
  const out: string[] = [];
  out.push(`Kernel table ${k.table}, protocol ${k.protocol}, converged ${yesNo(k.converged)}`);
  out.push(`  Tunnel:           ${tunnelLine(k.tunnel)}`);
  if (k.tunnel.error !== null) out.push(`  Tunnel error:     ${k.tunnel.error}`);
  out.push(
    `  Routes:           ${c.installed} installed, ${c.notInstalled} not installed` +
      (shapes ? ` (${shapes})` : ''),
  );
  out.push(
    `  Reconciles:       ${k.reconciles}, ${k.reconcileErrors} errors, ` +
      `${k.driftRepaired} drift repaired, last ` +
      (k.lastReconcileAt !== null ? `${duration(now - k.lastReconcileAt)} ago` : '-'),
  );
  out.push('');
  if (k.routes.length === 0) {
    out.push('No routes.');
    return out.join('\n');
  }
  const rows = new Array<string[]>(k.routes.length);
  for (let i = 0; i < k.routes.length; i++) {
    const r = k.routes[i];
    rows[i] = [
      r.prefix,
      r.origin,
      dash(r.shape),
      viaColumn(r),
      yesNo(r.installed),
      reasonColumn(r, now),
    ];
  }
  out.push(
    table(['Prefix', 'Origin', 'Shape', 'Via/Interfaces', 'Installed', 'Reason/Last error'], rows),
  );
  return out.join('\n');
}

/**
 * The `show-node` reply as the daemon builds it (daemon.ts controlHandlers): the identity
 * with its autodetection decisions, the Kubernetes API status (null without Kubernetes), when
 * the daemon started and whether the RIB has converged. `blocks` (the own pod blocks) is
 * printed when the reply carries it.
 */
export interface NodeView extends NodeIdentity {
  kubernetes: ApiStatus | null;
  startedAt: number;
  converged: boolean;
  blocks?: string[];
}

function addressLine(n: NodeView, family: 4 | 6): string {
  const a = family === 4 ? n.ipv4 : n.ipv6;
  const d = n.decisions.find((x) => x.family === family);
  if (a === null) return d ? `- (${d.summary})` : '-';
  const where = a.interface !== null ? ` on ${a.interface}` : ' (on no local interface)';
  return `${a.cidr}${where}${d ? `, by ${d.method}` : ''}`;
}

/** `show node`: who this node is, and how each address was chosen (every candidate). */
export function formatNode(n: NodeView, now = Date.now()): string {
  const out: string[] = [];
  out.push(
    `Node ${n.name} (name from ${n.nameSource === 'hostname' ? 'the host name' : 'the config'})`,
  );
  out.push(`  AS:               ${n.asn}`);
  out.push(
    `  Router id:        ${n.routerId}` +
      (n.routerIdSource === 'ipv4-address' ? ' (the IPv4 address)' : ' (from the config)'),
  );
  out.push(`  IPv4 address:     ${addressLine(n, 4)}`);
  out.push(`  IPv6 address:     ${addressLine(n, 6)}`);
  if (n.blocks !== undefined) out.push(`  Pod blocks:       ${n.blocks.join(', ') || '-'}`);
  out.push(`  Converged:        ${yesNo(n.converged)}`);
  out.push(`  Up for:           ${duration(now - n.startedAt)}`);
  const k = n.kubernetes;
  out.push(
    '  Kubernetes API:   ' +
      (k === null
        ? '-'
        : `synced ${yesNo(k.synced)}, connected ${yesNo(k.connected)}` +
          (k.outageSince !== undefined ? `, down for ${duration(now - k.outageSince)}` : '') +
          (k.lastError !== undefined ? `, last error: ${k.lastError}` : '')),
  );
  if (n.decisions.length === 0) {
    out.push('  Autodetection:    -');
    return out.join('\n');
  }
  out.push('  Autodetection:');
  for (const d of n.decisions) {
    out.push(`    IPv${d.family} by ${d.method}: ${d.summary}`);
    if (d.candidates.length === 0) continue;
    out.push(
      table(
        ['Interface', 'Address', 'Verdict', 'Reason'],
        d.candidates.map((c) => [c.interface, dash(c.address), c.verdict, c.reason]),
        '      ',
      ),
    );
  }
  return out.join('\n');
}

/** `show config`: the effective config as YAML (the daemon's JSON reply, unchanged in meaning). */
export function formatConfig(config: unknown): string {
  return stringify(config, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd();
}
