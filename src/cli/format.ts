// Human output for `podbgp show ...`, in the shapes operators know from birdc, vtysh,
// `gobgp neighbor` and `calicoctl node status`. Pure functions from control results to text.

import type { PeerDetail, PeerSummary, RouteRow } from '../control/protocol.js';

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
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
