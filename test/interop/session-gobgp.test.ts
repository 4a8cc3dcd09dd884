// Interop: the podbgp session layer against GoBGP (gobgpd) in a network namespace (issue #3
// points 1-6). GoBGP is driven through its TOML config and the gobgp CLI (JSON output).
// RFC 4271 §8, RFC 4724, RFC 6793, RFC 1997, RFC 8092, RFC 9003.

import t from 'tap';
import { startGobgp } from './lib/index.js';
import {
  DAEMON_ASN,
  DAEMON_ROUTES,
  PODBGP_ASN,
  daemonSuite,
  isV6,
  type CliRoute,
  type DaemonAdapter,
} from './session-common.js';

/** One path of `gobgp global rib -j` (only the fields used here). */
interface GobgpPath {
  nlri?: { prefix?: string };
  'neighbor-ip'?: string;
  attrs?: {
    type: number;
    nexthop?: string;
    metric?: number;
    communities?: number[];
    as_paths?: { segment_type: number; asns: number[] }[];
    value?: unknown;
  }[];
}

/** Parses `gobgp global rib -a FAMILY -j` into the routes learned from `peer`. */
export function parseGobgpRib(rib: Record<string, GobgpPath[]> | null, peer: string): CliRoute[] {
  const out: CliRoute[] = [];
  for (const [prefix, paths] of Object.entries(rib ?? {})) {
    const p = paths.find((x) => x['neighbor-ip'] === peer);
    if (!p) continue;
    const r: CliRoute = { prefix, nextHop: '', asPath: [], communities: [], largeCommunities: [] };
    for (const a of p.attrs ?? []) {
      // Path attribute type codes: RFC 4271 §5 (2, 3, 4), RFC 1997 (8), RFC 4760 (14), RFC 8092 (32).
      if (a.type === 2) r.asPath = (a.as_paths ?? []).flatMap((s) => s.asns);
      if (a.type === 3 || a.type === 14) r.nextHop = r.nextHop || (a.nexthop ?? '');
      if (a.type === 4) r.med = a.metric;
      if (a.type === 8)
        r.communities = (a.communities ?? []).map((c) => `${c >>> 16}:${c & 0xffff}`);
      if (a.type === 32) {
        // Each entry is {ASN, LocalData1, LocalData2} (field names vary across versions).
        const v = (a.value ?? []) as Record<string, number>[];
        r.largeCommunities = v.map((c) => Object.values(c).join(':'));
      }
    }
    out.push(r);
  }
  return out;
}

const gobgp: DaemonAdapter = {
  name: 'gobgp',
  prefix: 'pbs-go',
  async start(cleanup, o) {
    const peer = o.peer.v4;
    const afi = (name: string): string[] => [
      '  [[neighbors.afi-safis]]',
      '    [neighbors.afi-safis.config]',
      `      afi-safi-name = "${name}"`,
      '    [neighbors.afi-safis.mp-graceful-restart.config]',
      '      enabled = true',
    ];
    const config = [
      '[global.config]',
      `  as = ${DAEMON_ASN}`,
      `  router-id = "${o.self.v4}"`,
      '  port = 179',
      `  local-address-list = ["${o.self.v4}"]`,
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${peer}"`,
      `    peer-as = ${PODBGP_ASN}`,
      '  [neighbors.timers.config]',
      `    hold-time = ${o.holdTime}`,
      `    keepalive-interval = ${Math.max(1, Math.floor(o.holdTime / 3))}`,
      '    connect-retry = 1',
      '    idle-hold-time-after-reset = 1',
      '  [neighbors.transport.config]',
      `    local-address = "${o.self.v4}"`,
      `    passive-mode = ${o.passive}`,
      '  [neighbors.graceful-restart.config]',
      '    enabled = true',
      '    restart-time = 120',
      ...afi('ipv4-unicast'),
      ...afi('ipv6-unicast'),
      '',
    ].join('\n');
    const h = await startGobgp(cleanup, { ns: o.ns, config });
    const attrs = [
      'med',
      String(DAEMON_ROUTES.med),
      'community',
      DAEMON_ROUTES.communities.join(','),
      'large-community',
      DAEMON_ROUTES.largeCommunities.join(','),
    ];
    for (const p of [...DAEMON_ROUTES.keep, ...DAEMON_ROUTES.withdraw]) {
      const v6 = isV6(p);
      await h.cli([
        'global',
        'rib',
        'add',
        '-a',
        v6 ? 'ipv6' : 'ipv4',
        p,
        'nexthop',
        v6 ? o.self.v6 : o.self.v4,
        ...attrs,
      ]);
    }
    return {
      process: h.process,
      waitEstablished: (ms) => h.waitEstablished(peer, ms),
      isEstablished: () => h.isEstablished(peer),
      routes: async () => [
        ...parseGobgpRib(await h.json(['global', 'rib', '-a', 'ipv4']), peer),
        ...parseGobgpRib(await h.json(['global', 'rib', '-a', 'ipv6']), peer),
      ],
      withdraw: async (prefixes) => {
        for (const p of prefixes) {
          await h.cli(['global', 'rib', 'del', '-a', isV6(p) ? 'ipv6' : 'ipv4', p]);
        }
      },
      shutdown: async (message) =>
        void (await h.cli(['neighbor', peer, 'disable', '--reason', message])),
      enable: async () => void (await h.cli(['neighbor', peer, 'enable'])),
      negotiatedCapabilities: async () => {
        const text = await h.cli(['neighbor', peer]);
        const both = (cap: string): boolean =>
          new RegExp(`^\\s*${cap}:\\s*advertised and received`, 'm').test(text);
        return {
          'ipv4-unicast advertised and received': both('ipv4-unicast'),
          'ipv6-unicast advertised and received': both('ipv6-unicast'),
          '4-octet-as advertised and received': both('4-octet-as'),
          'route-refresh advertised and received': both('route-refresh'),
          'graceful-restart advertised and received': both('graceful-restart'),
        };
      },
      receivedNotification: () => {
        // gobgpd logs each peer-down with the NOTIFICATION it received.
        const m = /notification-received code (\d+)\([^)]*\) subcode (\d+)/i.exec(
          h.process.output(),
        );
        return Promise.resolve(m ? { code: Number(m[1]), subcode: Number(m[2]) } : undefined);
      },
    };
  },
};

await daemonSuite(t, gobgp);
